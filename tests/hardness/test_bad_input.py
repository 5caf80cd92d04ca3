"""trustml.hardness on bad and edge input, as a new user would try it: one table per kind of answer.

Each bad input gets trustml's own error (a ``raise`` in trustml, before any dependency is called) naming
the argument; an edge input that has a right answer gets it; an input that can be only partly honoured
gets a warning saying how much.
"""

import functools

import numpy as np
import pytest
import torch
from refusals import assert_refused, assert_warns
from torch import nn

from trustml.hardness import (
    DataParameters,
    HardnessGrid,
    RecordGradNorms,
    RecordInputGradients,
    allsh,
    aum,
    benchmark,
    categorize,
    characterize,
    cleanlab,
    conf_agree,
    data_iq,
    data_map,
    data_maps,
    detector,
    easy_ambiguous_hard,
    el2n,
    evaluate,
    forgetting,
    grand,
    loss,
    perturb,
    plot_benchmark,
    plot_category_grid,
    plot_data_map,
    plot_hardest,
    plot_method_ranking,
    plot_temperature_detection,
    plot_trajectories,
    plot_trajectory_tsne,
    prototypicality,
    trajectory_tsne,
    vog,
)
from trustml.models import MLP
from trustml.training import fit

RNG = np.random.default_rng(0)
IMAGES = RNG.random((20, 1, 8, 8)).astype(np.float32)
DIGITS = np.arange(20) % 10
ROWS = RNG.normal(size=(30, 4)).astype(np.float32)
CLASSES = np.arange(30) % 3
LOGITS = RNG.normal(size=(3, 6, 3))  # 3 epochs, 6 samples, 3 classes
LABELS = np.array([0, 1, 2, 0, 1, 2])
PROBS = np.full((4, 2), 0.5)
FEATURES = RNG.normal(size=(6, 4))
GRADIENTS = RNG.normal(size=(3, 6, 4))
SIGMA = np.exp(RNG.normal(size=(5, 12)))
BLACK = np.zeros((20, 1, 8, 8), np.float32)
MASK = np.arange(30) < 6
X_SMALL, Y_SMALL = torch.randn(12, 4), torch.arange(12) % 3


def tiny():
    return MLP(4, 3)


def tiny_images():
    return MLP(64, 10)


class NoFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x):
        return self.linear(x)


def _grid(**changes):
    arguments = dict(model=tiny_images, kinds=["uniform"], proportions=[0.2], epochs=1, methods=["aum"])
    return lambda: HardnessGrid(IMAGES, DIGITS, **{**arguments, **changes})


def _bench(**changes):
    arguments = dict(model=tiny_images, kinds=["uniform"], proportions=[0.2], epochs=1, methods=["aum"])
    return lambda: benchmark(IMAGES, DIGITS, **{**arguments, **changes})


@functools.cache
def _bench_table():
    return benchmark(ROWS, CLASSES, model=lambda: MLP(4, 3), kinds=["uniform"], proportions=[0.2], methods=["aum"],
                     epochs=1)  # fmt: skip


def _perturb(X=ROWS, y=CLASSES, **changes):
    return lambda: perturb(X, y, **{"kind": "uniform", "proportion": 0.2, **changes})


def _characterize(model=tiny, X=X_SMALL, y=Y_SMALL, **changes):
    return lambda: characterize(model(), X, y, **{"epochs": 1, "methods": ["aum"], **changes})


# --------------------------------------------------------------------------- refused: error, phrase

PERTURB = [
    ("kind unknown", _perturb(kind="noise"), ValueError, "Unknown hardness type 'noise'"),
    ("kind None", _perturb(kind=None), ValueError, "Unknown hardness type None"),
    ("image kind on rows", _perturb(kind="zoom_shift"), ValueError, "'zoom_shift' perturbs images"),
    ("row kind on images", _perturb(IMAGES, DIGITS, kind="atypical"), ValueError, "'atypical' perturbs tabular"),
    ("proportion 0", _perturb(proportion=0), ValueError, "proportion must be strictly between 0 and 1"),
    ("proportion 1", _perturb(proportion=1), ValueError, "proportion must be strictly between 0 and 1"),
    ("proportion NaN", _perturb(proportion=np.nan), ValueError, "proportion must be strictly between"),
    ("proportion text", _perturb(proportion="0.2"), TypeError, "proportion must be a number in"),
    ("proportion bool", _perturb(proportion=True), TypeError, "proportion must be a number in"),
    ("proportion too small", _perturb(proportion=0.01), ValueError, r"perturbs none .*raise it above 0.0167"),
    ("seed negative", _perturb(seed=-1), ValueError, "seed must be a non-negative integer"),
    ("seed float", _perturb(seed=1.5), ValueError, "seed must be a non-negative integer"),
    ("X 3-D", _perturb(X=ROWS[:, None]), ValueError, r"images \(N, C, H, W\) or tabular rows"),
    ("X empty", _perturb(X=ROWS[:0], y=CLASSES[:0]), ValueError, "X is empty"),
    ("X no features", _perturb(X=ROWS[:, :0]), ValueError, "X has an empty axis"),
    ("images no channels", _perturb(BLACK[:, :0], DIGITS, kind="far_ood"), ValueError, "X has an empty axis"),
    ("X integers for noise", _perturb(X=ROWS.astype(int), kind="ood_covariate"), TypeError, "X.float"),
    ("X text", _perturb(X=ROWS.astype(str)), TypeError, "X must hold floating point values"),
    ("X NaN", _perturb(X=np.full_like(ROWS, np.nan)), ValueError, "X has NaN or infinite values"),
    ("X ragged list", _perturb(X=[[1.0], [1.0, 2.0]], y=[0, 1]), ValueError, "X is a ragged sequence"),
    ("images above 1", _perturb(IMAGES * 255, DIGITS, kind="crop_shift"), ValueError, r"values in \[0, 1\]"),
    ("y float", _perturb(y=CLASSES.astype(float)), TypeError, "y must hold integer class indices"),
    ("y text", _perturb(y=CLASSES.astype(str)), TypeError, "map class names to indices"),
    ("y wrong length", _perturb(y=CLASSES[:-1]), ValueError, "y has 29 entries but there are 30 samples"),
    ("y negative", _perturb(y=CLASSES - 1), ValueError, "negative class index -1"),
    ("y 2-D", _perturb(y=CLASSES[:, None]), ValueError, "y must be 1-D"),
    ("y one class", _perturb(y=np.zeros(30, int)), ValueError, "needs at least 2 classes"),
    ("rule for uniform", _perturb(rule={0: 1}), ValueError, "rule is the 'instance' kind's"),
    ("default rule, 3 classes", _perturb(kind="instance"), ValueError, "3 classes: pass rule="),
    ("rule maps to itself", _perturb(kind="instance", rule={0: 0}), ValueError, "must map a class"),
    ("rule not a dict", _perturb(kind="instance", rule=[(0, 1)]), TypeError, "rule must be a non-empty dict"),
    ("rule changes no sample", _perturb(y=CLASSES * 2, kind="instance", rule={1: 2}), ValueError,
     r"can change none of the 30 samples: the rule 1->2 changes only classes \[1\]"),
    ("zoom of 1x1 images", _perturb(IMAGES[..., :1, :1], DIGITS, kind="zoom_shift"), ValueError,
     "at least 2 x 2 pixels"),
    ("crop of 1-pixel-wide images", _perturb(IMAGES[..., :1], DIGITS, kind="crop_shift"), ValueError,
     "at least 2 pixels in width"),
    ("noise on black images", _perturb(BLACK, DIGITS, kind="ood_covariate"), ValueError,
     "can change none of the 20 samples: all-black images stay black"),
    ("cartoon of black images", _perturb(BLACK, DIGITS, kind="domain_shift"), ValueError, "all-black images"),
    ("shift of black images", _perturb(BLACK, DIGITS, kind="crop_shift"), ValueError, "stay black when shifted"),
    ("zoom of flat images", _perturb(BLACK + 0.5, DIGITS, kind="zoom_shift"), ValueError, "one flat colour"),
    ("noise on constant rows", _perturb(X=np.ones_like(ROWS), kind="ood_covariate"), ValueError,
     "every feature of X is constant"),
    ("atypical on constant rows", _perturb(X=np.ones_like(ROWS), kind="atypical"), ValueError,
     "every feature of X is constant"),
]

DYNAMICS = [aum, loss, forgetting, data_map, data_iq, data_maps, detector]
DYNAMICS_INPUTS = [
    ("no epochs", np.zeros((0, 6, 3)), LABELS, ValueError, r"logits has 0 epochs .*record at least one epoch"),
    ("no samples", np.zeros((3, 0, 3)), LABELS[:0], ValueError, "logits has 0 samples"),
    ("(N, epochs, K)", LOGITS.transpose(1, 0, 2), LABELS, ValueError, r"pass logits.transpose\(1, 0, 2\)"),
    ("one epoch's logits", LOGITS[0], LABELS, ValueError, r"shape \(epochs, N, classes\).*logits\[None\]"),
    ("complex", LOGITS.astype(complex), LABELS, TypeError, "logits is complex"),
    ("booleans", LOGITS > 0, LABELS, TypeError, "logits must hold numbers, got booleans"),
    ("NaN", np.where(LOGITS > 2, np.nan, LOGITS), LABELS, ValueError, r"NaN or infinite values for \d sample"),
    ("one class", LOGITS[..., :1], LABELS * 0, ValueError, "at least 2 classes"),
    ("label beyond classes", LOGITS, LABELS + 1, ValueError, "class index 3 but there are only 3 classes"),
    ("float labels", LOGITS, LABELS.astype(float), TypeError, "labels must hold integer class indices"),
    ("labels short", LOGITS, LABELS[:-1], ValueError, "labels has 5 entries but there are 6 samples"),
]
METHODS = [
    (f"{f.__name__}: {what}", (lambda f=f, a=a, b=b: f(a, b)), error, phrase)
    for f in DYNAMICS
    for what, a, b, error, phrase in DYNAMICS_INPUTS
] + [
    (f"{f.__name__}: {what}", (lambda f=f, a=a, b=b: f(a, b)), error, phrase)
    for f in (el2n, cleanlab)
    for what, a, b, error, phrase in [
        ("no samples", np.zeros((0, 3)), LABELS[:0], ValueError, "logits has 0 samples"),
        ("dynamics", LOGITS, LABELS, ValueError, r"shape \(N, classes\).*logits\[-1\]"),
        ("complex", LOGITS[-1].astype(complex), LABELS, TypeError, "logits is complex"),
        ("text", LOGITS[-1].astype(str), LABELS, TypeError, "logits must hold numbers, got text"),
        ("one class", LOGITS[-1, :, :1], LABELS * 0, ValueError, "at least 2 classes"),
        ("label beyond classes", LOGITS[-1], LABELS + 1, ValueError, "class index 3"),
    ]
] + [
    ("detector: seed", lambda: detector(LOGITS, LABELS, seed=-1), ValueError, "seed must be a non-negative"),
    ("groups: threshold NaN", lambda: easy_ambiguous_hard([0.9], [0.1], confidence_threshold=np.nan), ValueError,
     r"confidence_threshold must be a number in \[0, 0.5\], got nan"),
    ("groups: threshold above 0.5", lambda: easy_ambiguous_hard([0.9], [0.1], confidence_threshold=0.7),
     ValueError, r"confidence_threshold must be a number in \[0, 0.5\]"),
    ("groups: threshold negative", lambda: easy_ambiguous_hard([0.9], [0.1], confidence_threshold=-0.1),
     ValueError, "confidence_threshold must be"),
    ("groups: threshold text", lambda: easy_ambiguous_hard([0.9], [0.1], uncertainty_threshold="0.1"),
     TypeError, "uncertainty_threshold must be a number"),
    ("groups: threshold list", lambda: easy_ambiguous_hard([0.9], [0.1], confidence_threshold=[0.1]),
     TypeError, "confidence_threshold must be a number"),
    ("groups: uncertainty threshold NaN", lambda: easy_ambiguous_hard([0.9], [0.1], uncertainty_threshold=np.nan),
     ValueError, "uncertainty_threshold must be"),
    ("groups: uncertainty threshold 2", lambda: easy_ambiguous_hard([0.9], [0.1], uncertainty_threshold=2),
     ValueError, r"uncertainty_threshold must be a number in \[0, 0.5\]"),
    ("groups: confidence above 1", lambda: easy_ambiguous_hard([1.5], [0.1]), ValueError,
     r"confidence must be mean probabilities in \[0, 1\]"),
    ("groups: confidence NaN", lambda: easy_ambiguous_hard([np.nan], [0.1]), ValueError, "confidence has 1 NaN"),
    ("groups: empty", lambda: easy_ambiguous_hard([], []), ValueError, "confidence has 0 samples"),
    ("groups: text", lambda: easy_ambiguous_hard(["a"], [0.1]), TypeError, "confidence must hold numbers"),
    ("groups: a number", lambda: easy_ambiguous_hard(0.5, 0.1), TypeError, "confidence must be a torch.Tensor"),
    ("groups: lengths differ", lambda: easy_ambiguous_hard([0.5, 0.5], [0.1]), ValueError,
     "one value per sample each, got 2 and 1"),
    ("groups: uncertainty negative", lambda: easy_ambiguous_hard([0.5], [-1.0]), ValueError,
     r"uncertainty must be a spread of probabilities in \[0, 0.5\]"),
    ("data_iq: threshold", lambda: data_iq(LOGITS, LABELS, confidence_threshold=0.9), ValueError,
     "confidence_threshold must be"),
    ("conf_agree: no passes", lambda: conf_agree(np.zeros((0, 4, 2))), ValueError, "has 0 passes"),
    ("conf_agree: no samples", lambda: conf_agree(np.zeros((3, 0, 2))), ValueError, "has 0 samples"),
    ("conf_agree: one pass's output", lambda: conf_agree(PROBS), ValueError, r"shape \(passes, N, classes\)"),
    ("conf_agree: one class", lambda: conf_agree(np.ones((3, 4, 1))), ValueError, "at least 2 classes"),
    ("conf_agree: logits", lambda: conf_agree(LOGITS), ValueError, "must be softmax outputs"),
    ("conf_agree: complex", lambda: conf_agree(np.ones((3, 4, 2)) + 0j), TypeError, "is complex"),
    ("allsh: empty", lambda: allsh(np.zeros((0, 2)), np.zeros((0, 2))), ValueError, "has 0 samples"),
    ("allsh: shapes differ", lambda: allsh(PROBS, PROBS[:3]), ValueError, "must have the same shape"),
    ("allsh: one class", lambda: allsh(np.ones((4, 1)), np.ones((4, 1))), ValueError, "at least 2 classes"),
    ("allsh: NaN", lambda: allsh(np.full((4, 2), np.nan), PROBS), ValueError, "must be softmax outputs"),
    ("allsh: logits", lambda: allsh(np.array([[2.0, -1.0]]), PROBS[:1]), ValueError, "take their softmax first"),
    ("allsh: text", lambda: allsh("x", PROBS), TypeError, "probabilities must be a torch.Tensor"),
    ("prototypicality: empty", lambda: prototypicality(np.zeros((0, 4)), LABELS[:0]), ValueError, "0 samples"),
    ("prototypicality: no features", lambda: prototypicality(np.zeros((6, 0)), LABELS), ValueError,
     "features has 0 features"),
    ("prototypicality: 1-D", lambda: prototypicality(FEATURES[:, 0], LABELS), ValueError, r"shape \(N, dim\)"),
    ("prototypicality: 3-D", lambda: prototypicality(FEATURES[None], LABELS), ValueError, r"shape \(N, dim\)"),
    ("prototypicality: labels short", lambda: prototypicality(FEATURES, LABELS[:5]), ValueError,
     "labels has 5 entries but there are 6"),
    ("prototypicality: text", lambda: prototypicality(FEATURES.astype(str), LABELS), TypeError, "must hold numbers"),
    ("prototypicality: complex", lambda: prototypicality(FEATURES + 0j, LABELS), TypeError, "is complex"),
    ("prototypicality: NaN", lambda: prototypicality(FEATURES * np.nan, LABELS), ValueError, "NaN or infinite"),
    ("vog: 2-D", lambda: vog(GRADIENTS[0], LABELS), ValueError, r"shape \(checkpoints, N, \.\.\.\)"),
    ("vog: one checkpoint", lambda: vog(GRADIENTS[:1], LABELS), ValueError, "at least 2 checkpoints"),
    ("vog: no values", lambda: vog(GRADIENTS[..., :0], LABELS), ValueError, r"shape \(checkpoints, N, \.\.\.\)"),
    ("vog: labels short", lambda: vog(GRADIENTS, LABELS[:5]), ValueError, "labels has 5 entries but there are 6"),
    ("vog: (N, checkpoints)", lambda: vog(GRADIENTS.transpose(1, 0, 2), LABELS), ValueError,
     "swap its first two axes"),
    ("vog: normalize text", lambda: vog(GRADIENTS, LABELS, normalize="no"), TypeError, "normalize must be True"),
    ("vog: NaN", lambda: vog(GRADIENTS * np.nan, LABELS), ValueError, "gradients has NaN"),
    ("grand: label beyond outputs", lambda: grand(nn.Linear(4, 2), X_SMALL, Y_SMALL), ValueError,
     "y has class index 2 but the model outputs only 2 logits"),
    ("grand: X of another width", lambda: grand(nn.Linear(3, 3), X_SMALL, Y_SMALL), ValueError,
     r"model cannot take inputs of shape \(4,\)"),
    ("grand: y short", lambda: grand(nn.Linear(4, 3), X_SMALL, Y_SMALL[:5]), ValueError, "y has 5 entries"),
    ("grand: not a module", lambda: grand(lambda x: x, X_SMALL, Y_SMALL), TypeError, "must be a torch.nn.Module"),
    ("grand: batch size 0", lambda: grand(nn.Linear(4, 3), X_SMALL, Y_SMALL, batch_size=0), ValueError,
     "batch_size must be a positive integer"),
    ("grand: unknown device", lambda: grand(nn.Linear(4, 3), X_SMALL, Y_SMALL, device="tpu"), ValueError,
     "device must be a torch.device or a name"),
    ("grand: no weights", lambda: grand(nn.Identity(), X_SMALL, Y_SMALL), ValueError, "no trainable weights"),
    ("grand: one output", lambda: grand(nn.Linear(4, 1), X_SMALL, Y_SMALL * 0), ValueError, "outputs 1 logit"),
    ("grand: text labels", lambda: grand(nn.Linear(4, 3), X_SMALL, np.array(list("abcabcabcabc"))), TypeError,
     "map class names to indices"),
    ("grand: empty X", lambda: grand(nn.Linear(4, 3), X_SMALL[:0], Y_SMALL[:0]), ValueError, "X is empty"),
    ("grand: NaN in X", lambda: grand(nn.Linear(4, 3), X_SMALL * np.nan, Y_SMALL), ValueError, "X has NaN"),
]

CHARACTERIZE = [
    ("one sample", _characterize(X=X_SMALL[:1], y=Y_SMALL[:1]), ValueError, "X has 1 sample: .* at least 2"),
    ("epochs text", _characterize(epochs="x"), ValueError, "epochs must be a positive integer, got 'x'"),
    ("epochs 0", _characterize(epochs=0), ValueError, "epochs must be a positive integer"),
    ("epochs 1.5", _characterize(epochs=1.5), ValueError, "epochs must be a positive integer"),
    ("VoG after one epoch", _characterize(methods=["vog"]), ValueError, "train for at least 2 epochs"),
    ("X of another width", _characterize(model=lambda: MLP(5, 3)), ValueError, r"cannot take inputs of shape \(4,\)"),
    ("labels beyond outputs", _characterize(model=lambda: MLP(4, 2)), ValueError, "y has label 2 but the model"),
    ("one output", _characterize(model=lambda: MLP(4, 1), y=Y_SMALL * 0), ValueError, "outputs 1 logit"),
    ("lr negative", _characterize(lr=-1), ValueError, "lr must be a positive number"),
    ("batch size 0", _characterize(batch_size=0), ValueError, "batch_size must be a positive integer"),
    ("methods empty", _characterize(methods=[]), ValueError, "methods is empty"),
    ("methods a number", _characterize(methods=5), TypeError, "methods must be 'all', a method name or a list"),
    ("method unknown", _characterize(methods=["margin"]), ValueError, "Unknown method 'margin'"),
    ("model class", _characterize(model=lambda: MLP), TypeError, "model must be a torch.nn.Module, got type"),
    ("no features()", _characterize(model=NoFeatures, methods=["prototypicality"]), TypeError,
     r"'prototypicality' needs model.features\(x\)"),
    ("progress text", _characterize(progress="no"), TypeError, "progress must be True or False"),
    ("seed negative", _characterize(seed=-1), ValueError, "seed must be a non-negative integer"),
    ("unknown device", _characterize(device="tpu"), ValueError, "device must be a torch.device"),
    ("X a list", _characterize(X=X_SMALL.tolist()), TypeError, "X must be a torch.Tensor or numpy array"),
    ("y short", _characterize(y=Y_SMALL[:-1]), ValueError, "y has 11 entries but there are 12 samples"),
]

SCORES = {"aum": np.arange(30.0)}
EVALUATE = [
    ("mask all False", lambda: evaluate(SCORES, np.zeros(30, bool)), ValueError, "both perturbed"),
    ("mask all True", lambda: evaluate(SCORES, np.ones(30, bool)), ValueError, "both perturbed"),
    ("mask text", lambda: evaluate(SCORES, MASK.astype(str)), ValueError, "mask must be boolean"),
    ("mask of 0 and 2", lambda: evaluate(SCORES, MASK * 2), ValueError, "mask must be boolean"),
    ("mask 2-D", lambda: evaluate(SCORES, MASK[None]), ValueError, "mask must be 1-D"),
    ("mask empty", lambda: evaluate({"aum": np.zeros(0)}, np.zeros(0, bool)), ValueError, "both perturbed"),
    ("scores empty", lambda: evaluate({}, MASK), ValueError, "scores is empty"),
    ("scores a list", lambda: evaluate([np.arange(30.0)], MASK), TypeError, "scores must be a dict"),
    ("scores an array", lambda: evaluate(np.arange(30.0), MASK), TypeError, "scores must be a dict"),
    ("scores text", lambda: evaluate({"aum": np.array(["a"] * 30)}, MASK), TypeError, r"scores\['aum'\] must hold"),
    ("scores complex", lambda: evaluate({"aum": np.arange(30.0) + 1j}, MASK), TypeError, "is complex"),
    ("scores 2-D", lambda: evaluate({"aum": np.arange(30.0)[:, None]}, MASK), ValueError, "has shape"),
    ("scores short", lambda: evaluate({"aum": np.arange(10.0)}, MASK), ValueError, r"has shape \(10,\) but mask"),
    ("scores NaN", lambda: evaluate({"aum": np.full(30, np.nan)}, MASK), ValueError, "NaN or infinite"),
    ("scores a number", lambda: evaluate({"aum": 0.5}, MASK), TypeError, "must be a torch.Tensor"),
]

GRIDS = [
    ("benchmark: proportions text", _bench(proportions="0.2"), TypeError, "proportions must be one value or a list"),
    ("benchmark: kinds empty", _bench(kinds=[]), ValueError, "kinds is empty"),
    ("benchmark: a kind twice", _bench(kinds=["uniform", "uniform"]), ValueError, "'uniform' more than once"),
    ("benchmark: a kind unknown", _bench(kinds=["blur"]), ValueError, "Unknown hardness type 'blur'"),
    ("benchmark: epochs text", _bench(epochs="x"), ValueError, "epochs must be a positive integer"),
    ("benchmark: n_jobs 0", _bench(n_jobs=0), ValueError, "n_jobs must be a non-zero integer"),
    ("benchmark: n_jobs text", _bench(n_jobs="2"), ValueError, "n_jobs must be a non-zero integer"),
    ("benchmark: backend unknown", _bench(backend="nope"), ValueError, "Unknown joblib backend 'nope'"),
    ("benchmark: model instance", _bench(model=tiny_images()), TypeError, "not a model instance"),
    ("benchmark: model() not a module", _bench(model=lambda: 3), TypeError, "model.. must return a torch.nn.Module"),
    ("benchmark: model() fails", _bench(model=MLP), TypeError, r"model\(\) failed .*model=lambda: MLP\(784, 10\)"),
    ("benchmark: model for other inputs", _bench(model=lambda: MLP(10, 10)), ValueError,
     r"cannot take inputs of shape \(1, 8, 8\)"),
    ("benchmark: model with too few classes", _bench(model=lambda: MLP(64, 3)), ValueError,
     "y has class index 9 but model.. builds a model with 3 outputs"),
    ("benchmark: lr 0", _bench(lr=0), ValueError, "lr must be a positive number"),
    ("benchmark: batch size text", _bench(batch_size="x"), ValueError, "batch_size must be a positive integer"),
    ("benchmark: unknown device", _bench(device="x"), ValueError, "device must be a torch.device"),
    ("benchmark: seed negative", _bench(seeds=[-1]), ValueError, "seed must be a non-negative integer"),
    ("benchmark: a seed twice", _bench(seeds=[0, 0]), ValueError, "seeds has 0 more than once"),
    ("benchmark: proportion 0", _bench(proportions=[0.0]), ValueError, "strictly between 0 and 1"),
    ("benchmark: method unknown", _bench(methods=["margin"]), ValueError, "Unknown method 'margin'"),
    ("benchmark: VoG after one epoch", _bench(methods=["vog"]), ValueError, "train for at least 2 epochs"),
    ("benchmark: no features()", _bench(methods=["prototypicality"], model=lambda: nn.Sequential(
        nn.Flatten(), nn.Linear(64, 10))), TypeError, r"needs model.features\(x\)"),
    ("grid: epochs text", _grid(epochs="x"), ValueError, "epochs must be a positive integer"),
    ("grid: lr text", _grid(lr="x"), TypeError, "lr must be a positive number"),
    ("grid: batch size 0", _grid(batch_size=0), ValueError, "batch_size must be a positive integer"),
    ("grid: unknown device", _grid(device="x"), ValueError, "device must be a torch.device"),
    ("grid: model() not a module", _grid(model=lambda: 3), TypeError, "must return a torch.nn.Module"),
    ("grid: model for other inputs", _grid(model=lambda: MLP(10, 10)), ValueError, "cannot take inputs"),
    ("grid: proportions empty", _grid(proportions=[]), ValueError, "proportions is empty"),
    ("grid: seed text", _grid(seed="0"), ValueError, "seed must be a non-negative integer"),
    ("plot_benchmark: metric", lambda: plot_benchmark(_bench_table(), metric="f1"), ValueError, "Unknown metric"),
    ("plot_benchmark: no rows", lambda: plot_benchmark(_bench_table().iloc[:0]), ValueError, "table has no rows"),
    ("plot_benchmark: not a table", lambda: plot_benchmark([1, 2]), ValueError, "what benchmark.. returns"),
]

ENRICHMENT = [
    ("DataParameters: n_samples float", lambda: DataParameters(10.0, 2), ValueError, "n_samples must be a positive"),
    ("DataParameters: clamp text", lambda: DataParameters(10, 2, clamp="ab"), TypeError, r"clamp\[0\] must be"),
    ("DataParameters: numpy batch", lambda: DataParameters(4, 2)(np.zeros((4, 2)), np.zeros(4), np.arange(4)),
     TypeError, "logits must be a torch.Tensor"),
    ("DataParameters: index beyond samples", lambda: DataParameters(4, 2)(
        torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.tensor([0, 1, 2, 9])), ValueError,
     "indices must be sample positions 0..3"),
    ("DataParameters: target beyond classes", lambda: DataParameters(4, 2)(
        torch.zeros(4, 2), torch.tensor([0, 1, 5, 0]), torch.arange(4)), ValueError, "targets classes 0..1"),
    ("categorize: text", lambda: categorize(np.array([["a"]])), TypeError, "trajectories must hold numbers"),
    ("categorize: complex", lambda: categorize(SIGMA + 0j), TypeError, "trajectories is complex"),
    ("categorize: 1-D", lambda: categorize(SIGMA[0]), ValueError, r"shape \(epochs, N\)"),
    ("categorize: log σ", lambda: categorize(np.log(SIGMA)), ValueError, "positive, finite temperatures"),
    ("categorize: no epochs", lambda: categorize(SIGMA[:0]), ValueError, "trajectories has 0 epochs"),
    ("categorize: a list", lambda: categorize(SIGMA.tolist()), TypeError, "numpy array or tensor"),
    ("categorize: window 0", lambda: categorize(SIGMA, window=0), ValueError, r"window must be a number in \(0, 1\]"),
    ("categorize: window 1.5", lambda: categorize(SIGMA, window=1.5), ValueError, "window must be"),
    ("categorize: margin NaN", lambda: categorize(SIGMA, margin=np.nan), ValueError, "margin must be a non-negative"),
    ("categorize: margin text", lambda: categorize(SIGMA, margin="0"), TypeError, "margin must be a non-negative"),
    ("t-SNE: one sample", lambda: trajectory_tsne(SIGMA[:, :1]), ValueError, "trajectories has 1 sample"),
    ("t-SNE: one epoch", lambda: trajectory_tsne(SIGMA[:1], perplexity=5), ValueError, "trajectories has 1 epoch"),
    ("t-SNE: all the same", lambda: trajectory_tsne(np.ones((5, 12)), perplexity=5), ValueError,
     "every trajectory is the same"),
    ("t-SNE: perplexity 0", lambda: trajectory_tsne(SIGMA, perplexity=0), ValueError,
     r"perplexity must be .*\(0, 12\)"),
    ("t-SNE: perplexity too large", lambda: trajectory_tsne(SIGMA, perplexity=12), ValueError, "below the number"),
    ("t-SNE: seed negative", lambda: trajectory_tsne(SIGMA, perplexity=5, seed=-1), ValueError, "seed must be"),
    ("t-SNE: seed text", lambda: trajectory_tsne(SIGMA, perplexity=5, seed="a"), ValueError, "seed must be"),
    ("RecordInputGradients: epochs text", lambda: RecordInputGradients(X_SMALL, Y_SMALL, epochs="ab"), TypeError,
     "epochs must be one value or a list"),
    ("RecordInputGradients: epoch negative", lambda: RecordInputGradients(X_SMALL, Y_SMALL, epochs=[-1]),
     ValueError, "an epoch must be a non-negative integer"),
    ("RecordInputGradients: y short", lambda: RecordInputGradients(X_SMALL, Y_SMALL[:5]), ValueError,
     "y has 5 entries but there are 12"),
    ("RecordInputGradients: batch 0", lambda: RecordInputGradients(X_SMALL, Y_SMALL, batch_size=0), ValueError,
     "batch_size must be a positive integer"),
    ("RecordInputGradients: epoch beyond training", lambda: fit(MLP(4, 3), X_SMALL, Y_SMALL, epochs=2, progress=False,
     callbacks=[RecordInputGradients(X_SMALL, Y_SMALL, epochs=[5])]), ValueError, r"epochs to record must be in 0..1"),
    ("RecordInputGradients: other inputs", lambda: fit(MLP(4, 3), X_SMALL, Y_SMALL, epochs=1, progress=False,
     callbacks=[RecordInputGradients(torch.randn(12, 5), Y_SMALL)]), ValueError, "cannot take inputs of shape"),
    ("RecordGradNorms: batch 0", lambda: RecordGradNorms(X_SMALL, Y_SMALL, batch_size=0), ValueError,
     "batch_size must be a positive integer"),
    ("RecordGradNorms: labels beyond outputs", lambda: fit(MLP(4, 3), X_SMALL, Y_SMALL, epochs=1, progress=False,
     callbacks=[RecordGradNorms(X_SMALL, Y_SMALL + 3)]), ValueError, "y has class index 5"),
]

REFUSED = PERTURB + METHODS + CHARACTERIZE + EVALUATE + GRIDS + ENRICHMENT


@pytest.mark.parametrize("call, error, phrase", [pytest.param(*case[1:], id=case[0]) for case in REFUSED])
def test_bad_input_is_refused_with_trustmls_own_message(call, error, phrase):
    torch.set_num_threads(1)
    assert_refused(call, error, phrase)


def test_grid_cells_outside_the_grid_are_refused():
    grid = _grid()()
    assert_refused(lambda: grid.cell("zoom_shift", 0.2), ValueError, "Unknown hardness type 'zoom_shift' for this")
    assert_refused(lambda: grid.cell("uniform", 0.3), ValueError, r"proportion 0.3 is not in this grid")
    assert_refused(lambda: grid.cell("uniform", "0.2"), TypeError, "proportion must be a number")
    result = characterize(tiny(), X_SMALL, Y_SMALL, epochs=1, methods=["aum"])
    assert_refused(lambda: result.hardest("aum", 0), ValueError, "k must be a positive integer")
    assert_refused(lambda: result.hardest("loss"), ValueError, "No scores for 'loss'")
    assert_refused(lambda: evaluate(result, MASK[:12]), TypeError, r"pass result.scores, or call result.evaluate")


# --------------------------------------------------------------------------- warned: what was done, and how much

WARNED = [
    ("shift with some black images", lambda: perturb(np.r_[BLACK[:12], IMAGES[:8]], DIGITS, kind="crop_shift",
     proportion=0.5), r"could change only 8 of the 10 samples asked for: all-black images stay black", 8),
    ("noise with some black images", lambda: perturb(np.r_[BLACK[:15], IMAGES[:5]], DIGITS, kind="ood_covariate",
     proportion=0.5), "could change only 5 of the 10", 5),
    ("zoom with some flat images", lambda: perturb(np.r_[BLACK[:12] + 1, IMAGES[:8]], DIGITS, kind="zoom_shift",
     proportion=0.5), "could change only 8 of the 10 .*one flat colour", 8),
    ("instance rule changes few classes", lambda: perturb(ROWS[:20], DIGITS, kind="instance", proportion=0.9),
     r"could change only 16 of the 18 .*changes only classes \[1, 2, 3, 5, 6, 7, 8, 9\]", 16),
    ("atypical on a saturated binary feature", lambda: perturb(np.c_[np.ones(30), np.arange(30) >= 10], CLASSES,
     kind="atypical", proportion=0.5), "could change only 10 of the 15 .*already have feature 1 in its top 1%", 10),
]


@pytest.mark.parametrize("call, phrase, changed", [pytest.param(*case[1:], id=case[0]) for case in WARNED])
def test_perturbing_fewer_than_asked_warns_and_says_so(call, phrase, changed):
    result = assert_warns(call, phrase)
    assert result.mask.sum() == changed < result.requested
    assert f"{changed} of " in result.details and f"({result.requested} asked for;" in result.details


def test_undefined_cosines_and_single_sample_classes_warn():
    scores = assert_warns(lambda: prototypicality(np.r_[np.zeros((1, 4)), FEATURES[1:]], LABELS), "1 sample")
    assert scores[0] == 1.0 and np.isfinite(scores).all()
    single = r"class\(es\) \[3\] have a single sample"
    scores = assert_warns(lambda: vog(GRADIENTS, np.array([0, 0, 1, 1, 1, 3])), single)
    assert scores[5] == 0.0


# --------------------------------------------------------------------------- edge input with a right answer


def test_edge_inputs_get_the_right_answer():
    from scipy.special import log_softmax

    one_epoch = LOGITS[:1]
    margin = one_epoch[0, np.arange(6), LABELS] - np.where(np.eye(3)[LABELS] > 0, -np.inf, one_epoch[0]).max(1)
    np.testing.assert_allclose(aum(one_epoch, LABELS), -margin)  # one epoch: AUM is that epoch's margin
    np.testing.assert_allclose(loss(LOGITS.tolist(), LABELS.tolist()), loss(LOGITS, LABELS))  # lists = arrays
    np.testing.assert_allclose(loss(torch.from_numpy(LOGITS), torch.from_numpy(LABELS)), loss(LOGITS, LABELS))
    assert loss(one_epoch[:, :1], LABELS[:1]) == pytest.approx(-log_softmax(one_epoch[0, 0])[0])  # one sample
    assert (forgetting(one_epoch, LABELS) == np.where(one_epoch[0].argmax(1) == LABELS, 0.0, 1.0)).all()
    assert allsh(PROBS[:1], PROBS[:1]).tolist() == [0.0]  # no change under augmentation: no sensitivity
    black = perturb(BLACK, DIGITS, kind="far_ood", proportion=0.5)  # photographs replace even black images
    assert black.mask.sum() == black.requested == 10
    assert (np.abs(black.X - BLACK).reshape(20, -1).max(1) > 0).tolist() == black.mask.tolist()
    table = benchmark(ROWS, CLASSES, model=lambda: MLP(4, 3), kinds="uniform", proportions=0.2, seeds=0,
                      methods=["aum"], epochs=1)  # fmt: skip  # single values for the grid's lists
    assert table[["kind", "proportion", "seed"]].values.tolist() == [["uniform", 0.2, 0]]


# --------------------------------------------------------------------------- the views: refused before drawing


@functools.cache
def run():
    """A characterisation of 40 random images, 3 classes, and its images and a mask."""
    X, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 3
    return characterize(MLP(64, 3), X, y, epochs=2, methods=["aum", "loss"]), X, np.arange(40) < 8


def _map(**changes):
    return lambda: plot_data_map(run()[0], run()[1], **changes)


def _ranking(mask=None, X=None, **changes):
    return lambda: plot_method_ranking(run()[0], run()[2] if mask is None else mask(), run()[1] if X is None else X(),
                                       **changes)  # fmt: skip


TRAJECTORIES = np.exp(np.cumsum(RNG.normal(0, 0.2, size=(5, 30)), axis=0))
CATEGORIES = categorize(TRAJECTORIES)
THUMBS = np.zeros((30, 1, 4, 4))
VIEWS = [
    ("data map: normalised images", lambda: plot_data_map(run()[0], run()[1] * 2 - 1), ValueError,
     r"pixel values in \[0, 1\] .*got \[-1, 1\]: pass them unnormalised"),
    ("data map: 8-bit images", lambda: plot_data_map(run()[0], run()[1] * 255), ValueError, "divide 8-bit images"),
    ("data map: NaN images", lambda: plot_data_map(run()[0], run()[1] * np.nan), ValueError, "X has 2560 NaN"),
    ("data map: tabular X", lambda: plot_data_map(run()[0], torch.rand(40, 64)), ValueError, "for tabular data leave"),
    ("data map: X short", lambda: plot_data_map(run()[0], run()[1][:5]), ValueError, "X has 5 images but the result"),
    ("data map: threshold text", _map(confidence_threshold="0.2"), TypeError, "confidence_threshold must be"),
    ("data map: threshold 0.7", _map(uncertainty_threshold=0.7), ValueError, r"uncertainty_threshold .*\[0, 0.5\]"),
    ("data map: uncertainty unknown", _map(uncertainty="epistemic"), ValueError, "uncertainty must be 'variability'"),
    ("data map: group a list", _map(group=["hard"]), ValueError, "group must be one of hard, ambiguous, easy"),
    ("data map: class by number", _map(class_name=1), ValueError, r"Unknown class_name 1; the classes are \['0'"),
    ("data map: class names a string", _map(class_names="abc"), TypeError, "class_names must be a list of names"),
    ("data map: class names twice", _map(class_names=["a", "a", "b"]), ValueError, "'a' more than once"),
    ("data map: class names short", _map(class_names=["a"]), ValueError, "class_names has 1 names but there are 3"),
    ("data map: mask text", _map(mask=np.array(["a"] * 40)), ValueError, "mask must be boolean"),
    ("data map: mask short", _map(mask=np.ones(5, bool)), ValueError, "mask has 5 entries but there are 40"),
    ("data map: no images", _map(n_images=0), ValueError, "n_images must be a positive integer"),
    ("data map: labels short", _map(original_labels=np.zeros(5, int)), ValueError, "original_labels has 5 entries"),
    ("data map: not a result", lambda: plot_data_map({}, run()[1]), TypeError, "result must be what characterize"),
    ("ranking: method unknown", _ranking(method="vog"), ValueError, "No scores for method 'vog'"),
    ("ranking: mask short", _ranking(mask=lambda: np.ones(5, bool)), ValueError, "mask has 5 entries"),
    ("ranking: mask all True", _ranking(mask=lambda: np.ones(40, bool)), ValueError, "both perturbed"),
    ("ranking: X short", _ranking(X=lambda: run()[1][:5]), ValueError, "X has 5 images but the result has 40"),
    ("ranking: k 0", _ranking(k=0), ValueError, "k must be a positive integer"),
    ("ranking: title a number", _ranking(title=5), TypeError, "title must be a string"),
    ("ranking: labels short", _ranking(original_labels=np.zeros(5, int)), ValueError, "original_labels has 5"),
    ("hardest: methods a string", lambda: plot_hardest(run()[0], run()[1], methods="aum"), TypeError,
     "methods must be one value or a list"),
    ("hardest: a method twice", lambda: plot_hardest(run()[0], run()[1], methods=["aum", "aum"]), ValueError,
     "'aum' more than once"),
    ("hardest: methods empty", lambda: plot_hardest(run()[0], run()[1], methods=[]), ValueError, "methods is empty"),
    ("hardest: no images", lambda: plot_hardest(run()[0], None), TypeError, "X must be a torch.Tensor"),
    ("hardest: k 0", lambda: plot_hardest(run()[0], run()[1], k=0), ValueError, "k must be a positive integer"),
    ("trajectories: positions as floats", lambda: plot_trajectories(TRAJECTORIES, [0.5]), TypeError,
     r"indices must be sample positions \(integers\)"),
    ("trajectories: a sample twice", lambda: plot_trajectories(TRAJECTORIES, [1, 1]), ValueError, "twice"),
    ("trajectories: 13 samples", lambda: plot_trajectories(TRAJECTORIES, range(13)), ValueError, "between 1 and 12"),
    ("trajectories: out of range", lambda: plot_trajectories(TRAJECTORIES, [30]), ValueError, "out of range 0..29"),
    ("trajectories: labels text", lambda: plot_trajectories(TRAJECTORIES, [0], labels=np.array(["a"] * 30)),
     TypeError, "map class names to indices"),
    ("trajectories: labels beyond names", lambda: plot_trajectories(TRAJECTORIES, [0], labels=np.arange(30) % 3,
     class_names=["a", "b"]), ValueError, r"class index 2 but there are only 2 classes \(one per name"),
    ("trajectories: 8-bit images", lambda: plot_trajectories(TRAJECTORIES, [0], images=THUMBS + 255), ValueError,
     "divide 8-bit images by 255"),
    ("trajectories: categories short", lambda: plot_trajectories(TRAJECTORIES, [0], categories=CATEGORIES[:5]),
     ValueError, "categories must have one entry per sample"),
    ("detection: mask all True", lambda: plot_temperature_detection(TRAJECTORIES, np.ones(30, bool)), ValueError,
     "some samples as perturbed and some as not"),
    ("detection: mask short", lambda: plot_temperature_detection(TRAJECTORIES, np.ones(3, bool)), ValueError,
     "mask has 3 entries"),
    ("t-SNE plot: NaN", lambda: plot_trajectory_tsne(np.full((30, 2), np.nan), CATEGORIES), ValueError,
     "embedding has 60 NaN"),
    ("t-SNE plot: 3-D points", lambda: plot_trajectory_tsne(np.zeros((30, 3)), CATEGORIES), ValueError,
     r"embedding must have shape \(N, 2\)"),
    ("t-SNE plot: thumbnails -1", lambda: plot_trajectory_tsne(np.zeros((30, 2)), CATEGORIES, images=THUMBS,
     n_thumbnails=-1), ValueError, "n_thumbnails must be a non-negative integer"),
    ("t-SNE plot: seed -1", lambda: plot_trajectory_tsne(np.zeros((30, 2)), CATEGORIES, images=THUMBS, seed=-1),
     ValueError, "seed must be a non-negative integer"),
    ("t-SNE plot: images short", lambda: plot_trajectory_tsne(np.zeros((30, 2)), CATEGORIES, images=THUMBS[:3]),
     ValueError, "images has 3 samples but the embedding has 30"),
    ("category grid: σ NaN", lambda: plot_category_grid(THUMBS, CATEGORIES, np.full(30, np.nan)), ValueError,
     "sigma has 30 NaN"),
    ("category grid: σ text", lambda: plot_category_grid(THUMBS, CATEGORIES, ["a"] * 30), TypeError,
     "sigma must hold numbers"),
    ("category grid: per row 0", lambda: plot_category_grid(THUMBS, CATEGORIES, TRAJECTORIES[-1], per_row=0),
     ValueError, "per_row must be a positive integer"),
    ("category grid: mask short", lambda: plot_category_grid(THUMBS, CATEGORIES, TRAJECTORIES[-1],
     mask=np.ones(3, bool)), ValueError, "mask has 3 entries but there are 30"),
    ("category grid: 2 channels", lambda: plot_category_grid(np.zeros((30, 2, 4, 4)), CATEGORIES, TRAJECTORIES[-1]),
     ValueError, "1 or 3 channels"),
]


@pytest.mark.parametrize("call, error, phrase", [pytest.param(*case[1:], id=case[0]) for case in VIEWS])
def test_views_refuse_bad_input_before_drawing(call, error, phrase):
    torch.set_num_threads(1)
    assert_refused(call, error, phrase)
