"""Input checks shared by trustml's modules (hardness, fairness, widgets, uncertainty, ood): each rule lives here once.

Every check raises before any dependency is called, with a message that names
the argument first, says what was wrong and what to do.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import torch


def to_numpy(values, what: str) -> np.ndarray:
    """A NumPy view/copy of a tensor or array-like (never a silent object array)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        return values
    if isinstance(values, (list, tuple)) or hasattr(values, "to_numpy"):  # sequences, pandas Series
        try:
            return np.asarray(values)
        except ValueError:
            raise ValueError(
                f"{what} is a ragged sequence (its rows have different lengths): give one value per sample, "
                "as an array of one shape."
            ) from None
    raise TypeError(f"{what} must be a torch.Tensor or numpy array, got {type(values).__name__}.")


def real_array(
    values, what: str, *, axes=None, bool_ok: bool = True, finite: bool = True, hint: str = "", dtype=np.float64
):
    """Real numbers as ``dtype``: no text, objects or complex numbers; optionally of given axes, finite, non-empty.

    ``axes`` names each axis (e.g. ``("epochs", "N", "classes")``): the rank must match and no axis may be
    empty. ``hint`` follows the message about a wrong rank.
    """
    array = to_numpy(values, what)
    kind = array.dtype.kind
    if kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must hold numbers, got Python objects (dtype object).") from None
    elif kind == "c":
        raise TypeError(f"{what} is complex ({array.dtype}): pass its real part ({what}.real) or its magnitude.")
    elif kind == "b" and not bool_ok:
        raise TypeError(f"{what} must hold numbers, got booleans.")
    elif kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got {'text' if kind in 'US' else 'values'} of dtype {array.dtype}.")
    if axes is not None:
        shape = "(" + ", ".join(axes) + ")"
        if array.ndim != len(axes):
            raise ValueError(f"{what} must have shape {shape}, got shape {array.shape}{hint}.")
        for name, size in zip(axes, array.shape):
            if size == 0:
                fix = _EMPTY_FIX.get(name, "it needs at least one")
                raise ValueError(f"{what} has 0 {_plural(name)} (shape {array.shape}): {fix}.")
    array = array.astype(dtype, copy=False)
    if finite and not np.isfinite(array).all():
        raise ValueError(f"{what} has {int((~np.isfinite(array)).sum())} NaN or infinite value(s): clean them first.")
    return array


_EMPTY_FIX = {
    "epochs": "record at least one epoch of training (RecordLogits during fit)",
    "passes": "run at least one MC-dropout pass",
}


def _plural(axis: str) -> str:
    return {"N": "samples", "classes": "classes", "dim": "features"}.get(axis, axis)


def check_labels(
    labels, n: int | None, what: str = "labels", *, num_classes: int | None = None, classes_from: str = ""
) -> np.ndarray:
    """Integer class indices 0..K-1 of shape (n,) as int64; ``classes_from`` says where K comes from."""
    labels = to_numpy(labels, what)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        kind = "text" if labels.dtype.kind in "US" else f"dtype {labels.dtype}"
        raise TypeError(
            f"{what} must hold integer class indices 0..K-1, got {kind}"
            + (": map class names to indices first (e.g. np.unique(names, return_inverse=True))." if kind == "text"
               else ".")
        )  # fmt: skip
    if labels.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one class index per sample), got shape {labels.shape}.")
    if n is not None and len(labels) != n:
        raise ValueError(f"{what} has {len(labels)} entries but there are {n} samples: they must match.")
    if len(labels) == 0:
        raise ValueError(f"{what} is empty: give at least one sample.")
    if labels.min() < 0:
        raise ValueError(f"{what} has negative class index {int(labels.min())}: classes are numbered 0..K-1.")
    if num_classes is not None and labels.max() >= num_classes:
        there = "is only 1 class" if num_classes == 1 else f"are only {num_classes} classes"
        raise ValueError(
            f"{what} has class index {int(labels.max())} but there {there}{classes_from}: "
            f"labels must be 0..{num_classes - 1}."
        )
    return labels.astype(np.int64, copy=False)


def check_logits(logits, labels, *, ndim: int, what: str = "logits") -> tuple[np.ndarray, np.ndarray]:
    """Finite float64 logits of rank ``ndim`` ((N, K) or (epochs, N, K)) and matching labels."""
    array = to_numpy(logits, what)
    axes = ("N", "classes") if ndim == 2 else ("epochs", "N", "classes")
    hint = (
        " (one row per sample: for recorded dynamics take the last epoch, logits[-1])"
        if ndim == 2
        else " (training dynamics, e.g. RecordLogits().logits; a single (N, classes) array is logits[None])"
    )
    labels_n = len(labels) if hasattr(labels, "__len__") else None
    if ndim == 3 and array.ndim == 3 and labels_n == array.shape[0] != array.shape[1]:
        raise ValueError(
            f"{what} has shape {array.shape}, (epochs, N, classes) with {array.shape[1]} samples, but labels has "
            f"{labels_n}: if {what} is (N, epochs, classes), pass {what}.transpose(1, 0, 2) "
            "(or .permute(1, 0, 2) for a tensor)."
        )
    array = real_array(array, what, axes=axes, bool_ok=False, finite=False, hint=hint)
    if array.shape[-1] < 2:
        raise ValueError(f"{what} needs at least 2 classes (last axis), got {array.shape[-1]}.")
    finite = np.isfinite(array)
    if not finite.all():
        bad = np.flatnonzero(~finite.reshape(-1, array.shape[-2], array.shape[-1]).all(axis=(0, 2)))
        raise ValueError(
            f"{what} has NaN or infinite values for {len(bad)} sample(s) (first: {bad[:5].tolist()}): "
            "training diverged or recording missed them; lower the learning rate or re-record."
        )
    width = array.shape[-1]
    labels = check_labels(
        labels, array.shape[-2], "labels", num_classes=width, classes_from=f" (logits of width {width})"
    )
    return array, labels


def check_mask(mask, n: int | None = None, *, both: bool = False, what: str = "mask") -> np.ndarray:
    """A 1-D boolean mask (0/1 numbers accepted) of ``n`` entries; ``both``: with True and False entries."""
    mask = to_numpy(mask, what)
    if mask.dtype != bool:
        if mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all():
            raise ValueError(f"{what} must be boolean (True = perturbed), e.g. perturb(...).mask.")
        mask = mask.astype(bool)
    if mask.ndim != 1:
        raise ValueError(f"{what} must be 1-D, one entry per sample, got shape {mask.shape}.")
    if n is not None and len(mask) != n:
        raise ValueError(f"{what} has {len(mask)} entries but there are {n} samples: they must match.")
    if both and (mask.all() or not mask.any()):
        raise ValueError(f"{what} must hold both perturbed (True) and unperturbed (False) samples.")
    return mask


def check_number(
    value, name: str, *, low=None, high=None, low_open: bool = False, high_open: bool = False, hint: str = ""
) -> float:
    """A real number (Python or NumPy scalar, not a bool), finite, within the given bounds.

    ``hint`` follows what is allowed in the message (e.g. ``" (0 turns weight decay off)"``).
    """
    allowed = _allowed_number(low, high, low_open, high_open) + hint
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}, got {value!r}.")
    number = float(value)
    ok = math.isfinite(number)
    if ok and low is not None:
        ok = number > low if low_open else number >= low
    if ok and high is not None:
        ok = number < high if high_open else number <= high
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}.")
    return number


def _allowed_number(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low == 0 and high is None:
        return "a positive number" if low_open else "a non-negative number"
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"a number {'<' if high_open else '<='} {high:g}"
    return "a finite number"


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None, hint: str = "") -> int:
    """A Python or NumPy integer (not a bool) within the given bounds; ``hint`` ends the message."""
    if minimum is not None and maximum is not None:
        allowed = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        allowed = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
    else:
        allowed = "an integer"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be {allowed}, got {value!r}{hint}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value!r}{hint}.")
    return int(value)


def check_bool(value, name: str) -> bool:
    """True or False (a NumPy bool too), nothing merely truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_proportion(proportion, name: str = "proportion") -> float:
    if isinstance(proportion, (bool, np.bool_)) or not isinstance(proportion, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 1), got {proportion!r}.")
    if not 0.0 < float(proportion) < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1 (a share of the samples), got {proportion!r}.")
    return float(proportion)


def check_seed(seed, name: str = "seed", *, maximum: int | None = None) -> int:
    return check_int(seed, name, minimum=0, maximum=maximum)


def check_values(values, name: str, check_one, *, one: type | tuple = numbers.Real) -> list:
    """One value or a sequence of them -> a non-empty list without repeats, each passed through ``check_one``.

    ``one`` is the type of a single value (given on its own, it becomes a list of one).
    """
    if isinstance(values, one) and not isinstance(values, (bool, np.bool_)):
        values = [values]
    elif isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be one value or a list of values, got {values!r}.")
    checked = [check_one(value) for value in values]
    if not checked:
        raise ValueError(f"{name} is empty: give at least one value.")
    repeated = sorted({v for v in checked if checked.count(v) > 1}, key=str)
    if repeated:
        raise ValueError(f"{name} has {repeated[0]!r} more than once: give each value once.")
    return checked


def check_weights(weights, n: int, what: str) -> np.ndarray:
    """Non-negative, finite weights, one per row, that do not all vanish, as float64."""
    weights = real_array(weights, what, finite=False)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.ndim != 1 or len(weights) != n:
        raise ValueError(f"{what} must hold one weight per row ({n} rows), got shape {weights.shape}.")
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        raise ValueError(
            f"{what} has {int(bad.sum())} negative, NaN or infinite weight(s) (first at row {int(np.argmax(bad))}): "
            "a weight says how many people a row stands for, so it must be a finite number >= 0."
        )
    if not weights.sum() > 0:
        raise ValueError(f"{what} holds only zeros: at least one row must count.")
    return weights


def check_pixels(images, what: str = "images") -> np.ndarray:
    """Finite pixel values in [0, 1] (as trustml.data.load gives them), as float32, for a picture that does not lie."""
    images = real_array(images, what, dtype=np.float32)
    if images.size and (images.min() < 0 or images.max() > 1):
        hint = ": divide 8-bit images by 255" if images.max() > 1 and images.min() >= 0 else ": pass them unnormalised"
        raise ValueError(
            f"{what} must have pixel values in [0, 1] (as trustml.data.load gives them), got "
            f"[{images.min():.3g}, {images.max():.3g}]{hint}; the picture would clip them."
        )
    return images


def check_class_names(class_names, num_classes: int | None = None, what: str = "class_names") -> list:
    """A list of distinct class names (as strings), one per class when ``num_classes`` is given."""
    if isinstance(class_names, (str, bytes, dict)) or not isinstance(class_names, Iterable):
        raise TypeError(f"{what} must be a list of names, one per class, e.g. ['cat', 'dog']; got {class_names!r}.")
    names = [str(name) for name in class_names]
    if not names:
        raise ValueError(f"{what} is empty: give one name per class.")
    if num_classes is not None and len(names) != num_classes:
        raise ValueError(f"{what} has {len(names)} names but there are {num_classes} classes: give one per class.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} has {repeated[0]!r} more than once: each class needs its own name.")
    return names


def unknown_name(what: str, name, known) -> ValueError:
    return ValueError(f"Unknown {what} {name!r}; the known ones are: {', '.join(known)}.")
