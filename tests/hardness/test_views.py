"""The hardness views draw what they claim: data maps, method rankings, top-k images."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from trustml.hardness import Characterization, evaluate, plot_data_map, plot_hardest, plot_method_ranking
from trustml.hardness._methods import data_map, easy_ambiguous_hard

N, K, EPOCHS = 60, 3, 4


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _logits_for(p_label: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(epochs, N, K) logits whose softmax gives the label probability ``p_label`` (epochs, N)."""
    logits = np.zeros((len(p_label), len(labels), K))
    other = (1 - p_label) / (K - 1)
    logits[:] = np.log(other)[..., None]
    np.put_along_axis(logits, np.broadcast_to(labels[None, :, None], logits.shape[:2] + (1,)), np.log(p_label)[..., None], -1)
    return logits


@pytest.fixture
def known():
    """60 samples: 0-9 consistently wrong (hard), 10-19 changing their mind (ambiguous), 20-59 easy.

    The first 10 are the "perturbed" ones; their label probability falls with the index,
    so sample 9 is the least confident.
    """
    rng = np.random.default_rng(0)
    labels = np.arange(N) % K
    p = np.empty((EPOCHS, N))
    p[:, :10] = np.linspace(0.15, 0.02, 10)
    p[:, 10:20] = np.array([0.1, 0.9, 0.2, 0.8])[:, None]
    p[:, 20:] = 0.97 - 0.001 * np.arange(40)
    logits = torch.from_numpy(_logits_for(p, labels)).float()
    final = logits[-1].clone()
    final[:10] = torch.from_numpy(np.eye(K)[(labels[:10] + 1) % K] * 5).float()  # predicted: another class
    scores = {
        "aum": np.r_[np.linspace(2, 3, 10), rng.uniform(0, 1, N - 10)],  # perfect
        "loss": rng.uniform(0, 1, N),  # chance
        "conf_agree": np.r_[np.zeros(10), np.ones(N - 10)],  # backwards
    }
    stats = data_map(logits, labels)
    result = Characterization(scores, labels, logits, final, stats, {}, None)
    X = torch.rand(N, 1, 8, 8)
    mask = np.arange(N) < 10
    return result, X, mask


def _shown_indices(fig, X):
    """Which samples the image axes of a figure show, by matching their pixels."""
    pixels = X[:, 0].numpy()
    shown = []
    for ax in fig.axes:
        if ax.images and ax.images[0].get_visible():  # a widget's figure keeps unused image slots, blank
            image = np.asarray(ax.images[0].get_array())
            shown.append(int(np.flatnonzero([np.allclose(image, p) for p in pixels])[0]))
    return shown


def _framed(fig):
    return [ax for ax in fig.axes if ax.images and ax.images[0].get_visible() and ax.spines["left"].get_visible()]


def _points(ax, label):
    """The offsets of the scatter whose legend label starts with ``label``."""
    (collection,) = [c for c in ax.collections if c.get_label().startswith(label)]
    return collection.get_offsets()


def _legend(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


# --------------------------------------------------------------------------- data map


def test_data_map_colours_the_groups_and_shows_the_hardest_first(known):
    result, X, mask = known
    fig = plot_data_map(result, X, mask=mask, n_images=4)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("variability") and ax.get_ylabel().startswith("confidence")
    assert _legend(fig) == ["easy (40)", "ambiguous (10)", "hard (10)", "truly perturbed (10)", "shown on the right"]
    # hard: lowest confidence first (sample 9, then 8, ...), all of them truly perturbed
    assert _shown_indices(fig, X) == [9, 8, 7, 6]
    assert len(_framed(fig)) == 4
    assert "10 hard samples, 10 truly perturbed" in fig.subfigs[1].get_suptitle()
    # the points sit where the statistics say
    hard = _points(ax, "hard")
    stats = result.data_map.iloc[:10]
    np.testing.assert_allclose(np.sort(hard[:, 1]), np.sort(stats["confidence"]), rtol=1e-6)


def test_data_map_aleatoric_axis_thresholds_and_groups(known):
    result, X, mask = known
    fig = plot_data_map(result, X, uncertainty="aleatoric", group="ambiguous", n_images=3)
    assert fig.axes[0].get_xlabel().startswith("aleatoric")
    ambiguous = _points(fig.axes[0], "ambiguous")
    np.testing.assert_allclose(np.sort(ambiguous[:, 0]), np.sort(result.data_map["aleatoric"].iloc[10:20]), rtol=1e-6)
    assert set(_shown_indices(fig, X)) <= set(range(10, 20))
    # the groups follow the thresholds given
    for threshold in (0.05, 0.12, 0.2):
        fig = plot_data_map(result, X, confidence_threshold=threshold, uncertainty_threshold=0.3)
        groups = easy_ambiguous_hard(
            result.data_map["confidence"], result.data_map["variability"],
            confidence_threshold=threshold, uncertainty_threshold=0.3,
        )  # fmt: skip
        assert f"hard ({(groups == 'hard').sum()})" in _legend(fig)


def test_data_map_easy_group_shows_the_most_confident(known):
    result, X, _ = known
    fig = plot_data_map(result, X, group="easy", n_images=2)
    assert _shown_indices(fig, X) == [20, 21]
    assert not _framed(fig)  # no mask given: no frames


def test_data_map_class_picker_by_name(known):
    result, X, mask = known
    fig = plot_data_map(result, X, mask=mask, class_name="cat", class_names=["cat", "dog", "bird"], n_images=12)
    assert fig.axes[0].get_title().endswith("class cat")
    assert "other classes" in _legend(fig)
    assert all(result.labels[i] == 0 for i in _shown_indices(fig, X))
    assert "hard (4)" in _legend(fig)  # samples 0, 3, 6, 9
    assert "label cat" in fig.axes[1].get_title()


def test_data_map_captions_say_what_a_label_was(known):
    result, X, mask = known
    original = (result.labels + 1) % K
    fig = plot_data_map(result, X, mask=mask, original_labels=original, n_images=1)
    assert fig.axes[1].get_title() == "label 0 (was 1)\npredicted 1"  # sample 9


def test_data_map_says_so_when_a_region_is_empty(known):
    result, X, _ = known
    fig = plot_data_map(result, X, confidence_threshold=0.0)  # nothing is that unconfident
    texts = [t.get_text() for part in [*fig.axes, *fig.subfigs] for t in part.texts]
    assert any("no sample falls in this region" in t for t in texts)


def test_data_map_without_images_draws_only_the_map(known):
    result, _, _ = known
    fig = plot_data_map(result)
    assert len(fig.axes) == 1 and not fig.subfigs


def test_data_map_rgb_images(known):
    result, _, _ = known
    X = torch.rand(N, 3, 8, 8)
    fig = plot_data_map(result, X, n_images=2)
    assert np.asarray(fig.axes[1].images[0].get_array()).shape == (8, 8, 3)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(uncertainty="epistemic"), ValueError, "'variability' .Data Maps. or 'aleatoric'"),
        (dict(group="medium"), ValueError, "group must be one of hard, ambiguous, easy"),
        (dict(class_name="7"), ValueError, "Unknown class_name '7'"),
        (dict(class_names=["a", "b"]), ValueError, "class_names has 2 names but there are 3 classes"),
        (dict(mask=np.ones(5, bool)), ValueError, "mask has 5 entries but there are 60 samples"),
        (dict(mask=np.full(N, 2)), ValueError, "mask must be boolean"),
        (dict(n_images=0), ValueError, "n_images must be a positive integer"),
        (dict(confidence_threshold=0.7), ValueError, r"confidence_threshold must be a number in \[0, 0.5\]"),
    ],
)
def test_data_map_bad_input(known, kwargs, error, match):
    result, X, _ = known
    with pytest.raises(error, match=match):
        plot_data_map(result, X, **kwargs)


def test_views_name_bad_results_and_images(known):
    result, X, mask = known
    with pytest.raises(TypeError, match="what characterize.. returned"):
        plot_data_map(result.data_map, X)
    with pytest.raises(ValueError, match="X has 5 images but the result has 60 samples"):
        plot_data_map(result, X[:5])
    with pytest.raises(ValueError, match="1 or 3 channels.*leave X out"):
        plot_method_ranking(result, mask, X[:, 0].reshape(N, -1))


# --------------------------------------------------------------------------- method ranking


def test_method_ranking_bars_are_evaluate_aurocs(known):
    result, X, mask = known
    fig = plot_method_ranking(result, mask, X, method="aum", k=5, title="planted")
    ax = fig.axes[0]
    widths = [bar.get_width() for bar in ax.patches]
    expected = evaluate(result.scores, mask)["auroc"]
    np.testing.assert_allclose(widths, expected.loc[["aum", "conf_agree", "loss"]])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["aum", "conf_agree", "loss"]
    colours = [bar.get_facecolor() for bar in ax.patches]
    assert colours[0] != colours[1] == colours[2]  # the chosen method stands out
    assert ax.get_xlabel() == "AUROC for the perturbed samples (0.5 = chance)"


def test_method_ranking_shows_the_methods_top_k(known):
    result, X, mask = known
    fig = plot_method_ranking(result, mask, X, method="aum", k=5)
    assert _shown_indices(fig, X) == list(result.hardest("aum", 5))
    assert len(_framed(fig)) == 5
    assert "aum's 5 hardest: 5 truly perturbed" in fig.subfigs[1].get_suptitle()
    fig = plot_method_ranking(result, mask, X, method="conf_agree", k=5)
    assert not _framed(fig)
    assert "(precision 0.00; chance 0.17)" in fig.subfigs[1].get_suptitle()


def test_method_ranking_says_what_a_label_was(known):
    result, X, mask = known
    original = result.labels.copy()
    original[9] = (original[9] + 1) % K
    fig = plot_method_ranking(result, mask, X, method="aum", k=1, class_names=["a", "b", "c"], original_labels=original)
    assert fig.axes[1].get_title() == "label a (was b)\npredicted b"


def test_method_ranking_bad_input(known):
    result, X, mask = known
    with pytest.raises(ValueError, match="No scores for method 'vog'; this result has: aum, loss, conf_agree"):
        plot_method_ranking(result, mask, X, method="vog")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        plot_method_ranking(result, mask, X, k=-1)
    with pytest.raises(ValueError, match="both perturbed"):
        plot_method_ranking(result, np.zeros(N, bool), X)


# --------------------------------------------------------------------------- top-k grid


def test_hardest_grid_one_row_per_method(known):
    result, X, mask = known
    fig = plot_hardest(result, X, k=4, mask=mask)
    assert len(fig.axes) == 3 * 4
    rows = [fig.axes[i * 4].get_ylabel() for i in range(3)]
    loss_hits = mask[result.hardest("loss", 4)].sum()
    assert rows == ["aum\n4/4 perturbed", "conf_agree\n0/4 perturbed", f"loss\n{loss_hits}/4 perturbed"]
    assert _shown_indices(fig, X)[:4] == list(result.hardest("aum", 4))
    with pytest.raises(ValueError, match="No scores for method 'grand'"):
        plot_hardest(result, X, methods=["aum", "grand"])
    with pytest.raises(ValueError, match="methods is empty"):
        plot_hardest(result, X, methods=[])
