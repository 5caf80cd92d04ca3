"""What episode 04 says, checked on what its code computes, in fast and in full mode.

The episode's code cells run here once per mode in one namespace, offline, so on the embedded
digits, the data every learner without a cache has. The two modes differ in the number of
epochs (10 and 20). Every number and pattern the Markdown quotes is checked in both, and the
solutions are run and checked against what their text says (exercise 5's six trainings only in
fast mode: it quotes no result).
"""

import ast
import contextlib
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from episode_code import episode, markdown, run_offline, solutions
from episode_code import says as shared_says
from trustml.hardness import categorize

STEM = "04-data-parameters"
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def nb():
    return episode(STEM)


@pytest.fixture(scope="module")
def text(nb):
    return markdown(nb)


@pytest.fixture(scope="module", params=["fast", "full"])
def ep04(request, nb, tmp_path_factory):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        namespace = run_offline(nb, "episode 04", tmp_path_factory.mktemp("data"), fast=request.param == "fast")
    namespace["mode"] = request.param
    return namespace


def solution(nb, ns, number):
    """Run exercise ``number``'s solution in ``ns``: (what it printed, the value of its last expression)."""
    exercises = [cell.source for cell in nb.cells if cell.cell_type == "markdown" and "> **Exercise" in cell.source]
    with_code = [source for source in exercises if "```python" in source]
    title = f"> **Exercise {number}:"
    (cell,) = [source for source in with_code if source.startswith(title)]
    code = solutions(nb)[with_code.index(cell)]
    tree = ast.parse(code)
    last = tree.body[-1] if isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(tree.body[:-1] if last else tree.body, type_ignores=[])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(body, "<solution>", "exec"), ns)
        value = eval(compile(ast.Expression(last.value), "<solution>", "eval"), ns) if last else None
    plt.close("all")
    return printed.getvalue(), value


def says(text, quote):
    shared_says(text, quote, "episode 04")


# --------------------------------------------------------------------------- data and the three sets


def test_three_sets_with_three_jobs(ep04, text):
    ns = ep04
    says(text, "a fifth of the training images split off *before* any label is changed")
    says(text, "flip 20% of the training set's labels")
    n = len(ns["y"]) + len(ns["y_val"])
    assert len(ns["y_val"]) == pytest.approx(n / 5, abs=1)
    assert ns["flipped"].mean() == pytest.approx(0.2, abs=0.005)
    assert not set(ns["train"]) & set(ns["val"])
    # the validation labels are the untouched ones, and the test set is not the validation set
    np.testing.assert_array_equal(ns["y_val"].numpy(), ns["data"].y_train[ns["val"]].numpy())
    assert len(ns["y_val"]) != len(ns["y_test"]) or not np.array_equal(ns["X_val"], ns["X_test"])
    code = "\n".join(cell.source for cell in episode(STEM).cells if cell.cell_type == "code")
    assert "X_val=X_val, y_val=y_val" in code and "X_val=data.X_test" not in code
    assert code.count("X_test") == 3  # "X_test, y_test = data.X_test, ...", then once: the final retraining comparison
    assert "predict_logits(model, X_test)" in code


def test_the_embedded_digits(ep04, text):
    says(text, "you get scikit-learn's 1,797 small handwritten digits, enlarged to MNIST's 28×28 pixels")
    data = ep04["data"]
    assert data.source == "embedded" and len(data.y_train) + len(data.y_test) == 1797
    assert data.image_shape == (1, 28, 28)


def test_the_temperature_table(ep04, text):
    table = ep04["table"]
    loss, gradient = table["loss"], table["gradient reaching the model"]
    says(text, "**Label 0 (agreed with):** the loss falls as σ falls")
    assert loss[0].is_monotonic_increasing
    says(text, "the loss falls as σ rises, towards $\\log 3$")
    assert loss[2].is_monotonic_decreasing and loss[2].iloc[-1] == pytest.approx(np.log(3), abs=0.2)
    says(text, "the gradient that reaches the model's weights shrinks towards zero")
    assert gradient[2].is_monotonic_decreasing and gradient[2].iloc[-1] < 0.05


def test_the_history_plot_reading(ep04, text):
    history = ep04["history"]
    says(text, "it could reach about 80% only by getting every clean sample right")
    says(text, "and it stays below that")
    assert max(history.accuracy) < 1 - ep04["flipped"].mean()
    says(text, "and it ends above 90%")
    assert history.val_accuracy[-1] > 0.9


def test_sigma_finds_the_flipped_labels(ep04, text):
    sigma, flipped, trajectories = ep04["sigma"], ep04["flipped"], ep04["trajectories"]
    assert roc_auc_score(flipped, sigma) > 0.95  # "the two groups separate clearly", "a high AUROC"
    says(text, "most samples with their true label end below σ = 1, most flipped ones above")
    assert (sigma[~flipped] < 1).mean() > 0.9 and (sigma[flipped] > 1).mean() > 0.9
    says(text, "the separation builds up over the first few epochs")
    per_epoch = [roc_auc_score(flipped, t) for t in trajectories]
    assert per_epoch[0] < 0.75 and per_epoch[4] > 0.9
    says(text, "each σ is clamped to $[1/20, 20]$")
    assert trajectories.min() >= 1 / 20 - 1e-6 and trajectories.max() <= 20 + 1e-4


def test_the_trajectories_as_described(ep04, text):
    trajectories, flipped, examples = ep04["trajectories"], ep04["flipped"], ep04["examples"]
    says(text, "Every temperature starts at σ = 1 and has hardly moved after the first epoch")
    assert np.abs(trajectories[0] - 1).max() < 0.01
    says(text, "The clean samples' temperatures then drift below 1")
    says(text, "the flipped samples' temperatures climb")
    shown = trajectories[:, examples]
    assert flipped[examples[:3]].all() and not flipped[examples[3:]].any()
    assert (np.diff(shown[:, :3], axis=0) >= -1e-3).all() and (shown[-1, :3] > 1).all()
    assert (np.diff(shown[1:, 3:], axis=0) <= 1e-3).all() and (shown[-1, 3:] < 1).all()
    says(text, "Among all the flipped samples, a few climb only after a short dip below 1")
    climbed = flipped & (trajectories[-1] > 1)
    dipped = climbed & (trajectories.min(axis=0) < 0.99)
    assert 0 < dipped.sum() < 0.1 * climbed.sum()


def test_the_crosstab(ep04, text):
    categories, flipped = ep04["categories"], ep04["flipped"]
    says(text, "Note the samples in the *hard* row whose labels were **not** flipped")
    assert ((categories == "hard") & ~flipped).sum() > 0
    assert (flipped[categories == "hard"]).mean() > 0.75  # most of the hard row is flipped (exercise 4)
    says(text, "Most of the *hard* row are flipped labels")


# --------------------------------------------------------------------------- retraining


def test_the_retraining_table(ep04, text):
    results, n_test = ep04["results"], len(ep04["y_test"])
    accuracy = results["test accuracy (%)"]
    image = 100 / n_test
    clean, noisy, auto = accuracy["clean labels"], accuracy["noisy labels"], accuracy["auto-cleaned (easy only)"]
    enriched = accuracy["enriched (flagged labels checked)"]
    with_dp = accuracy["noisy labels, trained with data parameters"]
    for name, row in results.iterrows():  # the table's own columns are what they say
        assert row["test accuracy (%)"] / image == pytest.approx(round(row["test accuracy (%)"] / image), abs=1e-3)
        assert row["change vs noisy (points)"] == pytest.approx(row["test accuracy (%)"] - noisy)

    says(text, "scores within two points of the one trained on the clean labels, above or below it")
    assert abs(noisy - clean) <= 2
    says(text, "The auto-cleaned set has hardly any wrong labels left, yet it scores lowest of all")
    row = results.loc["auto-cleaned (easy only)"]
    assert row["wrong labels"] < 0.01 * row["samples"]
    assert auto == accuracy.min() and (accuracy.drop("auto-cleaned (easy only)") > auto).all()
    says(text, "that costs more than the noise did")
    assert noisy - auto > clean - noisy
    says(text, "and it scores above the auto-cleaned one")
    assert enriched > auto
    says(text, "Against the noisy labels it shows no gain on this test set, and may even score a few test images lower")
    assert -8 * image < enriched - noisy < 2 * image
    says(text, "scores about as well as the plain model on the same labels, within a few test images")
    assert abs(round((with_dp - noisy) / image)) <= 5


# --------------------------------------------------------------------------- exercises


def test_exercise_1_the_gradient_sign(ep04, nb, text):
    printed, _ = solution(nb, ep04, 1)
    rows = [line.split() for line in printed.strip().splitlines()]
    by_autograd = {int(label): float(grad) for label, grad, _ in rows}
    by_hand = {int(label): float(hand) for label, _, hand in rows}
    assert by_autograd == pytest.approx(by_hand, abs=1e-3)
    says(text, "The softmax-weighted average of the logits is about 3.79")
    assert 4.0 - by_autograd[0] == pytest.approx(3.79, abs=0.005)
    says(text, "the gradient is positive, descent lowers $s$, and σ falls")
    assert by_autograd[0] > 0 > by_autograd[1] > by_autograd[2]  # "faster for label 2"


def test_exercise_2_the_reference_learning_rate(ep04, nb, text):
    solution(nb, ep04, 2)
    slow, sigma, flipped = ep04["slow"].instance_sigma, ep04["sigma"], ep04["flipped"]
    says(text, "so the largest σ is much smaller. The AUROC hardly changes")
    assert slow.max() < 0.5 * sigma.max()
    assert roc_auc_score(flipped, slow) == pytest.approx(roc_auc_score(flipped, sigma), abs=0.01)
    says(text, "and why hardly at all for the categories?")
    counts, reference = (np.unique(c, return_counts=True) for c in (categorize(ep04["slow"].trajectories_),
                                                                     ep04["categories"]))  # fmt: skip
    assert list(counts[0]) == list(reference[0])
    assert np.abs(counts[1] - reference[1]).max() < 0.02 * len(flipped)


def test_exercise_3_the_review_budget(ep04, nb, text):
    printed, _ = solution(nb, ep04, 3)
    ns, flipped, sigma = ep04, ep04["flipped"], ep04["sigma"]
    budget = len(flipped) // 10
    says(text, "On the digits stand-in the budget is 114 samples")
    assert budget == 114 and f"budget: {budget} samples" in printed
    ranked = int(re.search(r"highest final σ: (\d+) flipped", printed).group(1))
    assert ranked == flipped[np.argsort(-sigma)[:budget]].sum()
    says(text, "the ranking fills it with almost nothing but flipped labels")
    assert ranked >= budget - 2
    says(text, "there are twice as many of them as the team can check")
    assert flipped.sum() / budget == pytest.approx(2, abs=0.05)

    flagged = int(re.search(r"margin 0\): (\d+) samples, over the budget", printed).group(1))
    assert flagged == (ns["categories"] != "easy").sum()
    says(text, "are about two and a half times as large")
    assert 2.25 <= flagged / budget <= 2.75
    says(text, "A margin makes this worse, since it widens need review on both sides")
    widened = categorize(ns["trajectories"], margin=0.05)
    assert (widened != "easy").sum() > flagged
    assert (widened == "hard").sum() < (ns["categories"] == "hard").sum()

    settings = re.findall(r"window ([\d.]+), margin ([\d.]+): (\d+) samples, (\d+) flipped", printed)
    assert [window for window, *_ in settings] == ["0.5", "1.0"]
    says(text, "Either way the team gets fewer samples and fewer flipped labels than from the ranking")
    for window, margin, sent, caught in settings:
        hard = categorize(ns["trajectories"], window=float(window), margin=float(margin)) == "hard"
        assert (hard.sum(), flipped[hard].sum()) == (int(sent), int(caught))
        assert int(sent) < budget and int(caught) < ranked
    says(text, "The easy row is most of the data, and fewer than 1% of its samples are flipped")
    easy = ns["categories"] == "easy"
    assert easy.mean() > 0.5 and flipped[easy].mean() < 0.01


def test_exercise_5_seeds(ep04, nb, text):
    if ep04["mode"] != "fast":
        pytest.skip("six more trainings: fast mode only (the text quotes no result)")
    printed, _ = solution(nb, ep04, 5)
    lines = printed.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["noisy labels", "enriched (flagged labels checked)"]
    for line in lines:
        scores = [float(s) for s in re.search(r"\[([^\]]*)\]", line).group(1).split()]
        assert len(scores) == 3 and len(set(scores)) > 1  # the seeds do differ
    says(text, "The six trainings take about half a minute in fast mode")


def test_exercise_6_class_temperatures(ep04, nb, text):
    _, table = solution(nb, ep04, 6)
    joint, names = ep04["joint"], ep04["data"].class_names
    received = table["wrong labels received"]
    says(text, "Perhaps surprisingly, no. Class 7 receives by far the most wrong labels")
    assert received.idxmax() == "7" and received["7"] > 2 * received.drop("7").max()
    says(text, "yet its temperature never rises above 1")
    assert joint.class_trajectories_[:, names.index("7")].max() < 1
    says(text, "Among the highest peaks in our runs is that of class 8, which trades samples with 3")
    peak_rank = table["highest class σ"].rank(ascending=False)
    assert peak_rank["8"] <= 2 and table.loc["8", "highest class σ"] > 1
    says(text, "several rise above 1 early and fall below it again")
    peaks = joint.class_trajectories_.max(axis=0)
    assert ((peaks > 1) & (joint.class_sigma < 1)).sum() >= 2


def test_exercise_7_arithmetic(text):
    says(text, "a data-parameter run flags 8% of them")
    says(text, "16,000 images is days of annotation work")
    assert 0.08 * 200_000 == 16_000


def test_the_sources_are_named(text):
    says(text, "This episode follows **DataEnrichment** (github.com/h10sheikh/DataEnrichment)")
    says(text, 'DataEnrichment\'s walkthrough on ImageNet (in its README, for class 145, "king penguin")')
    assert "- DataEnrichment: data cleaning and enrichment with data parameters" in text
