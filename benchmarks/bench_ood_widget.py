"""How long does a move of the OOD threshold explorer's slider take (goal: under 100 ms of kernel time)?

On scores the size of a full-mode Fashion-MNIST run (by default 2,000 ID test images in five classes and
7,000 OOD images, with overlapping scores), it times, in one run:

* a slider move of ``trustml.widgets.ood_threshold_explorer``: the confusion matrix recounted, the lines
  moved, the metrics rewritten and the PNG frame encoded (an IPython shell formats it as a kernel would);
* of that, the numbers alone (``ood_confusion_matrix`` and ``rates_at`` at one threshold);
* the static view ``trustml.ood.threshold_view`` (a new figure each time, drawn in full);
* building the explorer once (the sweep over 101 thresholds and the figure).

Usage: ``.venv/bin/python benchmarks/bench_ood_widget.py [--id 2000] [--ood 7000] [--repeats 30]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import numpy as np
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats

from trustml.ood import ood_confusion_matrix, rates_at, threshold_view
from trustml.widgets import ood_threshold_explorer


def scores(n_id, n_ood, k=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.r_[rng.integers(0, k, n_id), -np.ones(n_ood, int)]
    values = np.r_[rng.normal(-10, 2.5, n_id), rng.normal(-6, 2.5, n_ood)]  # energies: ID lower
    mistaken = rng.random(n_id + n_ood) > 0.95
    predictions = np.where((labels >= 0) & ~mistaken, labels, rng.integers(0, k, n_id + n_ood))
    return labels, values, predictions


def median_ms(action, values):
    times = []
    for value in values:
        start = time.perf_counter()
        action(value)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", type=int, default=2000)
    parser.add_argument("--ood", type=int, default=7000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)

    labels, values, predictions = scores(args.id, args.ood)
    shell = InteractiveShell.instance()  # display() formats as a Jupyter kernel does
    select_figure_formats(shell, {"png"})
    with contextlib.redirect_stdout(io.StringIO()):  # outside a kernel, display() would print the frames
        start = time.perf_counter()
        explorer = ood_threshold_explorer(labels, values, predictions, class_names=list("abcde"), score_name="energy")
        build = 1000 * (time.perf_counter() - start)
        slider = explorer.controls["threshold"]
        positions = np.linspace(slider.min, slider.max, args.repeats + 2)[1:-1]
        slider.value = float(positions[0] - 0.1)  # warm-up
        move, worst = median_ms(lambda t: setattr(slider, "value", float(t)), positions)
    assert explorer.redraws == 2 + len(positions)
    numbers, _ = median_ms(lambda t: rates_at(ood_confusion_matrix(labels, values, predictions, threshold=t)),
                           positions)
    static, _ = median_ms(lambda t: _draw(threshold_view(labels, values, predictions, threshold=t)), positions[:5])

    print(f"{args.id} ID + {args.ood} OOD scores, median of {len(positions)} moves; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  slider move (numbers + redraw + PNG frame):  {move:7.1f} ms (slowest {worst:.1f})   goal < 100 ms")
    print(f"    of which the numbers (confusion, rates):   {numbers:7.1f} ms")
    print(f"  static threshold_view (new figure, drawn):   {static:7.1f} ms")
    print(f"  building the explorer (sweep + figure):      {build:7.1f} ms")


def _draw(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()


if __name__ == "__main__":
    main()
