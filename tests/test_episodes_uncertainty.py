"""The claims that episodes 11 and 12 make in prose, checked on what their code computes.

Each episode's code cells run in one namespace (episode 11 in fast and in full mode, where its
numbers differ; episode 12 has no fast mode), followed by the solutions of its code exercises.
The assertions are the episode's sentences, quoted beside them.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from episode_code import episode, run_code_cells, run_solution, solutions

from trustml.episodes import default_episodes_dir

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run_episode_cells(stem, mode, tmp_path_factory):
    nb = episode(stem)
    namespace = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRUSTML_DATA", str(tmp_path_factory.mktemp("data")))
        patch.setenv("TRUSTML_OFFLINE", "1")
        patch.setenv("TRUSTML_FAST", "1" if mode == "fast" else "0")
        run_code_cells(nb, namespace, stem)
        answers = [run_solution(code, namespace) for code in solutions(nb)]
    plt.close("all")
    return namespace, answers


@pytest.fixture(scope="module", params=["fast", "full"])
def ep11(request, tmp_path_factory):
    namespace, answers = run_episode_cells("11-estimating-model-uncertainty", request.param, tmp_path_factory)
    namespace["mode"] = request.param
    return namespace, answers


def test_ep11_moons_maps(ep11):
    ns, answers = ep11
    table = ns["moons_table"]
    inside, far = "inside the data", "far from the data"
    assert (table.loc["single model", "epistemic"] == 0).all()  # "the single model has none, by construction"
    for method in ["MC dropout", "ensemble"]:
        aleatoric, epistemic = table.loc[method, "aleatoric"], table.loc[method, "epistemic"]
        # "Inside the data the uncertainty is almost all aleatoric: the mutual information there is a fraction
        # of the expected entropy for both sampling methods."
        assert epistemic[inside] < 0.25 * aleatoric[inside]
        # "Far from the data the expected entropy is smaller than inside, but the mutual information is
        # several times what it is inside."
        assert aleatoric[far] < aleatoric[inside]
        assert epistemic[far] > 3 * epistemic[inside]
    # "all methods are *confident* there" (the dark corners): most far points have a low total entropy
    from trustml.uncertainty import predictive_entropy

    far_points = ns["regions"][far]
    for samples in (ns["single_grid"], ns["mc_grid"], ns["ensemble_grid"]):
        assert np.median(predictive_entropy(samples)[far_points]) < 0.1


def test_ep11_exercise_1_and_3_solutions_agree_with_the_library(ep11):
    _, answers = ep11
    assert answers[0] is True  # entropies by hand == trustml.uncertainty
    assert bool(answers[2]) is True  # ECE by hand == expected_calibration_error


def test_ep11_exercise_2_more_data(ep11):
    ns, answers = ep11
    from trustml.uncertainty import mutual_information

    more = answers[1]
    before = ns["moons_table"].loc["ensemble"]
    # "its mean over the same points stays about the same: the noise is still there"
    assert abs(more["aleatoric"] - before[("aleatoric", "inside the data")]) < 0.25 * more["aleatoric"]
    # "The epistemic part inside the data was small already and stays small."
    assert before[("epistemic", "inside the data")] < 0.25 * before[("aleatoric", "inside the data")]
    assert more["epistemic"] < 0.25 * more["aleatoric"]
    # "Far from the data the members still disagree"
    far = mutual_information(ns["more_grid"])[ns["regions"]["far from the data"]].mean()
    assert far > 3 * more["epistemic"]


def test_ep11_images(ep11):
    ns, _ = ep11
    table = ns["image_table"]
    # "all three measures are higher on the noisy digits and the photo crops than on the test digits"
    assert (table["noisy digits"] > table["test digits"]).all()
    assert (table["photo crops"] > table["test digits"]).all()
    # "some photo crops get an entropy as low as a typical test digit's"
    entropy = ns["uncertainty"]
    typical_digit = np.median(entropy["test digits"]["single model: total"])
    assert entropy["photo crops"]["single model: total"].min() < typical_digit
    # "trained until they fit their training data almost perfectly ... confidences on the training images close to 1"
    from trustml.training import predict_logits

    train_probs = predict_logits(ns["members"][0], ns["X_train"]).softmax(1)
    assert (train_probs.argmax(1) == ns["y_train"]).float().mean() > 0.99
    assert train_probs.max(1).values.mean() > 0.95


def test_ep11_calibration_and_temperature_scaling(ep11):
    ns, _ = ep11
    from trustml.uncertainty import expected_calibration_error, negative_log_likelihood, reliability_table

    table = reliability_table(ns["probs_single"], ns["y_test"])
    # "The high-confidence bins, where most predictions fall, lie below the diagonal"
    assert table["count"].iloc[-1] > table["count"].sum() / 2 and table["gap"].iloc[-1] < 0
    high = table[(table["lower"] >= 0.8 - 1e-9) & (table["count"] > 0)]
    assert (high["count"] * high["gap"]).sum() < 0
    scaler, y_test = ns["scaler"], ns["y_test"]
    before, after = ns["probs_single"], ns["probs_scaled"]
    # "The fitted temperature is above 1 ... the NLL drops and the ECE drops with it, while the accuracy is unchanged"
    assert scaler.temperature_ > 1 and scaler.nll_after_ < scaler.nll_before_
    assert negative_log_likelihood(after, y_test) < negative_log_likelihood(before, y_test)
    assert expected_calibration_error(after, y_test) < expected_calibration_error(before, y_test)
    assert torch.equal(after.argmax(1), before.argmax(1))


def test_ep11_comparison(ep11):
    ns, answers = ep11
    table = ns["comparison"]
    single, scaled = table.loc["single model"], table.loc["single model + temperature"]
    mc, ensemble = table.loc["MC dropout, T = 30"], table.loc["ensemble, M = 5"]
    # the numbers: a 5-member ensemble's ECE below a single model's on the same data
    assert ensemble["ECE"] < single["ECE"] and ensemble["NLL"] < single["NLL"]
    assert mc["NLL"] < single["NLL"]  # "MC dropout lowers the NLL a little too"
    # "On the noisy digits every method is far more overconfident than on the test digits"
    assert (table["ECE, noisy digits"] > 2 * table["ECE"]).all()
    assert scaled["ECE, noisy digits"] > 2 * scaled["ECE"]
    # "In full mode ... the ensemble is also the best calibrated of the four on the noisy digits;
    # in fast mode, with 300 training images, it is not."
    best_on_noise = table["ECE, noisy digits"].idxmin()
    assert (best_on_noise == "ensemble, M = 5") == (ns["mode"] == "full")
    assert list(table["forward passes per input"]) == [1, 1, 30, 5]
    assert list(table["training runs"]) == [1, 1, 1, 5]
    # Exercise 4: "a model that is right about 95% of the time leave only a couple of dozen mistakes"
    assert abs(single["accuracy"] - 0.95) < 0.03 and 10 <= round((1 - single["accuracy"]) * 360) <= 40
    # "With this split the ensemble's lead in ECE shrinks to a fraction of the first split's (on another
    # CPU its sign even flipped: the floating-point sums differ), while its NLL stays clearly lower."
    split_1 = answers[3]
    gap = single["ECE"] - ensemble["ECE"]
    assert split_1.loc["single model", "ECE"] - split_1.loc["ensemble", "ECE"] < gap / 2
    assert split_1.loc["ensemble", "NLL"] < split_1.loc["single model", "NLL"] - 0.02


def test_ep11_prints_the_comparison_table(ep11):
    """The issue asks for NLL, ECE and cost of single, MC dropout (T=30) and ensemble (M=5): print them for the note."""
    ns, _ = ep11
    print(f"\nepisode 11, {ns['mode']} mode:\n{ns['comparison'].round(3).to_string()}")


@pytest.fixture(scope="module")
def ep12(tmp_path_factory):
    return run_episode_cells("12-ood-detection-overview", "fast", tmp_path_factory)


def test_ep12_shifts_on_the_digits(ep12):
    ns, _ = ep12
    table, confidence = ns["shift_table"], ns["confidence"]
    id_row = table.loc["test digits 0-4 (ID)"]
    for name in ["noisy digits 0-4 (covariate)", "cartoon digits 0-4 (covariate)"]:
        row = table.loc[name]
        # "loses accuracy, and its confidence drops ... yet still at least 90% sure of most of them,
        # including some it gets wrong"
        assert row["accuracy"] < id_row["accuracy"] and row["mean confidence"] < id_row["mean confidence"]
        assert row["share with confidence >= 0.9"] > 0.5
    probs = ns["predict_logits"](ns["model"], ns["X_noisy"]).softmax(1)
    assert ((probs.max(1).values >= 0.9) & (probs.argmax(1) != ns["y_noisy"])).any()
    # "at least 90% sure on more than half of the digits 5–9"
    assert table.loc["digits 5-9 (semantic, near OOD)", "share with confidence >= 0.9"] > 0.5
    # photo crops: "at least 90% sure of most of them, on average more sure than of the noisy digits"
    photos = table.loc["photo crops (far OOD)"]
    assert photos["share with confidence >= 0.9"] > 0.5
    assert photos["mean confidence"] > table.loc["noisy digits 0-4 (covariate)", "mean confidence"]
    assert len(confidence) == 5


def test_ep12_exercise_2_threshold(ep12):
    ns, answers = ep12
    flagged = answers[0]
    # "By construction about 5% of the ID test digits are flagged. Every other set is flagged more often,
    # but none anywhere near completely. The digits 5–9 are flagged most often of the four, and the photo
    # crops least often"
    assert abs(flagged["test digits 0-4 (ID)"] - 0.05) < 0.015
    others = flagged.drop("test digits 0-4 (ID)")
    assert (others > flagged["test digits 0-4 (ID)"]).all() and (others < 0.8).all()
    assert others.idxmax() == "digits 5-9 (semantic, near OOD)"
    assert others.idxmin() == "photo crops (far OOD)"


@pytest.mark.parametrize("stem", ["11-estimating-model-uncertainty", "12-ood-detection-overview"])
def test_ep11_and_12_link_only_to_existing_episodes_and_name_13_to_15_only_together(stem):
    existing = {int(p.name[:2]) for p in default_episodes_dir().glob("[0-9][0-9]-*.ipynb")}
    text = "\n".join(c.source for c in episode(stem).cells if c.cell_type == "markdown")
    for number in re.findall(r"episodes? (\d\d)", text):
        assert int(number) in existing, f"{stem} mentions episode {number}, which does not exist"
    assert not re.search(r"episodes? 1[3-5]\b", text)  # only "the next episodes (13–15)"
