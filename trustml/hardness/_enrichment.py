"""Data enrichment from data-parameter trajectories: easy / need-review / hard, t-SNE, image grids.

The categories follow the data-enrichment tool built on Apple's data parameters
(easy samples to keep, hard/outlier and need-review samples to send to an
annotator); the rule that assigns them is trustml's own, stated in
:func:`categorize`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from trustml._checks import (
    check_class_names,
    check_int,
    check_labels,
    check_mask,
    check_number,
    check_pixels,
    check_seed,
    real_array,
    to_numpy,
)
from trustml._live import LiveFigure

__all__ = [
    "categorize",
    "plot_category_grid",
    "plot_temperature_detection",
    "plot_trajectories",
    "plot_trajectory_tsne",
    "trajectory_tsne",
]

CATEGORIES = ("easy", "need-review", "hard")
CATEGORY_COLORS = {"easy": "green", "need-review": "orange", "hard": "red"}


def _as_trajectories(trajectories) -> np.ndarray:
    if not isinstance(trajectories, (np.ndarray, torch.Tensor)):
        raise TypeError(
            f"trajectories must be a numpy array or tensor (epochs, N) of temperatures σ, "
            f"got {type(trajectories).__name__}; use DataParameters.trajectories_."
        )
    trajectories = real_array(trajectories, "trajectories", axes=("epochs", "N"), finite=False)
    if not np.isfinite(trajectories).all() or (trajectories <= 0).any():
        raise ValueError(
            "trajectories must hold positive, finite temperatures σ (not log σ): "
            "use DataParameters.trajectories_, or np.exp of log-space values."
        )
    return trajectories


def categorize(trajectories, *, window: float = 0.5, margin: float = 0.0) -> np.ndarray:
    """Sort samples into easy, need-review and hard from their temperature trajectories.

    The rule looks at log σ over the last ``window`` share of the epochs
    (default: the second half of training):

    - **easy**: log σ < -margin at every one of those epochs. The model kept
      lowering the temperature: it fits the sample's label with growing confidence.
    - **hard** (hard or outlier): log σ > +margin at every one of those epochs.
      The model kept raising the temperature: it gave up on the label.
    - **need-review**: everything else. The trajectory crossed the band during
      the window (the model changed its mind late) or stayed inside it.

    Why σ = 1 is the boundary: every temperature starts at 1 (log σ = 0) and
    the gradient of CE(z / σ, y) with respect to log σ is
    ``z_y / σ - mean_p(z / σ)``, where ``mean_p`` averages the scaled logits
    under the model's own softmax. Gradient descent therefore lowers σ exactly
    while the labelled class's logit is above that average (the model sides
    with the label) and raises it otherwise. Which side of 1 a sample ends on
    is the sign of the (momentum-weighted) sum of those votes: the learning
    rate scales the trajectories but hardly moves them across 1 (it acts only
    through the model's training, which the temperatures also steer).
    Requiring the whole window rather than the last epoch keeps samples the
    model is still undecided about out of both "easy" and "hard".

    Parameters
    ----------
    trajectories : array-like, shape (epochs, N)
        Instance temperatures σ after every epoch
        (:attr:`DataParameters.trajectories_`).
    window : float in (0, 1], default 0.5
        Share of the last epochs the rule looks at (at least one epoch).
    margin : float, default 0.0
        Half-width of an undecided band around log σ = 0; a larger margin moves
        samples that barely moved into need-review.

    Returns
    -------
    numpy.ndarray of str, shape (N,)
        ``"easy"``, ``"need-review"`` or ``"hard"`` per sample.

    Examples
    --------
    >>> import numpy as np
    >>> sigma = np.array([[0.9, 1.2, 1.1],
    ...                   [0.8, 1.5, 0.9],
    ...                   [0.7, 1.9, 1.2]])     # 3 epochs, 3 samples
    >>> categorize(sigma).tolist()
    ['easy', 'hard', 'need-review']
    """
    log_sigma = np.log(_as_trajectories(trajectories))
    window = check_number(window, "window", low=0, high=1, low_open=True, hint=" (a share of the epochs)")
    margin = check_number(margin, "margin", low=0, hint=" (in log σ)")
    last = log_sigma[-max(1, math.ceil(window * len(log_sigma))) :]
    categories = np.full(log_sigma.shape[1], "need-review", dtype=object)
    categories[(last < -margin).all(axis=0)] = "easy"
    categories[(last > margin).all(axis=0)] = "hard"
    return categories.astype(str)


def trajectory_tsne(trajectories, *, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """Embed each sample's log-temperature trajectory in 2-D with scikit-learn's t-SNE.

    Samples whose temperatures moved alike over the epochs land close together,
    so easy, hard and need-review samples form their own regions.

    Parameters
    ----------
    trajectories : array-like, shape (epochs, N)
        Instance temperatures σ after every epoch.
    perplexity : float, default 30
        t-SNE's neighbourhood size; must be below the number of samples.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray, shape (N, 2)

    Examples
    --------
    >>> import numpy as np
    >>> sigma = np.exp(np.random.default_rng(0).normal(size=(5, 40)))
    >>> trajectory_tsne(sigma, perplexity=5).shape
    (40, 2)
    """
    from sklearn.manifold import TSNE

    log_sigma = np.log(_as_trajectories(trajectories)).T
    n, epochs = log_sigma.shape
    if n < 2:
        raise ValueError("trajectories has 1 sample: t-SNE places samples relative to each other, so it needs 2.")
    if epochs < 2:
        raise ValueError(
            "trajectories has 1 epoch: a trajectory of one value has nothing to embed in 2-D; record at least 2."
        )
    if not np.ptp(log_sigma, axis=0).any():
        raise ValueError("every trajectory is the same: t-SNE has nothing to separate (scikit-learn would crash).")
    perplexity = check_number(perplexity, "perplexity", low=0, high=n, low_open=True, high_open=True,
                              hint=" (below the number of samples)")  # fmt: skip
    seed = check_seed(seed, maximum=2**32 - 1)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(log_sigma)


def _images_for_display(images) -> np.ndarray:
    """(N, C, H, W) or (N, H, W) images to (N, H, W) or (N, H, W, 3) floats for imshow."""
    images = check_pixels(images).astype(np.float32)
    if images.ndim == 3:
        return images
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, C, H, W) with 1 or 3 channels, or (N, H, W); got {images.shape}.")
    return images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)


def _check_categories(categories, n: int) -> np.ndarray:
    categories = np.asarray(categories).astype(str)
    if categories.shape != (n,):
        raise ValueError(f"categories must have one entry per sample ({n}), got shape {categories.shape}.")
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"Unknown categories {unknown}: use those of categorize(), {list(CATEGORIES)}.")
    return categories


def _check_mask(mask, n: int):
    return None if mask is None else check_mask(mask, n)


def plot_trajectories(
    trajectories, indices, *, categories=None, labels=None, class_names=None, mask=None, images=None, title=None
):
    """Draw the temperature σ of chosen samples over the epochs.

    Parameters
    ----------
    trajectories : array-like, shape (epochs, N)
        Instance temperatures σ after every epoch.
    indices : sequence of int
        The samples to draw (at most 12).
    categories : array-like of str, shape (N,), optional
        From :func:`categorize`: lines and image borders are coloured green
        (easy), orange (need-review) or red (hard).
    labels : array-like of int, shape (N,), optional
        The (possibly noisy) labels, named in the legend.
    class_names : sequence of str, optional
        Names of the classes, for the legend.
    mask : array-like of bool, shape (N,), optional
        Samples known to be perturbed (e.g. flipped labels), marked in the legend.
    images : array-like, shape (N, C, H, W), optional
        When given, the chosen samples' images are shown under the plot.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> sigma = np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.2, size=(10, 30)), axis=0))
    >>> fig = plot_trajectories(sigma, [0, 5], categories=categorize(sigma))
    >>> [line.get_label() for line in fig.axes[0].lines if line.get_visible()]
    ['#0 (need-review)', '#5 (need-review)', '_σ = 1']
    """
    indices = _check_indices(indices, _as_trajectories(trajectories).shape[1])
    if not indices:
        raise ValueError(f"Choose between 1 and {TrajectoryFigure.slots} samples to draw, got 0.")
    figure = TrajectoryFigure(
        trajectories, categories=categories, labels=labels, class_names=class_names, mask=mask, images=images,
        pyplot=True,
    )  # fmt: skip
    return figure.update(indices, title=title).figure


class TrajectoryFigure(LiveFigure):
    """:func:`plot_trajectories`' figure for one set of trajectories, updated in place for each choice of samples.

    Parameters are those of :func:`plot_trajectories` but ``indices`` and
    ``title``, which :meth:`update` takes.
    """

    slots = 12
    _STYLES = ("-", "--", ":", "-.")

    def __init__(self, trajectories, *, categories=None, labels=None, class_names=None, mask=None, images=None,
                 pyplot=False):  # fmt: skip
        self.sigma = _as_trajectories(trajectories)
        epochs, n = self.sigma.shape
        self.categories = None if categories is None else _check_categories(categories, n)
        self.mask = _check_mask(mask, n)
        self.class_names = None if class_names is None else check_class_names(class_names)
        self.labels = None
        if labels is not None:
            known = None if class_names is None else len(self.class_names)
            self.labels = check_labels(labels, n, num_classes=known, classes_from=" (one per name in class_names)")
        self.images = None
        if images is not None:
            self.images = _images_for_display(images)
            if len(self.images) != n:
                raise ValueError(f"images has {len(self.images)} samples but the trajectories have {n}.")
        import matplotlib.pyplot as plt
        from matplotlib.transforms import Bbox, TransformedBbox

        self.cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        with_images = self.images is not None
        super().__init__(figsize=(10.8, 5) if with_images else (9.5, 3.6), pyplot=pyplot)
        fig = self.figure
        split = 0.27 if with_images else 0.0  # the thumbnails' strip, below the plot
        # fixed margins, room for the legend on the right (a layout engine would double the drawing time)
        bottom = split + (0.1 if with_images else 0.14)
        self.ax = ax = fig.add_axes((0.07, bottom, 0.62, 0.9 - bottom))
        x = np.arange(1, epochs + 1)
        self.lines = [ax.plot(x, np.full(epochs, np.nan), marker="o", ms=3, visible=False)[0] for _ in range(self.slots)]
        one = ax.axhline(1.0, color="grey", lw=1, ls="--", label="_σ = 1")
        ax.set_xlim(0.5, epochs + 0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel("temperature σ (log scale)")
        self.note = ax.text(0.5, 0.5, "", ha="center", va="center", transform=ax.transAxes)
        ax.legend(handles=self.lines[:1], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        self.plot = self.add_panel(TransformedBbox(Bbox([[0, split], [1, 1]]), fig.transFigure), [
            *self.lines, one, ax.yaxis, self.note, ax.get_legend(), ax.title,
        ])  # fmt: skip
        self.thumbnails = []
        if with_images:
            width = 0.94 / self.slots
            for k in range(self.slots):
                thumb = fig.add_axes((0.03 + k * width + 0.05 * width, 0.02, 0.9 * width, split - 0.08))
                image = thumb.imshow(np.zeros(self.images.shape[1:]), cmap="gray" if self.images.ndim == 3 else None,
                                     vmin=0, vmax=1, visible=False)  # fmt: skip
                thumb.set_xticks([])
                thumb.set_yticks([])
                thumb.set_title("", fontsize=8)
                for spine in thumb.spines.values():
                    spine.set_linewidth(3)
                self.thumbnails.append((thumb, image))
            self.add_panel(TransformedBbox(Bbox([[0, 0], [1, split]]), fig.transFigure), [
                artist for thumb, image in self.thumbnails for artist in (image, *thumb.spines.values(), thumb.title)
            ])  # fmt: skip

    def update(self, indices, *, title=None, message="No samples to draw."):
        """Draw samples ``indices`` (at most 12); with none, ``message`` instead."""
        indices = _check_indices(indices, self.sigma.shape[1])
        colors = [
            CATEGORY_COLORS[self.categories[i]] if self.categories is not None else self.cycle[k % len(self.cycle)]
            for k, i in enumerate(indices)
        ]
        for k, line in enumerate(self.lines):
            line.set_visible(k < len(indices))
            if k < len(indices):
                i = indices[k]
                line.set_ydata(self.sigma[:, i])
                line.set_color(colors[k])
                line.set_linestyle(self._STYLES[k % len(self._STYLES)])
                line.set_label(self._name(i))
        ax = self.ax
        _log_axis(ax.yaxis, self.sigma[:, indices] if indices else np.ones(1))
        ax.set_ylim(*_log_limits(self.sigma[:, indices] if indices else np.ones(1)))
        self.note.set_text("" if indices else message)
        legend = ax.get_legend()
        handles = self.lines[: len(indices)]
        new = ax.legend(handles=handles or self.lines[:1], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        new.set_visible(bool(handles))
        self.plot[self.plot.index(legend)] = new
        ax.set_title(title or "")
        for k, (thumb, image) in enumerate(self.thumbnails):
            used = k < len(indices)
            image.set_visible(used)
            if used:
                image.set_data(self.images[indices[k]])
            thumb.set_title(f"#{indices[k]}" if used else "", fontsize=8)
            for spine in thumb.spines.values():
                spine.set_visible(used)
                spine.set_edgecolor(colors[k] if used else "none")
        return self

    def _name(self, i: int) -> str:
        name = f"#{i}"
        if self.labels is not None:
            label = int(self.labels[i])
            name += f" label {self.class_names[label] if self.class_names is not None else label}"
        if self.categories is not None:
            name += f" ({self.categories[i]})"
        if self.mask is not None and self.mask[i]:
            name += " perturbed"
        return name


def _check_indices(indices, n: int) -> list:
    """At most 12 distinct sample positions in 0..n-1, as ints."""
    if isinstance(indices, (int, np.integer)) or isinstance(indices, range):
        indices = np.atleast_1d(np.asarray(indices))
    array = to_numpy(indices, "indices")
    if array.size and (array.dtype == bool or not np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"indices must be sample positions (integers), got {array.dtype}.")
    chosen = [int(i) for i in array.ravel()]
    if len(chosen) > TrajectoryFigure.slots:
        raise ValueError(f"Choose between 1 and {TrajectoryFigure.slots} samples to draw, got {len(chosen)}.")
    bad = [i for i in chosen if not 0 <= i < n]
    if bad:
        raise ValueError(f"Sample indices {bad} are out of range 0..{n - 1}.")
    if len(set(chosen)) < len(chosen):
        raise ValueError(f"Sample indices {chosen} name a sample twice: give each once.")
    return chosen


def _log_limits(values) -> tuple:
    """Limits of a log axis around ``values``, with the margins matplotlib's autoscaling gives."""
    low, high = np.log(float(np.min(values))), np.log(float(np.max(values)))
    pad = 0.05 * (high - low) if high > low else 0.1
    return float(np.exp(low - pad)), float(np.exp(high + pad))


def _log_axis(axis, values) -> None:
    """A log-scale axis for temperatures, with plain tick labels (0.5, 1, 2) instead of powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if axis.axis_name == "y":
        axis.axes.set_yscale("log")
    else:
        axis.axes.set_xscale("log")
    low, high = float(np.min(values)), float(np.max(values))
    lists = (  # the coarsest list that gives three ticks in the range, else the finest
        [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20],
        [0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 15, 20],
        [0.05, 0.06, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25,
         1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20],
    )  # fmt: skip
    for candidates in lists:
        ticks = [t for t in candidates if low / 1.05 <= t <= high * 1.05]
        if len(ticks) >= 3:
            break
    ticks = ticks or [1]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def plot_temperature_detection(trajectories, mask):
    """How well the temperatures single out known perturbed samples: final σ by group, and AUROC per epoch.

    Parameters
    ----------
    trajectories : array-like, shape (epochs, N)
        Instance temperatures σ after every epoch.
    mask : array-like of bool, shape (N,)
        Which samples were perturbed (e.g. ``perturb(...).mask``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: histograms of the final σ of the unperturbed and the perturbed
        samples (log scale). Right: the AUROC of σ for the mask after each epoch.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.arange(100) < 20
    >>> sigma = np.exp(np.outer(np.arange(1, 6), np.where(mask, 0.3, -0.1)))
    >>> fig = plot_temperature_detection(sigma, mask)
    >>> fig.axes[1].lines[0].get_ydata().tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_auc_score

    sigma = _as_trajectories(trajectories)
    mask = _check_mask(mask, sigma.shape[1])
    if mask.all() or not mask.any():
        raise ValueError("mask must mark some samples as perturbed and some as not, to compare the two groups.")
    final = sigma[-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    bins = np.geomspace(final.min(), final.max(), 40) if final.max() > final.min() else 10
    left.hist(final[~mask], bins=bins, alpha=0.6, label="not perturbed")
    left.hist(final[mask], bins=bins, alpha=0.6, color="crimson", label="perturbed")
    _log_axis(left.xaxis, final)
    left.set_xlabel("final temperature σ (log scale)")
    left.set_ylabel("training samples")
    left.legend()
    epochs = np.arange(1, len(sigma) + 1)
    right.plot(epochs, [roc_auc_score(mask, row) for row in sigma], marker="o")
    right.axhline(0.5, color="grey", lw=1, ls="--")
    right.set_xlabel("epoch")
    right.set_ylabel("AUROC of σ for the perturbed samples")
    fig.tight_layout()
    return fig


def plot_trajectory_tsne(embedding, categories, *, images=None, n_thumbnails: int = 40, seed: int = 0, title=None):
    """Scatter a t-SNE of the trajectories, coloured by category, with some images on top.

    Parameters
    ----------
    embedding : array-like, shape (N, 2)
        From :func:`trajectory_tsne`.
    categories : array-like of str, shape (N,)
        From :func:`categorize`.
    images : array-like, shape (N, C, H, W), optional
        When given, ``n_thumbnails`` of them (a random choice, by ``seed``) are
        drawn at their points with a border in their category's colour.
    n_thumbnails : int, default 40
    seed : int, default 0
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    embedding = real_array(embedding, "embedding", axes=("N", "2"))
    if embedding.shape[1] != 2:
        raise ValueError(f"embedding must have shape (N, 2) (from trajectory_tsne), got {embedding.shape}.")
    categories = _check_categories(categories, len(embedding))
    if images is not None:
        images = _images_for_display(images)
        if len(images) != len(embedding):
            raise ValueError(f"images has {len(images)} samples but the embedding has {len(embedding)}.")
    n_thumbnails = check_int(n_thumbnails, "n_thumbnails", minimum=0)
    seed = check_seed(seed)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for category in CATEGORIES:
        chosen = categories == category
        ax.scatter(*embedding[chosen].T, s=12, color=CATEGORY_COLORS[category], label=f"{category} ({chosen.sum()})")
    if images is not None:
        rng = np.random.default_rng(seed)
        for i in rng.choice(len(images), size=min(n_thumbnails, len(images)), replace=False):
            image = images[i]
            box = OffsetImage(image, zoom=24 / image.shape[0], cmap="gray" if image.ndim == 2 else None)
            border = {"edgecolor": CATEGORY_COLORS[categories[i]], "lw": 2}
            ax.add_artist(AnnotationBbox(box, embedding[i], pad=0.1, bboxprops=border))
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.legend(fontsize=8)
    ax.set_title(title or "t-SNE of the temperature trajectories")
    fig.tight_layout()
    return fig


def plot_category_grid(images, categories, sigma, *, per_row: int = 8, indices=None, mask=None, title=None):
    """Show easy, hard and need-review images in three rows, bordered green, red and orange.

    Each row shows up to ``per_row`` images of its category: the easy row the
    lowest temperatures first (the samples the model is surest about), the hard
    and need-review rows the highest first (the most suspicious).

    Parameters
    ----------
    images : array-like, shape (N, C, H, W)
        Usually the images of one class.
    categories : array-like of str, shape (N,)
        From :func:`categorize`.
    sigma : array-like, shape (N,)
        The temperatures to order by (e.g. the last epoch's σ).
    per_row : int, default 8
    indices : array-like of int, shape (N,), optional
        The samples' positions in the full training set, written above each
        image (default: ``0..N-1``).
    mask : array-like of bool, shape (N,), optional
        Samples known to be perturbed (e.g. flipped labels), marked "perturbed"
        under their number.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((6, 1, 8, 8))
    >>> fig = plot_category_grid(images, ["easy", "hard", "easy", "need-review", "easy", "hard"],
    ...                          [0.5, 3.0, 0.7, 1.1, 0.6, 2.0], per_row=3)
    >>> len(fig.axes)
    9
    """
    _grid_inputs(images, categories, sigma, indices, mask)  # checked before a figure is made
    return CategoryGridFigure(per_row=per_row, pyplot=True).update(
        images, categories, sigma, indices=indices, mask=mask, title=title
    ).figure


def _grid_inputs(images, categories, sigma, indices, mask):
    """:func:`plot_category_grid`'s data, checked: images for display, categories, temperatures, numbers, mask."""
    images = _images_for_display(images)
    n = len(images)
    categories = _check_categories(categories, n)
    sigma = real_array(sigma, "sigma")
    if sigma.shape != (n,):
        raise ValueError(f"sigma must have one temperature per image ({n}), got shape {sigma.shape}.")
    indices = np.arange(n) if indices is None else np.asarray(indices)
    if indices.shape != (n,):
        raise ValueError(f"indices must have one entry per image ({n}), got shape {indices.shape}.")
    return images, categories, sigma, indices, _check_mask(mask, n)


class CategoryGridFigure(LiveFigure):
    """:func:`plot_category_grid`'s figure, updated in place for each set of images (e.g. each class).

    Parameters
    ----------
    per_row : int, default 8
    pyplot : bool, default False
    """

    rows = ("easy", "hard", "need-review")  # the seed's order

    def __init__(self, *, per_row: int = 8, pyplot: bool = False):
        self.per_row = check_int(per_row, "per_row", minimum=1)
        super().__init__(figsize=(1.25 * per_row + 1.2, 4.6), pyplot=pyplot)
        self.axes = self.figure.subplots(3, per_row, squeeze=False)
        # fixed margins: room for the row labels on the left and the title on top
        self.figure.subplots_adjust(left=1.0 / (1.25 * per_row + 1.2), right=0.99, bottom=0.02, top=0.86,
                                    wspace=0.15, hspace=0.45)  # fmt: skip
        self.title = self.figure.suptitle("")
        self.images = None  # built on the first update, when the images' shape is known
        self.empty = [row[0].text(0.5, 0.5, "", ha="center", va="center", transform=row[0].transAxes)
                      for row in self.axes]  # fmt: skip
        for ax in self.axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
        for r, category in enumerate(self.rows):
            for ax in self.axes[r]:
                for spine in ax.spines.values():
                    spine.set_edgecolor(CATEGORY_COLORS[category])
                    spine.set_linewidth(4)
                ax.set_title("", fontsize=7)
        # row labels as plain texts (an axis label is drawn with its axis, so it could not change alone)
        self.row_labels = [
            row[0].text(-0.08, 0.5, "", rotation=90, ha="right", va="center", multialignment="center",
                        color=CATEGORY_COLORS[category], fontsize=9, transform=row[0].transAxes)
            for row, category in zip(self.axes, self.rows)
        ]  # fmt: skip

    def _build(self, shape) -> None:
        self.images = [ax.imshow(np.zeros(shape), cmap="gray" if len(shape) == 2 else None, vmin=0, vmax=1,
                                 visible=False) for ax in self.axes.flat]  # fmt: skip
        self.shape = shape
        self.add_panel(self.figure, [
            self.title, *self.empty,
            *(artist for ax, image in zip(self.axes.flat, self.images)
              for artist in (image, *ax.spines.values(), ax.title)),
            *self.row_labels,
        ])  # fmt: skip

    def update(self, images, categories, sigma, *, indices=None, mask=None, title=None):
        """Show ``images`` (usually one class's) in their categories' rows; arguments as :func:`plot_category_grid`."""
        images, categories, sigma, indices, mask = _grid_inputs(images, categories, sigma, indices, mask)
        n = len(images)
        if self.images is None:
            self._build(images.shape[1:])
        elif images.shape[1:] != self.shape:
            raise ValueError(f"images of shape {images.shape[1:]} in a grid built for {self.shape}.")
        for r, category in enumerate(self.rows):
            members = np.flatnonzero(categories == category)
            order = np.argsort(sigma[members], kind="stable")
            if category != "easy":
                order = order[::-1]
            shown = members[order[: self.per_row]]
            for c, ax in enumerate(self.axes[r]):
                image = self.images[r * self.per_row + c]
                used = c < len(shown)  # an empty cell keeps its axes (and the row's label) but shows nothing
                image.set_visible(used)
                if used:
                    i = shown[c]
                    image.set_data(images[i])
                    note = "\nperturbed" if mask is not None and mask[i] else ""
                    ax.set_title(f"#{indices[i]} σ={sigma[i]:.2g}{note}", fontsize=7)
                else:
                    ax.set_title("", fontsize=7)
                for spine in ax.spines.values():
                    spine.set_visible(used)
            self.empty[r].set_text("" if len(shown) else "none")
            self.row_labels[r].set_text(f"{category}\n{len(members)} of {n}")
        self.title.set_text(title or "")
        return self
