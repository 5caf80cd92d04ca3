"""The threshold explorer: controls over trustml.fairness.threshold_view."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from trustml.data import load_german_credit
from trustml.fairness import (
    favourable_scores,
    fit_model,
    matching_threshold,
    protected_groups,
    split_train_val_test,
    threshold_sweep,
)
from trustml.widgets import ViewWidget, threshold_explorer


@pytest.fixture(scope="module")
def scored():
    train, val, _ = split_train_val_test(load_german_credit())
    return val, favourable_scores(fit_model(train), val)


@pytest.fixture
def explorer(scored):
    val, scores = scored
    return threshold_explorer(val, scores, **protected_groups(val), threshold=0.5)


def shown(explorer):
    """(privileged threshold, unprivileged threshold) as drawn: read from the confusion matrices' titles."""
    fig = explorer.result[0]
    return tuple(float(ax.get_title().rsplit("> ", 1)[1]) for ax in fig.axes[:2])


def test_the_explorer_is_a_view_widget_that_starts_global(explorer):
    assert isinstance(explorer, ViewWidget)
    assert set(explorer.controls) == {"mode", "threshold", "privileged_threshold", "unprivileged_threshold"}
    assert explorer.values["mode"] == "global" and shown(explorer) == (0.5, 0.5)
    fig, by_group, metrics = explorer.result
    assert list(by_group.index) == ["male", "female"] and list(metrics.index) == ["at these thresholds"]


def test_moving_the_global_slider_redraws_with_its_value(explorer, scored):
    val, scores = scored
    before = explorer.redraws
    explorer.controls["threshold"].value = 0.7
    assert explorer.redraws == before + 1  # one move, one redraw
    assert shown(explorer) == (0.7, 0.7)
    expected = threshold_sweep(val, scores, [0.7], **protected_groups(val)).iloc[0].round(3)
    np.testing.assert_allclose(explorer.result[2].iloc[0].to_numpy(), expected.to_numpy())


def test_a_group_slider_switches_to_one_threshold_per_group(explorer):
    explorer.controls["threshold"].value = 0.6
    explorer.controls["unprivileged_threshold"].value = 0.45
    assert explorer.values["mode"] == "per group"
    assert shown(explorer) == (0.6, 0.45)  # the other group continues from the global threshold
    explorer.controls["privileged_threshold"].value = 0.65
    assert shown(explorer) == (0.65, 0.45)
    explorer.controls["threshold"].value = 0.55  # the global slider means one threshold again
    assert explorer.values["mode"] == "global" and shown(explorer) == (0.55, 0.55)


def test_toggling_per_group_starts_both_groups_at_the_global_threshold(explorer):
    explorer.controls["threshold"].value = 0.62
    explorer.controls["mode"].value = "per group"
    assert explorer.values["privileged_threshold"] == explorer.values["unprivileged_threshold"] == 0.62
    assert shown(explorer) == (0.62, 0.62)


@pytest.mark.parametrize("criterion", ["demographic_parity", "equal_opportunity"])
def test_parity_buttons_set_the_matching_threshold(explorer, scored, criterion):
    val, scores = scored
    explorer.controls["threshold"].value = 0.66
    explorer.buttons[criterion].click()
    expected = matching_threshold(val, scores, reference_threshold=0.66, criterion=criterion, **protected_groups(val))
    assert explorer.values["mode"] == "per group"
    assert shown(explorer) == (0.66, expected)
    column = "selection rate" if criterion == "demographic_parity" else "TPR"
    by_group = explorer.result[1]
    global_gap = abs(np.diff(threshold_view_rates(val, scores, 0.66, column)))[0]
    assert abs(by_group.loc["male", column] - by_group.loc["female", column]) <= global_gap + 1e-3


def threshold_view_rates(val, scores, t, column):
    from trustml.fairness import threshold_view

    _, by_group, _ = threshold_view(val, scores, privileged_threshold=t, unprivileged_threshold=t, **protected_groups(val))
    return by_group[column].to_numpy()


def test_bad_input_is_refused_before_any_widget_is_built(scored):
    val, scores = scored
    with pytest.raises(ValueError, match="scores has 10 values"):
        threshold_explorer(val, scores[:10], **protected_groups(val))
    with pytest.raises(ValueError, match=r"threshold must lie in \[0, 1\]"):
        threshold_explorer(val, scores, **protected_groups(val), threshold=1.5)
