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

from trustml._checks import check_number, check_seed, real_array

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
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
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
    if mask is None:
        return None
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (n,):
        raise ValueError(
            f"mask must be a boolean array with one entry per sample ({n}), got {mask.dtype} {mask.shape}."
        )
    return mask


def _show_image(ax, image, color, linewidth=4):
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(color)
        spine.set_linewidth(linewidth)


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
    >>> len(fig.axes[0].lines)          # two samples and the σ = 1 line
    3
    """
    import matplotlib.pyplot as plt

    sigma = _as_trajectories(trajectories)
    epochs, n = sigma.shape
    indices = [int(i) for i in np.atleast_1d(np.asarray(indices))]
    if not indices or len(indices) > 12:
        raise ValueError(f"Choose between 1 and 12 samples to draw, got {len(indices)}.")
    bad = [i for i in indices if not 0 <= i < n]
    if bad:
        raise ValueError(f"Sample indices {bad} are out of range 0..{n - 1}.")
    if categories is not None:
        categories = _check_categories(categories, n)
    mask = _check_mask(mask, n)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have one entry per sample ({n}), got shape {labels.shape}.")
    if images is not None:
        images = _images_for_display(images)
        if len(images) != n:
            raise ValueError(f"images has {len(images)} samples but the trajectories have {n}.")
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = [
        CATEGORY_COLORS[categories[i]] if categories is not None else cycle[k % len(cycle)]
        for k, i in enumerate(indices)
    ]

    if images is None:
        fig, ax = plt.subplots(figsize=(7, 3.6))
    else:
        fig = plt.figure(figsize=(max(7, 0.9 * len(indices)), 5))
        grid = fig.add_gridspec(2, len(indices), height_ratios=[3.2, 1])
        ax = fig.add_subplot(grid[0, :])
    x = np.arange(1, epochs + 1)
    styles = ["-", "--", ":", "-."]
    for k, (i, color) in enumerate(zip(indices, colors)):
        name = f"#{i}"
        if labels is not None:
            label = int(labels[i])
            name += f" label {class_names[label] if class_names is not None else label}"
        if categories is not None:
            name += f" ({categories[i]})"
        if mask is not None and mask[i]:
            name += " perturbed"
        ax.plot(x, sigma[:, i], color=color, ls=styles[k % len(styles)], marker="o", ms=3, label=name)
    ax.axhline(1.0, color="grey", lw=1, ls="--")
    _log_axis(ax.yaxis, sigma[:, indices])
    ax.set_xlabel("epoch")
    ax.set_ylabel("temperature σ (log scale)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    if images is not None:
        for k, (i, color) in enumerate(zip(indices, colors)):
            thumb = fig.add_subplot(grid[1, k])
            _show_image(thumb, images[i], color, linewidth=3)
            thumb.set_title(f"#{i}", fontsize=8)
    fig.tight_layout()
    return fig


def _log_axis(axis, values) -> None:
    """A log-scale axis for temperatures, with plain tick labels (0.5, 1, 2) instead of powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if axis.axis_name == "y":
        axis.axes.set_yscale("log")
    else:
        axis.axes.set_xscale("log")
    low, high = float(np.min(values)), float(np.max(values))
    nice = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20]
    fine = [0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 15, 20]
    ticks = [t for t in nice if low / 1.05 <= t <= high * 1.05]
    if len(ticks) < 3:
        ticks = [t for t in fine if low / 1.05 <= t <= high * 1.05] or [1]
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

    embedding = np.asarray(embedding, dtype=float)
    if embedding.ndim != 2 or embedding.shape[1] != 2:
        raise ValueError(f"embedding must have shape (N, 2) (from trajectory_tsne), got {embedding.shape}.")
    categories = _check_categories(categories, len(embedding))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for category in CATEGORIES:
        chosen = categories == category
        ax.scatter(*embedding[chosen].T, s=12, color=CATEGORY_COLORS[category], label=f"{category} ({chosen.sum()})")
    if images is not None:
        images = _images_for_display(images)
        if len(images) != len(embedding):
            raise ValueError(f"images has {len(images)} samples but the embedding has {len(embedding)}.")
        if isinstance(n_thumbnails, bool) or not isinstance(n_thumbnails, int) or n_thumbnails < 0:
            raise ValueError(f"n_thumbnails must be a non-negative integer, got {n_thumbnails!r}.")
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
    import matplotlib.pyplot as plt

    images = _images_for_display(images)
    n = len(images)
    categories = _check_categories(categories, n)
    sigma = np.asarray(sigma, dtype=float)
    if sigma.shape != (n,):
        raise ValueError(f"sigma must have one temperature per image ({n}), got shape {sigma.shape}.")
    if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be a positive integer, got {per_row!r}.")
    indices = np.arange(n) if indices is None else np.asarray(indices)
    if indices.shape != (n,):
        raise ValueError(f"indices must have one entry per image ({n}), got shape {indices.shape}.")
    mask = _check_mask(mask, n)

    rows = ("easy", "hard", "need-review")  # the seed's order
    fig, axes = plt.subplots(3, per_row, figsize=(1.25 * per_row + 1.2, 4.6), squeeze=False)
    for r, category in enumerate(rows):
        members = np.flatnonzero(categories == category)
        order = np.argsort(sigma[members], kind="stable")
        if category != "easy":
            order = order[::-1]
        shown = members[order[:per_row]]
        for c in range(per_row):
            ax = axes[r, c]
            if c < len(shown):
                i = shown[c]
                _show_image(ax, images[i], CATEGORY_COLORS[category])
                note = "\nperturbed" if mask is not None and mask[i] else ""
                ax.set_title(f"#{indices[i]} σ={sigma[i]:.2g}{note}", fontsize=7)
            else:  # an empty cell keeps its axes (and the row's label) but shows nothing
                ax.set_xticks([])
                ax.set_yticks([])
                ax.spines[:].set_visible(False)
                if c == 0:
                    ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        axes[r, 0].set_ylabel(f"{category}\n{len(members)} of {n}", color=CATEGORY_COLORS[category], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
