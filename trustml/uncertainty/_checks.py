"""Input checks of the uncertainty modules (the general rules are trustml._checks'): each names the argument first."""

from __future__ import annotations

import numpy as np
import torch

from trustml._checks import check_int, check_seed, to_numpy

__all__ = [
    "SUM_TOLERANCE", "check_labels", "check_logits", "check_positive_int", "check_probabilities", "check_seed", "to_numpy",
]

#: How far a row of probabilities may sum from 1 (float32 softmax is within 1e-6).
SUM_TOLERANCE = 1e-3


def check_probabilities(probs, what: str = "probs", *, samples: bool) -> np.ndarray:
    """Probabilities as float64: ``(S, N, K)`` samples (or one ``(N, K)`` set) if ``samples``, else ``(N, K)``.

    Every row must be finite, in [0, 1] and sum to 1 (within :data:`SUM_TOLERANCE`).
    """
    array = to_numpy(probs, what)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{what} must hold real probabilities, got dtype {array.dtype}.")
    array = array.astype(np.float64, copy=False)
    if samples:
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise ValueError(
                f"{what} must have shape (samples, N, classes), e.g. the output of mc_dropout_predict or "
                f"ensemble_predict, or (N, classes) for a single prediction; got shape {array.shape}."
            )
    elif array.ndim != 2:
        hint = (
            ": average the samples of MC dropout or an ensemble first, probs.mean(0)" if array.ndim == 3 else ""
        )
        raise ValueError(f"{what} must have shape (N, classes), one row per sample, got shape {array.shape}{hint}.")
    if array.shape[-2] == 0 or (samples and array.shape[0] == 0):
        raise ValueError(f"{what} is empty (shape {array.shape}): give at least one sample.")
    if array.shape[-1] < 2:
        raise ValueError(f"{what} needs at least 2 classes (last axis), got {array.shape[-1]}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} has NaN or infinite values: check the model's outputs.")
    if array.min() < 0 or array.max() > 1:
        raise ValueError(
            f"{what} must be probabilities in [0, 1], got values in [{array.min():.3g}, {array.max():.3g}]: "
            "if these are logits, apply softmax first (logits.softmax(-1))."
        )
    sums = array.sum(-1)
    worst = float(np.abs(sums - 1).max())
    if worst > SUM_TOLERANCE:
        raise ValueError(
            f"{what}: each row must sum to 1 over the classes (last axis), but some sum to "
            f"{float(sums.flat[np.abs(sums - 1).argmax()]):.4g}: pass softmax outputs, one distribution per row."
        )
    return array


def check_labels(labels, n: int, num_classes: int, what: str = "labels") -> np.ndarray:
    """Integer class indices ``0..num_classes-1`` of shape ``(n,)`` as int64."""
    labels = to_numpy(labels, what)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{what} must hold integer class indices 0..K-1, got dtype {labels.dtype}.")
    if labels.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one class index per sample), got shape {labels.shape}.")
    if len(labels) != n:
        raise ValueError(f"{what} has {len(labels)} entries but there are {n} predictions: they must match.")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels.min()) if labels.min() < 0 else int(labels.max())
        raise ValueError(
            f"{what} has class index {bad}, outside 0..{num_classes - 1} (the predictions have {num_classes} classes)."
        )
    return labels.astype(np.int64, copy=False)


def check_logits(logits, what: str = "logits") -> torch.Tensor:
    """Finite ``(N, K)`` logits as a float64 CPU tensor."""
    if isinstance(logits, np.ndarray):
        if logits.dtype == bool or not np.issubdtype(logits.dtype, np.number) or np.iscomplexobj(logits):
            raise TypeError(f"{what} must hold real numbers, got dtype {logits.dtype}.")
        logits = torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float64))
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array, got {type(logits).__name__}.")
    if not logits.is_floating_point():
        raise TypeError(f"{what} must be floating point (pre-softmax outputs), got dtype {logits.dtype}.")
    if logits.ndim != 2:
        raise ValueError(f"{what} must have shape (N, classes), got shape {tuple(logits.shape)}.")
    if len(logits) == 0:
        raise ValueError(f"{what} is empty: give at least one sample.")
    if logits.shape[1] < 2:
        raise ValueError(f"{what} needs at least 2 classes (columns), got {logits.shape[1]}.")
    logits = logits.detach().cpu().double()
    if not bool(torch.isfinite(logits).all()):
        raise ValueError(f"{what} has NaN or infinite values: check the model's outputs.")
    return logits


def check_positive_int(name: str, value, hint: str = "") -> int:
    return check_int(value, name, minimum=1, hint=hint)
