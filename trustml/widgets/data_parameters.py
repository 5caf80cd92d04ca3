"""Widgets for data parameters: trajectories of chosen samples, each class's easy / hard / need-review grid.

Each widget is a :class:`~trustml.widgets.ViewWidget` over a pure view
function in this module, which draws the same figure for given control values
(call it directly for a static rendering).
"""

from __future__ import annotations

import numpy as np
import torch

from trustml._checks import check_class_names, check_int, check_labels, check_mask, check_seed, real_array
from trustml.hardness._enrichment import CATEGORIES, CategoryGridFigure, TrajectoryFigure, _check_categories

__all__ = ["category_grid_view", "category_grid_widget", "trajectory_view", "trajectory_widget"]

ALL = "all"


def _labels(labels, n: int, class_names) -> np.ndarray:
    names = " (one per name in class_names)"
    return check_labels(labels, n, "labels", num_classes=len(class_names), classes_from=names)


def _names(class_names) -> list:
    """The class names, checked: distinct strings, none of them the pickers' "all"."""
    names = check_class_names(class_names)
    if ALL in names:
        raise ValueError(f"class_names has {ALL!r}, which the class picker uses for every class: rename that class.")
    return names


def _samples(trajectories, labels, what: str = "trajectories") -> int:
    """The number of samples N of ``(epochs, N)`` trajectories, with a hint when they look transposed."""
    shape = np.shape(trajectories)
    n_labels = len(labels) if hasattr(labels, "__len__") else None
    if len(shape) == 2 and n_labels == shape[0] != shape[1]:
        raise ValueError(
            f"{what} has shape {shape}, (epochs, N) with {shape[1]} samples, but labels has {n_labels}: if {what} "
            f"is (N, epochs), pass {what}.T."
        )
    return shape[-1] if shape else 0


def _sigma(sigma, n: int) -> np.ndarray:
    sigma = real_array(sigma, "sigma")
    if sigma.shape != (n,):
        raise ValueError(f"sigma must have one temperature per sample ({n}), got shape {sigma.shape}.")
    return sigma


def _check_images(images, n: int) -> None:
    if images is not None and len(images) != n:
        raise ValueError(f"images has {len(images)} samples but labels has {n}: give one image per sample.")


def _class_index(class_name, class_names) -> int | None:
    if class_name == ALL:
        return None
    if class_name not in class_names:
        raise ValueError(f"Unknown class {class_name!r}; the classes are {list(class_names)}.")
    return list(class_names).index(class_name)


def _parse_indices(text: str, n: int) -> list[int]:
    """Sample numbers typed as text ("12, 40 7") to a list of ints in 0..n-1."""
    parts = [p for p in str(text).replace(",", " ").split() if p]
    try:
        indices = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"Type sample numbers separated by commas or spaces, e.g. '12, 40'; got {text!r}.") from None
    bad = [i for i in indices if not 0 <= i < n]
    if bad:
        raise ValueError(f"Sample numbers {bad} are out of range 0..{n - 1}.")
    if len(indices) > TrajectoryFigure.slots:
        raise ValueError(f"Type at most {TrajectoryFigure.slots} sample numbers, got {len(indices)}.")
    return indices


def trajectory_view(
    trajectories,
    categories,
    labels,
    class_names,
    *,
    class_name: str = ALL,
    category: str = ALL,
    indices: str = "",
    n: int = 6,
    seed: int = 0,
    mask=None,
    images=None,
):
    """Temperature trajectories of chosen samples: typed numbers, or a random draw by class and category.

    Parameters
    ----------
    trajectories : array-like, shape (epochs, N)
        Instance temperatures σ after every epoch (``DataParameters.trajectories_``).
    categories : array-like of str, shape (N,)
        From :func:`trustml.hardness.categorize`.
    labels : array-like of int, shape (N,)
        The training labels (as the model saw them).
    class_names : sequence of str
    class_name : str, default "all"
        Draw only samples labelled with this class ("all": any class).
    category : {"all", "easy", "need-review", "hard"}, default "all"
        Draw only samples of this category.
    indices : str, default ""
        Sample numbers to show, e.g. ``"12, 40"``; when given, they replace the draw.
    n : int, default 6
        How many samples to draw (at most 12).
    seed : int, default 0
        Which random draw.
    mask : array-like of bool, shape (N,), optional
        Samples known to be perturbed, marked in the legend.
    images : array-like, shape (N, C, H, W), optional
        When given, the samples' images are shown under the plot.

    Returns
    -------
    matplotlib.figure.Figure
    """
    class_names = _names(class_names)
    labels = _labels(labels, _samples(trajectories, labels), class_names)
    _check_draw(class_name, category, indices, n, seed, class_names, len(labels))
    figure = TrajectoryFigure(trajectories, categories=categories, labels=labels, class_names=class_names, mask=mask,
                              images=images, pyplot=True)  # fmt: skip
    return _draw_trajectories(figure, class_name=class_name, category=category, indices=indices, n=n, seed=seed).figure


def _check_draw(class_name, category, indices, n, seed, class_names, total) -> None:
    """:func:`trajectory_view`'s choice of samples, checked before anything is drawn."""
    _class_index(class_name, class_names)
    if not isinstance(category, str) or (category != ALL and category not in CATEGORIES):
        raise ValueError(f"Unknown category {category!r}; choose one of {[ALL, *CATEGORIES]}.")
    if not isinstance(indices, str):
        raise TypeError(f"indices must be text with sample numbers, e.g. '12, 40'; got {indices!r}.")
    _parse_indices(indices, total)
    check_int(n, "n", minimum=1, maximum=TrajectoryFigure.slots)
    check_seed(seed)


def _draw_trajectories(figure, *, class_name, category, indices, n, seed):
    """Choose the samples :func:`trajectory_view` draws and draw them in ``figure`` (a TrajectoryFigure)."""
    total = figure.sigma.shape[1]
    if category != ALL and category not in CATEGORIES:
        raise ValueError(f"Unknown category {category!r}; choose one of {[ALL, *CATEGORIES]}.")
    chosen = _parse_indices(indices, total)
    if chosen:
        return figure.update(chosen[:12], title="samples " + ", ".join(f"#{i}" for i in chosen[:12]))
    pool = np.ones(total, dtype=bool)
    k = _class_index(class_name, figure.class_names)
    if k is not None:
        pool &= figure.labels == k
    if category != ALL:
        pool &= figure.categories == category
    members = np.flatnonzero(pool)
    which_class = "any class" if k is None else f"label {class_name}"
    what = f"{which_class}, {'any category' if category == ALL else category}"
    if len(members) == 0:
        return figure.update([], message=f"No samples with {what}.")
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(members, size=min(n, len(members), 12), replace=False).tolist())
    return figure.update(picked, title=f"{len(picked)} of the {len(members)} samples with {what}")


def category_grid_view(images, categories, sigma, labels, class_names, *, class_name: str, per_row: int = 8, mask=None):
    """One class's easy, hard and need-review images, bordered green, red and orange.

    Parameters
    ----------
    images : array-like, shape (N, C, H, W)
        All training images.
    categories : array-like of str, shape (N,)
        From :func:`trustml.hardness.categorize`.
    sigma : array-like, shape (N,)
        Temperatures to order each row by (e.g. the last epoch's σ).
    labels : array-like of int, shape (N,)
        The training labels: the class shown is the samples *labelled* with it.
    class_names : sequence of str
    class_name : str
        The class to show.
    per_row : int, default 8
    mask : array-like of bool, shape (N,), optional
        Samples known to be perturbed, marked under their number.

    Returns
    -------
    matplotlib.figure.Figure
    """
    class_names = _names(class_names)
    labels = _labels(labels, len(labels) if hasattr(labels, "__len__") else 0, class_names)
    _check_images(images, len(labels))
    _sigma(sigma, len(labels))
    _check_categories(categories, len(labels))
    if mask is not None:
        check_mask(mask, len(labels))
    if _class_index(class_name, class_names) is None:
        raise ValueError(f"Choose one class; the classes are {list(class_names)}.")
    return _draw_class(CategoryGridFigure(per_row=per_row, pyplot=True), images, categories, sigma, labels,
                       class_names, class_name=class_name, mask=mask).figure


def _draw_class(figure, images, categories, sigma, labels, class_names, *, class_name, mask):
    """Draw one class's images in ``figure`` (a CategoryGridFigure), as :func:`category_grid_view` shows them."""
    k = _class_index(class_name, class_names)
    if k is None:
        raise ValueError(f"Choose one class; the classes are {list(class_names)}.")
    members = np.flatnonzero(labels == k)
    categories = _check_categories(categories, len(labels))
    sigma = _sigma(sigma, len(labels))
    if mask is not None:
        mask = check_mask(mask, len(labels))[members]
    return figure.update(
        images[torch.from_numpy(members)] if isinstance(images, torch.Tensor) else np.asarray(images)[members],
        categories[members], sigma[members], indices=members, mask=mask,
        title=f"samples labelled {class_name!r}: easy, hard and need-review",
    )  # fmt: skip


def trajectory_widget(trajectories, categories, labels, class_names, *, mask=None, images=None):
    """Pick samples by class, category or number and see their temperature trajectories.

    Controls: a class dropdown (by name), a category dropdown, a box for sample
    numbers (which takes precedence when filled), how many to draw and which
    draw. The view is :func:`trajectory_view`.

    Returns
    -------
    trustml.widgets.ViewWidget
    """
    import ipywidgets as widgets

    from trustml.widgets import ViewWidget

    class_names = _names(class_names)
    n_samples = _samples(trajectories, labels)
    figure = TrajectoryFigure(trajectories, categories=categories, labels=_labels(labels, n_samples, class_names),
                              class_names=class_names, mask=mask, images=images)  # fmt: skip

    def view(**values):
        try:  # a typing mistake in the number box is shown as a message, not raised in the callback
            _parse_indices(values["indices"], n_samples)
        except ValueError as err:
            return f"⚠ {err}"
        return _draw_trajectories(figure, **values)

    controls = {
        "class_name": widgets.Dropdown(options=[ALL, *class_names], value=ALL, description="label"),
        "category": widgets.Dropdown(options=[ALL, *CATEGORIES], value=ALL, description="category"),
        "indices": widgets.Text(value="", description="samples #", placeholder="e.g. 12, 40", continuous_update=False),
        "n": widgets.IntSlider(value=6, min=1, max=12, description="how many"),
        "seed": widgets.IntSlider(value=0, min=0, max=50, description="draw"),
    }
    return ViewWidget(view, controls)


def category_grid_widget(images, categories, sigma, labels, class_names, *, mask=None, per_row: int = 8):
    """Choose a class by name and see its easy, hard and need-review images (:func:`category_grid_view`).

    Returns
    -------
    trustml.widgets.ViewWidget
    """
    import ipywidgets as widgets

    from trustml.widgets import ViewWidget

    class_names = _names(class_names)
    labels = _labels(labels, len(labels) if hasattr(labels, "__len__") else 0, class_names)
    _check_images(images, len(labels))
    if mask is not None:
        check_mask(mask, len(labels))
    figure = CategoryGridFigure(per_row=per_row)

    def view(class_name):
        return _draw_class(figure, images, categories, sigma, labels, class_names, class_name=class_name, mask=mask)

    controls = {"class_name": widgets.Dropdown(options=list(class_names), value=class_names[0], description="class")}
    return ViewWidget(view, controls)
