"""Widgets for data hardness: a data-map explorer and a hardness-type explorer.

Both are :class:`~trustml.widgets.ViewWidget` s over the pure views of
:mod:`trustml.hardness` (:func:`~trustml.hardness.plot_data_map`,
:func:`~trustml.hardness.plot_method_ranking`). The hardness-type explorer
needs one training run per (hardness type, proportion); :class:`trustml.hardness.HardnessGrid`
runs each once, on demand, and keeps the result, so moving back to a
combination already seen redraws at once.
"""

from __future__ import annotations

import textwrap

import ipywidgets as widgets

from trustml._checks import check_class_names, check_int
from trustml.hardness import HardnessGrid, evaluate, hardness_types
from trustml.hardness._views import DataMapFigure, MethodRankingFigure, _check_result, _class_names, _ordered
from trustml.widgets._view import ViewWidget

__all__ = ["data_map_explorer", "hardness_type_explorer"]

_ALL_CLASSES = "all classes"
_WIDE = {"description_width": "initial"}


def data_map_explorer(
    result, X=None, *, mask=None, class_names=None, original_labels=None, n_images: int = 12
) -> ViewWidget:
    """A data map with controls: which uncertainty, the group thresholds, a class and a group to look at.

    Controls: Data Maps' variability or Data-IQ's aleatoric uncertainty on the
    horizontal axis; sliders for the confidence and uncertainty thresholds of
    the easy / ambiguous / hard groups; a class picker by name; the group whose
    images are shown beside the map. The view is
    :func:`trustml.hardness.plot_data_map`.

    Parameters
    ----------
    result : Characterization
        What :func:`trustml.hardness.characterize` returned.
    X : torch.Tensor or numpy.ndarray, optional
        The training images it was computed on (for the image panel).
    mask : array-like of bool, optional
        The truly perturbed samples, marked in the map and framed in the images.
    class_names : sequence of str, optional
        Default "0", "1", ...
    original_labels : array-like of int, optional
        The labels before perturbation, for the captions ("was ...").
    n_images : int, default 12

    Returns
    -------
    ViewWidget

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import characterize, perturb
    >>> from trustml.models import MLP
    >>> from trustml.widgets import data_map_explorer
    >>> digits = load("digits").subset(200)
    >>> noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2)
    >>> result = characterize(MLP(784, 10), noisy.X, noisy.y, epochs=3, methods=["aum"])
    >>> w = data_map_explorer(result, noisy.X, mask=noisy.mask, class_names=digits.class_names)
    >>> w.controls["class_name"].value = "7"
    >>> w.redraws
    2
    """
    _check_result(result)
    names = _class_names(class_names, result.final_logits.shape[1])
    if _ALL_CLASSES in names:
        raise ValueError(
            f"class_names has {_ALL_CLASSES!r}, which the class picker uses for every class: rename that class."
        )
    figure = DataMapFigure(result, X, class_names=names, mask=mask, original_labels=original_labels, n_images=n_images)
    controls = {
        "uncertainty": _toggle(
            [("Data Maps: variability", "variability"), ("Data-IQ: aleatoric", "aleatoric")], "uncertainty", "175px"
        ),
        "confidence_threshold": widgets.FloatSlider(
            value=0.2, min=0.0, max=0.5, step=0.01, description="confidence threshold", style=_WIDE,
        ),
        "uncertainty_threshold": widgets.FloatSlider(
            value=0.15, min=0.0, max=0.5, step=0.01, description="uncertainty threshold", style=_WIDE,
        ),
        "class_name": widgets.Dropdown(
            options=[_ALL_CLASSES, *names], value=_ALL_CLASSES, description="class", style=_WIDE,
            layout=widgets.Layout(width="220px"),
        ),
        "group": _toggle(["hard", "ambiguous", "easy"], "images of", "95px"),
    }  # fmt: skip

    def view(uncertainty, confidence_threshold, uncertainty_threshold, class_name, group):
        return figure.update(
            uncertainty=uncertainty, confidence_threshold=confidence_threshold,
            uncertainty_threshold=uncertainty_threshold, group=group,
            class_name=None if class_name == _ALL_CLASSES else class_name,
        )  # fmt: skip

    return ViewWidget(view, controls)


def hardness_type_explorer(grid: HardnessGrid, *, method: str = "aum", k: int = 12, class_names=None) -> ViewWidget:
    """Pick a hardness type and a proportion; see how every method ranks the perturbed samples.

    Controls: the hardness type (the grid's, named as in
    :func:`~trustml.hardness.hardness_types`), the share of samples perturbed,
    and the method whose top ``k`` images are shown. The view is
    :func:`trustml.hardness.plot_method_ranking` on the grid's cell. A
    combination not run yet trains once when first chosen (see
    ``grid.seconds`` for how long a cell takes); call ``grid.run()`` first to
    make every move instant.

    Parameters
    ----------
    grid : trustml.hardness.HardnessGrid
    method : str, default "aum"
        The method shown first.
    k : int, default 12
        How many of the method's hardest samples to show.
    class_names : sequence of str, optional

    Returns
    -------
    ViewWidget

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.models import MLP
    >>> from trustml.hardness import HardnessGrid
    >>> from trustml.widgets import hardness_type_explorer
    >>> digits = load("digits").subset(200)
    >>> grid = HardnessGrid(digits.X_train, digits.y_train, model=lambda: MLP(784, 10),
    ...                     kinds=["uniform", "zoom_shift"], proportions=[0.2], epochs=3, methods=["aum", "loss"])
    >>> w = hardness_type_explorer(grid.run())
    >>> w.controls["kind"].value = "zoom_shift"
    >>> w.redraws
    2
    """
    if not isinstance(grid, HardnessGrid):
        raise TypeError(f"grid must be a HardnessGrid, got {type(grid).__name__}.")
    if not isinstance(method, str) or method not in grid.methods:
        raise ValueError(f"Unknown method {method!r} for this grid; it has: {', '.join(grid.methods)}.")
    k = check_int(k, "k", minimum=1)
    if class_names is not None:
        check_class_names(class_names)  # their number is checked against the model's outputs once a cell has run
    descriptions = hardness_types()["description"]
    titles = {kind: [f"{kind}, {{:.0%}} perturbed:", *textwrap.wrap(descriptions[kind], 60)] for kind in grid.kinds}
    lines = max(len(title) for title in titles.values())  # room for the longest title, so the layout stays put
    images = grid.X.ndim == 4
    figure = []  # built on the first draw, when a cell's result says how many classes the model has
    tables = {}  # each cell's evaluate() table, computed on its first draw
    controls = {
        "kind": widgets.Dropdown(options=grid.kinds, value=grid.kinds[0], description="hardness type", style=_WIDE),
        "proportion": widgets.SelectionSlider(
            options=[(f"{p:.0%}", p) for p in grid.proportions], value=grid.proportions[0],
            description="perturbed", continuous_update=False,
        ),
        "method": widgets.Dropdown(
            options=list(grid.methods), value=method, description="top images of", style=_WIDE,
            layout=widgets.Layout(width="260px"),
        ),
    }  # fmt: skip

    def view(kind, proportion, method):
        planted, result = grid.cell(kind, proportion)
        title = "\n".join(titles[kind] + [" "] * (lines - len(titles[kind]))).format(proportion)
        if not figure:
            figure.append(MethodRankingFigure(
                _ordered(grid.methods), num_classes=result.final_logits.shape[1],
                image_shape=grid.X.shape if images else None, k=k, class_names=class_names, title_lines=lines,
            ))  # fmt: skip
        if (kind, proportion) not in tables:
            tables[kind, proportion] = evaluate(result.scores, planted.mask)
        return figure[0].update(
            result, planted.mask, planted.X if images else None, method=method, original_labels=grid.y, title=title,
            table=tables[kind, proportion],
        )  # fmt: skip

    return ViewWidget(view, controls)


def _toggle(options, description: str, button_width: str) -> widgets.ToggleButtons:
    """Toggle buttons with their description on the same line (ipywidgets would wrap it above them)."""
    return widgets.ToggleButtons(
        options=options, description=description, style={**_WIDE, "button_width": button_width},
        layout=widgets.Layout(display="flex", flex_flow="row nowrap", width="auto"),
    )  # fmt: skip
