"""The widget pattern: controls over a pure view, redrawn when a control moves."""

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from trustml.widgets import LiveFigure, ViewWidget, figure_png


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


def test_figures_are_shown_as_images_whose_value_is_replaced():
    w = ViewWidget(_line, {"slope": widgets.FloatSlider(value=1.0, min=-2, max=2)})
    (image,) = w.frame.children
    assert isinstance(image, widgets.Image) and image.format == "png" and image.value[:4] == b"\x89PNG"
    first = image.value
    w.controls["slope"].value = -1.0
    assert w.frame.children == (image,)  # the same widget, a new picture: the browser swaps one image
    assert image.value != first


def test_tables_and_text_are_shown_as_html():
    import pandas as pd

    w = ViewWidget(lambda k: (pd.DataFrame({"k": [k]}), f"k < {k}"), {"k": widgets.IntSlider(value=2)})
    table, text = w.frame.children
    assert isinstance(table, widgets.HTML) and "<table" in table.value and ">2<" in table.value
    assert text.value == '<pre class="trustml-text">k &lt; 2</pre>'  # escaped
    w.controls["k"].value = 3
    assert w.frame.children == (table, text) and ">3<" in table.value


def test_a_different_kind_of_result_replaces_the_frame_widgets():
    w = ViewWidget(lambda k: "text" if k else _line(1.0), {"k": widgets.IntSlider(value=0)})
    assert isinstance(w.frame.children[0], widgets.Image)
    w.controls["k"].value = 1
    assert isinstance(w.frame.children[0], widgets.HTML)


def _failing(k):
    if k > 3:
        raise ValueError(f"k must be at most 3, got {k}")
    return f"k={k}"


def test_an_error_from_a_move_in_the_browser_is_shown_where_the_view_was():
    w = ViewWidget(_failing, {"k": widgets.IntSlider(value=1, max=10)})
    w.controls["k"].set_state({"value": 5})  # as the front end sends a move
    assert "ValueError: k must be at most 3, got 5" in w.frame.children[0].value
    with pytest.raises(ValueError, match="at most 3"):  # set from Python: the caller sees the error
        w.controls["k"].value = 6


class _Wave(LiveFigure):
    """Two panels: a line that moves, and a title that changes only when asked."""

    def __init__(self):
        super().__init__(figsize=(4, 3))
        top, bottom = self.figure.subfigures(2, 1)
        ax = bottom.add_subplot()
        ax.set_ylim(-1.5, 1.5)  # the line never touches the spines, which a live frame draws below it
        self.x = np.linspace(0, 6, 50)
        (self.line,) = ax.plot(self.x, np.sin(self.x))
        self.title = top.text(0.5, 0.5, "", ha="center")
        self.add_panel(bottom, [self.line])
        self.add_panel(top, [self.title])

    def update(self, *, phase, title=""):
        self.line.set_ydata(np.sin(self.x + phase))
        self.title.set_text(title)
        return self


def test_a_live_figure_draws_again_only_the_panels_that_changed(monkeypatch):
    wave = _Wave().update(phase=0.0, title="a")
    wave.png()
    drawn = []
    for artist in (wave.line, wave.title):
        monkeypatch.setattr(artist, "draw", lambda renderer, a=artist, d=type(artist).draw: (drawn.append(a), d(a, renderer)))
    wave.update(phase=1.0, title="a").png()  # the title is the same: only the line's panel is drawn
    assert drawn == [wave.line]
    drawn.clear()
    wave.update(phase=1.0, title="b").png()
    assert wave.title in drawn
    drawn.clear()
    wave.png()  # nothing changed: nothing drawn
    assert drawn == []


def test_a_live_frame_is_the_picture_a_fresh_figure_draws():
    wave = _Wave()
    for phase, title in [(0.0, "start"), (2.0, "start"), (2.0, "moved"), (3.5, "")]:
        live = wave.update(phase=phase, title=title).png()
        fresh = figure_png(_Wave().update(phase=phase, title=title).figure)
        assert _pixels(live).shape == _pixels(fresh).shape
        assert (_pixels(live) == _pixels(fresh)).all()
    wave.invalidate()  # a full draw after invalidate gives the same picture again
    assert (_pixels(wave.png()) == _pixels(fresh)).all()


def _pixels(png):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
