"""Data-parameter widgets: trajectories of chosen samples and each class's easy / hard / need-review grid."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from trustml.widgets import category_grid_view, category_grid_widget, trajectory_view, trajectory_widget
from widget_checks import assert_each_move_redraws


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def grid_data():
    """18 samples: 6 easy (σ falling), 6 hard (rising), 6 need-review; labels alternate cat / dog."""
    rng = np.random.default_rng(0)
    t = np.repeat(np.linspace(0, 1, 8)[:, None], 6, axis=1)
    log_sigma = np.concatenate([-t, 1.5 * t, 0.8 * np.sin(np.pi * 1.5 * t)], axis=1)
    log_sigma += rng.normal(0, 0.02, log_sigma.shape)
    truth = np.repeat(["easy", "hard", "need-review"], 6)
    labels = np.arange(18) % 2
    images = torch.rand(18, 1, 8, 8)
    return np.exp(log_sigma), truth, labels, images, ["cat", "dog"]


def test_trajectory_view_draws_by_class_category_or_typed_numbers():
    sigma, truth, labels, images, names = grid_data()
    fig = trajectory_view(sigma, truth, labels, names, class_name="dog", category="hard", n=12)
    drawn = [int(t.get_text().split()[0][1:]) for t in fig.axes[0].get_legend().get_texts()]
    assert drawn and all(labels[i] == 1 and truth[i] == "hard" for i in drawn)
    assert len(drawn) == 3  # only three hard samples are labelled dog
    fig = trajectory_view(sigma, truth, labels, names, indices="2, 17")
    assert [t.get_text().split()[0] for t in fig.axes[0].get_legend().get_texts()] == ["#2", "#17"]
    empty = trajectory_view(sigma, truth, labels, names, class_name="cat", category="easy", n=3, seed=1)
    assert isinstance(empty, Figure)
    with pytest.raises(ValueError, match="Unknown class 'cow'"):
        trajectory_view(sigma, truth, labels, names, class_name="cow")
    with pytest.raises(ValueError, match="Unknown category"):
        trajectory_view(sigma, truth, labels, names, category="medium")
    with pytest.raises(ValueError, match="separated by commas"):
        trajectory_view(sigma, truth, labels, names, indices="two")


def _drawn_lines(fig):
    return [line.get_label() for line in fig.axes[0].lines if line.get_visible()]


def test_trajectory_widget_redraws_when_a_control_moves():
    sigma, truth, labels, images, names = grid_data()
    w = trajectory_widget(sigma, truth, labels, names, images=images)
    first = _drawn_lines(w.result.figure)
    w.controls["category"].value = "easy"
    assert w.redraws == 2
    assert all("(easy)" in t.get_text() for t in w.result.figure.axes[0].get_legend().get_texts())
    w.controls["seed"].value = 3
    w.controls["class_name"].value = "cat"
    w.controls["indices"].value = "5"
    assert [t.get_text().split()[0] for t in w.result.figure.axes[0].get_legend().get_texts()] == ["#5"]
    assert first != _drawn_lines(w.result.figure)
    w.controls["indices"].value = "five"  # a typing mistake becomes a message
    assert isinstance(w.result, str) and "separated by commas" in w.result
    assert "separated by commas" in w.frame.children[0].value


def test_trajectory_widget_draws_what_trajectory_view_draws():
    sigma, truth, labels, images, names = grid_data()
    w = trajectory_widget(sigma, truth, labels, names, images=images, mask=truth == "hard")
    moves = [("category", "hard"), ("n", 2), ("seed", 4), ("class_name", "dog"), ("category", "easy"),
             ("indices", "3 4 5"), ("indices", ""), ("class_name", "cat"), ("n", 12)]
    assert_each_move_redraws(w, moves, static=lambda **values: trajectory_view(
        sigma, truth, labels, names, images=images, mask=truth == "hard", **values))


def test_category_grid_view_and_widget_show_one_class():
    sigma, truth, labels, images, names = grid_data()
    fig = category_grid_view(images, truth, sigma[-1], labels, names, class_name="dog", per_row=4)
    numbers = [int(ax.get_title().split()[0][1:]) for ax in fig.axes if ax.get_title()]
    assert numbers and all(labels[i] == 1 for i in numbers)
    w = category_grid_widget(images, truth, sigma[-1], labels, names, per_row=4)
    assert_each_move_redraws(w, [("class_name", "dog"), ("class_name", "cat")], static=lambda class_name: (
        category_grid_view(images, truth, sigma[-1], labels, names, class_name=class_name, per_row=4)))
    assert w.redraws == 3
    assert "'cat'" in w.result.figure._suptitle.get_text()
    with pytest.raises(ValueError, match="Choose one class"):
        category_grid_view(images, truth, sigma[-1], labels, names, class_name="all")
    with pytest.raises(ValueError, match=r"labels has class index 6 but there are only 2 classes \(one per name"):
        category_grid_view(images, truth, sigma[-1], labels + 5, names, class_name="cat")
