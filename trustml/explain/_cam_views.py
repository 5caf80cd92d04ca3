"""Figures of class activation maps: image grids with boxes and peaks, the randomisation check, one CAM view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from trustml._live import LiveFigure
from trustml.explain._cam import CAMResult, _as_images, cam, overlay
from trustml.explain._cam_checks import RandomizationCheck

__all__ = ["CAMFigure", "cam_view", "plot_cams", "plot_randomization_check"]

_DIGIT_BOX = "lime"
_MARKER_BOX = "white"


def _maps_of(value, what: str) -> np.ndarray:
    maps = value.maps if isinstance(value, CAMResult) else np.asarray(value)
    if maps.ndim != 3:
        raise ValueError(f"{what} must be a CAMResult or (N, H, W) maps, got shape {maps.shape}.")
    return maps


def _draw_box(ax, box, colour, style="-"):
    x0, y0, x1, y1 = box
    if x0 < 0:
        return
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=colour, lw=1.2, ls=style))


def _peak(cam_map: np.ndarray):
    row, col = np.unravel_index(int(np.argmax(cam_map)), cam_map.shape)
    return col, row


def _label(result: CAMResult, i: int) -> str:
    name = result.class_names[i] if result.class_names is not None else str(result.classes[i])
    return f"{name} ({result.probabilities[i]:.0%})"


def plot_cams(
    images,
    rows: Mapping[str, CAMResult | np.ndarray],
    *,
    boxes=None,
    marker_boxes=None,
    titles: Sequence[str] | None = None,
    alpha: float = 0.5,
    max_images: int = 8,
) -> Figure:
    """A grid: the images in the first row, then one row of CAM overlays per entry of ``rows``.

    Each overlay marks the map's peak with a cross (what the pointing game
    looks at; a blank map has none); boxes are drawn on every row: the digit's in green, the
    marker's dashed in white.

    Parameters
    ----------
    images : torch.Tensor
        ``(N, C, H, W)`` in [0, 1].
    rows : mapping of str to CAMResult or (N, H, W) array
        Row title -> maps; a CAMResult also labels each overlay with the
        explained class and its probability.
    boxes, marker_boxes : (N, 4) arrays, optional
        ``(x0, y0, x1, y1)`` boxes, end exclusive (as :class:`ClutteredDigits`).
    titles : sequence of str, optional
        A title per image for the first row.
    alpha : float, default 0.5
        Weight of the heat map in the overlays.
    max_images : int, default 8
        Draw at most this many images (the first ones).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml.explain import plot_cams
    >>> fig = plot_cams(torch.rand(3, 1, 8, 8), {"random": np.random.rand(3, 8, 8)})
    >>> len(fig.axes)
    6
    """
    images = _as_images(images)
    n = min(len(images), max_images)
    maps = {title: _maps_of(value, f"rows[{title!r}]") for title, value in rows.items()}
    for title, m in maps.items():
        if m.shape[0] < n or m.shape[1:] != images.shape[2:]:
            raise ValueError(f"rows[{title!r}] has maps of shape {m.shape}; the images need {tuple(images.shape)}.")
    side = 1.45 if n > 2 else 2.6
    fig = plt.figure(figsize=(side * n + 1.2, (side + 0.15) * (len(maps) + 1)))
    axes = np.asarray(fig.subplots(len(maps) + 1, n, squeeze=False))
    for i in range(n):
        image = images[i].permute(1, 2, 0).numpy()
        axes[0, i].imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1)
        if titles is not None:
            axes[0, i].set_title(titles[i], fontsize="small")
        for r, (title, m) in enumerate(maps.items(), start=1):
            ax = axes[r, i]
            ax.imshow(overlay(images[i], m[i], alpha=alpha))
            if np.ptp(m[i]) > 0:  # a blank map has no peak
                ax.plot(*_peak(m[i]), marker="x", color="white", ms=7, mew=2)
            value = rows[title]
            if isinstance(value, CAMResult):
                ax.set_title(_label(value, i), fontsize="small")
        for ax in axes[:, i]:
            if boxes is not None:
                _draw_box(ax, np.asarray(boxes)[i], _DIGIT_BOX)
            if marker_boxes is not None:
                _draw_box(ax, np.asarray(marker_boxes)[i], _MARKER_BOX, "--")
    for r, title in enumerate(["image", *maps]):
        axes[r, 0].set_ylabel(title, fontsize="small")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_randomization_check(checks, images, *, index: int = 0, alpha: float = 0.5) -> Figure:
    """What cascading randomisation does to the maps: one image's maps per step, and the rank correlation.

    Parameters
    ----------
    checks : RandomizationCheck or mapping of str to RandomizationCheck
        One check, or several by name (e.g. one per method), drawn one row each.
    images : torch.Tensor
        The images the checks were computed on.
    index : int, default 0
        Which image's maps to draw.
    alpha : float, default 0.5

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch
    >>> from trustml.explain import plot_randomization_check, randomization_check
    >>> from trustml.models import SimpleCNN
    >>> images = torch.rand(2, 1, 16, 16)
    >>> check = randomization_check(SimpleCNN(), images, target_layer="body.4", device="cpu")
    >>> fig = plot_randomization_check(check, images)
    >>> [line.get_label() for line in fig.axes[0].lines][:1]
    ['gradcam']
    """
    if isinstance(checks, RandomizationCheck):
        checks = {checks.method: checks}
    if not checks or not all(isinstance(c, RandomizationCheck) for c in checks.values()):
        raise TypeError("checks must be a RandomizationCheck or a mapping of names to them.")
    images = _as_images(images)
    steps = next(iter(checks.values())).steps
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in 0..{len(images) - 1}, got {index!r}.")
    fig = plt.figure(figsize=(1.5 * len(steps) + 3.6, 1.7 * len(checks) + 0.3))
    grid = fig.add_gridspec(len(checks), len(steps) + 2)
    curve = fig.add_subplot(grid[:, len(steps):])
    for r, (name, check) in enumerate(checks.items()):
        for s, step in enumerate(check.steps):
            ax = fig.add_subplot(grid[r, s])
            ax.imshow(overlay(images[index], check.maps[s, index], alpha=alpha))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("original" if s == 0 else f"+ {step}", fontsize="small")
            if s == 0:
                ax.set_ylabel(name, fontsize="small")
        summary = check.summary
        x = summary["layers randomised"].to_numpy()
        mean, sd = summary["mean Spearman"].to_numpy(), summary["sd"].to_numpy()
        curve.plot(x, mean, marker="o", label=name)
        curve.fill_between(x, mean - sd, mean + sd, alpha=0.2)
    curve.axhline(0, color="0.6", lw=0.8)
    curve.set_xticks(range(len(steps)))
    curve.set_xticklabels(["none", *steps[1:]], rotation=45, ha="right", fontsize="small")
    curve.set_xlabel("randomised from the output down to")
    curve.set_ylabel("rank correlation with the original")
    curve.set_ylim(-1.05, 1.05)
    curve.legend(fontsize="small")
    fig.tight_layout()
    return fig


class CAMFigure(LiveFigure):
    """One image beside its CAM overlay: built once, :meth:`update` swaps the map, its peak and the title in place.

    :func:`cam_view` is this figure built and updated once; the CAM explorer
    widget keeps one and updates it on every control move (only the right
    half is drawn again).

    Parameters
    ----------
    image : torch.Tensor
        One image (C, H, W) in [0, 1].
    alpha : float, default 0.5
        Weight of the heat map in the overlay.
    pyplot : bool, default False
        Register the figure with pyplot (for a static view).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml.explain import CAMFigure
    >>> figure = CAMFigure(torch.rand(3, 8, 8))
    >>> figure.update(cam_map=np.eye(8), title="a diagonal").title.get_text()
    'a diagonal'
    >>> figure.png()[:4]
    b'\\x89PNG'
    """

    def __init__(self, image, *, alpha: float = 0.5, pyplot: bool = False):
        from matplotlib.transforms import Bbox, TransformedBbox

        super().__init__(figsize=(6.4, 3.5), pyplot=pyplot)
        self.image = _as_images(image, "image")[:1]
        self.alpha = alpha
        left, right = self.figure.subplots(1, 2)
        shown = self.image[0].permute(1, 2, 0).numpy()
        left.imshow(shown.squeeze(-1) if shown.shape[-1] == 1 else shown, cmap="gray", vmin=0, vmax=1)
        left.set_title("image", fontsize="medium")
        blank = np.zeros(self.image.shape[2:], dtype=np.float32)
        self.artist = right.imshow(overlay(self.image[0], blank, alpha=alpha))
        (self.peak,) = right.plot([0], [0], marker="x", color="white", ms=9, mew=2, ls="")
        self.title = right.set_title("", fontsize="medium")  # two lines: the method and class, the layer
        for ax in (left, right):
            ax.set_xticks([])
            ax.set_yticks([])
        self.figure.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=0.82, wspace=0.08)  # room for the title
        # the right half, title included (a title lies above its Axes' box); what update changes, in the order
        # matplotlib draws an Axes, with the spines that lie over the image
        self.add_panel(TransformedBbox(Bbox([[0.5, 0], [1, 1]]), self.figure.transFigure),
                       [self.artist, self.peak, *right.spines.values(), self.title])

    def update(self, *, cam_map: np.ndarray, title: str) -> CAMFigure:
        """Show ``cam_map`` over the image, its peak, and ``title``; returns ``self``."""
        self.artist.set_data(overlay(self.image[0], cam_map, alpha=self.alpha))
        self.peak.set_data(*([[v] for v in _peak(cam_map)] if np.ptp(cam_map) > 0 else [[], []]))  # blank: no peak
        self.title.set_text(title)
        return self


def _cam_title(result: CAMResult) -> str:
    where = "every layer with a bias" if result.target_layer is None else result.target_layer
    return f"{result.method} for {_label(result, 0)}\nat {where}"


def cam_view(
    model,
    image,
    *,
    target=None,
    method: str = "gradcam",
    target_layer=None,
    class_names=None,
    preprocess=None,
    device=None,
    alpha: float = 0.5,
) -> Figure:
    """One image and its CAM for one class and method (the view of :func:`trustml.widgets.cam_explorer`).

    Parameters are those of :func:`cam`, for one image (C, H, W).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import torch
    >>> from trustml.explain import cam_view
    >>> from trustml.models import SimpleCNN
    >>> fig = cam_view(SimpleCNN(num_classes=2), torch.rand(1, 16, 16), target=1, target_layer="body.4",
    ...                device="cpu")
    >>> fig.axes[1].get_title().splitlines()[0]
    'gradcam for 1 (...%)'
    """
    image = _as_images(image, "image")
    if len(image) != 1:
        raise ValueError(f"cam_view draws one image; got a batch of {len(image)}: pass images[i].")
    result = cam(model, image, target=target, method=method, target_layer=target_layer, class_names=class_names,
                 preprocess=preprocess, device=device)
    return CAMFigure(image, alpha=alpha, pyplot=True).update(cam_map=result.maps[0], title=_cam_title(result)).figure

