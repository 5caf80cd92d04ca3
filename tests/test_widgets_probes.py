"""The layer explorer of episode 09: its view draws what it is given, and each control changes what is drawn."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from trustml.widgets import LayerFigure, layer_explorer, layer_view
from widget_checks import assert_each_move_redraws

rng = np.random.default_rng(0)
POINTS = rng.normal(size=(3, 30, 2))
SENTIMENT = np.arange(30) % 2
NEGATED = (np.arange(30) % 3 == 0).astype(int)
PROPERTIES = {"sentiment": (SENTIMENT, ["negative", "positive"]), "negated": (NEGATED, ["affirmative", "negated"])}
TABLES = {
    "sentiment": pd.DataFrame({"accuracy": [0.6, 0.8, 0.95]}).rename_axis("layer"),
    "negated": pd.DataFrame({"accuracy": [1.0, 1.0, 0.99]}).rename_axis("layer"),
}


def drawn(fig):
    ax_points, ax_layers = fig.axes[:2]
    scatter = ax_points.collections[0]
    return {
        "offsets": np.asarray(scatter.get_offsets()).copy(),
        "colours": scatter.get_facecolors().copy(),
        "title": ax_points.get_title(),
        "legend": [t.get_text() for t in ax_points.get_legend().get_texts()],
        "marker": [list(v) for v in ax_layers.lines[-1].get_data()],
    }


def test_the_view_shows_the_layer_the_property_and_its_accuracy():
    view = drawn(layer_view(POINTS, PROPERTIES, TABLES, layer=1, colour_by="sentiment"))
    np.testing.assert_allclose(view["offsets"], POINTS[1])
    assert view["title"] == "layer 1, coloured by sentiment: probe accuracy 0.80"
    assert view["legend"] == ["negative", "positive"] and view["marker"] == [[1], [0.8]]
    assert len({tuple(c) for c in view["colours"]}) == 2  # one colour per class


def test_update_in_place_matches_a_fresh_build():
    figure = LayerFigure(POINTS, PROPERTIES, TABLES)
    figure.update(layer=0, colour_by="negated")
    moved = drawn(figure.update(layer=2, colour_by="sentiment").figure)
    fresh = drawn(layer_view(POINTS, PROPERTIES, TABLES, layer=2, colour_by="sentiment"))
    for key in moved:
        np.testing.assert_equal(moved[key], fresh[key])


def test_moving_each_control_changes_what_is_drawn():
    widget = layer_explorer(POINTS, PROPERTIES, TABLES)
    before = drawn(widget.result.figure)
    widget.controls["layer"].value = 2
    after_layer = drawn(widget.result.figure)
    assert not np.allclose(after_layer["offsets"], before["offsets"]) and after_layer["marker"] == [[2], [0.95]]
    widget.controls["colour_by"].value = "negated"
    after_property = drawn(widget.result.figure)
    assert after_property["legend"] == ["affirmative", "negated"]
    assert not np.array_equal(after_property["colours"], after_layer["colours"])
    assert widget.redraws == 3


def test_the_explorer_draws_what_layer_view_draws():
    widget = layer_explorer(POINTS, PROPERTIES, TABLES, title="MiniLM")
    moves = [("layer", 1), ("colour_by", "negated"), ("layer", 2), ("colour_by", "sentiment"), ("layer", 0)]
    assert_each_move_redraws(widget, moves, static=lambda **values: layer_view(
        POINTS, PROPERTIES, TABLES, title="MiniLM", **values))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(projections=POINTS[0]), r"projections must be \(layers, sentences, 2\)"),
        (dict(properties={}), "properties must be a non-empty dict"),
        (dict(properties={"sentiment": SENTIMENT}), "must be a pair"),
        (dict(properties={"sentiment": (SENTIMENT[:5], ["n", "p"])}), "labels has 5 entries but there are 30 samples"),
        (dict(properties={"sentiment": (SENTIMENT + 1, ["n", "p"])}), "labels has class index 2 but there are only 2"),
        (dict(tables={"sentiment": TABLES["sentiment"]}), "one probe table per property"),
        (dict(tables={**TABLES, "negated": TABLES["negated"].iloc[:2]}), "one row per layer"),
        (dict(layer=3), "layer must be an integer from 0 to 2"),
        (dict(colour_by="adjective"), "colour_by must be one of"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    call = dict(projections=POINTS, properties=PROPERTIES, tables=TABLES, layer=0, colour_by="sentiment") | kwargs
    with pytest.raises(ValueError, match=message):
        layer_view(call.pop("projections"), call.pop("properties"), call.pop("tables"), **call)
