"""The pattern every trustml widget follows: core ipywidgets over a pure drawing function.

A *view* is a plain function that takes parameter values and returns what to
show (a matplotlib figure, a DataFrame, text, or a tuple of them). It works in
a static rendering, in a test and where widgets do not render. :class:`ViewWidget`
puts controls (sliders, dropdowns, ...) in front of it and shows its result
whenever a control's value changes.

The fast path (a move redrawn in well under 100 ms of kernel time): a widget's
view returns a :class:`~trustml.widgets.LiveFigure`, built once and updated in
place, and the static view function builds the same class and updates it once
(``plot_x(...) = XFigure(..., pyplot=True).update(...).figure``), so the two
draw the same picture. :class:`ViewWidget` shows each figure through an
``ipywidgets.Image`` whose value is replaced, and each table or text through an
``ipywidgets.HTML``, instead of clearing and re-displaying an ``Output``.
A dragged slider does not queue a redraw per step: the front end holds back a
control's changes while the kernel is busy with the previous one and then sends
only the latest value, and the redraw runs in the message's handler, so the
view shows the latest value one redraw after the hand stops.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from trustml._live import LiveFigure, figure_png

__all__ = ["ViewWidget"]


class ViewWidget(widgets.VBox):
    """Controls above a view that is redrawn whenever one of them changes.

    Parameters
    ----------
    view : callable
        ``view(**values)`` returns what to display: a :class:`~trustml.widgets.LiveFigure`
        (the fast path), a matplotlib ``Figure``, a DataFrame or anything with
        an HTML representation, a string, any other object IPython can display,
        or a tuple of them. It is called with the current value of every
        control, by the control's key.
    controls : mapping of str to ipywidgets.ValueWidget
        The controls, by the keyword under which ``view`` receives their value.
        They are laid out in one row, in this order.
    extra : sequence of ipywidgets.Widget, optional
        More widgets for the control row (e.g. buttons that set control values).

    Attributes
    ----------
    controls : dict
        The controls, by keyword.
    frame : ipywidgets.VBox
        What the view shows: an ``ipywidgets.Image`` per figure, an
        ``ipywidgets.HTML`` per table or text, in the order the view returned them.
    result : object
        What the view returned on its last redraw (for tests and for reuse).
    redraws : int
        How many times the view has been drawn.
    holding : bool
        True inside :meth:`hold`, while control changes do not redraw.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> from trustml.widgets import ViewWidget
    >>> w = ViewWidget(lambda k: f"k is {k}", {"k": widgets.IntSlider(value=1, min=0, max=5)})
    >>> w.result
    'k is 1'
    >>> w.controls["k"].value = 4
    >>> w.result, w.redraws
    ('k is 4', 2)
    >>> w.frame.children[0].value
    '<pre class="trustml-text">k is 4</pre>'
    """

    def __init__(self, view: Callable[..., Any], controls: Mapping[str, widgets.ValueWidget], *, extra=()):
        if not callable(view):
            raise TypeError(f"view must be a function of the controls' values, got {type(view).__name__}.")
        if not controls:
            raise ValueError("a ViewWidget needs at least one control.")
        self.view = view
        self.controls = dict(controls)
        self.frame = widgets.VBox()
        self.frame.add_class("trustml-frame")
        self.result = None
        self.redraws = 0
        self._holds = 0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        row = widgets.HBox([*self.controls.values(), *extra], layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([row, self.frame])
        self.add_class("trustml-view")
        self.redraw()

    @property
    def values(self) -> dict:
        """The controls' current values, by keyword."""
        return {key: control.value for key, control in self.controls.items()}

    def redraw(self) -> None:
        """Call the view with the current values and show its result in :attr:`frame`."""
        result = self.view(**self.values)
        self._show(result if isinstance(result, tuple) else (result,))
        self.result = result
        self.redraws += 1

    @property
    def holding(self) -> bool:
        """True inside :meth:`hold`."""
        return self._holds > 0

    @contextlib.contextmanager
    def hold(self, *, redraw: bool = True):
        """Change several controls together: no redraw inside the block, one at its end if ``redraw``.

        Examples
        --------
        >>> import ipywidgets as widgets
        >>> from trustml.widgets import ViewWidget
        >>> w = ViewWidget(lambda a, b: a + b, {"a": widgets.IntSlider(1), "b": widgets.IntSlider(2)})
        >>> with w.hold():
        ...     w.controls["a"].value, w.controls["b"].value = 5, 6
        >>> w.result, w.redraws
        (11, 2)
        """
        self._holds += 1
        try:
            yield self
        finally:
            self._holds -= 1
        if redraw and not self.holding:
            self.redraw()

    def _on_change(self, change) -> None:
        if self.holding or change["new"] == change["old"]:
            return
        if "value" not in change["owner"]._property_lock:  # set from Python: errors are the caller's to see
            self.redraw()
            return
        try:  # moved in the browser: an error is shown where the view would be, not lost in a log
            self.redraw()
        except Exception as err:  # noqa: BLE001 (any error of the view)
            self._show((f"⚠ {type(err).__name__}: {err}",))

    def _show(self, parts) -> None:
        """Put each part in its own frame widget, replacing the values of the current ones where the kinds match."""
        rendered = [_render(part) for part in parts]
        current = self.frame.children
        if len(current) != len(rendered) or any(
            _kind(widget) != kind for widget, (kind, _) in zip(current, rendered)
        ):
            self.frame.children = [_frame_widget(kind) for kind, _ in rendered]
        for widget, (kind, value) in zip(self.frame.children, rendered):
            if kind == "output":
                _display_in(widget, value)
            elif widget.value != value:
                widget.value = value


def _render(part):
    """``(kind, value)`` of one part of a view's result: a PNG for an image, HTML for the rest."""
    from matplotlib.figure import Figure

    if isinstance(part, LiveFigure):
        return "image", part.png()
    if isinstance(part, Figure):
        png = figure_png(part)
        _close(part)
        return "image", png
    if type(part).__name__ == "Image" and getattr(part, "format", None) == "png":  # IPython.display.Image
        return "image", part.data
    if isinstance(part, str):
        return "html", f'<pre class="trustml-text">{html.escape(part)}</pre>'
    if hasattr(part, "_repr_html_"):
        # the classes under which JupyterLab and the classic notebook style rendered HTML (tables, above all)
        return "html", f'<div class="jp-RenderedHTMLCommon rendered_html">{part._repr_html_()}</div>'

    return "output", part


def _frame_widget(kind: str) -> widgets.Widget:
    if kind == "image":
        # at most the notebook's width, keeping the aspect ratio
        return widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
    if kind == "html":
        return widgets.HTML()
    return widgets.Output()


def _kind(widget) -> str:
    return {widgets.Image: "image", widgets.HTML: "html"}.get(type(widget), "output")


def _display_in(output: widgets.Output, part) -> None:
    """Anything else IPython can display, shown the slow way (clear the Output and display again)."""
    from IPython import get_ipython
    from IPython.display import clear_output, display

    if get_ipython() is not None:  # outside IPython there is nowhere to show it (display would print it)
        with output:
            clear_output(wait=True)
            display(part)


def _close(figure) -> None:
    """Close a pyplot figure once encoded, so the inline backend does not show it a second time."""
    import matplotlib.pyplot as plt

    plt.close(figure)  # a figure pyplot does not know is left alone
