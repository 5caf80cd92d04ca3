"""Input checks shared by the hardness modules: each names the problem and the fix."""

from __future__ import annotations

import numpy as np
import torch


def to_numpy(values, what: str) -> np.ndarray:
    """A NumPy view/copy of a tensor or array-like (never a silent object array)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, (list, tuple)) or hasattr(values, "to_numpy"):  # sequences, pandas Series
        return np.asarray(values)
    raise TypeError(f"{what} must be a torch.Tensor or numpy array, got {type(values).__name__}.")


def check_labels(labels, n: int | None, what: str = "labels", *, num_classes: int | None = None) -> np.ndarray:
    """Integer class indices 0..K-1 of shape (n,) as int64."""
    labels = to_numpy(labels, what)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{what} must hold integer class indices 0..K-1, got dtype {labels.dtype}.")
    if labels.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one class index per sample), got shape {labels.shape}.")
    if n is not None and len(labels) != n:
        raise ValueError(f"{what} has {len(labels)} entries but there are {n} samples: they must match.")
    if len(labels) == 0:
        raise ValueError(f"{what} is empty: give at least one sample.")
    if labels.min() < 0:
        raise ValueError(f"{what} has negative class index {int(labels.min())}: classes are numbered 0..K-1.")
    if num_classes is not None and labels.max() >= num_classes:
        raise ValueError(
            f"{what} has class index {int(labels.max())} but there are only {num_classes} classes "
            f"(logits of width {num_classes}): labels must be 0..{num_classes - 1}."
        )
    return labels.astype(np.int64, copy=False)


def check_logits(logits, labels, *, ndim: int, what: str = "logits") -> tuple[np.ndarray, np.ndarray]:
    """Finite float64 logits of rank ``ndim`` ((N, K) or (epochs, N, K)) and matching labels."""
    logits = to_numpy(logits, what)
    shape_name = "(N, classes)" if ndim == 2 else "(epochs, N, classes)"
    if logits.ndim != ndim:
        hint = (
            " (one row per sample: for recorded dynamics take the last epoch, logits[-1])"
            if ndim == 2
            else " (training dynamics, e.g. RecordLogits().logits; a single (N, classes) array is logits[None])"
        )
        raise ValueError(f"{what} must have shape {shape_name}, got shape {logits.shape}{hint}.")
    if not np.issubdtype(logits.dtype, np.number) or logits.dtype == bool:
        raise TypeError(f"{what} must be floating point numbers, got dtype {logits.dtype}.")
    if logits.shape[-1] < 2:
        raise ValueError(f"{what} needs at least 2 classes (last axis), got {logits.shape[-1]}.")
    logits = logits.astype(np.float64, copy=False)
    finite = np.isfinite(logits)
    if not finite.all():
        bad = np.flatnonzero(~finite.reshape(-1, logits.shape[-2], logits.shape[-1]).all(axis=(0, 2)))
        raise ValueError(
            f"{what} has NaN or infinite values for {len(bad)} sample(s) (first: {bad[:5].tolist()}): "
            "training diverged or recording missed them; lower the learning rate or re-record."
        )
    labels = check_labels(labels, logits.shape[-2], "labels", num_classes=logits.shape[-1])
    return logits, labels


def check_proportion(proportion) -> float:
    if isinstance(proportion, bool) or not isinstance(proportion, (int, float, np.floating)):
        raise TypeError(f"proportion must be a number in (0, 1), got {proportion!r}.")
    if not 0.0 < float(proportion) < 1.0:
        raise ValueError(f"proportion must be strictly between 0 and 1 (a share of the samples), got {proportion!r}.")
    return float(proportion)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def unknown_name(what: str, name, known) -> ValueError:
    return ValueError(f"Unknown {what} {name!r}; the known ones are: {', '.join(known)}.")
