"""The thirteen hardness characterisation methods (HCMs) of H-CAT, as plain functions.

Each function takes what its method looks at (training dynamics, the final
model's outputs, features or gradients) and returns one score per sample, as a
float64 NumPy array, with one convention throughout: **higher = harder** (more
likely mislabeled, atypical or out of distribution). Where a paper's score runs
the other way, the function flips it and says so.

Shapes: ``logits`` of the training dynamics are ``(epochs, N, classes)`` in
sample order (``trustml.training.RecordLogits().logits``); the final model's
logits are ``(N, classes)``; ``labels`` are the observed (possibly noisy)
class indices ``(N,)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.special import log_softmax, softmax
from torch import nn

from trustml._checks import (
    check_bool,
    check_int,
    check_labels,
    check_logits,
    check_number,
    check_seed,
    real_array,
    unknown_name,
)

__all__ = [
    "METHODS",
    "allsh",
    "aum",
    "cleanlab",
    "conf_agree",
    "data_iq",
    "data_map",
    "data_maps",
    "detector",
    "easy_ambiguous_hard",
    "el2n",
    "forgetting",
    "grand",
    "hardness_methods",
    "loss",
    "prototypicality",
    "vog",
]

# name: (what it needs, reference, what the score is)
_METHODS = {
    "aum": ("training logits", "Pleiss et al. 2020", "minus the mean margin z_label - max other z over epochs"),
    "cleanlab": ("final logits", "Northcutt et al. 2021", "1 - cleanlab's label quality (self-confidence)"),
    "conf_agree": ("MC-dropout passes", "Gal & Ghahramani 2016", "1 - max of the mean MC-dropout softmax"),
    "data_iq": ("training logits", "Seedat et al. 2022", "group (easy < ambiguous < hard) + 1 - confidence"),
    "data_maps": ("training logits", "Swayamdipta et al. 2020", "group (easy < ambiguous < hard) + 1 - confidence"),
    "el2n": ("final logits", "Paul et al. 2021", "L2 norm of softmax - one-hot label"),
    "grand": ("model (per-sample gradients)", "Paul et al. 2021", "L2 norm of the loss gradient w.r.t. the weights"),
    "forgetting": ("training logits", "Toneva et al. 2019", "forgetting events / epochs (never learned = 1)"),
    "loss": ("training logits", "Xia et al. 2021", "mean cross-entropy over epochs"),
    "prototypicality": (
        "model.features()",
        "Sorscher et al. 2022",
        "1 - cosine similarity of the features to the class mean",
    ),
    "vog": (
        "input gradients at checkpoints",
        "Agarwal et al. 2022",
        "mean over pixels of the std of the gradients over checkpoints, standardised per class",
    ),
    "allsh": ("augmented pass", "Zhang et al. 2022", "KL(softmax(x) || softmax(augmented x))"),
    "detector": (
        "training logits",
        "after Jia et al. 2022 (trustml's own, not H-CAT's LSTM)",
        "P(flipped label) from a classifier of label trajectories",
    ),
}

#: The names of the thirteen methods, in H-CAT's order.
METHODS = tuple(_METHODS)


def hardness_methods() -> pd.DataFrame:
    """The hardness characterisation methods: what each needs, its paper and its score.

    Returns
    -------
    pandas.DataFrame
        Indexed by method name; columns ``needs``, ``reference`` and ``score``
        (every score: higher = harder).

    Notes
    -----
    ``conf_agree`` cites the source of its MC-dropout passes (Gal &
    Ghahramani 2016). ``detector`` is trustml's own: a logistic regression
    trained on this run's replayed dynamics, not the pre-trained LSTM of Jia
    et al. 2022 that H-CAT uses (see :func:`detector`).

    Examples
    --------
    >>> from trustml.hardness import hardness_methods
    >>> table = hardness_methods()
    >>> len(table), table.loc["prototypicality", "needs"]
    (13, 'model.features()')
    """
    frame = pd.DataFrame.from_dict(_METHODS, orient="index", columns=["needs", "reference", "score"])
    frame.index.name = "method"
    return frame


def resolve_methods(methods) -> tuple:
    """``"all"``, one name or a list of names -> a tuple of known names, in :data:`METHODS` order."""
    if isinstance(methods, str):
        methods = METHODS if methods == "all" else [methods]
    try:
        names = list(methods)
    except TypeError:
        raise TypeError(f"methods must be 'all', a method name or a list of names, got {methods!r}.") from None
    for name in names:
        if name not in _METHODS:
            raise unknown_name("method", name, METHODS)
    if not names:
        raise ValueError(f"methods is empty: name at least one of {', '.join(METHODS)} (or 'all').")
    return tuple(m for m in METHODS if m in names)


def _label_column(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``values[..., i, labels[i]]`` for every sample i: shape (epochs, N) or (N,)."""
    return np.take_along_axis(values, np.broadcast_to(labels[:, None], values.shape[:-1] + (1,)), axis=-1)[..., 0]


def _margins(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Assigned logit minus the largest other logit."""
    assigned = _label_column(logits, labels)
    others = logits.copy()
    np.put_along_axis(others, np.broadcast_to(labels[:, None], logits.shape[:-1] + (1,)), -np.inf, axis=-1)
    return assigned - others.max(axis=-1)


# --------------------------------------------------------------------------- training dynamics


def aum(logits, labels) -> np.ndarray:
    """Area Under the Margin (Pleiss et al., NeurIPS 2020), negated so that higher = harder.

    The margin of sample ``i`` at epoch ``t`` is its assigned logit minus the
    largest other logit, pre-softmax: ``M_t = z_t[y] - max_{k != y} z_t[k]``.
    AUM is its mean over the recorded epochs; mislabeled samples keep a
    negative margin (the model prefers their true class). Returns ``-AUM``,
    equal to minus the ``aum`` package's ``AUMCalculator`` value fed the same
    logits once per epoch.

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
        Training-pass logits of every sample at every epoch.
    labels : array-like of int, shape (N,)
        Observed labels.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[[3.0, 1.0], [0.0, 2.0]]])    # 1 epoch, 2 samples, 2 classes
    >>> aum(logits, np.array([0, 0]))                      # the second sample's label looks wrong
    array([-2.,  2.])
    """
    logits, labels = check_logits(logits, labels, ndim=3)
    return -_margins(logits, labels).mean(axis=0)


def loss(logits, labels) -> np.ndarray:
    """Mean training loss over epochs (the small-loss criterion; Xia et al. 2021, as H-CAT; Arazo et al. 2019).

    ``score_i = mean_t CE(softmax(z_t), y_i)``: mislabeled samples are fitted
    last, so their loss stays high for longest. Higher = harder as is.

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
    labels : array-like of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> loss(np.zeros((2, 1, 4)), np.array([3])).round(4)    # uniform softmax: log 4
    array([1.3863])
    """
    logits, labels = check_logits(logits, labels, ndim=3)
    return -_label_column(log_softmax(logits, axis=-1), labels).mean(axis=0)


def forgetting(logits, labels) -> np.ndarray:
    """Forgetting events per epoch (Toneva et al., ICLR 2019).

    A forgetting event is a sample going from correctly to incorrectly
    classified (argmax) between consecutive epochs; the score is the number of
    events divided by the number of epochs, as in H-CAT. Samples never
    classified correctly count, as in the paper, as forgotten more often than
    any other (the paper's "infinitely often"): they score 1.0, above every
    learned sample (at most 0.5). Higher = harder as is.

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
    labels : array-like of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> right, wrong = [2.0, 0.0], [0.0, 2.0]
    >>> logits = np.array([[right, right, wrong], [wrong, right, wrong], [right, right, wrong]])
    >>> forgetting(logits, np.array([0, 0, 0])).round(3)     # forgotten once, never, never learned
    array([0.333, 0.   , 1.   ])
    """
    logits, labels = check_logits(logits, labels, ndim=3)
    correct = logits.argmax(axis=-1) == labels
    events = (correct[:-1] & ~correct[1:]).sum(axis=0) / len(correct)
    return np.where(correct.any(axis=0), events, 1.0)


def data_map(logits, labels) -> pd.DataFrame:
    """Per-sample statistics of the probability of the observed label over epochs.

    With ``p_t`` the softmax probability of the observed label at epoch ``t``:
    ``confidence = mean_t p_t``, ``variability = std_t p_t`` (Data Maps,
    Swayamdipta et al. 2020), ``aleatoric = mean_t p_t (1 - p_t)`` (Data-IQ,
    Seedat et al. 2022) and ``correctness`` = share of epochs where the argmax
    is the observed label.

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
    labels : array-like of int, shape (N,)

    Returns
    -------
    pandas.DataFrame
        N rows, columns ``confidence``, ``variability``, ``aleatoric``, ``correctness``.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.8, 0.2]], [[0.4, 0.6]]]))   # p(label 0) = 0.8, then 0.4
    >>> data_map(logits, np.array([0])).round(3)
       confidence  variability  aleatoric  correctness
    0         0.6          0.2        0.2          0.5
    """
    logits, labels = check_logits(logits, labels, ndim=3)
    p = _label_column(softmax(logits, axis=-1), labels)
    return pd.DataFrame(
        {
            "confidence": p.mean(axis=0),
            "variability": p.std(axis=0),
            "aleatoric": (p * (1 - p)).mean(axis=0),
            "correctness": (logits.argmax(axis=-1) == labels).mean(axis=0),
        }
    )


def easy_ambiguous_hard(confidence, uncertainty, *, confidence_threshold=0.2, uncertainty_threshold=0.15):
    """Data-IQ's and Data Maps' groups: easy, ambiguous or hard.

    ``hard``: confidence <= ``confidence_threshold`` and uncertainty <=
    ``uncertainty_threshold`` (consistently wrong); ``easy``: confidence >=
    ``1 - confidence_threshold`` and uncertainty <= ``uncertainty_threshold``;
    ``ambiguous``: everything else. The defaults are Data-IQ's and H-CAT's
    (0.2 and 0.15), used by both for aleatoric uncertainty (Data-IQ) and for
    variability (Data Maps).

    Parameters
    ----------
    confidence, uncertainty : array-like, shape (N,)
        E.g. ``data_map(...)["confidence"]`` and ``["aleatoric"]`` or ``["variability"]``.
    confidence_threshold : float, default 0.2
        In [0, 0.5].
    uncertainty_threshold : float, default 0.15
        In [0, 0.5] (both uncertainties are at most 0.5: variability at most
        0.5, aleatoric at most 0.25).

    Returns
    -------
    numpy.ndarray of str, shape (N,)

    Examples
    --------
    >>> easy_ambiguous_hard([0.95, 0.5, 0.05], [0.02, 0.2, 0.03]).tolist()
    ['easy', 'ambiguous', 'hard']
    """
    confidence = real_array(confidence, "confidence", axes=("N",))
    uncertainty = real_array(uncertainty, "uncertainty", axes=("N",))
    if confidence.shape != uncertainty.shape:
        raise ValueError(
            f"confidence and uncertainty must have one value per sample each, got {len(confidence)} and "
            f"{len(uncertainty)}."
        )
    slack = 1e-9  # rounding in means of probabilities
    if confidence.min() < -slack or confidence.max() > 1 + slack:
        raise ValueError(
            f"confidence must be mean probabilities in [0, 1], got values in [{confidence.min():.3g}, "
            f"{confidence.max():.3g}]: pass data_map(...)['confidence']."
        )
    if uncertainty.min() < -slack or uncertainty.max() > 0.5 + slack:
        raise ValueError(
            f"uncertainty must be a spread of probabilities in [0, 0.5] (variability or aleatoric), got values in "
            f"[{uncertainty.min():.3g}, {uncertainty.max():.3g}]: pass data_map(...)['variability'] or ['aleatoric']."
        )
    confidence_threshold = check_number(confidence_threshold, "confidence_threshold", low=0, high=0.5)
    uncertainty_threshold = check_number(uncertainty_threshold, "uncertainty_threshold", low=0, high=0.5)
    certain = uncertainty <= uncertainty_threshold
    groups = np.full(confidence.shape, "ambiguous", dtype=object)
    groups[certain & (confidence <= confidence_threshold)] = "hard"
    groups[certain & (confidence >= 1 - confidence_threshold)] = "easy"
    return groups.astype(str)


_TIER = {"easy": 0.0, "ambiguous": 1.0, "hard": 2.0}


def _grouped_score(logits, labels, spread: str, confidence_threshold, uncertainty_threshold) -> np.ndarray:
    stats = data_map(logits, labels)
    groups = easy_ambiguous_hard(
        stats["confidence"],
        stats[spread],
        confidence_threshold=confidence_threshold,
        uncertainty_threshold=uncertainty_threshold,
    )
    return np.vectorize(_TIER.get)(groups) + 1 - stats["confidence"].to_numpy()


def data_iq(logits, labels, *, confidence_threshold=0.2, uncertainty_threshold=0.15) -> np.ndarray:
    """Data-IQ (Seedat et al., NeurIPS 2022): confidence and aleatoric uncertainty over training.

    Data-IQ places each sample by its confidence ``mean_t p_t`` and aleatoric
    uncertainty ``mean_t p_t (1 - p_t)`` (see :func:`data_map`) into the
    groups easy, ambiguous and hard (:func:`easy_ambiguous_hard`). The score
    turns that into one ranking: ``group + (1 - confidence)`` with easy = 0,
    ambiguous = 1, hard = 2, so every hard sample ranks above every ambiguous
    one, and within a group lower confidence ranks higher. (Data-IQ itself
    ranks by low confidence = hard; H-CAT scores Data-IQ and Data Maps both by
    confidence alone, which makes them identical.)

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
    labels : array-like of int, shape (N,)
    confidence_threshold, uncertainty_threshold : float
        The group thresholds (defaults 0.2 and 0.15, Data-IQ's).

    Returns
    -------
    numpy.ndarray, shape (N,)
        In [0, 3]: [0, 0.2] easy, (0.2, 2) ambiguous, [2.8, 3] hard.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.9, 0.1], [0.05, 0.95]]] * 3))   # 3 epochs, 2 samples
    >>> data_iq(logits, np.array([0, 0])).round(2)                    # easy, hard
    array([0.1 , 2.95])
    """
    return _grouped_score(logits, labels, "aleatoric", confidence_threshold, uncertainty_threshold)


def data_maps(logits, labels, *, confidence_threshold=0.2, uncertainty_threshold=0.15) -> np.ndarray:
    """Data Maps (Swayamdipta et al., EMNLP 2020): confidence and variability over training.

    As :func:`data_iq`, with the variability ``std_t p_t`` (epistemic, how
    much the model changes its mind) in place of the aleatoric uncertainty:
    score = ``group + (1 - confidence)``, easy = 0, ambiguous = 1, hard = 2.
    Data Maps' "hard-to-learn" region (low confidence, low variability) is
    where mislabeled samples gather; high variability marks "ambiguous".

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
    labels : array-like of int, shape (N,)
    confidence_threshold, uncertainty_threshold : float
        The group thresholds (defaults 0.2 and 0.15, as H-CAT uses for Data Maps).

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.log(np.array([[[0.9, 0.1]], [[0.1, 0.9]], [[0.9, 0.1]]]))   # changes its mind
    >>> data_maps(logits, np.array([0])).round(2)                                # ambiguous
    array([1.37])
    """
    return _grouped_score(logits, labels, "variability", confidence_threshold, uncertainty_threshold)


def detector(logits, labels, *, seed: int = 0) -> np.ndarray:
    """A learned detector of mislabeled samples from their training dynamics (after Jia et al. 2022).

    H-CAT uses Jia et al.'s LSTM, pre-trained on the dynamics of CIFAR-10 with
    20% synthetic noise. trustml trains its detector on the run at hand,
    without the true noise mask and without a second training run: the
    recorded logits are replayed under labels we flip ourselves. Each sample's
    trajectory under a label drawn uniformly from the other classes is a
    positive ("flipped") example; its trajectory under the observed label is
    an unlabelled one (most observed labels are right, some are not: positive-
    unlabelled learning, which keeps the ranking; Elkan & Noto 2008). The
    features are, per epoch, the log-probability and the margin of the label;
    the classifier is a standardised logistic regression (scikit-learn). The
    score is its probability that the observed label was flipped.

    A replayed flip has the dynamics of a label the model was never trained
    on, so it lacks the late memorisation of a real noisy label; the detector
    is therefore most sensitive early in training and near chance for
    hardness that leaves the label's trajectory untouched.

    Parameters
    ----------
    logits : array-like, shape (epochs, N, classes)
    labels : array-like of int, shape (N,)
    seed : int, default 0
        Seeds the flipped labels.

    Returns
    -------
    numpy.ndarray, shape (N,)
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 3, 200)
    >>> logits = np.eye(3)[labels][None].repeat(4, axis=0) * 3 + rng.normal(size=(4, 200, 3))
    >>> noisy = labels.copy(); noisy[:20] = (labels[:20] + 1) % 3
    >>> scores = detector(logits, noisy)
    >>> bool(scores[:20].mean() > 0.8 > 0.2 > scores[20:].mean())
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    logits, labels = check_logits(logits, labels, ndim=3)
    rng = np.random.default_rng(check_seed(seed))
    k = logits.shape[-1]
    flipped = (labels + rng.integers(1, k, size=len(labels))) % k

    def features(assigned):
        log_p = np.maximum(_label_column(log_softmax(logits, axis=-1), assigned), np.log(1e-6))
        return np.concatenate([log_p, _margins(logits, assigned)]).T  # (N, 2 * epochs)

    observed = features(labels)
    X = np.concatenate([observed, features(flipped)])
    y = np.repeat([0, 1], len(labels))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X, y)
    return model.predict_proba(observed)[:, 1]


# --------------------------------------------------------------------------- the final model's outputs


def el2n(logits, labels) -> np.ndarray:
    """Error L2-Norm (Paul et al., NeurIPS 2021): ``|| softmax(z) - onehot(y) ||_2``.

    On the final model's in-sample logits, as H-CAT computes it (the paper
    averages early-training scores over several runs; H-CAT and trustml use
    the one trained model). H-CAT leaves the norm squared; the ranking is the
    same. Higher = harder as is.

    Parameters
    ----------
    logits : array-like, shape (N, classes)
        The final model's logits on the training samples.
    labels : array-like of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N,)
        In [0, sqrt(2)].

    Examples
    --------
    >>> import numpy as np
    >>> el2n(np.log(np.array([[0.5, 0.5], [1.0, 1e-12]])), np.array([0, 1])).round(4)
    array([0.7071, 1.4142])
    """
    logits, labels = check_logits(logits, labels, ndim=2)
    error = softmax(logits, axis=-1)
    error[np.arange(len(labels)), labels] -= 1
    return np.linalg.norm(error, axis=1)


def cleanlab(logits, labels) -> np.ndarray:
    """Confident learning's label quality (Northcutt et al., JAIR 2021), as ``1 - quality``.

    ``1 - cleanlab.rank.get_label_quality_scores(labels, softmax(logits))``
    with cleanlab's default ``self_confidence`` method, on the final model's
    **in-sample** probabilities (as H-CAT; cleanlab recommends out-of-sample
    probabilities from cross-validation, which would need more training runs).
    Cleanlab's quality is high for good labels; trustml flips it.

    Parameters
    ----------
    logits : array-like, shape (N, classes)
        The final model's logits on the training samples.
    labels : array-like of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N,)
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> cleanlab(np.log(np.array([[0.9, 0.1], [0.9, 0.1]])), np.array([0, 1])).round(2)
    array([0.1, 0.9])
    """
    from cleanlab.rank import get_label_quality_scores

    logits, labels = check_logits(logits, labels, ndim=2)
    return 1.0 - get_label_quality_scores(labels, softmax(logits, axis=-1))


def conf_agree(probabilities) -> np.ndarray:
    """Confidence agreement under MC dropout (H-CAT's ``conf_agree``; Gal & Ghahramani 2016).

    ``1 - max_k mean_m p_m[k]``: one minus the confidence of the mean softmax
    over ``M`` stochastic passes with dropout on (H-CAT: 10 passes after
    training). It does not look at the label, so it finds samples the model
    is unsure about, not samples whose label disagrees with a confident
    model. Flipped: H-CAT's score is the confidence (high = easy).

    Parameters
    ----------
    probabilities : array-like, shape (passes, N, classes)
        Softmax outputs of each MC-dropout pass.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> conf_agree(np.array([[[0.9, 0.1]], [[0.5, 0.5]]]))   # mean (0.7, 0.3)
    array([0.3])
    """
    probabilities = _check_probabilities(probabilities, "probabilities", ndim=3)
    return 1.0 - probabilities.mean(axis=0).max(axis=-1)


def allsh(probabilities, augmented_probabilities) -> np.ndarray:
    """Local sensitivity (ALLSH): ``KL(p(x) || p(augment(x)))``.

    Zhang, Gong, Liu, He, Chen & Zhou, "ALLSH: Active Learning Guided by Local
    Sensitivity and Hardness", Findings of NAACL 2022.

    How much the final model's softmax moves when the input is augmented
    (trustml's augmentation: horizontal flip, brightness, Gaussian noise,
    pixelisation for images; Gaussian noise for tabular rows). Label-free,
    like :func:`conf_agree`. Higher = harder as is.

    Parameters
    ----------
    probabilities, augmented_probabilities : array-like, shape (N, classes)
        Softmax outputs on the samples and on their augmented versions.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> allsh(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([[0.5, 0.5], [0.1, 0.9]])).round(3)
    array([0.   , 1.758])
    """
    p = _check_probabilities(probabilities, "probabilities", ndim=2)
    q = _check_probabilities(augmented_probabilities, "augmented_probabilities", ndim=2)
    if p.shape != q.shape:
        raise ValueError(f"probabilities {p.shape} and augmented_probabilities {q.shape} must have the same shape.")
    p, q = np.clip(p, 1e-12, 1), np.clip(q, 1e-12, 1)
    return (p * (np.log(p) - np.log(q))).sum(axis=1)


def _check_probabilities(values, what: str, *, ndim: int) -> np.ndarray:
    axes = ("passes", "N", "classes") if ndim == 3 else ("N", "classes")
    values = real_array(values, what, axes=axes, bool_ok=False, finite=False)
    if values.shape[-1] < 2:
        raise ValueError(f"{what} needs at least 2 classes (last axis), got {values.shape[-1]}.")
    if not np.isfinite(values).all() or values.min() < 0 or not np.allclose(values.sum(-1), 1, atol=1e-4):
        raise ValueError(
            f"{what} must be softmax outputs: finite, non-negative, each row summing to 1 "
            "(for logits, take their softmax first)."
        )
    return values


def prototypicality(features, labels) -> np.ndarray:
    """Prototypicality (Sorscher et al., NeurIPS 2022, as H-CAT computes it), as ``1 - cosine``.

    ``1 - cos(f_i, mean_{j: y_j = y_i} f_j)``: the cosine distance of a
    sample's penultimate features to the mean features of its (observed)
    class. Prototypical samples sit near their class mean; mislabeled and
    atypical ones far from it. Flipped: H-CAT's score is the similarity.

    Parameters
    ----------
    features : array-like, shape (N, dim)
        Penultimate activations of the final model (``model.features(X)``).
    labels : array-like of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N,)
        In [0, 2]; 1 (with a warning) where a sample's features or its class mean are all zero.

    Examples
    --------
    >>> import numpy as np
    >>> prototypicality(np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]), np.array([0, 0, 0])).round(3)
    array([0.124, 0.08 , 0.518])
    """
    features = real_array(features, "features", axes=("N", "dim"), finite=False)
    if not np.isfinite(features).all():
        raise ValueError("features has NaN or infinite values: check the model.")
    labels = check_labels(labels, len(features))
    classes, inverse = np.unique(labels, return_inverse=True)
    means = np.zeros((len(classes), features.shape[1]))
    np.add.at(means, inverse, features)
    means /= np.bincount(inverse)[:, None]
    centre = means[inverse]
    norms = np.linalg.norm(features, axis=1) * np.linalg.norm(centre, axis=1)
    if not (norms > 0).all():
        warnings.warn(
            f"prototypicality: {int((norms == 0).sum())} sample(s) have all-zero features or a class whose mean "
            "feature is zero (dead units?), so their cosine similarity is undefined: they score 1, as orthogonal.",
            UserWarning,
            stacklevel=2,
        )
    cosine = np.where(norms > 0, (features * centre).sum(axis=1) / np.where(norms > 0, norms, 1), 0.0)
    return 1.0 - cosine


# --------------------------------------------------------------------------- gradients


def vog(gradients, labels, *, normalize: bool = True) -> np.ndarray:
    """Variance of Gradients (Agarwal, D'souza and Hooker, CVPR 2022).

    For each sample, the gradient of the pre-softmax logit of its label with
    respect to the input is taken at ``K`` checkpoints during training
    (:class:`RecordInputGradients`); colour channels are averaged; VoG is the
    mean over pixels of the per-pixel standard deviation across the
    checkpoints. By default the scores are then standardised within each
    (observed) class, ``(VoG - mean_class) / std_class``, as the paper does:
    raw gradient magnitudes differ between classes. Higher = harder as is.
    (H-CAT's code takes the gradient of the softmax probability and does not
    normalise; trustml follows the paper.)

    Parameters
    ----------
    gradients : array-like, shape (checkpoints, N, ...)
        Input gradients: ``(K, N, C, H, W)`` images (channels averaged here),
        ``(K, N, H, W)`` already averaged, or ``(K, N, D)`` tabular.
    labels : array-like of int, shape (N,)
        Observed labels (the classes to normalise within).
    normalize : bool, default True
        False gives the raw VoG.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> grads = np.array([[[1.0, 1.0], [0.0, 2.0]], [[1.0, 1.0], [2.0, 0.0]]])   # 2 checkpoints, 2 samples
    >>> vog(grads, np.array([0, 0]), normalize=False)                            # stable, changing
    array([0., 1.])
    """
    gradients = real_array(gradients, "gradients", finite=False)
    if gradients.ndim < 3 or 0 in gradients.shape[2:]:
        raise ValueError(f"gradients must have shape (checkpoints, N, ...), got {gradients.shape}.")
    if len(gradients) < 2:
        raise ValueError(
            f"VoG needs gradients from at least 2 checkpoints, got {len(gradients)}: train for at least 2 epochs."
        )
    if not np.isfinite(gradients).all():
        raise ValueError("gradients has NaN or infinite values: training diverged; lower the learning rate.")
    if getattr(labels, "__len__", None) and len(labels) == len(gradients) != gradients.shape[1]:
        raise ValueError(
            f"gradients has shape {gradients.shape}, (checkpoints, N, ...) with {gradients.shape[1]} samples, but "
            f"labels has {len(labels)}: if gradients is (N, checkpoints, ...), swap its first two axes."
        )
    labels = check_labels(labels, gradients.shape[1])
    normalize = check_bool(normalize, "normalize")
    if gradients.ndim == 5:
        gradients = gradients.mean(axis=2)
    scores = gradients.std(axis=0).reshape(gradients.shape[1], -1).mean(axis=1)
    if normalize:
        classes, counts = np.unique(labels, return_counts=True)
        if (counts == 1).any():
            warnings.warn(
                f"vog: class(es) {classes[counts == 1].tolist()} have a single sample, whose standardised VoG is 0 "
                "(nothing to compare it with); pass normalize=False for the raw VoG.",
                UserWarning,
                stacklevel=2,
            )
        for c in classes:
            members = labels == c
            spread = scores[members].std()
            scores[members] = (scores[members] - scores[members].mean()) / (spread if spread > 0 else 1.0)
    return scores


def grand(model: nn.Module, X, y, *, batch_size: int = 64, device=None) -> np.ndarray:
    """Gradient norm (GraNd; Paul et al., NeurIPS 2021): ``|| grad_theta CE(f_theta(x_i), y_i) ||_2``.

    The norm of each sample's own loss gradient with respect to all trainable
    weights, at the model as it is (H-CAT: the final model, in eval mode; the
    paper averages early-training norms over runs). Per-sample gradients come
    from ``torch.func`` (``functional_call`` + ``vmap`` over ``grad``),
    ``batch_size`` samples at a time, so memory holds ``batch_size`` gradient
    copies whatever N is. Higher = harder as is.

    Parameters
    ----------
    model : torch.nn.Module
    X : torch.Tensor or numpy.ndarray
        Inputs ``(N, ...)``.
    y : torch.Tensor or numpy.ndarray
        Observed labels ``(N,)``.
    batch_size : int, default 64
        Samples per vectorised chunk (peak memory: about ``batch_size x``
        the number of weights x 4 bytes).
    device : torch.device or str, optional
        Default: the model's device.

    Returns
    -------
    numpy.ndarray, shape (N,)

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> model = nn.Linear(3, 2)
    >>> grand(model, torch.randn(5, 3), torch.tensor([0, 1, 0, 1, 0])).shape
    (5,)
    """
    from torch.func import functional_call, grad, vmap

    X, y, device = _model_inputs(model, X, y, device, batch_size)
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def sample_loss(weights, x, target):
        out = functional_call(model, (weights, buffers), (x.unsqueeze(0),))
        return F.cross_entropy(out, target.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))
    # written into one preallocated array: small tensors kept between the chunks' large ones would
    # fragment the heap and let the peak creep up with N
    norms = torch.empty(len(X), dtype=torch.float64)
    with _eval_mode(model):
        for start in range(0, len(X), batch_size):
            chunk = slice(start, start + batch_size)
            grads = per_sample(params, X[chunk].to(device), y[chunk].to(device))
            norms[chunk] = sum(g.flatten(1).square().sum(1) for g in grads.values()).sqrt().cpu()
            del grads
    return norms.numpy()


def input_gradients(model: nn.Module, X, y, *, batch_size: int = 256, device=None) -> torch.Tensor:
    """Gradients of each sample's label logit w.r.t. its input, channels averaged (what VoG records).

    One batched backward pass per chunk of ``batch_size`` samples, in eval mode.

    Returns
    -------
    torch.Tensor
        ``(N, H, W)`` for images ``(N, C, H, W)``, else the input's shape, on the CPU.
    """
    X, y, device = _model_inputs(model, X, y, device, batch_size)
    out = torch.empty(X.shape[:1] + X.shape[2:] if X.ndim == 4 else X.shape)
    with _eval_mode(model):
        for start in range(0, len(X), batch_size):
            chunk = slice(start, start + batch_size)
            xb = X[chunk].to(device).requires_grad_(True)
            selected = model(xb).gather(1, y[chunk].to(device)[:, None]).sum()
            (g,) = torch.autograd.grad(selected, xb)
            out[chunk] = (g.mean(1) if g.ndim == 4 else g).detach().cpu()
    return out


def _model_inputs(model, X, y, device, batch_size):
    """Checked inputs for a pass over ``model``: X and y as tensors, and the device (see :func:`check_model_takes`)."""
    from trustml.training import _as_device, _model_device

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    check_int(batch_size, "batch_size", minimum=1)
    X, y = as_inputs_and_labels(X, y)
    device = _model_device(model) if device is None else _as_device(device)
    check_model_takes(model, X, y, device)
    return X, y, device


def as_inputs_and_labels(X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """``X`` as a float tensor with at least one sample and ``y`` as int64 class indices, one per sample."""
    from trustml.training import _as_inputs

    X = _as_inputs(X, "X")
    return X, torch.from_numpy(check_labels(y, len(X), "y"))


def check_model_takes(model: nn.Module, X: torch.Tensor, y: torch.Tensor, device) -> None:
    """The model has trainable weights, takes X's samples and has an output for every class in y (tried on two
    samples), so a mismatch is named before any work."""
    from trustml.training import _output_width

    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model has no trainable weights (none with requires_grad=True): there is no gradient.")
    width = _output_width(model, X[:2].to(device), "X")
    if width < 2:
        raise ValueError(f"model outputs {width} logit per sample: a classifier needs at least 2 (one per class).")
    if int(y.max()) >= width:
        raise ValueError(
            f"y has class index {int(y.max())} but the model outputs only {width} logits: labels must be "
            f"0..{width - 1}, or build the model with more classes."
        )


class _eval_mode:
    """Context manager: the model in eval mode, its previous mode restored afterwards."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self):
        self.was_training = self.model.training
        self.model.eval()
        return self.model

    def __exit__(self, *exc):
        self.model.train(self.was_training)
