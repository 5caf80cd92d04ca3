"""Data enrichment from temperature trajectories: categories, t-SNE, plots and their widgets."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba

from trustml.hardness import (
    categorize,
    plot_category_grid,
    plot_trajectories,
    plot_trajectory_tsne,
    trajectory_tsne,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def three_kinds(n_each=20, epochs=10, seed=0):
    """σ trajectories: falling (easy), rising (hard), rising then falling across 1 (need-review)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, epochs)[:, None]
    easy = -1.0 * t + rng.normal(0, 0.02, (epochs, n_each))
    hard = 1.5 * t + rng.normal(0, 0.02, (epochs, n_each))
    review = 0.8 * np.sin(np.pi * 1.5 * t) + rng.normal(0, 0.02, (epochs, n_each))  # crosses 0 late
    log_sigma = np.concatenate([easy, hard, review], axis=1)
    log_sigma[0] = 0.01 * rng.normal(size=3 * n_each)
    truth = np.repeat(["easy", "hard", "need-review"], n_each)
    return np.exp(log_sigma), truth


def test_categorize_follows_the_sign_of_log_sigma_over_the_window():
    sigma, truth = three_kinds()
    assert categorize(sigma).tolist() == truth.tolist()
    # only the last epoch: the late crossers have ended below 1, so they count as easy
    assert (categorize(sigma, window=0.1)[truth == "need-review"] == "easy").all()
    # a margin moves samples that barely moved into need-review
    small = np.exp(np.array([[0.0, 0.0], [-0.05, 0.5], [-0.1, 0.6]]))
    assert categorize(small).tolist() == ["easy", "hard"]
    assert categorize(small, margin=0.2).tolist() == ["need-review", "hard"]


def test_categorize_accepts_a_tensor_and_names_bad_input():
    sigma, truth = three_kinds(n_each=3)
    assert categorize(torch.from_numpy(sigma)).tolist() == truth.tolist()
    with pytest.raises(ValueError, match="positive, finite temperatures"):
        categorize(np.log(sigma))
    with pytest.raises(ValueError, match=r"shape \(epochs, N\)"):
        categorize(sigma[0])
    with pytest.raises(TypeError, match="numpy array or tensor"):
        categorize(sigma.tolist())
    with pytest.raises(ValueError, match=r"window must be a number in \(0, 1\] \(a share of the epochs\)"):
        categorize(sigma, window=0)
    with pytest.raises(ValueError, match="margin must be a non-negative"):
        categorize(sigma, margin=-0.1)


def test_tsne_puts_alike_trajectories_together():
    sigma, truth = three_kinds(n_each=15)
    embedding = trajectory_tsne(sigma, perplexity=8)
    assert embedding.shape == (45, 2)
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(5).fit(embedding, truth)
    assert knn.score(embedding, truth) > 0.95
    with pytest.raises(ValueError, match=r"perplexity must be a number in \(0, 45\) \(below the number of samples\)"):
        trajectory_tsne(sigma, perplexity=100)


def test_plot_trajectories_draws_each_sample_in_its_category_colour():
    sigma, truth = three_kinds(n_each=4)
    images = np.random.default_rng(0).random((12, 1, 8, 8))
    fig = plot_trajectories(
        sigma, [0, 4, 8], categories=truth, labels=np.arange(12) % 3, class_names=["a", "b", "c"],
        mask=np.arange(12) == 4, images=images, title="three",
    )
    ax = fig.axes[0]
    colours = [to_rgba(line.get_color()) for line in ax.lines[:3]]
    assert colours == [to_rgba("green"), to_rgba("red"), to_rgba("orange")]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[1] == "#4 label b (hard) perturbed"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), sigma[:, 4])
    assert ax.get_xlabel() == "epoch" and "σ" in ax.get_ylabel()
    thumbnails = [ax for ax in fig.axes[1:] if ax.images[0].get_visible()]  # 12 slots, three of them used
    assert [ax.get_title() for ax in thumbnails] == ["#0", "#4", "#8"]
    assert to_rgba(fig.axes[2].spines["top"].get_edgecolor()) == to_rgba("red")


def test_plot_trajectories_names_bad_input():
    sigma, truth = three_kinds(n_each=4)
    with pytest.raises(ValueError, match="out of range 0..11"):
        plot_trajectories(sigma, [3, 12])
    with pytest.raises(ValueError, match="between 1 and 12 samples"):
        plot_trajectories(sigma, list(range(13)))
    with pytest.raises(ValueError, match="Unknown categories"):
        plot_trajectories(sigma, [0], categories=np.repeat("medium", 12))
    with pytest.raises(ValueError, match="one entry per sample"):
        plot_trajectories(sigma, [0], categories=truth[:5])
    with pytest.raises(ValueError, match="mask must be boolean"):
        plot_trajectories(sigma, [0], mask=np.full(12, 2))
    with pytest.raises(ValueError, match="images has 3 samples"):
        plot_trajectories(sigma, [0], images=np.zeros((3, 1, 4, 4)))


def test_tsne_plot_colours_points_and_borders_thumbnails_by_category():
    sigma, truth = three_kinds(n_each=10)
    embedding = trajectory_tsne(sigma, perplexity=5)
    fig = plot_trajectory_tsne(embedding, truth, images=np.zeros((30, 3, 8, 8)), n_thumbnails=6)
    ax = fig.axes[0]
    assert [to_rgba(c.get_facecolor()[0]) for c in ax.collections] == [
        to_rgba("green"), to_rgba("orange"), to_rgba("red")
    ]
    boxes = [a for a in ax.artists if a.__class__.__name__ == "AnnotationBbox"]
    assert len(boxes) == 6
    assert ax.get_xlabel() == "t-SNE 1" and ax.get_ylabel() == "t-SNE 2"
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot_trajectory_tsne(embedding[:, :1], truth)


def test_category_grid_rows_borders_and_order():
    images = np.random.default_rng(0).random((7, 1, 8, 8))
    categories = ["easy", "hard", "easy", "need-review", "easy", "hard", "hard"]
    sigma = [0.5, 3.0, 0.3, 1.1, 0.9, 8.0, 2.0]
    fig = plot_category_grid(images, categories, sigma, per_row=3, indices=np.arange(100, 107),
                             mask=np.array([0, 1, 0, 0, 0, 1, 0], bool))
    axes = np.array(fig.axes).reshape(3, 3)
    titles = [[ax.get_title() for ax in row] for row in axes]
    assert titles[0] == ["#102 σ=0.3", "#100 σ=0.5", "#104 σ=0.9"]  # easy: lowest σ first
    assert titles[1] == ["#105 σ=8\nperturbed", "#101 σ=3\nperturbed", "#106 σ=2"]  # hard: highest first
    assert titles[2] == ["#103 σ=1.1", "", ""]
    for row, colour in zip(axes, ("green", "red", "orange")):
        assert to_rgba(row[0].spines["left"].get_edgecolor()) == to_rgba(colour)
    assert "hard\n3 of 7" in _texts(axes[1, 0])
    # an empty category keeps its row label and says "none"
    fig = plot_category_grid(images[:2], ["easy", "easy"], [0.5, 0.6], per_row=2)
    assert "none" in _texts(fig.axes[2]) and "hard\n0 of 2" in _texts(fig.axes[2])


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_category_grid_names_bad_input():
    images = np.zeros((3, 1, 4, 4))
    with pytest.raises(ValueError, match="one temperature per image"):
        plot_category_grid(images, ["easy"] * 3, [1.0, 2.0])
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plot_category_grid(np.zeros((3, 2, 4, 4)), ["easy"] * 3, [1.0] * 3)
    with pytest.raises(ValueError, match="per_row must be a positive integer"):
        plot_category_grid(images, ["easy"] * 3, [1.0] * 3, per_row=0)


def test_temperature_detection_plot_shows_auroc_per_epoch_and_both_groups():
    from sklearn.metrics import roc_auc_score

    from trustml.hardness import plot_temperature_detection

    sigma, truth = three_kinds(n_each=10)
    mask = truth == "hard"
    fig = plot_temperature_detection(sigma, mask)
    left, right = fig.axes
    auroc = right.lines[0].get_ydata()
    assert len(auroc) == len(sigma) and auroc[-1] == roc_auc_score(mask, sigma[-1])
    assert sum(patch.get_height() for patch in left.patches) == len(mask)  # every sample in a histogram
    ticks = [t.get_text() for t in left.get_xticklabels()]
    assert ticks and all("^" not in tick for tick in ticks)
    assert left.get_xlabel().startswith("final temperature") and right.get_ylabel().startswith("AUROC")
    with pytest.raises(ValueError, match="some samples as perturbed and some as not"):
        plot_temperature_detection(sigma, np.zeros(len(mask), bool))


def test_trajectory_axis_has_plain_tick_labels():
    sigma, truth = three_kinds(n_each=3)
    fig = plot_trajectories(sigma, [0, 3])
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "1" in labels and not any("10^" in label or "times" in label for label in labels)
