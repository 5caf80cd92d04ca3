"""Pictures of a characterisation: data maps, how each method ranks the planted samples, top-k images.

Each function draws one static view and returns its matplotlib ``Figure``; the
widgets in :mod:`trustml.widgets.hardness` put controls in front of the same
functions.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from trustml._live import LiveFigure
from trustml.hardness._characterize import Characterization, evaluate
from trustml._checks import (
    check_class_names,
    check_int,
    check_labels,
    check_mask,
    check_number,
    check_pixels,
    check_values,
    to_numpy,
)
from trustml.hardness._methods import METHODS, easy_ambiguous_hard

__all__ = ["plot_data_map", "plot_hardest", "plot_method_ranking"]

#: Colours of the data-map groups.
GROUP_COLOURS = {"easy": "#1a9850", "ambiguous": "#f39c12", "hard": "#d73027"}
_GROUPS = ("hard", "ambiguous", "easy")
_UNCERTAINTY = {
    # column of Characterization.data_map: (what the axis shows, whose map, axis limit)
    "variability": ("variability: std over epochs of p(label)", "Data Maps", 0.5),
    "aleatoric": ("aleatoric uncertainty: mean over epochs of p(1 - p)", "Data-IQ", 0.26),
}
_PERTURBED = "#b2182b"  # frame of truly perturbed samples


def plot_data_map(
    result: Characterization,
    X=None,
    *,
    uncertainty: str = "variability",
    confidence_threshold: float = 0.2,
    uncertainty_threshold: float = 0.15,
    group: str = "hard",
    class_name=None,
    class_names=None,
    mask=None,
    original_labels=None,
    n_images: int = 12,
):
    """A data map: confidence against uncertainty over training, coloured by group, with images of one region.

    Each dot is a training sample, placed by the probability ``p`` the model
    gave its observed label across epochs: up = confident (``mean p``), right
    = uncertain (Data Maps' variability ``std p``, or Data-IQ's aleatoric
    uncertainty ``mean p(1 - p)``). The thresholds split the map into the
    groups of :func:`easy_ambiguous_hard`: easy (confident, certain), hard
    (consistently *not* confident: often mislabeled) and ambiguous (the rest).
    Beside the map, the images of one group (optionally one class): *hard*
    from the lowest confidence up, *ambiguous* from the highest uncertainty
    down, *easy* from the highest confidence down.

    Parameters
    ----------
    result : Characterization
        What :func:`characterize` returned (its ``data_map``, labels and final predictions are used).
    X : torch.Tensor or numpy.ndarray, optional
        The training images ``(N, C, H, W)`` (C = 1 or 3) the result was computed on;
        without them only the map is drawn.
    uncertainty : {"variability", "aleatoric"}, default "variability"
        The horizontal axis: Data Maps' or Data-IQ's.
    confidence_threshold : float, default 0.2
        Hard: confidence <= this; easy: confidence >= 1 - this. In [0, 0.5].
    uncertainty_threshold : float, default 0.15
        Easy and hard need uncertainty <= this.
    group : {"hard", "ambiguous", "easy"}, default "hard"
        Whose images to show (and to outline in the map).
    class_name : str, optional
        Only samples whose observed label is this class (a name from
        ``class_names``); default every class.
    class_names : sequence of str, optional
        Name of each class index (e.g. ``ImageData.class_names``); default "0", "1", ...
    mask : array-like of bool, optional
        The truly perturbed samples (``perturb(...).mask``): ringed in the map, framed in red beside it.
    original_labels : array-like of int, optional
        The labels before perturbation: where they differ, a caption says "was ...".
    n_images : int, default 12

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import characterize, perturb, plot_data_map
    >>> from trustml.models import MLP
    >>> digits = load("digits").subset(200)
    >>> noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2)
    >>> result = characterize(MLP(784, 10), noisy.X, noisy.y, epochs=3, methods=["aum"])
    >>> fig = plot_data_map(result, noisy.X, mask=noisy.mask, class_name="7")
    >>> fig.axes[0].get_xlabel()
    'variability: std over epochs of p(label)'
    """
    _check_result(result)
    _check_map_choice(uncertainty, group, class_name, _class_names(class_names, result.final_logits.shape[1]))
    check_number(confidence_threshold, "confidence_threshold", low=0, high=0.5)
    check_number(uncertainty_threshold, "uncertainty_threshold", low=0, high=0.5)
    figure = DataMapFigure(
        result, X, class_names=class_names, mask=mask, original_labels=original_labels, n_images=n_images, pyplot=True
    )
    return figure.update(
        uncertainty=uncertainty, confidence_threshold=confidence_threshold,
        uncertainty_threshold=uncertainty_threshold, group=group, class_name=class_name,
    ).figure  # fmt: skip


class DataMapFigure(LiveFigure):
    """:func:`plot_data_map`'s figure for one result, updated in place for each choice of thresholds and group.

    Parameters are those of :func:`plot_data_map` that no control changes;
    :meth:`update` takes the others.
    """

    def __init__(
        self, result, X=None, *, class_names=None, mask=None, original_labels=None, n_images=12, pyplot=False
    ):  # fmt: skip
        _check_result(result)
        self.n_images = _check_count("n_images", n_images)
        n = len(result.labels)
        self.result = result
        self.names = _class_names(class_names, result.final_logits.shape[1])
        self.images = None if X is None else _images(X, n)
        self.mask = None if mask is None else _mask(mask, n)
        self.original = None if original_labels is None else check_labels(original_labels, n, "original_labels")
        self.predicted = result.final_logits.argmax(1).numpy()
        self.confidence = result.data_map["confidence"].to_numpy()
        self.spread = {name: result.data_map[name].to_numpy() for name in _UNCERTAINTY}

        # fixed margins rather than a constrained layout: the layout engine would double the drawing time
        super().__init__(figsize=(12, 5.2), pyplot=pyplot)
        fig = self.figure
        panel = fig if self.images is None else fig.subfigures(1, 2, width_ratios=[1.1, 1])[0]
        panel.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.93)
        self.ax = ax = panel.add_subplot()
        self.regions = {
            name: ax.add_patch(Rectangle((0, 0), 0, 0, color=GROUP_COLOURS[name], alpha=0.08, lw=0))
            for name in ("easy", "hard")
        }
        self.lines = [ax.axhline(0, color="grey", lw=0.8, ls="--") for _ in range(2)]
        self.lines.append(ax.axvline(0, color="grey", lw=0.8, ls="--"))
        self.points = {"other classes": ax.scatter([], [], s=6, color="lightgrey", lw=0)}
        for name in ("easy", "ambiguous", "hard"):
            self.points[name] = ax.scatter([], [], s=10, color=GROUP_COLOURS[name], lw=0, alpha=0.8)
        # a transparent face rather than none: matplotlib then stamps one cached marker (several times faster)
        self.planted = ax.scatter([], [], s=26, facecolors=(0, 0, 0, 0), edgecolors="black", lw=0.6)
        self.boxed = ax.scatter([], [], s=90, marker="s", facecolors=(0, 0, 0, 0), edgecolors="#2166ac", lw=1.4)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("confidence: mean over epochs of p(label)")
        ax.legend(handles=[self.planted], loc="lower right", fontsize=8, framealpha=0.9)  # replaced by update
        # what update changes, in the order matplotlib draws an Axes (by zorder); axes, ticks and labels
        # of the confidence axis stay in the background
        self.map = self.add_panel(panel, [
            *self.regions.values(), *self.points.values(), self.planted, self.boxed, ax.xaxis, *self.lines,
            *ax.spines.values(), ax.get_legend(), ax.title,
        ])  # fmt: skip
        if self.images is not None:
            self.grid = ImageGrid(self, fig.subfigs[1], self.images.shape[1:], self.n_images, columns=4)

    def update(self, *, uncertainty="variability", confidence_threshold=0.2, uncertainty_threshold=0.15,
               group="hard", class_name=None):  # fmt: skip
        """Show the map for these thresholds, outlining ``group`` (of ``class_name``) and its images."""
        _check_map_choice(uncertainty, group, class_name, self.names)
        n = len(self.confidence)
        confidence, spread, names = self.confidence, self.spread[uncertainty], self.names
        groups = easy_ambiguous_hard(
            confidence, spread, confidence_threshold=confidence_threshold, uncertainty_threshold=uncertainty_threshold
        )
        if class_name is None:
            in_class = np.ones(n, dtype=bool)
        else:
            in_class = self.result.labels == names.index(class_name)
        chosen = np.flatnonzero(in_class & (groups == group))
        order = {"hard": confidence[chosen], "ambiguous": -spread[chosen], "easy": -confidence[chosen]}[group]
        shown = chosen[np.argsort(order, kind="stable")[: self.n_images]]

        ax = self.ax
        axis_label, whose, limit = _UNCERTAINTY[uncertainty]
        ax.set_xlim(0, max(limit, uncertainty_threshold * 1.1))
        ax.set_xlabel(axis_label)
        self.regions["easy"].set_bounds(0, 1 - confidence_threshold, uncertainty_threshold, 0.02 + confidence_threshold)
        self.regions["hard"].set_bounds(0, -0.02, uncertainty_threshold, 0.02 + confidence_threshold)
        self.lines[0].set_ydata([confidence_threshold] * 2)
        self.lines[1].set_ydata([1 - confidence_threshold] * 2)
        self.lines[2].set_xdata([uncertainty_threshold] * 2)
        members = {"other classes": ~in_class, **{name: in_class & (groups == name) for name in _GROUPS}}
        handles = []
        for name, points in self.points.items():  # other classes in grey below, then easy, ambiguous, hard
            points.set_offsets(np.column_stack([spread[members[name]], confidence[members[name]]]))
            points.set_label(name if name == "other classes" else f"{name} ({members[name].sum()})")
            if name != "other classes" or members[name].any():
                handles.append(points)
        planted = np.zeros(n, dtype=bool) if self.mask is None else in_class & self.mask
        self.planted.set_offsets(np.column_stack([spread[planted], confidence[planted]]))
        self.planted.set_label(f"truly perturbed ({planted.sum()})")
        if self.mask is not None:
            handles.append(self.planted)
        boxed = shown if self.images is not None else shown[:0]
        self.boxed.set_offsets(np.column_stack([spread[boxed], confidence[boxed]]))
        self.boxed.set_label("shown on the right")
        if len(boxed):
            handles.append(self.boxed)
        legend = ax.get_legend()
        self.map[self.map.index(legend)] = ax.legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.9)
        which = "every class" if class_name is None else f"class {class_name}"
        ax.set_title(f"{whose} map, {which}", fontsize=11)
        if self.images is not None:
            captions = [_caption(i, self.result.labels, self.predicted, self.original, names) for i in shown]
            found = f"{len(chosen)} {group} samples" + ("" if class_name is None else f" of class {class_name}")
            if self.mask is not None and len(chosen):
                found += f", {self.mask[chosen].sum()} truly perturbed"
            order_text = {"hard": "lowest confidence", "ambiguous": "highest uncertainty", "easy": "highest confidence"}
            title = found + (f"\nshown: {len(shown)} with the {order_text[group]}" if len(shown) else "")
            framed = None if self.mask is None else self.mask[shown]
            self.grid.update(self.images, shown, captions, framed, title=title, empty=_NOTHING_HERE)
        return self


def plot_method_ranking(
    result: Characterization,
    mask,
    X=None,
    *,
    method: str = "aum",
    k: int = 12,
    class_names=None,
    original_labels=None,
    title: str | None = None,
):
    """How well each method ranks the perturbed samples first (AUROC bars), and one method's top ``k``.

    Left: the AUROC of every method's scores for the truly perturbed
    samples (:func:`evaluate`; 0.5 = chance, 1 = every perturbed sample
    ranked above every clean one), the chosen method highlighted. Right: the
    ``k`` samples the chosen method scores hardest, hardest first, those truly
    perturbed framed in red.

    Parameters
    ----------
    result : Characterization
    mask : array-like of bool, shape (N,)
        The truly perturbed samples (``perturb(...).mask``).
    X : torch.Tensor or numpy.ndarray, optional
        The (perturbed) training images ``(N, C, H, W)``; without them only the bars are drawn.
    method : str, default "aum"
        One of the methods in ``result.scores``.
    k : int, default 12
    class_names : sequence of str, optional
    original_labels : array-like of int, optional
        The labels before perturbation: where they differ, a caption says "was ...".
    title : str, optional
        Figure title (e.g. the hardness type and proportion).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml.hardness import Characterization, plot_method_ranking
    >>> from trustml.hardness._methods import data_map
    >>> logits = torch.randn(2, 6, 3); labels = np.array([0, 1, 2, 0, 1, 2])
    >>> scores = {"aum": np.arange(6.0), "loss": np.arange(6.0)[::-1].copy()}
    >>> result = Characterization(scores, labels, logits, logits[-1], data_map(logits, labels), {}, None)
    >>> fig = plot_method_ranking(result, labels == 2, method="loss")
    >>> fig.axes[0].get_xlabel()
    'AUROC for the perturbed samples (0.5 = chance)'
    """
    _check_result(result)
    if method not in result.scores:
        raise ValueError(f"No scores for method {method!r}; this result has: {', '.join(result.methods)}.")
    n = len(result.labels)
    check_mask(mask, n, both=True)  # evaluate() compares the perturbed with the others
    X = None if X is None else to_numpy(X, "X")
    if X is not None:
        _images(X, n)
    if original_labels is not None:
        check_labels(original_labels, n, "original_labels")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}.")
    title_lines = len(title.splitlines()) if title else 0
    figure = MethodRankingFigure(
        _ordered(result.scores), num_classes=result.final_logits.shape[1], image_shape=None if X is None else X.shape,
        k=k, class_names=class_names, title_lines=title_lines, pyplot=True,
    )  # fmt: skip
    return figure.update(result, mask, X, method=method, original_labels=original_labels, title=title).figure


class MethodRankingFigure(LiveFigure):
    """:func:`plot_method_ranking`'s figure for a fixed list of methods, updated in place for each result.

    Parameters
    ----------
    methods : sequence of str
        The methods whose bars are drawn, top to bottom.
    num_classes : int
    image_shape : tuple, optional
        Shape of the image data ``(N, C, H, W)``; None draws no images.
    k, class_names :
        As in :func:`plot_method_ranking`.
    title_lines : int, default 0
        Room for a title of this many lines.
    pyplot : bool, default False
    """

    def __init__(self, methods, *, num_classes, image_shape=None, k=12, class_names=None, title_lines=0,
                 pyplot=False):  # fmt: skip
        self.methods = list(methods)
        self.k = _check_count("k", k)
        self.names = _class_names(class_names, num_classes)
        height = max(4.8, 0.3 * len(self.methods) + 1.8)
        super().__init__(figsize=(12, height), pyplot=pyplot)
        fig = self.figure
        panel = fig if image_shape is None else fig.subfigures(1, 2, width_ratios=[0.8, 1])[0]
        panel.subplots_adjust(left=0.24, right=0.96, bottom=0.12, top=1 - (0.35 + 0.22 * title_lines) / height)
        self.ax = ax = panel.add_subplot()
        positions = np.arange(len(self.methods))
        self.bars = ax.barh(positions, np.zeros(len(positions)))
        self.values = [ax.text(0, y, "", va="center", fontsize=8) for y in positions]
        chance = ax.axvline(0.5, color="grey", ls="--", lw=1)
        ax.set_yticks(positions, self.methods)
        ax.set_ylim(len(self.methods) - 0.5, -0.5)  # first method on top
        ax.set_xlim(0, 1)
        ax.set_xlabel("AUROC for the perturbed samples (0.5 = chance)")
        ax.set_ylabel("method")
        self.title = panel.suptitle("", fontsize=11, y=0.985, va="top") if title_lines else None
        # what update changes, in the order matplotlib draws an Axes (by zorder); ticks and labels stay put
        self.add_panel(panel, [
            *self.bars, chance, *ax.spines.values(), *self.values, ax.title, *([self.title] if title_lines else []),
        ])  # fmt: skip
        self.grid = None
        if image_shape is not None:
            self.grid = ImageGrid(self, fig.subfigs[1], _display_shape(image_shape), self.k,
                                  columns=4 if self.k <= 16 else 6, top=0.8 if title_lines else 0.84)  # fmt: skip

    def update(self, result, mask, X=None, *, method="aum", original_labels=None, title=None, table=None):
        """Show ``result``'s AUROC bars for ``mask`` and ``method``'s top ``k`` images of ``X``.

        ``table`` is :func:`evaluate` of the result's scores for ``mask``, when already at hand
        (a widget keeps one per result: it is most of the cost of a move).
        """
        _check_result(result)
        n = len(result.labels)
        if method not in result.scores:
            raise ValueError(f"No scores for method {method!r}; this result has: {', '.join(result.methods)}.")
        missing = [m for m in self.methods if m not in result.scores]
        if missing:
            raise ValueError(f"This figure shows {self.methods}, but the result has no scores for {missing}.")
        if (X is None) != (self.grid is None):
            raise ValueError("Pass X exactly when the figure was built with image_shape (for the image panel).")
        mask = _mask(mask, n)
        images = None if X is None else _images(X, n)
        original = None if original_labels is None else check_labels(original_labels, n, "original_labels")
        if table is None:
            table = evaluate({m: result.scores[m] for m in self.methods}, mask)
        auroc = table.loc[self.methods, "auroc"].to_numpy()
        for bar, text, value, name in zip(self.bars, self.values, auroc, self.methods):
            bar.set_width(value)
            bar.set_color("#2166ac" if name == method else "#9ecae1")
            inside = value > 0.88  # no room right of the bar: write the value at its end, inside it
            text.set_x(value - 0.01 if inside else value + 0.01)
            text.set_text(f"{value:.2f}")
            text.set_horizontalalignment("right" if inside else "left")
            text.set_color("white" if inside and name == method else "black")
        self.ax.set_title(f"{mask.sum()} of {n} samples perturbed", fontsize=10)
        if self.title is not None:
            self.title.set_text(title or "")
        if images is not None:
            top = result.hardest(method, min(self.k, n))
            predicted = result.final_logits.argmax(1).numpy()
            captions = [_caption(i, result.labels, predicted, original, self.names) for i in top]
            hits = int(mask[top].sum())
            subtitle = (
                f"{method}'s {len(top)} hardest: {hits} truly perturbed\n"
                f"(precision {hits / len(top):.2f}; chance {mask.mean():.2f})"
            )
            self.grid.update(images, top, captions, mask[top], title=subtitle)
        return self


def plot_hardest(result: Characterization, X, *, methods=None, k: int = 8, mask=None, class_names=None,
                 original_labels=None):  # fmt: skip
    """The ``k`` samples each method scores hardest: one row per method, hardest on the left.

    Parameters
    ----------
    result : Characterization
    X : torch.Tensor or numpy.ndarray
        The training images ``(N, C, H, W)`` the result was computed on.
    methods : sequence of str, optional
        Default: every method in ``result.scores``, in :data:`METHODS` order.
    k : int, default 8
    mask : array-like of bool, optional
        The truly perturbed samples: framed in red, and counted in each row's name.
    class_names : sequence of str, optional
    original_labels : array-like of int, optional
        The labels before perturbation: where they differ, a caption says "was ...".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml.hardness import Characterization, plot_hardest
    >>> from trustml.hardness._methods import data_map
    >>> logits = torch.randn(2, 6, 3); labels = np.array([0, 1, 2, 0, 1, 2])
    >>> result = Characterization({"aum": np.arange(6.0)}, labels, logits, logits[-1], data_map(logits, labels), {}, None)
    >>> fig = plot_hardest(result, torch.rand(6, 1, 8, 8), k=3)
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    _check_result(result)
    n = len(result.labels)
    methods = [m for m in METHODS if m in result.scores] if methods is None else check_values(methods, "methods", str)
    for name in methods:
        if name not in result.scores:
            raise ValueError(f"No scores for method {name!r}; this result has: {', '.join(result.methods)}.")
    k = min(_check_count("k", k), n)
    images = _images(X, n)
    mask = None if mask is None else _mask(mask, n)
    names = _class_names(class_names, result.final_logits.shape[1])
    original = None if original_labels is None else check_labels(original_labels, n, "original_labels")
    predicted = result.final_logits.argmax(1).numpy()
    width, height = 1.15 * k + 1.6, 1.45 * len(methods) + 0.5
    fig, axes = plt.subplots(len(methods), k, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(left=1.5 / width, right=0.99, bottom=0.1 / height, top=1 - 0.6 / height, wspace=0.08, hspace=0.3)
    for row, name in zip(axes, methods):
        top = result.hardest(name, k)
        for ax, i in zip(row, top):
            _show(ax, images[i], framed=mask is not None and mask[i])
            ax.set_title(_caption(i, result.labels, predicted, original, names, short=True), fontsize=7)
        label = name if mask is None else f"{name}\n{mask[top].sum()}/{k} perturbed"
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    what = "hardest first" + ("; red frame = truly perturbed" if mask is not None else "")
    fig.suptitle(f"The {k} samples each method scores hardest ({what})", fontsize=11)
    return fig


# --------------------------------------------------------------------------- helpers


def _check_result(result) -> None:
    if not isinstance(result, Characterization):
        raise TypeError(f"result must be what characterize() returned (a Characterization), got {type(result).__name__}.")


def _check_map_choice(uncertainty, group, class_name, names) -> None:
    """What a data map shows: which uncertainty, which group, which class (None: every class)."""
    if not isinstance(uncertainty, str) or uncertainty not in _UNCERTAINTY:
        raise ValueError(
            f"uncertainty must be 'variability' (Data Maps) or 'aleatoric' (Data-IQ), got {uncertainty!r}."
        )
    if not isinstance(group, str) or group not in _GROUPS:
        raise ValueError(f"group must be one of {', '.join(_GROUPS)}, got {group!r}.")
    if class_name is not None and (not isinstance(class_name, str) or class_name not in names):
        raise ValueError(f"Unknown class_name {class_name!r}; the classes are {names}.")


def _check_count(name: str, value) -> int:
    return check_int(value, name, minimum=1)


def _mask(mask, n: int) -> np.ndarray:
    return check_mask(mask, n)


def _images(X, n: int) -> np.ndarray:
    """Images as (N, H, W) greyscale or (N, H, W, 3) colour floats in [0, 1]."""
    X = to_numpy(X, "X")
    if X.ndim != 4 or X.shape[1] not in (1, 3):
        raise ValueError(
            f"X must be images (N, C, H, W) with 1 or 3 channels, got shape {X.shape}; "
            "for tabular data leave X out (the views then draw no images)."
        )
    if len(X) != n:
        raise ValueError(f"X has {len(X)} images but the result has {n} samples: pass the data it was computed on.")
    X = check_pixels(X, "X").astype(np.float32)
    return X[:, 0] if X.shape[1] == 1 else X.transpose(0, 2, 3, 1)


def _display_shape(shape) -> tuple:
    """The shape one image of data shaped ``(N, C, H, W)`` (C = 1 or 3) has when shown."""
    shape = tuple(shape)
    if len(shape) != 4 or shape[1] not in (1, 3):
        raise ValueError(
            f"X must be images (N, C, H, W) with 1 or 3 channels, got shape {shape}; "
            "for tabular data leave X out (the views then draw no images)."
        )
    return shape[2:] if shape[1] == 1 else (*shape[2:], 3)


def _class_names(class_names, num_classes: int) -> list:
    if class_names is None:
        return [str(c) for c in range(num_classes)]
    return check_class_names(class_names, num_classes)


def _caption(i, labels, predicted, original, names, *, short=False) -> str:
    text = f"label {names[labels[i]]}"
    if original is not None and original[i] != labels[i]:
        text += f" (was {names[original[i]]})"
    if not short:
        text += f"\npredicted {names[predicted[i]]}"
    return text


def _show(ax, image, *, framed: bool) -> None:
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(framed)
        spine.set_color(_PERTURBED)
        spine.set_linewidth(3)


class ImageGrid:
    """A fixed grid of image axes on a subfigure, filled in place: the image panels of the hardness views.

    The grid's title (two lines at most) and its images are two panels of the
    live figure, so that a new title alone does not draw the images again.

    Parameters
    ----------
    live : LiveFigure
        The figure the grid belongs to (it adds its two panels to it).
    subfig : matplotlib.figure.SubFigure
    image_shape : tuple
        Shape of one image as shown: ``(H, W)`` or ``(H, W, 3)``.
    slots : int
        How many images the grid holds at most.
    columns : int
    top : float, default 0.84
        Top of the grid's axes in the subfigure; the images' captions and the
        title go above it.
    """

    _TITLE_INCHES = 0.45  # two lines of 10-point text

    def __init__(self, live, subfig, image_shape, slots: int, *, columns: int, top: float = 0.84):
        from matplotlib.transforms import Bbox, TransformedBbox

        self.title = subfig.suptitle("", fontsize=10, y=0.985, va="top")
        self.note = subfig.text(0.5, 0.5, "", ha="center", va="center", fontsize=10, color="grey")
        rows = -(-slots // columns)
        self.axes = list(subfig.subplots(
            rows, columns, squeeze=False,
            gridspec_kw=dict(left=0.02, right=0.98, bottom=0.02, top=top, wspace=0.12, hspace=0.45),
        ).flat)[:slots]  # fmt: skip
        for ax in subfig.axes[slots:]:
            ax.remove()
        blank = np.zeros(image_shape, dtype=np.float32)
        self.shown = [
            ax.imshow(blank, cmap="gray" if blank.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
            for ax in self.axes
        ]
        for ax in self.axes:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(_PERTURBED)
                spine.set_linewidth(3)
        inches = live.figure.get_figheight() * subfig.bbox_relative.height
        split = 1 - self._TITLE_INCHES / inches
        live.add_panel(TransformedBbox(Bbox([[0, split], [1, 1]]), subfig.transSubfigure), [self.title])
        slots = [[image, *ax.spines.values(), ax.title] for ax, image in zip(self.axes, self.shown)]
        live.add_panel(TransformedBbox(Bbox([[0, 0], [1, split]]), subfig.transSubfigure),
                       [self.note, *(artist for slot in slots for artist in slot)])  # fmt: skip
        self._showing = None

    def update(self, images, indices, captions, framed, *, title: str, empty: str = "") -> None:
        """Show ``images[indices]`` with their captions, framed in red where ``framed``; ``empty`` when none.

        Showing the same images as last time leaves them alone (a live figure then need not draw them again).
        """
        self.title.set_text(title)
        showing = (id(images), tuple(indices), tuple(captions), None if framed is None else tuple(framed), empty)
        if showing == self._showing:
            return
        self._showing = showing
        self.note.set_text(empty if len(indices) == 0 else "")
        for j, (ax, shown) in enumerate(zip(self.axes, self.shown)):
            used = j < len(indices)  # an unused slot shows nothing (its axes stay, blank)
            shown.set_visible(used)
            if used:
                shown.set_data(images[indices[j]])
            ax.set_title(captions[j] if used else "", fontsize=8)
            for spine in ax.spines.values():
                spine.set_visible(used and framed is not None and bool(framed[j]))


_NOTHING_HERE = "no sample falls in this region:\nmove the thresholds or pick another group or class"


def _ordered(scores) -> list:
    """Method names in :data:`METHODS` order, then any others."""
    return [m for m in METHODS if m in scores] + [m for m in scores if m not in METHODS]
