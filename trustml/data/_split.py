"""Class-stratified random subsets, shared by the image and text datasets."""

from __future__ import annotations

import numpy as np


def stratified_indices(y: np.ndarray, n, generator, what) -> np.ndarray:
    """Sorted indices of a class-stratified random sample of ``n`` of the labels ``y`` (all when None)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"{what} must be a positive integer or None, got {n!r}.")
    if n is None or n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 and n >= (counts > 0).sum() else None
    keep, _ = train_test_split(
        np.arange(len(y)), train_size=int(n), stratify=stratify, random_state=int(generator.integers(2**31))
    )
    return np.sort(keep)
