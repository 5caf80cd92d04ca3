"""Cluttered digits with a spurious marker, and the pointing game that scores CAMs on them.

Digits are placed at random positions on a larger canvas among fragments of other
digits (cluttered MNIST, Mnih et al. 2014), so each digit's box is known. A small
coloured square, the *marker*, can be added away from the digit; its colour can
follow the digit's class (a shortcut a model can learn instead of the digit) or not.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["MARKER_COLOURS", "ClutteredDigits", "make_cluttered_digits", "pointing_game"]

MARKER_COLOURS = np.array([colorsys.hsv_to_rgb(k / 10, 1.0, 1.0) for k in range(10)], dtype=np.float32)
"""The marker's colour for each class (RGB in [0, 1], ten hues from red round to magenta)."""


@dataclass(frozen=True, repr=False)
class ClutteredDigits:
    """Digits on a larger canvas, with their boxes, and the marker of each image.

    Boxes are ``(x0, y0, x1, y1)`` in pixels, end exclusive: pixel (row ``r``,
    column ``c``) is inside when ``y0 <= r < y1`` and ``x0 <= c < x1``.

    Attributes
    ----------
    X : torch.Tensor
        ``(N, 3, S, S)`` float images in [0, 1]: grey digits and clutter, a coloured marker.
    y : torch.Tensor
        ``(N,)`` the digits' classes.
    digit_boxes : numpy.ndarray
        ``(N, 4)`` the tight box around each digit's ink.
    marker_boxes : numpy.ndarray
        ``(N, 4)`` the marker's square (all -1 when there is no marker).
    marker_classes : numpy.ndarray
        ``(N,)`` the class whose colour the marker has (-1: no marker).
    class_names : list of str
    marker_correlation : float or None
        As given to :func:`make_cluttered_digits`.
    """

    X: torch.Tensor
    y: torch.Tensor
    digit_boxes: np.ndarray
    marker_boxes: np.ndarray
    marker_classes: np.ndarray
    class_names: list
    marker_correlation: float | None

    def __len__(self) -> int:
        return len(self.y)

    @property
    def marker_agreement(self) -> float:
        """Share of images whose marker has the colour of their own class (NaN without markers)."""
        has = self.marker_classes >= 0
        return float(np.mean(self.marker_classes[has] == self.y.numpy()[has])) if has.any() else float("nan")

    def __repr__(self) -> str:
        marker = "no marker" if self.marker_correlation is None else (
            f"marker colour = class in {self.marker_agreement:.0%} of images"
        )
        return f"ClutteredDigits({len(self)} images of {self.X.shape[-1]}x{self.X.shape[-1]}, {marker})"


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer of at least {low}, got {value!r}.")


def _digit_patches(images: torch.Tensor, size: int) -> list[np.ndarray]:
    """Each digit cropped to its ink and scaled so that its longer side is ``size`` pixels."""
    patches = []
    for image in images[:, 0]:
        rows, cols = np.nonzero(image.numpy() > 0.1)
        if len(rows) == 0:
            raise ValueError("an image in images is blank (no pixel above 0.1): every image must show a digit.")
        crop = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        h, w = crop.shape
        scale = size / max(h, w)
        shape = (max(1, round(h * scale)), max(1, round(w * scale)))
        patch = F.interpolate(crop[None, None], size=shape, mode="bilinear", antialias=True, align_corners=False)
        patches.append(patch[0, 0].clamp(0, 1).numpy())
    return patches


def make_cluttered_digits(
    images,
    labels,
    *,
    marker_correlation: float | None = 1.0,
    canvas_size: int = 28,
    digit_size: int = 12,
    n_clutter: int = 3,
    clutter_size: int = 4,
    marker_size: int = 5,
    seed: int = 0,
) -> ClutteredDigits:
    """Place each digit at a random position on a larger canvas, among clutter, with an optional marker.

    Every image gets, in this order: ``n_clutter`` fragments (random
    ``clutter_size`` squares cut from other digits of ``images``) anywhere on
    the canvas; the digit, scaled so that its longer side is ``digit_size``,
    at a random position (drawn over the clutter); and, unless
    ``marker_correlation`` is None, a ``marker_size`` square in a class
    colour (:data:`MARKER_COLOURS`) at a random position outside the digit's
    box. With probability ``marker_correlation`` the marker has the colour of
    the digit's class; otherwise a colour drawn uniformly from all classes.

    Parameters
    ----------
    images : torch.Tensor
        ``(N, 1, H, W)`` grey digits in [0, 1], e.g. ``load("digits").X_train``.
    labels : torch.Tensor
        ``(N,)`` their classes, 0..9.
    marker_correlation : float in [0, 1] or None, default 1.0
        1: the marker always shows the class (a perfect shortcut); 0: its
        colour is independent of the class; None: no marker.
    canvas_size : int, default 28
    digit_size : int, default 12
    n_clutter : int, default 3
    clutter_size : int, default 4
    marker_size : int, default 5
    seed : int, default 0
        The same seed and inputs give the same images, boxes and markers. The
        positions and clutter do not depend on ``marker_correlation``: two
        calls that differ only in it give the same digits in the same places.

    Returns
    -------
    ClutteredDigits

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.explain import make_cluttered_digits
    >>> digits = load("digits")
    >>> make_cluttered_digits(digits.X_train, digits.y_train, seed=0)
    ClutteredDigits(1437 images of 28x28, marker colour = class in 100% of images)
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor of grey digits (N, 1, H, W), got {got}.")
    if not images.is_floating_point() or len(images) == 0 or images.min() < 0 or images.max() > 1:
        raise ValueError("images must be a non-empty float tensor with values in [0, 1].")
    labels = torch.as_tensor(labels)
    if labels.shape != (len(images),) or labels.is_floating_point():
        raise ValueError(f"labels must be (N,) = ({len(images)},) integer classes, got shape {tuple(labels.shape)}.")
    if labels.min() < 0 or labels.max() >= len(MARKER_COLOURS):
        raise ValueError(f"labels must be classes 0..{len(MARKER_COLOURS) - 1}.")
    if marker_correlation is not None and (
        isinstance(marker_correlation, bool) or not 0 <= marker_correlation <= 1
    ):
        raise ValueError(f"marker_correlation must be a probability in [0, 1] or None, got {marker_correlation!r}.")
    for name, value, low in [("canvas_size", canvas_size, 8), ("digit_size", digit_size, 4),
                             ("n_clutter", n_clutter, 0), ("clutter_size", clutter_size, 1),
                             ("marker_size", marker_size, 1), ("seed", seed, 0)]:
        _check_int(name, value, low)
    if digit_size + 2 * (marker_size + 1) > canvas_size:
        raise ValueError(
            f"canvas_size={canvas_size} is too small for digit_size={digit_size} and marker_size={marker_size}: "
            f"it must be at least digit_size + 2 * (marker_size + 1) = {digit_size + 2 * (marker_size + 1)}."
        )
    if clutter_size > digit_size:
        raise ValueError(f"clutter_size={clutter_size} must not exceed digit_size={digit_size}.")

    layout, colours = np.random.SeedSequence(seed).spawn(2)
    rng, colour_rng = np.random.default_rng(layout), np.random.default_rng(colours)
    n, size = len(images), canvas_size
    patches = _digit_patches(images.float(), digit_size)
    X = np.zeros((n, 3, size, size), dtype=np.float32)
    digit_boxes = np.zeros((n, 4), dtype=np.int64)
    marker_boxes = np.full((n, 4), -1, dtype=np.int64)
    for i, patch in enumerate(patches):
        canvas = np.zeros((size, size), dtype=np.float32)
        for _ in range(n_clutter):
            source = patches[rng.integers(n)]
            h, w = source.shape
            cy, cx = rng.integers(max(1, h - clutter_size + 1)), rng.integers(max(1, w - clutter_size + 1))
            fragment = source[cy:cy + clutter_size, cx:cx + clutter_size]
            fy, fx = rng.integers(size - fragment.shape[0] + 1), rng.integers(size - fragment.shape[1] + 1)
            region = canvas[fy:fy + fragment.shape[0], fx:fx + fragment.shape[1]]
            np.maximum(region, fragment, out=region)
        h, w = patch.shape
        top, left = rng.integers(size - h + 1), rng.integers(size - w + 1)
        region = canvas[top:top + h, left:left + w]
        np.maximum(region, patch, out=region)
        rows, cols = np.nonzero(patch > 0.1)
        digit_boxes[i] = (left + cols.min(), top + rows.min(), left + cols.max() + 1, top + rows.max() + 1)
        X[i] = canvas
        # the marker's place: anywhere its square, with a pixel of margin, stays clear of the digit's box
        x0, y0, x1, y1 = digit_boxes[i]
        while True:
            my, mx = rng.integers(size - marker_size + 1), rng.integers(size - marker_size + 1)
            if mx + marker_size + 1 <= x0 or mx >= x1 + 1 or my + marker_size + 1 <= y0 or my >= y1 + 1:
                break
        marker_boxes[i] = (mx, my, mx + marker_size, my + marker_size)

    y = labels.long().clone()
    if marker_correlation is None:
        marker_boxes[:] = -1
        marker_classes = np.full(n, -1, dtype=np.int64)
    else:
        follows = colour_rng.random(n) < marker_correlation
        marker_classes = np.where(follows, y.numpy(), colour_rng.integers(len(MARKER_COLOURS), size=n))
        for i, (mx, my, mx1, my1) in enumerate(marker_boxes):
            X[i, :, my:my1, mx:mx1] = MARKER_COLOURS[marker_classes[i]][:, None, None]
    return ClutteredDigits(
        X=torch.from_numpy(X),
        y=y,
        digit_boxes=digit_boxes,
        marker_boxes=marker_boxes,
        marker_classes=marker_classes.astype(np.int64),
        class_names=[str(k) for k in range(len(MARKER_COLOURS))],
        marker_correlation=None if marker_correlation is None else float(marker_correlation),
    )


def pointing_game(maps, boxes, *, tolerance: int = 0) -> np.ndarray:
    """Whether each map's peak lands in its box: the pointing game (Zhang et al. 2016).

    A hit is a map whose largest value lies inside the box, widened by
    ``tolerance`` pixels on every side (Zhang et al. use 15 pixels on
    ImageNet-sized images). When several pixels share the largest value, the
    first in reading order counts; a map without a peak (all values equal)
    is a miss.

    Parameters
    ----------
    maps : numpy.ndarray
        ``(N, H, W)`` maps, e.g. ``cam(...).maps``.
    boxes : numpy.ndarray
        ``(N, 4)`` boxes ``(x0, y0, x1, y1)``, end exclusive, as
        :class:`ClutteredDigits` gives them. A row of -1 (no box) is a miss.
    tolerance : int, default 0

    Returns
    -------
    numpy.ndarray
        ``(N,)`` bool; its mean is the pointing-game score.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import pointing_game
    >>> maps = np.zeros((2, 10, 10)); maps[0, 2, 3] = 1; maps[1, 8, 8] = 1
    >>> pointing_game(maps, np.array([[2, 1, 5, 4], [2, 1, 5, 4]])).tolist()
    [True, False]
    """
    maps = np.asarray(maps.detach().cpu() if isinstance(maps, torch.Tensor) else maps, dtype=np.float64)
    boxes = np.asarray(boxes)
    if maps.ndim != 3:
        raise ValueError(f"maps must be (N, H, W), got shape {maps.shape}.")
    if boxes.shape != (len(maps), 4):
        raise ValueError(f"boxes must be (N, 4) = ({len(maps)}, 4) boxes (x0, y0, x1, y1), got shape {boxes.shape}.")
    if not np.isfinite(maps).all():
        raise ValueError("maps has NaN or infinite values.")
    _check_int("tolerance", tolerance, 0)
    flat = maps.reshape(len(maps), -1)
    peak = flat.argmax(axis=1)
    rows, cols = np.unravel_index(peak, maps.shape[1:])
    has_peak = flat.max(axis=1) > flat.min(axis=1)
    x0, y0, x1, y1 = boxes.T
    inside = (
        (cols >= x0 - tolerance) & (cols < x1 + tolerance) & (rows >= y0 - tolerance) & (rows < y1 + tolerance)
    )
    return inside & has_peak & (boxes >= 0).all(axis=1)
