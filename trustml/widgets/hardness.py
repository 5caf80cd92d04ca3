"""Widgets for data hardness: a data-map explorer and a hardness-type explorer.

Both are :class:`~trustml.widgets.ViewWidget` s over the pure views of
:mod:`trustml.hardness` (:func:`~trustml.hardness.plot_data_map`,
:func:`~trustml.hardness.plot_method_ranking`). The hardness-type explorer
needs one training run per (hardness type, proportion); :class:`HardnessGrid`
runs each once, on demand, and keeps the result, so moving back to a
combination already seen redraws at once.
"""

from __future__ import annotations

import textwrap
import time

import ipywidgets as widgets
import numpy as np
import pandas as pd
import torch
from torch import nn

from trustml.hardness import characterize, hardness_types, perturb, plot_data_map, plot_method_ranking
from trustml.hardness._checks import check_labels, check_proportion, check_seed, to_numpy
from trustml.hardness._methods import resolve_methods
from trustml.hardness._perturb import check_kind
from trustml.hardness._views import _check_result, _class_names
from trustml.widgets._view import ViewWidget

__all__ = ["HardnessGrid", "data_map_explorer", "hardness_type_explorer"]

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
    controls = {
        "uncertainty": _toggle(
            [("Data Maps: variability", "variability"), ("Data-IQ: aleatoric", "aleatoric")], "uncertainty", "175px"
        ),
        "confidence_threshold": widgets.FloatSlider(
            value=0.2, min=0.0, max=0.5, step=0.01, description="confidence threshold", style=_WIDE,
            continuous_update=False,
        ),
        "uncertainty_threshold": widgets.FloatSlider(
            value=0.15, min=0.0, max=0.5, step=0.01, description="uncertainty threshold", style=_WIDE,
            continuous_update=False,
        ),
        "class_name": widgets.Dropdown(
            options=[_ALL_CLASSES, *names], value=_ALL_CLASSES, description="class", style=_WIDE,
            layout=widgets.Layout(width="220px"),
        ),
        "group": _toggle(["hard", "ambiguous", "easy"], "images of", "95px"),
    }  # fmt: skip

    def view(uncertainty, confidence_threshold, uncertainty_threshold, class_name, group):
        return plot_data_map(
            result, X, uncertainty=uncertainty, confidence_threshold=confidence_threshold,
            uncertainty_threshold=uncertainty_threshold, group=group,
            class_name=None if class_name == _ALL_CLASSES else class_name,
            class_names=names, mask=mask, original_labels=original_labels, n_images=n_images,
        )  # fmt: skip

    return ViewWidget(view, controls)


class HardnessGrid:
    """Perturb and characterise a dataset once per (hardness type, proportion), on demand, and keep the results.

    Each cell follows :func:`trustml.hardness.benchmark`'s protocol: plant the
    hardness with :func:`~trustml.hardness.perturb` (seeded), build a fresh
    model after ``trustml.set_seed(seed)`` and train it once with
    :func:`~trustml.hardness.characterize`. :meth:`table` gives the same
    numbers ``benchmark`` would for the same cells, and the cells' scores stay
    available for pictures (which ``benchmark`` does not keep).

    Parameters
    ----------
    X, y : torch.Tensor or numpy.ndarray
        Clean training data: images ``(N, C, H, W)`` in [0, 1] or rows ``(N, D)``, and labels.
    model : callable
        Builds a fresh, untrained model, e.g. ``lambda: LeNet(dropout=0.2)``.
    kinds : sequence of str, optional
        Hardness types; default every type of :func:`~trustml.hardness.hardness_types`
        that applies to the data (``instance`` only for 10 classes).
    proportions : sequence of float, default (0.1, 0.3, 0.5)
    epochs, batch_size, lr, seed, methods, device :
        As in :func:`~trustml.hardness.characterize`.

    Attributes
    ----------
    kinds : list of str
    proportions : list of float
    seconds : dict
        ``(kind, proportion)`` -> seconds its perturbation and training took, for every cell run so far.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.models import MLP
    >>> from trustml.widgets import HardnessGrid
    >>> digits = load("digits").subset(200)
    >>> grid = HardnessGrid(digits.X_train, digits.y_train, model=lambda: MLP(784, 10), kinds=["uniform"],
    ...                     proportions=[0.2], epochs=3, methods=["aum", "loss"])
    >>> noisy, result = grid.cell("uniform", 0.2)      # trains once; asking again returns the same objects
    >>> grid.cell("uniform", 0.2)[1] is result
    True
    >>> list(grid.table()["method"])
    ['aum', 'loss']
    """

    def __init__(
        self,
        X,
        y,
        *,
        model,
        kinds=None,
        proportions=(0.1, 0.3, 0.5),
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        seed: int = 0,
        methods="all",
        device=None,
    ):
        if isinstance(model, nn.Module) or not callable(model):
            raise TypeError(
                "model must build a fresh model for each cell: pass a class or a function, "
                "e.g. model=lambda: LeNet(dropout=0.2), not a model instance."
            )
        self.X = np.ascontiguousarray(to_numpy(X, "X"))
        self.y = check_labels(y, len(self.X), "y")
        if kinds is None:
            applies = ("both", "images" if self.X.ndim == 4 else "tabular")
            table = hardness_types()
            kinds = [
                kind for kind in table.index
                if table.loc[kind, "applies_to"] in applies and (kind != "instance" or self.y.max() == 9)
            ]  # fmt: skip
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        for kind in kinds:
            check_kind(kind, self.X.shape)
        self.kinds = kinds
        self.proportions = [check_proportion(p) for p in proportions]
        if not self.kinds or not self.proportions:
            raise ValueError("kinds and proportions must each hold at least one value.")
        self.model = model
        self.methods = resolve_methods(methods)
        self.seed = check_seed(seed)
        self.settings = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "device": device}
        self.seconds = {}
        self._cells = {}

    def __repr__(self) -> str:
        return (
            f"HardnessGrid({len(self.kinds)} hardness types x {len(self.proportions)} proportions, "
            f"{len(self._cells)} cells run)"
        )

    def cell(self, kind: str, proportion: float):
        """The perturbed data and its characterisation for one cell; trained on the first call only.

        Returns
        -------
        tuple of (Perturbation, Characterization)
        """
        from trustml import set_seed

        if kind not in self.kinds:
            raise ValueError(f"Unknown hardness type {kind!r} for this grid; it has: {', '.join(self.kinds)}.")
        proportion = check_proportion(proportion)
        matches = [p for p in self.proportions if np.isclose(p, proportion)]
        if not matches:
            raise ValueError(f"proportion {proportion} is not in this grid; it has: {self.proportions}.")
        key = (kind, matches[0])
        if key not in self._cells:
            start = time.perf_counter()
            planted = perturb(self.X, self.y, kind=kind, proportion=key[1], seed=self.seed)
            set_seed(self.seed)
            result = characterize(
                self.model(), torch.from_numpy(np.ascontiguousarray(planted.X)), torch.from_numpy(planted.y),
                seed=self.seed, methods=self.methods, **self.settings,
            )  # fmt: skip
            self._cells[key] = (planted, result)
            self.seconds[key] = time.perf_counter() - start
        return self._cells[key]

    def run(self) -> HardnessGrid:
        """Run every cell not run yet (kinds x proportions); returns ``self``."""
        for kind in self.kinds:
            for proportion in self.proportions:
                self.cell(kind, proportion)
        return self

    def table(self) -> pd.DataFrame:
        """Every cell's :func:`~trustml.hardness.evaluate` table, tidy as :func:`~trustml.hardness.benchmark`'s.

        Runs the cells not run yet. Columns: kind, proportion, seed, method, auroc, auprc, precision_at_k.
        """
        frames = []
        for kind in self.kinds:
            for proportion in self.proportions:
                planted, result = self.cell(kind, proportion)
                frame = result.evaluate(planted.mask).reset_index()
                frame.insert(0, "seed", self.seed)
                frame.insert(0, "proportion", proportion)
                frame.insert(0, "kind", kind)
                frames.append(frame)
        return pd.concat(frames, ignore_index=True)


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
    grid : HardnessGrid
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
    >>> from trustml.widgets import HardnessGrid, hardness_type_explorer
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
    if method not in grid.methods:
        raise ValueError(f"Unknown method {method!r} for this grid; it has: {', '.join(grid.methods)}.")
    descriptions = hardness_types()["description"]
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
        title = "\n".join([f"{kind}, {proportion:.0%} perturbed:", *textwrap.wrap(descriptions[kind], 60)])
        return plot_method_ranking(
            result, planted.mask, planted.X, method=method, k=k, class_names=class_names, original_labels=grid.y,
            title=title,
        )  # fmt: skip

    return ViewWidget(view, controls)


def _toggle(options, description: str, button_width: str) -> widgets.ToggleButtons:
    """Toggle buttons with their description on the same line (ipywidgets would wrap it above them)."""
    return widgets.ToggleButtons(
        options=options, description=description, style={**_WIDE, "button_width": button_width},
        layout=widgets.Layout(display="flex", flex_flow="row nowrap", width="auto"),
    )  # fmt: skip
