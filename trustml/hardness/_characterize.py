"""Every hardness method from one training run, and how well each finds the planted hardness."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from trustml.hardness import _methods as hcm
from trustml._checks import check_bool, check_int, check_labels, check_mask, check_seed, real_array
from trustml.hardness._recorders import RecordGradNorms, RecordInputGradients
from trustml.training import History, RecordLogits, _as_inputs, _model_device, _output_width, fit, predict_logits
from trustml.uncertainty._predict import _active_dropout, _dropout_passes

__all__ = ["Characterization", "characterize", "evaluate"]

_DYNAMICS = ("aum", "data_iq", "data_maps", "forgetting", "loss", "detector")
_FINAL = ("cleanlab", "el2n")
MC_PASSES = 10


@dataclass(repr=False)
class Characterization:
    """What :func:`characterize` found: one hardness score per sample and method, and the run behind them.

    Attributes
    ----------
    scores : dict
        Method name -> ``(N,)`` float array, higher = harder.
    labels : numpy.ndarray
        The observed labels the model was trained on.
    logits : torch.Tensor
        Training dynamics: ``(epochs, N, classes)`` training-pass logits in sample order.
    final_logits : torch.Tensor
        ``(N, classes)`` logits of the trained model (eval mode) on the training samples.
    data_map : pandas.DataFrame
        Per sample: confidence, variability, aleatoric, correctness (:func:`data_map`).
    groups : dict
        ``"data_iq"`` and ``"data_maps"`` -> ``(N,)`` array of ``easy`` / ``ambiguous`` / ``hard``.
    history : trustml.training.History
        Loss and accuracy per epoch.
    seconds : dict
        Wall-clock seconds: ``"fit"``, the training run with its logit
        recording; ``"predict"``, one pass of the trained model (its logits);
        each method, the extra work it needed (VoG's and GraNd's recording
        callbacks included). They add up to the whole call.
    input_gradients : torch.Tensor or None
        ``(checkpoints, N, ...)`` input gradients recorded for VoG.
    features : torch.Tensor or None
        ``(N, dim)`` penultimate features of the trained model (for prototypicality).
    """

    scores: dict
    labels: np.ndarray
    logits: torch.Tensor
    final_logits: torch.Tensor
    data_map: pd.DataFrame
    groups: dict
    history: History
    seconds: dict = field(default_factory=dict)
    input_gradients: torch.Tensor | None = None
    features: torch.Tensor | None = None

    @property
    def methods(self) -> tuple:
        """The names of the methods scored."""
        return tuple(self.scores)

    def __repr__(self) -> str:
        epochs, n, k = self.logits.shape
        return f"Characterization({n} samples, {k} classes, {epochs} epochs; methods: {', '.join(self.methods)})"

    def to_frame(self) -> pd.DataFrame:
        """One row per sample: label, prediction, data-map statistics, groups and every score.

        Returns
        -------
        pandas.DataFrame
            Indexed by sample position.
        """
        frame = pd.DataFrame({"label": self.labels, "predicted": self.final_logits.argmax(1).numpy()})
        frame = frame.join(self.data_map)
        for name, groups in self.groups.items():
            frame[f"{name}_group"] = groups
        for name, scores in self.scores.items():
            frame[name] = scores
        frame.index.name = "sample"
        return frame

    def hardest(self, method: str, k: int = 10) -> np.ndarray:
        """Positions of the ``k`` samples ``method`` scores hardest, hardest first."""
        if method not in self.scores:
            raise ValueError(f"No scores for {method!r}; this result has: {', '.join(self.methods)}.")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}.")
        return np.argsort(-self.scores[method], kind="stable")[:k]

    def evaluate(self, mask) -> pd.DataFrame:
        """:func:`evaluate` these scores against the perturbed ``mask``."""
        return evaluate(self.scores, mask)


def characterize(
    model: nn.Module,
    X,
    y,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    methods="all",
    device=None,
    progress: bool = False,
) -> Characterization:
    """Train ``model`` once and score every sample with the chosen hardness methods.

    One call of :func:`trustml.training.fit` (Adam, cross-entropy) records the
    training dynamics (every sample's training-pass logits each epoch) and,
    when asked for, the input gradients VoG needs (:class:`RecordInputGradients`,
    three checkpoints) and the per-sample gradient norms of the final model
    for GraNd (:class:`RecordGradNorms`). After training, cheap passes of the
    trained model give what the rest need: its logits (cleanlab, EL2N),
    ``model.features`` (prototypicality), 10 MC-dropout passes (conf_agree)
    and one augmented pass (ALLSH). Which method uses what:
    :func:`hardness_methods`.

    Parameters
    ----------
    model : torch.nn.Module
        A fresh (untrained) classifier; it is trained in place. Prototypicality
        needs ``model.features(x)`` (every ``trustml.models`` model has it);
        conf_agree needs dropout layers to disagree.
    X : torch.Tensor or numpy.ndarray
        Training inputs ``(N, ...)``.
    y : torch.Tensor or numpy.ndarray
        Observed labels ``(N,)``, possibly noisy.
    epochs : int
        Training epochs (H-CAT: 10). VoG needs at least 2.
    batch_size : int, default 64
    lr : float, default 1e-3
    seed : int, default 0
        Seeds training, MC dropout, augmentation and the detector.
    methods : "all", str or list of str, default "all"
        Names from :data:`METHODS`.
    device : torch.device or str, optional
        Default :func:`trustml.get_device`.
    progress : bool, default False
        Show fit's progress bar.

    Returns
    -------
    Characterization
        ``.scores`` (method -> ``(N,)``, higher = harder), ``.groups``,
        ``.data_map``, the recorded ``.logits`` and more.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import characterize, perturb
    >>> from trustml.models import MLP
    >>> from trustml import set_seed
    >>> digits = load("digits").subset(300)
    >>> noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2)
    >>> set_seed(0)
    >>> result = characterize(MLP(784, 10), noisy.X, noisy.y, epochs=10, methods=["aum", "loss"])
    >>> table = result.evaluate(noisy.mask)
    >>> bool((table["auroc"] > 0.9).all())
    True
    """
    methods = hcm.resolve_methods(methods)
    check_setup(model, methods, epochs)
    check_bool(progress, "progress")
    X = _as_inputs(X, "X")
    if len(X) < 2:
        raise ValueError(
            f"X has {len(X)} sample: hardness methods rank samples against each other (and ALLSH's augmentation "
            "scales with the spread over samples), so characterize needs at least 2."
        )
    labels = check_labels(y, len(X), "y")
    width = _output_width(model, X[:2].to(_model_device(model)), "X")
    if width < 2:
        raise ValueError(f"model outputs {width} logit per sample: a classifier needs at least 2 (one per class).")
    generator = torch.Generator().manual_seed(check_seed(seed))

    recorder = RecordLogits()
    callbacks = [recorder]
    vog_recorder = RecordInputGradients(X, labels) if "vog" in methods else None
    grand_recorder = RecordGradNorms(X, labels) if "grand" in methods else None
    callbacks += [cb for cb in (vog_recorder, grand_recorder) if cb is not None]
    start = time.perf_counter()
    history = fit(
        model, X, labels, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
        callbacks=callbacks, progress=progress,
    )  # fmt: skip
    recording = sum(cb.seconds for cb in (vog_recorder, grand_recorder) if cb is not None)
    seconds = {"fit": time.perf_counter() - start - recording}
    logits = recorder.logits
    device = next(model.parameters()).device

    def timed(name, compute):
        start = time.perf_counter()
        value = compute()
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
        return value

    start = time.perf_counter()
    final_logits = predict_logits(model, X, device=device)
    seconds["predict"] = time.perf_counter() - start
    scores, features, gradients = {}, None, None
    for name in methods:
        if name in _DYNAMICS:
            extra = {"seed": seed} if name == "detector" else {}
            scores[name] = timed(name, lambda: getattr(hcm, name)(logits, labels, **extra))
        elif name in _FINAL:
            scores[name] = timed(name, lambda: getattr(hcm, name)(final_logits, labels))
        elif name == "vog":
            gradients = vog_recorder.gradients
            seconds["vog"] = vog_recorder.seconds
            scores[name] = timed(name, lambda: hcm.vog(gradients, labels))
        elif name == "grand":
            seconds["grand"] = grand_recorder.seconds
            scores[name] = grand_recorder.norms
        elif name == "prototypicality":
            features = timed(name, lambda: _features(model, X, device))
            scores[name] = timed(name, lambda: hcm.prototypicality(features, labels))
        elif name == "conf_agree":
            mask_seed = int(torch.randint(2**31, (1,), generator=generator))
            probs = timed(name, lambda: _dropout_passes(
                model, X, _active_dropout(model), passes=MC_PASSES, seed=mask_seed, batch_size=512, device=device,
            ).double())  # fmt: skip
            scores[name] = timed(name, lambda: hcm.conf_agree(probs))
        elif name == "allsh":
            augmented = timed(name, lambda: predict_logits(model, _augment(X, generator), device=device))
            scores[name] = timed(
                name, lambda: hcm.allsh(final_logits.softmax(1).double(), augmented.softmax(1).double())
            )
    stats = hcm.data_map(logits, labels)
    groups = {
        "data_iq": hcm.easy_ambiguous_hard(stats["confidence"], stats["aleatoric"]),
        "data_maps": hcm.easy_ambiguous_hard(stats["confidence"], stats["variability"]),
    }
    return Characterization(
        scores={name: np.asarray(s, dtype=np.float64) for name, s in scores.items()},
        labels=labels,
        logits=logits,
        final_logits=final_logits,
        data_map=stats,
        groups=groups,
        history=history,
        seconds=seconds,
        input_gradients=gradients,
        features=features,
    )


def check_setup(model, methods: tuple, epochs) -> None:
    """What the chosen methods need of the model and the training: a module, features(), 2 epochs for VoG."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if "prototypicality" in methods and not callable(getattr(model, "features", None)):
        raise TypeError(
            f"'prototypicality' needs model.features(x), the penultimate activations, but "
            f"{type(model).__name__} has no features() method: use a trustml.models model, add one, "
            "or leave prototypicality out of methods (the other methods need only the logits)."
        )
    check_int(epochs, "epochs", minimum=1)
    if "vog" in methods and epochs < 2:
        raise ValueError("'vog' compares input gradients across epochs: train for at least 2 epochs, or leave it out.")


@torch.no_grad()
def _features(model: nn.Module, X: torch.Tensor, device, batch_size: int = 512) -> torch.Tensor:
    with hcm._eval_mode(model):
        return torch.cat([model.features(xb.to(device)).float().cpu() for xb in X.split(batch_size)])


def _augment(X: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """ALLSH's augmentation. Images: horizontal flip, brightness x U(0.5, 1.5), Gaussian noise
    (std 0.1), pixelisation to U(0.3, 0.6) of the side; rows: Gaussian noise of 0.1 x each feature's std."""
    import torch.nn.functional as F

    low, high = float(X.min()), float(X.max())
    if X.ndim != 4:
        return X + torch.randn(X.shape, generator=generator) * 0.1 * X.std(0, keepdim=True)
    n, _, h, w = X.shape
    brightness = torch.empty(n, 1, 1, 1).uniform_(0.5, 1.5, generator=generator)
    out = X.flip(-1) * brightness + torch.randn(X.shape, generator=generator) * 0.1
    ratio = torch.empty(n).uniform_(0.3, 0.6, generator=generator)
    sides = (ratio * h).round().clamp(min=1).long()
    for side in sides.unique().tolist():
        rows = sides == side
        small = F.interpolate(out[rows], size=(side, max(1, round(side * w / h))), mode="area")
        out[rows] = F.interpolate(small, size=(h, w), mode="nearest")
    return out.clamp_(low, high)


def evaluate(scores: Mapping, mask) -> pd.DataFrame:
    """How well each method's scores find the perturbed samples.

    Parameters
    ----------
    scores : mapping
        Method name -> ``(N,)`` scores, higher = harder (e.g. ``characterize(...).scores``).
    mask : array-like of bool, shape (N,)
        Which samples were perturbed (``perturb(...).mask``).

    Returns
    -------
    pandas.DataFrame
        Indexed by method: ``auroc`` (``sklearn.metrics.roc_auc_score``),
        ``auprc`` (``average_precision_score``) and ``precision_at_k``: the
        share of perturbed samples among the ``k`` highest scores, ``k`` the
        number of perturbed samples. Ties count fairly, as in AUROC: where
        tied scores straddle the top ``k``, the precision is its expected value
        when the tied samples are ordered at random (so a constant score gets
        the perturbed share, whatever the samples' order). Chance level:
        AUROC 0.5, AUPRC and precision at k = the perturbed share.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.array([False, False, True, True])
    >>> scores = {"perfect": np.array([0.1, 0.2, 0.8, 0.9]), "reversed": np.array([0.9, 0.8, 0.2, 0.1])}
    >>> evaluate(scores, mask).round(2)
              auroc  auprc  precision_at_k
    method
    perfect     1.0   1.00             1.0
    reversed    0.0   0.42             0.0
    >>> evaluate({"constant": np.zeros(4)}, mask)["precision_at_k"].item()   # chance: 2 of 4 perturbed
    0.5
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    if not isinstance(scores, Mapping):
        hint = " (pass result.scores, or call result.evaluate(mask))" if isinstance(scores, Characterization) else ""
        raise TypeError(f"scores must be a dict of method name -> (N,) scores, got {type(scores).__name__}{hint}.")
    if not scores:
        raise ValueError("scores is empty: give at least one method's scores, e.g. characterize(...).scores.")
    mask = check_mask(mask, both=True)
    k = int(mask.sum())
    rows = {}
    for name, values in scores.items():
        values = real_array(values, f"scores[{name!r}]", finite=False)
        if values.shape != mask.shape:
            raise ValueError(f"scores[{name!r}] has shape {values.shape} but mask has {mask.shape}: they must match.")
        if not np.isfinite(values).all():
            raise ValueError(f"scores[{name!r}] has NaN or infinite values.")
        rows[name] = {
            "auroc": roc_auc_score(mask, values),
            "auprc": average_precision_score(mask, values),
            "precision_at_k": precision_at_k(mask, values, k),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["auroc", "auprc", "precision_at_k"])
    frame.index.name = "method"
    return frame


def precision_at_k(mask: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Expected share of ``mask`` among the ``k`` highest scores, tied scores ordered uniformly at random.

    Every sample scored above the k-th highest score is in the top k; of the
    samples tied with it, ``k - above`` are, each equally likely, so they add
    that many times the perturbed share among them.
    """
    cut = np.partition(scores, len(scores) - k)[len(scores) - k]  # the k-th highest score
    above, tied = scores > cut, scores == cut
    return float((mask[above].sum() + (k - above.sum()) * mask[tied].mean()) / k)
