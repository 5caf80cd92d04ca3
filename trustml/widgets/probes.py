"""The layer explorer of episode 09: a layer's sentence embeddings in 2-D beside the probes' accuracy per layer.

:class:`LayerFigure` builds the figure once and :meth:`LayerFigure.update` moves
its artists in place; :func:`layer_view` is the static view (build, then update)
and :func:`layer_explorer` the widget over it (a layer slider and a property
picker).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from trustml._checks import check_class_names, check_int, check_labels, real_array
from trustml._live import LiveFigure
from trustml.widgets._view import ViewWidget

__all__ = ["LayerFigure", "layer_explorer", "layer_view"]


def _check(projections, properties, tables):
    projections = real_array(projections, "projections")
    if projections.ndim != 3 or projections.shape[2] != 2 or 0 in projections.shape:
        raise ValueError(
            f"projections must be (layers, sentences, 2): one 2-D point per sentence and layer, got shape "
            f"{projections.shape}."
        )
    if not isinstance(properties, Mapping) or not properties:
        raise ValueError("properties must be a non-empty dict {name: (labels, class_names)}.")
    for name, value in properties.items():
        if not isinstance(value, tuple) or len(value) != 2:
            raise ValueError(f"properties[{name!r}] must be a pair (labels, class_names).")
        names = check_class_names(value[1], what=f"properties[{name!r}]'s class names")
        check_labels(value[0], projections.shape[1], f"properties[{name!r}]'s labels", num_classes=len(names),
                     classes_from=" (one per class name)")  # fmt: skip
    if not isinstance(tables, Mapping) or set(tables) != set(properties):
        raise ValueError(f"tables must be a dict with one probe table per property: {sorted(properties)}.")
    for name, table in tables.items():
        if "accuracy" not in getattr(table, "columns", ()) or len(table) != projections.shape[0]:
            raise ValueError(
                f"tables[{name!r}] must be a probe_layers table with one row per layer ({projections.shape[0]})."
            )
        real_array(table["accuracy"], f"tables[{name!r}]['accuracy']", finite=False)
    return projections


def _check_choice(layer, colour_by, layers: int, properties) -> None:
    """Which layer to show (0..layers-1) and which property colours the points."""
    check_int(layer, "layer", minimum=0, maximum=layers - 1)
    if not isinstance(colour_by, str) or colour_by not in properties:
        raise ValueError(f"colour_by must be one of {sorted(properties)}, got {colour_by!r}.")


class LayerFigure(LiveFigure):
    """The explorer's figure, built once: a scatter of one layer (left) and accuracy per layer (right).

    A :class:`~trustml.widgets.LiveFigure`: :meth:`update` moves the points, the legend and the
    current-layer marker in place.

    Parameters
    ----------
    projections : array-like of shape (layers, N, 2)
        2-D coordinates of N sentences at every layer (``project_embeddings``
        of each layer).
    properties : mapping of str to (labels, class_names)
        The properties the points can be coloured by, e.g. ``{"sentiment":
        (y, ["negative", "positive"])}``; labels are class indices.
    tables : mapping of str to pandas.DataFrame
        For each property, its probe sweep (``probe_layers``), indexed by layer.
    title : str, optional
        Put above the figure.
    pyplot : bool, default False
        Register the figure with pyplot (see :class:`~trustml.widgets.LiveFigure`).

    Attributes
    ----------
    figure, scatter, marker : matplotlib artists
        The figure, the points and the marker of the current layer.
    """

    def __init__(self, projections, properties, tables, *, title: str = "", pyplot: bool = False):
        self.projections = _check(projections, properties, tables)
        self.properties, self.tables = dict(properties), dict(tables)
        super().__init__(figsize=(10, 4.2), pyplot=pyplot)
        self.ax_points, self.ax_layers = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        self.scatter = self.ax_points.scatter(*self.projections[0].T, s=10, alpha=0.7)
        self.ax_points.set(xticks=[], yticks=[], xlabel="principal component 1", ylabel="principal component 2")
        self.lines = {}
        for k, (name, table) in enumerate(self.tables.items()):
            (self.lines[name],) = self.ax_layers.plot(table.index, table["accuracy"], marker="o", color=f"C{k + 2}",
                                                      label=name)  # fmt: skip
        layers = len(self.projections)
        self.ax_layers.axhline(0.5, color="grey", linestyle=":", linewidth=1)
        self.cursor = self.ax_layers.axvline(0, color="black", linewidth=0.8)
        (self.marker,) = self.ax_layers.plot([0], [0.5], "o", markersize=12, markerfacecolor="none", color="black")
        self.ax_layers.set(xlabel="layer (0 = embedding layer)", ylabel="probe accuracy (held out)", ylim=(0.4, 1.02),
                           xticks=range(layers))  # fmt: skip
        self.ax_layers.grid(alpha=0.3)
        self.ax_layers.legend(fontsize="small", loc="lower right")
        if title:
            self.figure.suptitle(title)
        self.figure.subplots_adjust(left=0.03, right=0.98, bottom=0.13, top=0.86, wspace=0.18)
        self._legend = None
        self._colours = {}
        # two panels, split halfway between the axes: the left one holds the points' axes with its title and
        # labels (no ticks: the whole axes is cheap to draw again); the right one what update changes in the
        # accuracy plot, in zorder (its ticks and labels stay in the background)
        from matplotlib.transforms import Bbox, TransformedBbox

        split = (self.ax_points.get_position().x1 + self.ax_layers.get_position().x0) / 2
        halves = [TransformedBbox(Bbox(box), self.figure.transFigure) for box in ([[0, 0], [split, 1]],
                                                                                   [[split, 0], [1, 1]])]
        self.add_panel(halves[0], [self.ax_points])
        self.add_panel(halves[1], [*self.lines.values(), self.cursor, self.marker, self.ax_layers.get_legend()])

    def update(self, *, layer: int, colour_by: str) -> LayerFigure:
        """Show ``layer``, coloured by the property ``colour_by``; returns ``self``."""
        from matplotlib.colors import to_rgba_array
        from matplotlib.lines import Line2D

        _check_choice(layer, colour_by, len(self.projections), self.properties)
        labels, class_names = self.properties[colour_by]
        points = self.projections[layer]
        self.scatter.set_offsets(points)
        if colour_by not in self._colours:  # one RGBA row per sentence, converted once per property
            self._colours[colour_by] = to_rgba_array([f"C{int(k)}" for k in np.asarray(labels)])
        self.scatter.set_color(self._colours[colour_by])
        pad = 0.05 * np.ptp(points, axis=0) + 1e-9
        self.ax_points.set_xlim(points[:, 0].min() - pad[0], points[:, 0].max() + pad[0])
        self.ax_points.set_ylim(points[:, 1].min() - pad[1], points[:, 1].max() + pad[1])
        accuracy = float(self.tables[colour_by]["accuracy"].iloc[layer])
        self.ax_points.set_title(f"layer {layer}, coloured by {colour_by}: probe accuracy {accuracy:.2f}")
        if self._legend is not None:
            self._legend.remove()
        handles = [Line2D([], [], marker="o", linestyle="", color=f"C{k}", label=name)
                   for k, name in enumerate(class_names)]  # fmt: skip
        self._legend = self.ax_points.legend(handles=handles, fontsize="small", loc="best")
        for name, line in self.lines.items():
            line.set_linewidth(3 if name == colour_by else 1)
            line.set_alpha(1 if name == colour_by else 0.4)
        self.cursor.set_xdata([layer, layer])
        self.marker.set_data([layer], [accuracy])
        self.marker.set_color(self.lines[colour_by].get_color())
        return self


def layer_view(projections, properties, tables, *, layer: int, colour_by: str, title: str = ""):
    """The explorer's view for one layer and property, as a static matplotlib figure.

    Parameters
    ----------
    projections, properties, tables, title
        As for :class:`LayerFigure`.
    layer : int
        Which layer to show (0 = the embedding layer).
    colour_by : str
        A key of ``properties``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from trustml.widgets import layer_view
    >>> points = np.random.default_rng(0).normal(size=(3, 20, 2))
    >>> y = np.arange(20) % 2
    >>> table = pd.DataFrame({"accuracy": [0.5, 0.7, 0.9]}).rename_axis("layer")
    >>> fig = layer_view(points, {"sentiment": (y, ["negative", "positive"])}, {"sentiment": table},
    ...                  layer=2, colour_by="sentiment")
    >>> fig.axes[0].get_title()
    'layer 2, coloured by sentiment: probe accuracy 0.90'
    """
    _check_choice(layer, colour_by, len(_check(projections, properties, tables)), properties)
    figure = LayerFigure(projections, properties, tables, title=title, pyplot=True)
    return figure.update(layer=layer, colour_by=colour_by).figure


def layer_explorer(projections, properties, tables, *, layer: int = 0, colour_by: str | None = None,
                   title: str = "") -> ViewWidget:  # fmt: skip
    """A layer slider and a property picker over :func:`layer_view`.

    Parameters
    ----------
    projections, properties, tables, title
        As for :class:`LayerFigure`.
    layer : int, default 0
        The layer shown first.
    colour_by : str, optional
        The property shown first (default: the first key of ``properties``).

    Returns
    -------
    ViewWidget
        Controls ``layer`` (an ``IntSlider``) and ``colour_by`` (a ``Dropdown``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from trustml.widgets import layer_explorer
    >>> points = np.random.default_rng(0).normal(size=(3, 20, 2))
    >>> table = pd.DataFrame({"accuracy": [0.5, 0.7, 0.9]}).rename_axis("layer")
    >>> w = layer_explorer(points, {"label": (np.arange(20) % 2, ["a", "b"])}, {"label": table})
    >>> w.controls["layer"].value = 1
    >>> w.result.figure.axes[0].get_title()
    'layer 1, coloured by label: probe accuracy 0.70'
    """
    import ipywidgets as widgets

    projections = _check(projections, properties, tables)
    colour_by = next(iter(properties)) if colour_by is None else colour_by
    _check_choice(layer, colour_by, len(projections), properties)
    figure = LayerFigure(projections, properties, tables, title=title)
    controls = {
        "layer": widgets.IntSlider(value=layer, min=0, max=len(projections) - 1, description="layer"),
        "colour_by": widgets.Dropdown(options=list(properties), value=colour_by, description="colour by"),
    }
    return ViewWidget(figure.update, controls)
