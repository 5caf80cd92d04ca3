"""Class-stratified random subsets, shared by the image and text datasets."""

from __future__ import annotations

import warnings

import numpy as np

from trustml.data._errors import DataNotice


def stratified_indices(y: np.ndarray, n, generator, what) -> np.ndarray:
    """Sorted indices of a class-stratified random sample of ``n`` of the labels ``y`` (all when None).

    Every ``n`` from 1 to ``len(y)`` works. scikit-learn's stratified split
    draws the sample where it can (each class has two samples or more, and
    ``n`` leaves at least one sample per class out); closer to ``len(y)``, or
    with a class of a single sample, one sample of each class is kept and the
    rest drawn at random. With fewer than one sample per class the draw is
    plain random, and a :class:`DataNotice` says that some classes are left out.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"{what} must be a positive integer or None, got {n!r}.")
    if n is None or n >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    n = int(n)
    classes, counts = np.unique(y, return_counts=True)
    seed = int(generator.integers(2**31))
    if n < len(classes):
        warnings.warn(
            f"{what}={n} is fewer than the {len(classes)} classes, so the sample cannot keep every class: "
            "it is a plain random draw.",
            DataNotice,
            stacklevel=3,
        )
        keep, _ = train_test_split(np.arange(len(y)), train_size=n, random_state=seed)
    elif counts.min() >= 2 and len(y) - n >= len(classes):
        keep, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    else:
        rng = np.random.default_rng(seed)
        one_each = np.array([rng.choice(np.flatnonzero(y == c)) for c in classes])
        rest = np.setdiff1d(np.arange(len(y)), one_each)
        keep = np.concatenate([one_each, rng.choice(rest, n - len(classes), replace=False)])
    return np.sort(keep)
