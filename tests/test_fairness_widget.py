"""The threshold explorer: controls over trustml.fairness.threshold_view."""

import io

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from PIL import Image as PILImage

from trustml.data import load_german_credit
from trustml.fairness import (
    favourable_scores,
    fit_model,
    matching_threshold,
    protected_groups,
    split_train_val_test,
    threshold_sweep,
    threshold_view,
)
from trustml.fairness._views import ExplorerFigure, explorer_state
from widget_checks import assert_same_picture, frames
from trustml.widgets import ViewWidget, threshold_explorer


@pytest.fixture(scope="module")
def scored():
    train, val, _ = split_train_val_test(load_german_credit())
    return val, favourable_scores(fit_model(train), val)


@pytest.fixture
def explorer(scored):
    val, scores = scored
    return threshold_explorer(val, scores, **protected_groups(val), threshold=0.5)


def assert_shows(explorer, scored, privileged, unprivileged):
    """The explorer shows threshold_view's tables for these thresholds, and a PNG of its figure."""
    val, scores = scored
    _, *expected = threshold_view(
        val, scores, privileged_threshold=privileged, unprivileged_threshold=unprivileged, **protected_groups(val)
    )
    figure, *rest = explorer.result
    tables = rest[1::2]  # each after its heading
    assert isinstance(figure, ExplorerFigure)
    for ours, theirs in zip(tables, expected):
        pd.testing.assert_frame_equal(ours, theirs)
    static = threshold_view(val, scores, privileged_threshold=privileged, unprivileged_threshold=unprivileged,
                            per_group=explorer.values["mode"] == "per group", **protected_groups(val))[0]
    assert_same_picture(explorer, static)
    html = [child.value for child in explorer.frame.children[1:]]
    assert tables[0]._repr_html_() in html[1] and tables[-1]._repr_html_() in html[-1]


def pixels(png):
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def test_the_explorer_is_a_view_widget_that_starts_global(explorer, scored):
    assert isinstance(explorer, ViewWidget)
    assert set(explorer.controls) == {"mode", "threshold", "privileged_threshold", "unprivileged_threshold"}
    assert explorer.values["mode"] == "global"
    assert_shows(explorer, scored, 0.5, 0.5)
    _, _, confusion, _, rates, _, metrics = explorer.result
    assert list(rates.index) == ["male", "female"] and list(metrics.index) == ["at these thresholds"]
    assert confusion.columns.get_level_values(0).unique().tolist() == ["male", "female"]


def test_moving_the_global_slider_redraws_with_its_value(explorer, scored):
    val, scores = scored
    before, image = explorer.redraws, frames(explorer)[0]
    explorer.controls["threshold"].value = 0.7
    assert explorer.redraws == before + 1  # one move, one redraw
    assert (frames(explorer)[0] != image).any()
    assert_shows(explorer, scored, 0.7, 0.7)
    expected = threshold_sweep(val, scores, [0.7], **protected_groups(val)).iloc[0].round(3)
    np.testing.assert_allclose(explorer.result[-1].iloc[0].to_numpy(), expected.to_numpy())


def test_a_group_slider_switches_to_one_threshold_per_group(explorer, scored):
    explorer.controls["threshold"].value = 0.6
    explorer.controls["unprivileged_threshold"].value = 0.45
    assert explorer.values["mode"] == "per group"
    assert_shows(explorer, scored, 0.6, 0.45)  # the other group continues from the global threshold
    explorer.controls["privileged_threshold"].value = 0.65
    assert_shows(explorer, scored, 0.65, 0.45)
    explorer.controls["threshold"].value = 0.55  # the global slider means one threshold again
    assert explorer.values["mode"] == "global"
    assert_shows(explorer, scored, 0.55, 0.55)


def test_toggling_per_group_starts_both_groups_at_the_global_threshold(explorer, scored):
    explorer.controls["threshold"].value = 0.62
    explorer.controls["mode"].value = "per group"
    assert explorer.values["privileged_threshold"] == explorer.values["unprivileged_threshold"] == 0.62
    assert_shows(explorer, scored, 0.62, 0.62)


def test_group_sliders_follow_the_global_slider_and_the_toggle_shows(explorer):
    explorer.controls["threshold"].value = 0.58
    assert explorer.values["privileged_threshold"] == explorer.values["unprivileged_threshold"] == 0.58
    image = frames(explorer)[0]
    explorer.controls["mode"].value = "per group"  # same decisions, but the picture says "per group"
    assert (frames(explorer)[0] != image).any()


def test_a_button_redraws_once(explorer):
    before = explorer.redraws
    explorer.buttons["demographic_parity"].click()
    assert explorer.redraws == before + 1


@pytest.mark.parametrize("criterion", ["demographic_parity", "equal_opportunity"])
def test_parity_buttons_set_the_matching_threshold(explorer, scored, criterion):
    val, scores = scored
    explorer.controls["threshold"].value = 0.66
    before = explorer.result[4]
    explorer.buttons[criterion].click()
    expected = matching_threshold(val, scores, reference_threshold=0.66, criterion=criterion, **protected_groups(val))
    assert explorer.values["mode"] == "per group"
    assert (explorer.values["privileged_threshold"], explorer.values["unprivileged_threshold"]) == (0.66, expected)
    assert_shows(explorer, scored, 0.66, expected)
    column = "selection rate" if criterion == "demographic_parity" else "TPR"
    after = explorer.result[4]
    gap_before = abs(before.loc["male", column] - before.loc["female", column])
    assert abs(after.loc["male", column] - after.loc["female", column]) <= gap_before


def test_the_blitted_image_is_the_fully_drawn_figure(scored):
    """Updating the figure and drawing only what changed gives the picture a fresh full draw gives."""
    val, scores = scored
    groups = protected_groups(val)
    first = explorer_state(val, scores, privileged_threshold=0.3, unprivileged_threshold=0.3, **groups)
    second = explorer_state(val, scores, privileged_threshold=0.7, unprivileged_threshold=0.55, **groups)
    reused = ExplorerFigure(first)
    reused.png(dpi=80)
    blitted = pixels(reused.update(second).png(dpi=80))
    fresh = ExplorerFigure(second).figure
    buffer = io.BytesIO()
    fresh.savefig(buffer, format="png", dpi=80)
    full = pixels(buffer.getvalue())
    assert blitted.shape == full.shape
    assert np.abs(blitted - full).mean() < 0.5  # identical but for anti-aliasing at the edges of redrawn artists


def test_bad_input_is_refused_before_any_widget_is_built(scored):
    val, scores = scored
    with pytest.raises(ValueError, match="scores has 10 values"):
        threshold_explorer(val, scores[:10], **protected_groups(val))
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\], got 1.5"):
        threshold_explorer(val, scores, **protected_groups(val), threshold=1.5)
