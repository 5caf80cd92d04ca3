"""Widgets for OOD detection: a threshold explorer and an ID/OOD class picker.

Both are :class:`~trustml.widgets.ViewWidget` s over pure views of
:mod:`trustml.ood`: :class:`~trustml.ood.ThresholdFigure` (built once, the
threshold moved in place) and :func:`~trustml.ood.split_view`.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from trustml.ood import ThresholdFigure, id_ood_split, split_view
from trustml.widgets._view import ViewWidget

__all__ = ["ood_class_picker", "ood_threshold_explorer"]

_WIDE = {"description_width": "initial"}
_STEPS = 200


def ood_threshold_explorer(labels, scores, predictions, *, class_names=None, score_name="OOD score",
                           threshold=None) -> ViewWidget:
    """Move a threshold over OOD scores: the confusion matrix of the ID classes and OOD, the densities, the metrics.

    One slider sets the threshold (a sample is flagged OOD when its score is
    above it). Each move recounts the confusion matrix, moves the threshold
    line over the ID and OOD score densities and over the
    precision / recall / F1 sweep, and rewrites the metrics line. The view is
    :class:`trustml.ood.ThresholdFigure`, a live figure built once and
    updated in place; :func:`trustml.ood.threshold_view` draws it statically.

    Parameters
    ----------
    labels : array-like of int
        True labels: ID classes ``0..K-1``, OOD negative (``IDOODSplit.evaluation_labels()``).
    scores : array-like of float
        OOD scores, higher = more OOD.
    predictions : array-like of int
        The model's predicted classes.
    class_names : sequence of str, optional
    score_name : str, default "OOD score"
    threshold : float, optional
        Where the slider starts (default: the best-F1 threshold).

    Returns
    -------
    trustml.widgets.ViewWidget
        Control ``threshold``; ``.figure`` is the :class:`~trustml.ood.ThresholdFigure`.

    Examples
    --------
    >>> from trustml.widgets import ood_threshold_explorer
    >>> w = ood_threshold_explorer([0, 1, -1, -1], [0.1, 0.3, 0.6, 0.9], [0, 1, 1, 0], threshold=0.5)
    >>> w.controls["threshold"].value = 0.7
    >>> int(w.figure.matrix.loc["OOD", "OOD"]), w.redraws
    (1, 2)
    """
    figure = ThresholdFigure(labels, scores, predictions, class_names=class_names, score_name=score_name,
                             threshold=threshold)
    grid = figure.sweep.index.to_numpy(dtype=float)
    low, high = float(grid.min()), float(grid.max())
    step = (high - low) / _STEPS if high > low else 1.0
    slider = widgets.FloatSlider(
        value=float(np.clip(figure.threshold, low, high)), min=low, max=high, step=step,
        description=f"threshold on the {score_name}", readout_format=".4g", continuous_update=True,
        style=_WIDE, layout=widgets.Layout(width="600px"),
    )

    explorer = ViewWidget(figure.update, {"threshold": slider})
    explorer.figure = figure
    return explorer


def ood_class_picker(dataset, *, id_classes, ood_classes, view=None) -> ViewWidget:
    """Two pickers by class name, the ID classes and the OOD classes; each change re-splits and redraws.

    Parameters
    ----------
    dataset : trustml.data.ImageData
    id_classes, ood_classes : sequence of str or int
        The classes picked at the start (names or indices).
    view : callable, optional
        ``view(split)`` draws an :class:`~trustml.ood.IDOODSplit` (default
        :func:`trustml.ood.split_view`: PCA of the pixels and a logistic
        regression's softmax scores, fitted for each new split: a few tenths
        of a second; the views of the last 16 splits are kept, so going back
        to one redraws at once).

    Returns
    -------
    trustml.widgets.ViewWidget
        Controls ``id_classes`` and ``ood_classes`` (``SelectMultiple``, by
        name); ``.split`` is the last valid split. A choice that is not a
        valid split (a class in both lists, an empty list), or that the view
        cannot draw (one ID class for a classifier), shows what is wrong
        instead of a figure.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.widgets import ood_class_picker
    >>> picker = ood_class_picker(load("digits"), id_classes=["0", "1"], ood_classes=["5"])
    >>> picker.controls["ood_classes"].value = ("7",)
    >>> picker.split.ood_names
    ['7']
    >>> picker.controls["ood_classes"].value = ("1",)  # also ID: explained, not drawn
    >>> print(picker.result)
    Not a valid split: ['1'] in both id_classes and ood_classes: ...
    """
    draw = split_view if view is None else view
    if not callable(draw):
        raise TypeError(f"view must be a function of an IDOODSplit, got {type(draw).__name__}.")
    first = id_ood_split(dataset, id_classes, ood_classes)  # checks the names and the dataset once, loudly
    names = list(dataset.class_names)

    def picker(description, chosen):
        return widgets.SelectMultiple(
            options=names, value=tuple(chosen), description=description, rows=min(10, len(names)), style=_WIDE,
            layout=widgets.Layout(width="260px"),
        )

    controls = {"id_classes": picker("ID classes", first.id_names),
                "ood_classes": picker("OOD classes", first.ood_names)}
    return _ClassPicker(dataset, controls, draw)


class _Message(str):
    """Text a view shows instead of a figure (rendered as plain text, and printed as it is)."""

    def _repr_html_(self):
        return f"<pre>{html.escape(self)}</pre>"


class _ClassPicker(ViewWidget):
    """The class picker: re-splits the dataset on every change and keeps the last valid split."""

    _KEPT = 16  # views of this many recent splits are kept: going back to one redraws at once

    def __init__(self, dataset, controls, draw):
        self.dataset = dataset
        self.draw = draw
        self.split = None
        self._drawn = {}
        super().__init__(self._view, controls)

    def _view(self, id_classes, ood_classes):
        try:
            split = id_ood_split(self.dataset, list(id_classes), list(ood_classes))
        except ValueError as err:
            return _Message(f"Not a valid split: {err}")
        self.split = split
        key = (tuple(split.id_names), tuple(split.ood_names))
        if key not in self._drawn:
            try:
                self._drawn[key] = self.draw(split)
            except ValueError as err:  # e.g. the default view's classifier needs two ID classes
                return _Message(f"Cannot draw this split: {err}")
            if len(self._drawn) > self._KEPT:
                self._drawn.pop(next(iter(self._drawn)))
        return self._drawn[key]
