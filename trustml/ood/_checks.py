"""Input checks of the OOD modules (the general rules are trustml._checks'): each error names the argument first."""

from __future__ import annotations

import difflib

import numpy as np

from trustml._checks import check_int, check_number, to_numpy


def as_array(values, what: str) -> np.ndarray:
    """A NumPy array of a tensor, array, list or pandas Series (trustml's shared rule)."""
    return to_numpy(values, what)


def check_scores(scores, what: str, *, allow_empty: bool = False) -> np.ndarray:
    """Finite-or-infinite, NaN-free, 1-D float64 OOD scores."""
    scores = as_array(scores, what)
    if scores.dtype == bool or scores.dtype.kind not in "iuf":
        raise TypeError(f"{what} must hold real numbers (one OOD score per sample), got dtype {scores.dtype}.")
    if scores.ndim != 1:
        hint = " (one score per sample: pass scores, not logits or features)" if scores.ndim == 2 else ""
        raise ValueError(f"{what} must be 1-D, one score per sample, got shape {scores.shape}{hint}.")
    if len(scores) == 0 and not allow_empty:
        raise ValueError(f"{what} is empty: give the OOD score of at least one sample.")
    scores = scores.astype(np.float64, copy=False)
    n_nan = int(np.isnan(scores).sum())
    if n_nan:
        first = np.flatnonzero(np.isnan(scores))[:5].tolist()
        raise ValueError(
            f"{what} has {n_nan} NaN value(s) (first at {first}): a score is undefined there; "
            "check the model's outputs on those samples (NaN inputs, a diverged model) before scoring."
        )
    return scores


def check_predictions(predictions, n: int, what: str = "predictions") -> np.ndarray:
    """Predicted class indices 0..K-1 of shape (n,) as int64."""
    predictions = as_array(predictions, what)
    if predictions.dtype == bool or not np.issubdtype(predictions.dtype, np.integer):
        raise TypeError(
            f"{what} must hold predicted class indices (integers), got dtype {predictions.dtype}: "
            "use logits.argmax(1)."
        )
    if predictions.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), one predicted class per score, got {predictions.shape}.")
    if n and predictions.min() < 0:
        raise ValueError(f"{what} has a negative class index {int(predictions.min())}: predictions are classes 0..K-1.")
    return predictions.astype(np.int64, copy=False)


def check_ood_labels(labels, n: int | None = None, what: str = "labels") -> np.ndarray:
    """True labels in pytorch-ood's convention: ID classes 0..K-1, OOD samples < 0 (all made -1)."""
    labels = as_array(labels, what)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{what} must hold integer labels (ID classes 0..K-1, OOD -1), got dtype {labels.dtype}.")
    if labels.ndim != 1:
        raise ValueError(f"{what} must be 1-D, one label per sample, got shape {labels.shape}.")
    if n is not None and len(labels) != n:
        raise ValueError(f"{what} has {len(labels)} entries but there are {n} scores: they must match.")
    if len(labels) == 0:
        raise ValueError(f"{what} is empty: give at least one sample.")
    labels = np.where(labels < 0, -1, labels).astype(np.int64)
    if not (labels >= 0).any():
        raise ValueError(f"{what} has no in-distribution sample (label >= 0): the ID classes need samples.")
    return labels


def check_threshold(threshold, what: str = "threshold") -> float:
    """A finite number on the scale of the OOD scores."""
    return check_number(threshold, what, hint=" on the scale of the OOD scores")


def check_positive_int(value, what: str) -> int:
    return check_int(value, what, minimum=1)


def unknown_name(kind: str, name, known, *, what: str | None = None, plural: str | None = None) -> ValueError:
    """A ValueError for an unknown name, with the closest known names as a suggestion."""
    known = [str(k) for k in known]

    def simple(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    simplified = {simple(k): k for k in known}
    key = simple(str(name))
    close = [k for s, k in simplified.items() if key and (key in s or s in key)]  # "tshirt" -> "T-shirt/top"
    close += [simplified[m] for m in difflib.get_close_matches(key, list(simplified), n=3, cutoff=0.6)]
    close = list(dict.fromkeys(close))[:3]
    where = f" in {what}" if what else ""
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    if plural is None:
        plural = f"{kind}es" if kind.endswith("s") else f"{kind}s"
    return ValueError(f"Unknown {kind} {name!r}{where}.{hint} The {plural} are: {', '.join(map(repr, known))}.")
