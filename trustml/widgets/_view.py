"""The pattern every trustml widget follows: core ipywidgets over a pure drawing function.

A *view* is a plain function that takes parameter values and returns what to
show (a matplotlib figure, a DataFrame, text, or a tuple of them). It works in
a static rendering, in a test and where widgets do not render. :class:`ViewWidget`
puts controls (sliders, dropdowns, ...) in front of it and redraws the view into
an ``ipywidgets.Output`` whenever a control's value changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

__all__ = ["ViewWidget"]


class ViewWidget(widgets.VBox):
    """Controls above a view that is redrawn whenever one of them changes.

    Parameters
    ----------
    view : callable
        ``view(**values)`` returns what to display: a matplotlib ``Figure``, any
        object IPython can display, or a tuple of them. It is called with the
        current value of every control, by the control's key.
    controls : mapping of str to ipywidgets.ValueWidget
        The controls, by the keyword under which ``view`` receives their value.
        They are laid out in one row, in this order.
    extra : sequence of ipywidgets.Widget, optional
        More widgets for the control row (e.g. buttons that set control values).

    Attributes
    ----------
    controls : dict
        The controls, by keyword.
    output : ipywidgets.Output
        Where the view is drawn.
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
    """

    def __init__(self, view: Callable[..., Any], controls: Mapping[str, widgets.ValueWidget], *, extra=()):
        if not callable(view):
            raise TypeError(f"view must be a function of the controls' values, got {type(view).__name__}.")
        if not controls:
            raise ValueError("a ViewWidget needs at least one control.")
        self.view = view
        self.controls = dict(controls)
        self.output = widgets.Output()
        self.result = None
        self.redraws = 0
        self._holds = 0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        row = widgets.HBox([*self.controls.values(), *extra], layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([row, self.output])
        self.redraw()

    @property
    def values(self) -> dict:
        """The controls' current values, by keyword."""
        return {key: control.value for key, control in self.controls.items()}

    def redraw(self) -> None:
        """Call the view with the current values and show its result in :attr:`output`."""
        from IPython import get_ipython
        from IPython.display import clear_output, display

        result = self.view(**self.values)
        parts = result if isinstance(result, tuple) else (result,)
        if get_ipython() is not None:  # outside IPython there is nowhere to show it (display would print it)
            with self.output:
                clear_output(wait=True)
                display(*parts)
        _close_figures(parts)
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
        if not self.holding and change["new"] != change["old"]:
            self.redraw()


def _close_figures(parts) -> None:
    """Close displayed matplotlib figures, so the inline backend does not show them a second time."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    for part in parts:
        if isinstance(part, Figure):
            plt.close(part)
