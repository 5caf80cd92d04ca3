"""The OOD views draw what they are given; the threshold figure changes in place and matches its static view."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from refusals import assert_refused

from trustml.data import load
from trustml.ood import (
    ThresholdFigure,
    id_ood_split,
    ood_confusion_matrix,
    plot_ood_confusion_matrix,
    plot_pca,
    plot_score_densities,
    plot_threshold_sweep,
    plot_tsne,
    rates_at,
    split_view,
    threshold_sweep,
    threshold_view,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def problem(seed=0):
    rng = np.random.default_rng(seed)
    labels = np.r_[rng.integers(0, 3, 90), -np.ones(40, int)]
    scores = np.r_[rng.normal(0, 1, 90), rng.normal(2, 1, 40)]
    predictions = np.where(labels >= 0, labels, rng.integers(0, 3, 130))
    return labels, scores, predictions


def test_densities_one_curve_per_group_and_the_threshold_line():
    rng = np.random.default_rng(0)
    ax = plot_score_densities({"ID": rng.normal(0, 1, 100), "OOD": rng.normal(3, 1, 30)}, threshold=1.0)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["ID (100)", "OOD (30)", "threshold 1"]
    assert ax.get_lines()[-1].get_xdata()[0] == 1.0
    id_curve = ax.get_lines()[0]
    assert id_curve.get_xdata()[np.argmax(id_curve.get_ydata())] == pytest.approx(0, abs=0.5)  # peaks near its mean
    assert ax.get_lines()[1].get_color() != id_curve.get_color()


def test_densities_of_a_constant_or_single_score_are_drawn_as_a_spike():
    ax = plot_score_densities({"ID": np.zeros(10), "OOD": [5.0]})
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [0.0, 5.0]


@pytest.mark.parametrize("bad, error, message", [
    ([1, 2], TypeError, "scores must be a non-empty mapping"),
    ({}, TypeError, "non-empty mapping"),
    ({"ID": [np.nan]}, ValueError, r"scores\['ID'\] has 1 NaN"),
])
def test_densities_bad_input(bad, error, message):
    assert_refused(lambda: plot_score_densities(bad), error, message)


def test_pca_projects_every_group_and_fits_on_the_one_named():
    rng = np.random.default_rng(0)
    data = {"ID": rng.normal(size=(50, 6)), "OOD: far": rng.normal(5, 1, (20, 6))}
    ax = plot_pca(data, max_points=10)
    assert [c.get_label() for c in ax.collections] == ["ID", "OOD: far"]  # OOD drawn last, on top
    assert [len(c.get_offsets()) for c in ax.collections] == [10, 10]
    ax = plot_pca(data, fit_on=rng.normal(size=(30, 6)))
    assert "30 samples" in ax.get_title()
    assert_refused(lambda: plot_pca(data, fit_on="x"), ValueError, "fit_on='x' is not one of the groups")
    assert_refused(lambda: plot_pca({"a": np.zeros((3, 2)), "b": np.zeros((3, 3))}), ValueError,
                   "same number of features")


def test_tsne_embeds_every_group_together():
    rng = np.random.default_rng(0)
    ax = plot_tsne({"ID": rng.normal(size=(30, 4)), "OOD": rng.normal(6, 1, (15, 4))}, perplexity=5)
    points = {c.get_label(): c.get_offsets() for c in ax.collections}
    assert len(points["ID"]) == 30 and len(points["OOD"]) == 15
    # t-SNE keeps neighbourhoods: the nearest neighbour of (almost) every far point is another far point
    embedded = np.r_[points["ID"], points["OOD"]]
    distances = np.linalg.norm(embedded[:, None] - embedded[None], axis=-1) + np.eye(45) * 1e9
    is_ood = np.r_[np.zeros(30, bool), np.ones(15, bool)]
    assert (is_ood[distances.argmin(1)] == is_ood).mean() > 0.95


def test_sweep_plot_marks_the_best_thresholds():
    labels, scores, predictions = problem()
    ax = plot_threshold_sweep(threshold_sweep(labels, scores, predictions))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["precision", "recall", "f1"] and legend[3].startswith("best precision: ")


def test_confusion_heatmap_shows_the_counts():
    labels, scores, predictions = problem()
    cm = ood_confusion_matrix(labels, scores, predictions, threshold=1.0)
    ax = plot_ood_confusion_matrix(cm)
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(cm.to_numpy().ravel().tolist())
    assert_refused(lambda: plot_ood_confusion_matrix(cm.iloc[:2]), TypeError, "square DataFrame")


def test_threshold_figure_updates_in_place_and_matches_its_static_view():
    labels, scores, predictions = problem()
    figure = ThresholdFigure(labels, scores, predictions, class_names=["a", "b", "c"], threshold=0.0)
    axes_before = list(figure.figure.axes)
    first = figure.png()
    counts_before = [t.get_text() for t in figure.confusion.texts[-1]]
    figure.update(threshold=1.5)
    assert figure.figure.axes == axes_before  # nothing rebuilt
    assert figure.density_line.get_xdata()[0] == 1.5 and figure.sweep_line.get_xdata()[0] == 1.5
    assert [t.get_text() for t in figure.confusion.texts[-1]] != counts_before
    assert figure.rates == rates_at(ood_confusion_matrix(labels, scores, predictions, threshold=1.5))
    assert "threshold 1.5" in figure.note.get_text()
    assert figure.png() != first and figure.png()[:4] == b"\x89PNG"
    static = threshold_view(labels, scores, predictions, threshold=1.5, class_names=["a", "b", "c"])
    assert [t.get_text() for t in static.axes[0].texts] == [t.get_text() for t in figure.figure.axes[0].texts]
    assert static.texts[0].get_text() == figure.note.get_text()


def test_threshold_figure_starts_at_the_best_f1_threshold():
    from trustml.ood import best_thresholds

    labels, scores, predictions = problem()
    figure = ThresholdFigure(labels, scores, predictions)
    assert figure.threshold == best_thresholds(figure.sweep).loc["f1", "threshold"]


def test_split_view_draws_pca_and_softmax_densities():
    split = id_ood_split(load("digits"), ["0", "1"], ["5"])
    figure = split_view(split)
    pca_ax, density_ax = figure.axes
    assert [c.get_label() for c in pca_ax.collections] == ["ID: 0", "ID: 1", "OOD: 5"]
    assert density_ax.get_title().startswith("Logistic regression: AUROC 0.9")
    assert_refused(lambda: split_view(load("digits")), TypeError, "split must be what id_ood_split returns")
    one_class = id_ood_split(load("digits"), ["0"], ["5"])
    assert_refused(lambda: split_view(one_class), ValueError, "at least two ID classes")
