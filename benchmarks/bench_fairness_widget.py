"""How long does a move of the threshold explorer's slider take, next to AIF360's per-threshold loop?

On 5,000 rows (the German credit data resampled with replacement, scored by the
lesson's logistic regression), it times, in one run:

* a slider move of ``trustml.widgets.threshold_explorer``: the view recomputed
  and redrawn, including the PNG that Jupyter's inline backend renders for the
  figure and the HTML of the two tables (an IPython shell formats them as a
  kernel would; the goal is under 100 ms);
* of that, the numbers alone (validation, one confusion matrix per group, the tables);
* the static view ``trustml.fairness.threshold_view`` (a new figure each time, not rendered);
* AIF360's way of scoring one threshold, as in the lesson's ``test`` function:
  copy the dataset, set its labels, build a ``ClassificationMetric`` and read the
  six metrics;
* ``trustml.fairness.threshold_sweep`` over 101 thresholds, per threshold.

Usage: ``.venv/bin/python benchmarks/bench_fairness_widget.py [--rows 5000] [--repeats 20]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np
from aif360.metrics import ClassificationMetric
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats

from trustml.data import load_german_credit
from trustml.fairness import favourable_scores, fit_model, protected_groups, threshold_sweep, threshold_view
from trustml.fairness._views import explorer_state
from trustml.widgets import threshold_explorer


def resampled_credit(rows, seed=0):
    credit = load_german_credit()
    picked = np.random.default_rng(seed).integers(0, len(credit.labels), rows)
    return credit.subset(picked)


def aif360_one_threshold(dataset, scores, threshold, groups):
    predicted = dataset.copy()
    predicted.labels = np.where(scores > threshold, dataset.favorable_label, dataset.unfavorable_label).reshape(-1, 1)
    m = ClassificationMetric(dataset, predicted, **groups)
    return (
        (m.true_positive_rate() + m.true_negative_rate()) / 2,
        m.disparate_impact(),
        m.average_odds_difference(),
        m.statistical_parity_difference(),
        m.equal_opportunity_difference(),
        m.theil_index(),
    )


def median_ms(action, values):
    times = []
    for value in values:
        start = time.perf_counter()
        action(value)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    data = resampled_credit(args.rows)
    scores = favourable_scores(fit_model(data), data)
    groups = protected_groups(data)
    positions = np.round(np.linspace(0.3, 0.8, args.repeats), 2)

    shell = InteractiveShell.instance()  # display() formats as a Jupyter kernel does: the figure becomes a PNG
    select_figure_formats(shell, {"png"})
    explorer = threshold_explorer(data, scores, **groups)
    slider = explorer.controls["threshold"]
    with contextlib.redirect_stdout(io.StringIO()):
        slider.value = 0.25  # warm-up
        move = median_ms(lambda t: setattr(slider, "value", float(t)), positions)
    assert explorer.redraws == 2 + len(positions)

    curve = threshold_sweep(data, scores, np.linspace(0, 1, 101), undefined="nan", **groups)
    numbers = median_ms(
        lambda t: explorer_state(data, scores, privileged_threshold=t, unprivileged_threshold=t, curve=curve, **groups),
        positions,
    )
    static = median_ms(
        lambda t: threshold_view(data, scores, privileged_threshold=t, unprivileged_threshold=t, curve=curve, **groups),
        positions,
    )
    aif360 = median_ms(lambda t: aif360_one_threshold(data, scores, t, groups), positions)
    thresholds = np.linspace(0, 1, 101)
    sweep = median_ms(lambda _: threshold_sweep(data, scores, thresholds, undefined="nan", **groups), range(5))
    per_threshold = sweep / len(thresholds)

    print(f"{args.rows} rows, median of {args.repeats} moves; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  slider move (view + redraw incl. PNG and tables): {move:8.1f} ms   goal < 100 ms")
    print(f"    of which the numbers (explorer_state):          {numbers:8.1f} ms")
    print(f"  static threshold_view (new figure, not drawn):    {static:8.1f} ms")
    print(f"  AIF360 ClassificationMetric, one threshold:       {aif360:8.1f} ms")
    print(f"  threshold_sweep, per threshold (101 at once):     {per_threshold:8.3f} ms")
    print(f"  the explorer's curve (101 thresholds): AIF360 loop {101 * aif360:6.0f} ms, threshold_sweep {sweep:5.1f} ms")
    print(f"  slider move / AIF360 one threshold:               {move / aif360:8.2f}x")
    print(f"  AIF360 one threshold / sweep per threshold:       {aif360 / per_threshold:8.0f}x")


if __name__ == "__main__":
    main()
