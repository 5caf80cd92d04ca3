"""H-CAT's hardness types: perturb a known share of a dataset, and remember which samples.

Seedat, Imrie and van der Schaar (ICLR 2024) evaluate hardness characterisation
methods on data where hardness is planted on purpose: a random share of the
samples is mislabeled, shifted or replaced, and a method is good when it ranks
exactly those samples as hardest. :func:`perturb` plants one such type.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from trustml._checks import check_labels, check_proportion, check_seed, to_numpy, unknown_name

__all__ = ["MNIST_INSTANCE_RULE", "Perturbation", "hardness_types", "perturb"]

#: H-CAT's instance-dependent rule for digits: a 7 is mistaken for a 1 or a 2, and so on.
#: 0 and 4 have no plausible confusion in the rule and are never relabelled.
MNIST_INSTANCE_RULE = {1: (7,), 2: (7,), 3: (8,), 5: (6,), 6: (5,), 7: (1, 2), 8: (3,), 9: (7,)}

# name: (group, applies to, description)
_KINDS = {
    "uniform": ("mislabeling", "both", "label replaced by a different class drawn uniformly at random"),
    "asymmetric": (
        "mislabeling",
        "both",
        "label replaced by another class drawn from a random per-class transition (Dirichlet(1) rows)",
    ),
    "adjacent": ("mislabeling", "both", "label replaced by a neighbouring class, (y - 1) or (y + 1) mod K"),
    "instance": (
        "mislabeling",
        "both",
        "label replaced by a plausible confusion (digits: 1->7, 2->7, 3->8, 5->6, 6->5, 7->1 or 2, 8->3, 9->7)",
    ),
    "ood_covariate": (
        "near out-of-distribution",
        "both",
        "strong Gaussian noise on the inputs (std 0.5 x the image's maximum, or 0.5 x each feature's std)",
    ),
    "domain_shift": (
        "near out-of-distribution",
        "images",
        "the same noise, then a cartoon effect (median blur, adaptive-threshold edges, bilateral filter)",
    ),
    "far_ood": (
        "far out-of-distribution",
        "images",
        "image replaced by a crop of a natural photograph (scikit-learn's sample images), out of support",
    ),
    "zoom_shift": ("atypical", "images", "centre zoomed in 1.75x and resized back"),
    "crop_shift": ("atypical", "images", "content shifted right by 10/28 of the width, the gap filled black"),
    "atypical": (
        "atypical",
        "tabular",
        "one feature set to a value from the top 1% of its marginal (the same feature for all perturbed rows)",
    ),
}
_LABEL_KINDS = ("uniform", "asymmetric", "adjacent", "instance")


def hardness_types() -> pd.DataFrame:
    """The hardness types :func:`perturb` plants, with a one-line description each.

    Returns
    -------
    pandas.DataFrame
        Indexed by name; columns ``group`` (mislabeling, near or far
        out-of-distribution, atypical), ``applies_to`` (images, tabular or
        both) and ``description``.

    Examples
    --------
    >>> from trustml.hardness import hardness_types
    >>> table = hardness_types()
    >>> list(table.index[:4])
    ['uniform', 'asymmetric', 'adjacent', 'instance']
    >>> table.loc["atypical", "applies_to"]
    'tabular'
    """
    frame = pd.DataFrame.from_dict(_KINDS, orient="index", columns=["group", "applies_to", "description"])
    frame.index.name = "kind"
    return frame


@dataclass(frozen=True, repr=False)
class Perturbation:
    """A perturbed copy of a dataset and the mask of the samples that were perturbed.

    Attributes
    ----------
    X : torch.Tensor or numpy.ndarray
        The inputs, perturbed where ``mask`` is True (same type, shape and dtype as given).
    y : torch.Tensor or numpy.ndarray
        The labels, perturbed where ``mask`` is True for the mislabeling kinds.
    mask : numpy.ndarray of bool
        ``(N,)``: which samples were perturbed (the ground truth a hardness
        method should find).
    kind : str
    proportion : float
    seed : int
    details : str
        What was done, in words (for ``far_ood``: where the replacement images come from), and,
        when fewer samples could be changed than were asked for, why.
    requested : int
        How many samples were asked for (``round(proportion * N)``); ``mask.sum()`` is how many
        were changed, fewer where the rest could not be (all-black images, constant features...).
    """

    X: object
    y: object
    mask: np.ndarray
    kind: str
    proportion: float
    seed: int
    details: str
    requested: int

    def __repr__(self) -> str:
        return f"Perturbation({self.details})"


def perturb(X, y, *, kind: str, proportion: float, seed: int = 0, rule=None) -> Perturbation:
    """Plant one of H-CAT's hardness types in a random share of a dataset.

    A random subset of ``round(proportion * N)`` samples is chosen (seeded) and
    perturbed; the inputs given are never modified. See
    :func:`hardness_types` for the kinds. The mask means "this sample was
    changed": samples are chosen only among those the kind can change (an
    all-black image stays black under noise or a shift, a flat image under a
    zoom, a row already at the top of the feature ``atypical`` moves), and
    where fewer can be changed than asked for, all of them are, with a
    warning naming how many, said again in ``details``. Differences from
    H-CAT's code: ``uniform`` always picks a *different* class (H-CAT's may
    redraw the same one, so some "mislabeled" samples were not), ``instance``
    only chooses among samples whose class the rule changes (H-CAT flags 0s
    and 4s without changing them), and ``far_ood`` is offline (below).

    Parameters
    ----------
    X : torch.Tensor or numpy.ndarray
        Images ``(N, C, H, W)`` with values in [0, 1] and any number of
        channels (e.g. ``ImageData.X_train``), or tabular rows ``(N, D)``.
    y : torch.Tensor or numpy.ndarray
        Integer class indices ``0..K-1``, shape ``(N,)``; ``K`` is taken as
        ``y.max() + 1``.
    kind : str
        One of ``hardness_types().index``: ``uniform``, ``asymmetric``,
        ``adjacent``, ``instance`` (labels; images and tabular),
        ``ood_covariate`` (images and tabular), ``domain_shift``, ``far_ood``,
        ``zoom_shift``, ``crop_shift`` (images only), ``atypical`` (tabular only).
    proportion : float
        Share of the samples to perturb, in (0, 1). H-CAT uses 0.1-0.5
        (0.05-0.25 for the zoom, crop and far-OOD shifts).
    seed : int, default 0
        Seeds which samples are chosen and how they are perturbed.
    rule : dict, optional
        For ``instance``: ``{class: classes it may be mistaken for}``. Default
        :data:`MNIST_INSTANCE_RULE` (H-CAT's rule for digits; needs 10 classes).

    Returns
    -------
    Perturbation
        ``X``, ``y`` (perturbed copies of the same type as given), ``mask``
        (bool, exactly the samples that were changed), ``details`` and
        ``requested`` (how many were asked for).

    Warns
    -----
    UserWarning
        When fewer samples can be changed than ``round(proportion * N)``.

    Notes
    -----
    ``ood_covariate`` adds Gaussian noise with std 0.5 x the image's maximum,
    clamped to [0, 1] (H-CAT); on tabular data the std is 0.5 x each feature's
    standard deviation, which is H-CAT's 0.5 on standardised features.
    ``domain_shift`` adds the same noise and then draws the image as a cartoon
    with OpenCV (median blur 5, adaptive mean threshold 9/9 for the edges,
    bilateral filter 9/250/250, masked by the edges); three-channel images are
    filtered in colour, others channel by channel. ``far_ood`` needs no
    download: H-CAT replaces MNIST digits by greyscale CIFAR-10 images, trustml
    by random square crops (side 1/8 to 1/2 of the photo's height) of the two
    photographs that ship with scikit-learn (``load_sample_images``: a Chinese
    temple and a flower), resized to the data's size, greyscale for one
    channel, colour for three. ``zoom_shift`` crops the centre ``1/1.75`` and
    resizes it back (bilinear). ``crop_shift`` moves the content right by
    ``round(10 * W / 28)`` pixels (10 on 28-pixel images, as H-CAT).
    ``atypical`` picks its feature among those that vary.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import perturb
    >>> digits = load("digits")
    >>> noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2)
    >>> int(noisy.mask.sum()), bool((noisy.y != digits.y_train).numpy()[noisy.mask].all())
    (287, True)
    >>> bool((noisy.y == digits.y_train).numpy()[~noisy.mask].all())
    True
    """
    proportion = check_proportion(proportion)
    seed = check_seed(seed)
    is_tensor = isinstance(X, torch.Tensor)
    X_np = to_numpy(X, "X")
    if X_np.ndim == 0 or len(X_np) == 0:
        raise ValueError(f"X is empty (shape {X_np.shape}): give at least one sample.")
    labels = check_labels(y, len(X_np), "y")
    if X_np.ndim not in (2, 4):
        raise ValueError(
            f"X must be images (N, C, H, W) or tabular rows (N, D), got shape {X_np.shape}; "
            "add a channel axis to greyscale images with X[:, None]."
        )
    images = X_np.ndim == 4
    check_kind(kind, X_np.shape)
    relabel = kind in _LABEL_KINDS
    if rule is not None and kind != "instance":
        raise ValueError(f"rule is the 'instance' kind's confusion rule, but kind={kind!r}: leave rule out.")
    if 0 in X_np.shape[1:]:
        raise ValueError(f"X has an empty axis (shape {X_np.shape}): every sample needs at least one value.")
    if X_np.dtype.kind not in ("biuf" if relabel else "f"):
        fix = "convert with X.float()" if X_np.dtype.kind in "biu" else "X must hold numbers"
        raise TypeError(f"X must hold floating point values, got dtype {X_np.dtype}: {fix}.")
    if not np.isfinite(X_np).all():
        raise ValueError("X has NaN or infinite values: clean or impute them before perturbing.")
    if images and not relabel and (X_np.min() < 0 or X_np.max() > 1):
        raise ValueError(
            f"images must have values in [0, 1] (as trustml.data.load gives them), got "
            f"[{X_np.min():.3g}, {X_np.max():.3g}]: perturb before normalising."
        )
    if kind == "zoom_shift" and min(X_np.shape[-2:]) < 2 or kind == "crop_shift" and X_np.shape[-1] < 2:
        need = "2 x 2 pixels" if kind == "zoom_shift" else "2 pixels in width"
        raise ValueError(f"{kind!r} needs images of at least {need}, got {X_np.shape[-2]} x {X_np.shape[-1]}.")

    rng = np.random.default_rng(seed)
    n = len(labels)
    count = round(proportion * n)
    if count < 1:
        raise ValueError(
            f"proportion {proportion} of {n} samples perturbs none (round({proportion} x {n}) = 0): "
            f"raise it above {0.5 / n:.3g}."
        )
    if relabel:
        eligible, reason, rule = _relabelable(labels, kind, rule)
    elif images:
        eligible, reason = _changeable_images(X_np, kind)
    else:
        feature = _atypical_feature(X_np, rng) if kind == "atypical" else None
        eligible, reason = _changeable_rows(X_np, kind, feature)
    chosen = _choose(eligible, count, rng, kind, reason)

    new_X, new_y = X_np, labels
    if relabel:
        new_y, details = _mislabel(labels, chosen, kind, rng, rule)
        changed = new_y[chosen] != labels[chosen]
    else:
        new_X = X_np.copy()
        if images:
            new_X[chosen], details = _shift_images(torch.from_numpy(X_np[chosen]).float(), kind, rng)
        else:
            new_X[chosen], details = _shift_rows(X_np, chosen, kind, rng, feature)
        changed = (new_X[chosen] != X_np[chosen]).reshape(len(chosen), -1).any(axis=1)
    mask = np.zeros(n, dtype=bool)
    mask[chosen[changed]] = True
    done = int(mask.sum())
    shortfall = ""
    if done < count:
        why = reason if len(chosen) < count else "the perturbation left some of the chosen samples as they were"
        shortfall = f" ({count} asked for; {why})"
        warnings.warn(
            f"perturb({kind!r}) could change only {done} of the {count} samples asked for: {why}. "
            f"The mask marks the {done} that changed.",
            UserWarning,
            stacklevel=2,
        )
    return Perturbation(
        X=_like(new_X, X, is_tensor),
        y=_like(new_y, y, isinstance(y, torch.Tensor)),
        mask=mask,
        kind=kind,
        proportion=proportion,
        seed=seed,
        details=f"{kind}: {done} of {n} samples{shortfall}; {details}",
        requested=count,
    )


def _choose(eligible: np.ndarray, count: int, rng: np.random.Generator, kind: str, reason: str) -> np.ndarray:
    """``count`` of the eligible samples (all of them when fewer), sorted; an error when there are none."""
    candidates = np.flatnonzero(eligible)
    if len(candidates) == 0:
        raise ValueError(f"{kind!r} can change none of the {len(eligible)} samples: {reason}.")
    return np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))


def check_kind(kind, shape: tuple) -> str:
    """A known hardness type that applies to data of this shape (images are 4-D), else a ValueError."""
    if not isinstance(kind, str) or kind not in _KINDS:
        raise unknown_name("hardness type", kind, _KINDS)
    applies = _KINDS[kind][1]
    if applies == "tabular" and len(shape) == 4:
        raise ValueError(
            f"{kind!r} perturbs tabular data (N, D), but X holds images {tuple(shape)}: "
            "for images use 'zoom_shift' or 'crop_shift' (H-CAT's atypical images)."
        )
    if applies == "images" and len(shape) == 2:
        raise ValueError(
            f"{kind!r} perturbs images (N, C, H, W), but X is tabular {tuple(shape)}: "
            "for tabular data use 'atypical' or 'ood_covariate'."
        )
    return kind


def _like(values: np.ndarray, original, as_tensor: bool):
    """``values`` as a fresh copy of the original's type and dtype."""
    if as_tensor:
        return torch.from_numpy(np.array(values, copy=True)).to(original.dtype)
    return np.array(values, dtype=np.asarray(original).dtype, copy=True)


# --------------------------------------------------------------------------- labels


def _relabelable(labels: np.ndarray, kind: str, rule):
    """Which samples a mislabeling can change, why the others cannot, and the checked rule (for ``instance``)."""
    k = int(labels.max()) + 1
    if k < 2:
        raise ValueError(f"{kind!r} mislabeling needs at least 2 classes, but y holds only class 0.")
    if kind != "instance":
        return np.ones(len(labels), dtype=bool), "", None
    rule = _check_rule(rule, k)
    return np.isin(labels, list(rule)), f"the rule {_rule_text(rule)} changes only classes {sorted(rule)}", rule


def _mislabel(labels: np.ndarray, chosen: np.ndarray, kind: str, rng: np.random.Generator, rule):
    k = int(labels.max()) + 1
    new = labels.copy()
    if kind == "instance":
        for i in chosen:
            new[i] = rng.choice(rule[int(labels[i])])
        return new, "labels changed by the instance rule " + _rule_text(rule)
    count = len(chosen)
    old = labels[chosen]
    if kind == "uniform":
        new[chosen] = (old + rng.integers(1, k, size=count)) % k
        details = f"labels replaced by a different class, uniformly among the other {k - 1}"
    elif kind == "adjacent":
        new[chosen] = (old + rng.choice([-1, 1], size=count)) % k
        details = "labels moved to a neighbouring class (y +- 1 mod K)"
    else:  # asymmetric
        transition = np.zeros((k, k))
        for c in range(k):
            transition[c, np.arange(k) != c] = rng.dirichlet(np.ones(k - 1))
        for c in range(k):
            rows = chosen[old == c]
            new[rows] = rng.choice(k, size=len(rows), p=transition[c])
        details = "labels drawn from a random class transition matrix (Dirichlet(1) rows, zero diagonal)"
    return new, details


def _check_rule(rule, k: int) -> dict:
    if rule is None:
        if k != 10:
            raise ValueError(
                f"the default 'instance' rule is H-CAT's rule for the 10 digits, but y has {k} classes: "
                "pass rule={class: (classes it may be mistaken for), ...}."
            )
        rule = MNIST_INSTANCE_RULE
    if not isinstance(rule, dict) or not rule:
        raise TypeError(f"rule must be a non-empty dict {{class: (other classes, ...)}}, got {rule!r}.")
    checked = {}
    for source, targets in rule.items():
        targets = (targets,) if isinstance(targets, (int, np.integer)) else tuple(targets)
        bad = [c for c in (source, *targets) if not isinstance(c, (int, np.integer)) or not 0 <= c < k]
        if bad or not targets or source in targets:
            raise ValueError(
                f"rule entry {source!r}: {targets!r} must map a class 0..{k - 1} to one or more other classes."
            )
        checked[int(source)] = tuple(int(t) for t in targets)
    return checked


def _rule_text(rule: dict) -> str:
    return ", ".join(f"{s}->{' or '.join(map(str, t))}" for s, t in sorted(rule.items()))


# --------------------------------------------------------------------------- images


def _changeable_images(X: np.ndarray, kind: str):
    """Which images a shift can change, and why the others cannot."""
    flat = X.reshape(len(X), -1)
    if kind in ("ood_covariate", "domain_shift", "crop_shift"):
        reason = ": the noise scales with each image's maximum" if kind != "crop_shift" else " when shifted"
        return flat.max(axis=1) > 0, f"all-black images stay black{reason}"
    if kind == "zoom_shift":
        return flat.max(axis=1) > flat.min(axis=1), "zooming leaves an image of one flat colour unchanged"
    return np.ones(len(X), dtype=bool), ""  # far_ood: replaced by photographs


def _shift_images(images: torch.Tensor, kind: str, rng: np.random.Generator):
    """Perturb a batch of images (n, C, H, W) in [0, 1]; returns a NumPy array and a description."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    if kind in ("ood_covariate", "domain_shift"):
        peak = images.flatten(1).amax(1).view(-1, 1, 1, 1)
        out = (images + torch.randn(images.shape, generator=generator) * 0.5 * peak).clamp_(0, 1)
        details = "Gaussian noise with std 0.5 x each image's maximum, clamped to [0, 1]"
        if kind == "domain_shift":
            out = _cartoon(out)
            details += ", then a cartoon effect (OpenCV median blur, adaptive-threshold edges, bilateral filter)"
    elif kind == "zoom_shift":
        h, w = images.shape[-2:]
        ch, cw = int(h / 1.75), int(w / 1.75)
        top, left = (h - ch) // 2, (w - cw) // 2
        crop = images[..., top : top + ch, left : left + cw]
        out = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False).clamp_(0, 1)
        details = "centre zoomed in 1.75x (bilinear)"
    elif kind == "crop_shift":
        w = images.shape[-1]
        shift = max(1, min(w - 1, round(10 * w / 28)))
        out = torch.zeros_like(images)
        out[..., shift:] = images[..., : w - shift]
        details = f"content shifted right by {shift} pixels, the gap filled black"
    else:  # far_ood
        out, details = _photo_crops(len(images), images.shape[1:], rng)
    return out.numpy(), details


def _cartoon(images: torch.Tensor) -> torch.Tensor:
    """H-CAT's cartoon effect, image by image with OpenCV (uint8 in, [0, 1] floats out)."""
    import cv2

    def cartoon(gray: np.ndarray, colour: np.ndarray) -> np.ndarray:
        edges = cv2.adaptiveThreshold(cv2.medianBlur(gray, 5), 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 9)
        smooth = cv2.bilateralFilter(colour, 9, 250, 250)
        return cv2.bitwise_and(smooth, smooth, mask=edges)

    pixels = (images * 255).round().to(torch.uint8).numpy()
    out = np.empty_like(pixels)
    for i, image in enumerate(pixels):
        if image.shape[0] == 3:  # colour: edges from the grey image, colours smoothed together
            rgb = np.ascontiguousarray(image.transpose(1, 2, 0))
            out[i] = cartoon(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), rgb).transpose(2, 0, 1)
        else:
            for c, channel in enumerate(image):
                channel = np.ascontiguousarray(channel)
                out[i, c] = cartoon(channel, channel)
    return torch.from_numpy(out).float().div_(255)


def _photo_crops(count: int, shape: tuple, rng: np.random.Generator):
    """``count`` random crops of scikit-learn's two sample photographs, resized to ``shape`` (C, H, W)."""
    from sklearn.datasets import load_sample_images
    from torchvision.ops import roi_align

    photos = torch.from_numpy(np.stack(load_sample_images().images)).permute(0, 3, 1, 2).float().div_(255)
    _, _, height, width = photos.shape
    side = rng.uniform(height / 8, height / 2, size=count)
    left = rng.uniform(0, width - side)
    top = rng.uniform(0, height - side)
    which = rng.integers(0, len(photos), size=count)
    boxes = torch.from_numpy(np.stack([which, left, top, left + side, top + side], axis=1)).float()
    channels, h, w = shape
    # roi_align averages the photo's pixels falling in each output pixel: an anti-aliased crop-and-resize
    crops = roi_align(photos, boxes, output_size=(h, w), aligned=True).clamp_(0, 1)
    if channels != 3:
        crops = crops.mean(1, keepdim=True).expand(-1, channels, -1, -1)
    kind = "colour" if channels == 3 else "greyscale"
    return crops.contiguous(), (
        f"images replaced by {kind} crops of scikit-learn's sample photographs "
        "(china.jpg, flower.jpg; offline stand-in for H-CAT's CIFAR-10/MNIST swap)"
    )


# --------------------------------------------------------------------------- tabular


def _atypical_feature(X: np.ndarray, rng: np.random.Generator) -> int:
    """The feature ``atypical`` moves to its tail: a random one among those that vary."""
    varying = np.flatnonzero(X.max(axis=0) > X.min(axis=0))
    if len(varying) == 0:
        raise ValueError("'atypical' moves a feature to the top of its range, but every feature of X is constant.")
    return int(rng.choice(varying))


def _tail(column: np.ndarray) -> np.ndarray:
    """The top 1% of a feature's values (at least one value)."""
    return np.sort(column)[-max(1, int(0.01 * len(column))) :]


def _changeable_rows(X: np.ndarray, kind: str, feature):
    """Which rows a tabular perturbation can change, and why the others cannot."""
    if kind == "ood_covariate":
        varies = bool((X.max(axis=0) > X.min(axis=0)).any())
        return np.full(len(X), varies), "every feature of X is constant (the noise scales with each feature's spread)"
    tail = _tail(X[:, feature])
    return X[:, feature] < tail[0], f"the other rows already have feature {feature} in its top 1% (>= {tail[0]:.4g})"


def _shift_rows(X: np.ndarray, chosen: np.ndarray, kind: str, rng: np.random.Generator, feature):
    rows = X[chosen].astype(np.float64)
    if kind == "ood_covariate":
        std = X.astype(np.float64).std(axis=0)
        rows += rng.normal(size=rows.shape) * 0.5 * std
        return rows, "Gaussian noise with std 0.5 x each feature's standard deviation"
    # atypical: one feature takes values from the top 1% of its marginal
    tail = _tail(X[:, feature])
    rows[:, feature] = rng.choice(tail, size=len(rows))
    return rows, f"feature {feature} set to values from the top 1% of its marginal (>= {tail[0]:.4g})"
