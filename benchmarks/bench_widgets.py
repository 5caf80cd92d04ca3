"""Kernel time of one control move, for every control of every course widget.

Each widget is built inside an in-process IPython kernel with the inline
matplotlib backend (the set-up a learner's Jupyter kernel has), on data of its
episode's full-mode size; then each control is moved 20 times (a slider to a
new position, a dropdown or toggle to the next option, a text box to new text,
a button clicked) and the time from setting the value to the end of the redraw
is taken: the view's update and the encoding of what the front end receives
(PNG image, HTML tables), comm messages included. The browser's share (sending,
decoding, painting) is measured by ``tools/browser_check.py``.

Data (generated or embedded, so the numbers do not depend on a cache):

* episode 03, data-map explorer: 5,000 training images (the digits, repeated;
  real MNIST in full mode gives 5,000) characterised by an MLP for 3 epochs;
* episode 03, hardness-type explorer: a grid of 600 images, four hardness types
  x two proportions, every method, an MLP for 2 epochs (cells run beforehand,
  as the episode does);
* episode 04, trajectory and class-grid widgets: 10,000 samples x 20 epochs of
  temperatures (random walks), their categories, 10,000 images;
* episode 06, threshold explorer: 4,749 rows (MEPS' validation size), the German
  credit data resampled, scored by logistic regression;
* episode 09, layer explorer: 7 hidden states x 2,000 sentences projected to 2-D
  (the probe sweep's size), two properties to colour by;
* episode 10, CAM explorer: the episode's CNN (untrained: the cost is the same) on
  one cluttered digit; every class and method is a new CAM until it has been
  shown once (the explorer keeps the maps it computed);
* episodes 13 and 14, OOD threshold explorer: 2,000 ID test scores in two classes
  and 7,000 OOD scores (episode 13 on the full Fashion-MNIST: T-shirts and trousers
  against all sandals), and 2,000 in five classes with 8,000 OOD (episode 14's
  energies), overlapping normal scores;
* episode 13, OOD class picker: the embedded digits; every change refits a
  logistic regression on at most 1,000 ID training images (its view says so).

Usage: ``.venv/bin/python benchmarks/bench_widgets.py [--moves 20] [--only NAME]``; with
``PYTHONPATH=<a checkout of another commit>`` it measures that version (a before/after table).
Prints one row per control: median and 90th percentile of the move times (ms).
The goal (issue 18) is a median of at most 100 ms for every control.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import warnings

import numpy as np


def kernel_shell():
    """An in-process ipykernel with the inline backend: display() and comms behave as in Jupyter."""
    from ipykernel.inprocess.manager import InProcessKernelManager

    manager = InProcessKernelManager()
    manager.start_kernel()
    shell = manager.kernel.shell
    shell.run_cell("%matplotlib inline", silent=True)
    return manager, shell


def digits_images(n, seed=0):
    """``n`` of the embedded digits (repeated when needed) and their labels."""
    from trustml.data import DataNotice, load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataNotice)
        digits = load("digits")
    picked = np.random.default_rng(seed).integers(0, len(digits.y_train), n)
    return digits.X_train[picked], digits.y_train[picked], digits.class_names


def episode03_data_map():
    from trustml.hardness import characterize, perturb
    from trustml.models import MLP
    from trustml.widgets import data_map_explorer

    X, y, names = digits_images(5000)
    noisy = perturb(X, y, kind="uniform", proportion=0.2, seed=0)
    result = characterize(MLP(784, 10), noisy.X, noisy.y, epochs=3, methods=["aum"], progress=False)
    return data_map_explorer(result, noisy.X, mask=noisy.mask, class_names=names, original_labels=y)


def episode03_hardness_types():
    from trustml.hardness import HardnessGrid
    from trustml.models import MLP
    from trustml.widgets import hardness_type_explorer

    X, y, names = digits_images(600, seed=1)
    grid = HardnessGrid(
        X, y, model=lambda: MLP(784, 10), kinds=["uniform", "far_ood", "zoom_shift", "crop_shift"],
        proportions=(0.1, 0.3), epochs=2, batch_size=32, lr=3e-3,
    ).run()  # fmt: skip
    return hardness_type_explorer(grid, method="aum", class_names=names)


def episode04_data():
    from trustml.hardness import categorize

    rng = np.random.default_rng(0)
    n, epochs = 10_000, 20
    sigma = np.exp(np.clip(np.cumsum(rng.normal(0, 0.15, size=(epochs, n)), axis=0), np.log(1 / 20), np.log(20)))
    X, y, names = digits_images(n, seed=2)
    return sigma, categorize(sigma), y.numpy() if hasattr(y, "numpy") else y, names, rng.random(n) < 0.2, X


def episode04_trajectories():
    from trustml.widgets import trajectory_widget

    sigma, categories, labels, names, mask, X = episode04_data()
    return trajectory_widget(sigma, categories, labels, names, mask=mask, images=X)


def episode04_class_grid():
    from trustml.widgets import category_grid_widget

    sigma, categories, labels, names, mask, X = episode04_data()
    return category_grid_widget(X, categories, sigma[-1], labels, names, mask=mask)


def episode06_thresholds():
    from trustml.data import load_german_credit
    from trustml.fairness import favourable_scores, fit_model, protected_groups
    from trustml.widgets import threshold_explorer

    credit = load_german_credit()
    data = credit.subset(np.random.default_rng(0).integers(0, len(credit.labels), 4749))
    scores = favourable_scores(fit_model(data), data)
    return threshold_explorer(data, scores, threshold=0.5, **protected_groups(data))


def episode09_layers():
    """7 hidden states x 2,000 sentences projected to 2-D (the episode's sweep size), two properties."""
    import pandas as pd

    from trustml.widgets import layer_explorer

    rng = np.random.default_rng(0)
    layers, n = 7, 2000
    points = rng.normal(size=(layers, n, 2)) + np.linspace(0, 3, layers)[:, None, None] * (np.arange(n) % 2)[:, None]
    properties = {"sentiment": (np.arange(n) % 2, ["negative", "positive"]),
                  "negated": ((np.arange(n) % 3 == 0).astype(int), ["affirmative", "negated"])}  # fmt: skip
    tables = {name: pd.DataFrame({"accuracy": np.linspace(0.6, 0.95, layers)}).rename_axis("layer")
              for name in properties}  # fmt: skip
    return layer_explorer(points, properties, tables, title="all-MiniLM-L6-v2")


def episode10_cam_explorer():
    from trustml import set_seed
    from trustml.explain import make_cluttered_digits
    from trustml.models import SimpleCNN
    from trustml.widgets import cam_explorer

    X, y, names = digits_images(1)
    image = make_cluttered_digits(X, y, marker_correlation=0.0).X[0]
    set_seed(0)
    model = SimpleCNN(in_channels=3, num_classes=10, width=12, depth=3).eval()  # the episode's network
    return cam_explorer(model, image, class_names=names, target_layer="body.8", device="cpu")


def ood_scores(n_id, n_ood, k, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.r_[rng.integers(0, k, n_id), -np.ones(n_ood, int)]
    scores = np.r_[rng.normal(-10, 2.5, n_id), rng.normal(-6, 2.5, n_ood)]
    right = rng.random(n_id + n_ood) < 0.95
    predictions = np.where((labels >= 0) & right, labels, rng.integers(0, k, n_id + n_ood))
    return labels, scores, predictions


def episode13_ood_thresholds():
    from trustml.widgets import ood_threshold_explorer

    return ood_threshold_explorer(*ood_scores(2000, 7000, 2), class_names=["T-shirt/top", "Trouser"],
                                  score_name="softmax score")


def episode14_ood_thresholds():
    from trustml.widgets import ood_threshold_explorer

    return ood_threshold_explorer(*ood_scores(2000, 8000, 5), class_names=["T-shirt/top", "Trouser", "Pullover",
                                  "Dress", "Coat"], score_name="energy")  # fmt: skip


def episode13_ood_class_picker():
    from trustml.data import DataNotice, load
    from trustml.widgets import ood_class_picker

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataNotice)
        digits = load("digits")
    return ood_class_picker(digits, id_classes=["0", "1"], ood_classes=["5"])


WIDGETS = {
    "03 data-map explorer": episode03_data_map,
    "03 hardness-type explorer": episode03_hardness_types,
    "04 trajectory widget": episode04_trajectories,
    "04 class-grid widget": episode04_class_grid,
    "06 threshold explorer": episode06_thresholds,
    "09 layer explorer": episode09_layers,
    "10 CAM explorer": episode10_cam_explorer,
    "13 OOD threshold explorer": episode13_ood_thresholds,
    "13 OOD class picker": episode13_ood_class_picker,
    "14 OOD threshold explorer": episode14_ood_thresholds,
}


def moves(control, n):
    """``n`` values for ``control``, each different from the one before."""
    import ipywidgets as widgets

    if isinstance(control, (widgets.FloatSlider, widgets.IntSlider)):
        span = control.max - control.min
        positions = np.linspace(control.min + 0.1 * span, control.max - 0.1 * span, 7)
        if isinstance(control, widgets.IntSlider):
            positions = np.unique(np.round(positions).astype(int))
        positions = [p.item() for p in positions]
        cycle = positions + positions[-2:0:-1]  # there and back
    elif isinstance(control, widgets.Text):
        cycle = ["12, 40", "7 8 9", "100", ""]
    elif isinstance(control, widgets.SelectMultiple):  # pairs of options in turn (a class picker: two classes)
        options = list(control.options)
        cycle = [tuple(options[i : i + 2]) for i in range(0, len(options) - 1, 2)]
    else:  # dropdowns, toggles, selection sliders: every option in turn
        cycle = [value for _, value in control._options_labels_values()] if hasattr(
            control, "_options_labels_values") else list(control._options_values)
    values, current = [], control.value
    for value in itertools.islice(itertools.cycle(cycle), 3 * n + len(cycle)):
        if value != current:
            values.append(value)
            current = value
        if len(values) == n:
            break
    return values


def time_moves(widget, key, values):
    control = widget.controls[key]
    times = []
    for value in values:
        start = time.perf_counter()
        control.value = value
        times.append(1000 * (time.perf_counter() - start))
    return times


def time_clicks(button, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        button.click()
        times.append(1000 * (time.perf_counter() - start))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--only", help="widgets whose name contains this text")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    manager, shell = kernel_shell()
    rows = []
    for name, build in WIDGETS.items():
        if args.only and args.only not in name:
            continue
        try:
            widget = build()
        except ImportError as err:  # e.g. an older trustml, measured for a before/after table
            print(f"{name}: not in this version of trustml ({err})")
            continue
        for key, control in widget.controls.items():
            values = moves(control, args.moves)
            time_moves(widget, key, values[:2])  # warm-up: first draws, caches
            rows.append((name, f"{key} ({type(control).__name__})", time_moves(widget, key, values)))
        for key, button in getattr(widget, "buttons", {}).items():
            time_clicks(button, 2)
            rows.append((name, f"{key} (Button)", time_clicks(button, args.moves)))
    manager.shutdown_kernel()

    print(f"median / 90th percentile of {args.moves} moves, ms; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs, 1 torch thread")
    print(f"{'widget':<28} {'control':<42} {'median':>8} {'p90':>8}")
    for name, control, times in rows:
        p90 = float(np.percentile(times, 90))
        print(f"{name:<28} {control:<42} {statistics.median(times):8.1f} {p90:8.1f}")
    worst = max(statistics.median(times) for _, _, times in rows)
    print(f"slowest control: median {worst:.1f} ms (goal <= 100 ms)")


if __name__ == "__main__":
    main()
