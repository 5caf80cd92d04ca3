"""The widget pattern: controls over a pure view, redrawn when a control moves."""

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from trustml.widgets import ViewWidget


def _line(slope):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, slope])
    return fig


def test_moving_a_control_redraws_the_view_with_its_value():
    w = ViewWidget(_line, {"slope": widgets.FloatSlider(value=1.0, min=-2, max=2)})
    first = w.result
    assert isinstance(first, Figure) and w.redraws == 1
    w.controls["slope"].value = -1.5
    assert w.redraws == 2 and w.result is not first
    assert w.result.axes[0].lines[0].get_ydata()[1] == -1.5
    assert w.values == {"slope": -1.5}


def test_drawn_figures_are_closed_so_the_inline_backend_does_not_show_them_twice():
    before = len(plt.get_fignums())
    w = ViewWidget(_line, {"slope": widgets.FloatSlider(value=0.5)})
    w.controls["slope"].value = 0.7
    assert len(plt.get_fignums()) == before


def test_tuple_results_and_several_controls():
    w = ViewWidget(
        lambda a, b: (f"a={a}", f"b={b}"),
        {"a": widgets.IntSlider(value=1), "b": widgets.Dropdown(options=["x", "y"], value="x")},
    )
    w.controls["b"].value = "y"
    assert w.result == ("a=1", "b=y")


def test_setting_the_same_value_does_not_redraw():
    w = ViewWidget(lambda k: k, {"k": widgets.IntSlider(value=3)})
    w.controls["k"].value = 3
    assert w.redraws == 1


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="view must be a function"):
        ViewWidget("not a function", {"k": widgets.IntSlider()})
    with pytest.raises(ValueError, match="at least one control"):
        ViewWidget(lambda: None, {})


def test_hold_changes_several_controls_with_one_redraw_or_none():
    w = ViewWidget(lambda a, b: a + b, {"a": widgets.IntSlider(value=1), "b": widgets.IntSlider(value=2)})
    with w.hold():
        assert w.holding
        w.controls["a"].value = 5
        w.controls["b"].value = 6
        with w.hold():  # nested: still one redraw, at the end of the outer block
            w.controls["a"].value = 7
        assert w.redraws == 1
    assert not w.holding and w.result == 13 and w.redraws == 2
    with w.hold(redraw=False):
        w.controls["a"].value = 0
    assert w.result == 13 and w.redraws == 2
