"""trustml.widgets on bad input: refused with trustml's own message before any control or figure is built."""

import functools

import numpy as np
import pandas as pd
import pytest
import torch
from refusals import assert_refused

from trustml.data import load_german_credit
from trustml.fairness import favourable_scores, fit_model, protected_groups, split_train_val_test
from trustml.hardness import HardnessGrid, categorize, characterize
from trustml.models import MLP
from trustml.widgets import (
    category_grid_view,
    category_grid_widget,
    data_map_explorer,
    hardness_type_explorer,
    layer_explorer,
    layer_view,
    threshold_explorer,
    trajectory_view,
    trajectory_widget,
)

RNG = np.random.default_rng(0)
SIGMA = np.exp(np.cumsum(RNG.normal(0, 0.2, size=(5, 30)), axis=0))  # 5 epochs, 30 samples
CATEGORIES = categorize(SIGMA)
LABELS = np.arange(30) % 3
NAMES = ["cat", "dog", "bird"]
IMAGES = RNG.random((30, 1, 8, 8))


@functools.cache
def run():
    torch.set_num_threads(1)
    X, y = torch.rand(40, 1, 8, 8), torch.arange(40) % 3
    return characterize(MLP(64, 3), X, y, epochs=2, methods=["aum", "loss"]), X


@functools.cache
def grid():
    X, y = torch.rand(40, 1, 8, 8).numpy(), (np.arange(40) % 3)
    return HardnessGrid(X, y, model=lambda: MLP(64, 3), kinds=["uniform"], proportions=[0.2], epochs=1,
                        methods=["aum"])  # fmt: skip


@functools.cache
def credit():
    train, val, _ = split_train_val_test(load_german_credit())
    return val, favourable_scores(fit_model(train), val)


def _trajectories(widget=True, **changes):
    arguments = dict(trajectories=SIGMA, categories=CATEGORIES, labels=LABELS, class_names=NAMES)
    arguments.update(changes)
    if widget:
        return lambda: trajectory_widget(**arguments)
    view = {k: arguments.pop(k) for k in ("class_name", "category", "indices", "n", "seed") if k in arguments}
    return lambda: trajectory_view(**arguments, **view)


def _grid_view(widget=True, **changes):
    arguments = dict(images=IMAGES, categories=CATEGORIES, sigma=SIGMA[-1], labels=LABELS, class_names=NAMES)
    arguments.update(changes)
    if widget:
        return lambda: category_grid_widget(**arguments)
    return lambda: category_grid_view(**{"class_name": "cat", **arguments})


POINTS = RNG.normal(size=(3, 20, 2))  # 3 layers, 20 sentences
SENTIMENT = {"sentiment": (np.arange(20) % 2, ["negative", "positive"])}
TABLES = {"sentiment": pd.DataFrame({"accuracy": [0.5, 0.7, 0.9]}).rename_axis("layer")}


def _layers(widget=False, **changes):
    arguments = dict(projections=POINTS, properties=SENTIMENT, tables=TABLES, layer=1, colour_by="sentiment")
    arguments.update(changes)
    return lambda: (layer_explorer if widget else layer_view)(**arguments)


def _explorer(**changes):
    return lambda: data_map_explorer(run()[0], **{"X": run()[1], **changes})


LAYERS = [
    ("layers: projections text", _layers(projections=POINTS.astype(str)), TypeError, "projections must hold numbers"),
    ("layers: projections NaN", _layers(projections=POINTS * np.nan), ValueError, "projections has 120 NaN"),
    ("layers: projections 3-D points", _layers(projections=np.zeros((3, 20, 3))), ValueError,
     r"projections must be \(layers, sentences, 2\)"),
    ("layers: no layers", _layers(projections=POINTS[:0]), ValueError, r"projections must be \(layers, sentences, 2\)"),
    ("layers: labels by name", _layers(properties={"sentiment": (np.array(["neg"] * 20), ["neg", "pos"])}),
     TypeError, r"properties\['sentiment'\]'s labels must hold integer class indices"),
    ("layers: labels fractional", _layers(properties={"sentiment": (np.arange(20) / 2, ["neg", "pos"])}),
     TypeError, "integer class indices"),
    ("layers: labels beyond names", _layers(properties={"sentiment": (np.arange(20) % 3, ["neg", "pos"])}),
     ValueError, r"class index 2 but there are only 2 classes \(one per class name\)"),
    ("layers: names a string", _layers(properties={"sentiment": (np.arange(20) % 2, "np")}), TypeError,
     "class names must be a list of names"),
    ("layers: a name twice", _layers(properties={"sentiment": (np.arange(20) % 2, ["a", "a"])}), ValueError,
     "'a' more than once"),
    ("layers: a property as a list", _layers(properties={"sentiment": [np.arange(20) % 2, ["a", "b"]]}),
     ValueError, r"must be a pair \(labels, class_names\)"),
    ("layers: accuracy text", _layers(tables={"sentiment": TABLES["sentiment"].assign(accuracy="a")}), TypeError,
     r"tables\['sentiment'\]\['accuracy'\] must hold numbers"),
    ("layers: a table short", _layers(tables={"sentiment": TABLES["sentiment"].iloc[:2]}), ValueError,
     "one row per layer"),
    ("layers: layer 5", _layers(layer=5), ValueError, "layer must be an integer from 0 to 2, got 5"),
    ("layers: layer 1.0", _layers(layer=1.0), ValueError, "layer must be an integer from 0 to 2"),
    ("layers: property unknown", _layers(colour_by="topic"), ValueError, "colour_by must be one of"),
    ("layer explorer: layer 5", _layers(widget=True, layer=5), ValueError, "layer must be an integer from 0 to 2"),
    ("layer explorer: layer -1", _layers(widget=True, layer=-1), ValueError, "layer must be an integer from 0"),
    ("layer explorer: property a list", _layers(widget=True, colour_by=["sentiment"]), ValueError,
     "colour_by must be one of"),
]

REFUSED = LAYERS + [
    ("trajectories: labels by name", _trajectories(labels=np.array(["cat"] * 30)), TypeError,
     "map class names to indices"),
    ("trajectories: labels fractional", _trajectories(labels=LABELS + 0.5), TypeError, "integer class indices"),
    ("trajectories: labels short", _trajectories(labels=LABELS[:10]), ValueError,
     "labels has 10 entries but there are 30 samples"),
    ("trajectories: labels beyond the names", _trajectories(class_names=["cat"]), ValueError,
     r"class index 2 but there is only 1 class \(one per name in class_names\)"),
    ("trajectories: no class names", _trajectories(class_names=[]), ValueError, "class_names is empty"),
    ("trajectories: names as one string", _trajectories(class_names="abc"), TypeError,
     "class_names must be a list of names"),
    ("trajectories: a name twice", _trajectories(class_names=["cat", "cat", "dog"]), ValueError,
     "'cat' more than once"),
    ("trajectories: a class named 'all'", _trajectories(class_names=["all", "dog", "bird"]), ValueError,
     "class_names has 'all', which the class picker uses"),
    ("trajectories: categories short", _trajectories(categories=CATEGORIES[:10]), ValueError,
     r"categories must have one entry per sample \(30\)"),
    ("trajectories: unknown categories", _trajectories(categories=np.repeat("medium", 30)), ValueError,
     "Unknown categories"),
    ("trajectories: images short", _trajectories(images=IMAGES[:5]), ValueError,
     "images has 5 samples but the trajectories have 30"),
    ("trajectories: images of rows", _trajectories(images=IMAGES[:, 0, 0]), ValueError, "1 or 3 channels"),
    ("trajectories: 8-bit images", _trajectories(images=IMAGES * 255), ValueError, "divide 8-bit images by 255"),
    ("trajectories: mask short", _trajectories(mask=np.zeros(5, bool)), ValueError, "mask has 5 entries"),
    ("trajectories: (N, epochs)", _trajectories(trajectories=SIGMA.T), ValueError,
     r"trajectories has shape \(30, 5\), \(epochs, N\) with 5 samples, but labels has 30: .* trajectories.T"),
    ("trajectories: a list", _trajectories(trajectories=SIGMA.tolist()), TypeError, "numpy array or tensor"),
    ("trajectories: log σ", _trajectories(trajectories=np.log(SIGMA)), ValueError, "positive, finite temperatures"),
    ("trajectory view: n 0", _trajectories(widget=False, n=0), ValueError, "n must be an integer from 1 to 12"),
    ("trajectory view: n 20", _trajectories(widget=False, n=20), ValueError, "n must be an integer from 1 to 12"),
    ("trajectory view: seed -1", _trajectories(widget=False, seed=-1), ValueError, "seed must be a non-negative"),
    ("trajectory view: class unknown", _trajectories(widget=False, class_name="fish"), ValueError,
     r"Unknown class 'fish'; the classes are \['cat', 'dog', 'bird'\]"),
    ("trajectory view: category unknown", _trajectories(widget=False, category="medium"), ValueError,
     "Unknown category 'medium'"),
    ("trajectory view: numbers as a list", _trajectories(widget=False, indices=[1, 2]), TypeError,
     "indices must be text with sample numbers"),
    ("trajectory view: 13 numbers", _trajectories(widget=False, indices=" ".join(map(str, range(13)))), ValueError,
     "Type at most 12 sample numbers, got 13"),
    ("trajectory view: a number out of range", _trajectories(widget=False, indices="3, 30"), ValueError,
     r"Sample numbers \[30\] are out of range 0..29"),
    ("trajectory view: words", _trajectories(widget=False, indices="three"), ValueError,
     "Type sample numbers separated by commas"),
    ("category grid: images short", _grid_view(images=IMAGES[:10]), ValueError,
     "images has 10 samples but labels has 30: give one image per sample"),
    ("category grid: no class names", _grid_view(class_names=[]), ValueError, "class_names is empty"),
    ("category grid: labels by name", _grid_view(labels=np.array(["cat"] * 30)), TypeError,
     "map class names to indices"),
    ("category grid: mask short", _grid_view(mask=np.zeros(5, bool)), ValueError, "mask has 5 entries but there"),
    ("category grid: σ short", _grid_view(sigma=SIGMA[-1][:5]), ValueError, r"sigma must have one temperature per"),
    ("category grid: per row 0", _grid_view(per_row=0), ValueError, "per_row must be a positive integer"),
    ("category grid view: every class", _grid_view(widget=False, class_name="all"), ValueError, "Choose one class"),
    ("category grid view: σ NaN", _grid_view(widget=False, sigma=np.full(30, np.nan)), ValueError, "sigma has 30 NaN"),
    ("data map explorer: images short", _explorer(X=torch.rand(10, 1, 8, 8)), ValueError,
     "X has 10 images but the result has 40 samples"),
    ("data map explorer: names short", _explorer(class_names=["a"]), ValueError,
     "class_names has 1 names but there are 3 classes"),
    ("data map explorer: a name twice", _explorer(class_names=["a", "a", "b"]), ValueError, "'a' more than once"),
    ("data map explorer: a class named 'all classes'", _explorer(class_names=["all classes", "b", "c"]), ValueError,
     "which the class picker uses for every class"),
    ("data map explorer: mask short", _explorer(mask=np.zeros(5, bool)), ValueError, "mask has 5 entries"),
    ("data map explorer: no images", _explorer(n_images=0), ValueError, "n_images must be a positive integer"),
    ("data map explorer: labels short", _explorer(original_labels=np.zeros(5, int)), ValueError,
     "original_labels has 5 entries"),
    ("data map explorer: rows, not images", _explorer(X=torch.rand(40, 64)), ValueError, "for tabular data leave X"),
    ("data map explorer: not a result", lambda: data_map_explorer({"aum": None}), TypeError,
     "result must be what characterize"),
    ("hardness explorer: method unknown", lambda: hardness_type_explorer(grid(), method="loss"), ValueError,
     "Unknown method 'loss' for this grid; it has: aum"),
    ("hardness explorer: k 0", lambda: hardness_type_explorer(grid(), k=0), ValueError,
     "k must be a positive integer"),
    ("hardness explorer: names as a string", lambda: hardness_type_explorer(grid(), class_names="abc"), TypeError,
     "class_names must be a list of names"),
    ("hardness explorer: names short", lambda: hardness_type_explorer(grid(), class_names=["a"]), ValueError,
     "class_names has 1 names but there are 3 classes"),
    ("hardness explorer: not a grid", lambda: hardness_type_explorer(run()[0]), TypeError,
     "grid must be a HardnessGrid"),
    ("threshold explorer: threshold a list", lambda: threshold_explorer(*credit(), **protected_groups(credit()[0]),
     threshold=[0.3, 0.6]), TypeError, r"threshold must be a number in \[0, 1\], got \[0.3, 0.6\]"),
    ("threshold explorer: threshold text", lambda: threshold_explorer(*credit(), **protected_groups(credit()[0]),
     threshold="0.5"), TypeError, "threshold must be a number"),
    ("threshold explorer: identical groups", lambda: threshold_explorer(*credit(), privileged_groups=[{"sex": 1.0}],
     unprivileged_groups=[{"sex": 1.0}]), ValueError, "overlap: 203 rows are in both"),
    ("threshold explorer: scores short", lambda: threshold_explorer(credit()[0], credit()[1][:10],
     **protected_groups(credit()[0])), ValueError, "scores has 10 values but the dataset has 300 rows"),
]


@pytest.mark.parametrize("call, error, phrase", [pytest.param(*case[1:], id=case[0]) for case in REFUSED])
def test_bad_input_is_refused_before_any_widget_is_built(call, error, phrase):
    assert_refused(call, error, phrase)
