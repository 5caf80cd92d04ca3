"""The feedback-loop simulation does what episode 02 says it does."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from trustml.simulations import plot_patrols, simulate_patrols


def share_a(values):
    totals = values.sum(axis=0)
    return totals[0] / totals.sum()


def test_same_seed_same_history():
    a, b = simulate_patrols(seed=3), simulate_patrols(seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["incidents"], simulate_patrols(seed=4)["incidents"])


@pytest.mark.parametrize("seed", range(5))
def test_hot_spot_patrols_run_away_although_crime_is_equal(seed):
    history = simulate_patrols(seed=seed)
    assert abs(share_a(history["incidents"]) - 0.5) < 0.03  # the truth: equal
    assert share_a(history["recorded"]) > 0.65  # the records: A looks far worse
    assert (history["patrol_share_a"] == 0.8).all()  # A stays on top all year


@pytest.mark.parametrize("seed", range(5))
def test_reweighting_makes_the_records_track_the_truth(seed):
    history = simulate_patrols(reweight=True, seed=seed)
    assert abs(share_a(history["recorded"]) - share_a(history["incidents"])) < 0.05


def test_the_head_start_decides_which_district_looks_worse():
    assert share_a(simulate_patrols(initial_records=(50, 60))["recorded"]) < 0.35


def test_bad_arguments():
    with pytest.raises(ValueError, match="rule must be one of"):
        simulate_patrols(rule="random")
    with pytest.raises(ValueError, match="detect is a probability"):
        simulate_patrols(detect=2)


def test_plot_draws_both_panels():
    fig = plot_patrols(simulate_patrols(days=20), title="t")
    left, right = fig.axes
    assert len(left.lines) == 4 and len(right.lines) == 3
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in (left, right))
