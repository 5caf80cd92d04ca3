"""The claims episode 16 makes in prose, checked on what its code computes.

The episode's code cells run here in one namespace (fast and full mode run the same code on the
same data, so one run covers both), then the solutions of its code exercises. Where a reference
library computes the same number, it is compared: torchmetrics for the notebook's ECE, scikit-learn
for pytorch-ood's AUROC, huggingface_hub's parser for the card, safetensors for the saved weights.
"""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch

from episode_code import run_code_cells, run_solution, solutions
from trustml.episodes import default_episodes_dir

STEM = "16-documenting-and-releasing-a-model"


@pytest.fixture(scope="module")
def ep16():
    torch.set_num_threads(1)
    nb = nbformat.read(default_episodes_dir() / f"{STEM}.ipynb", as_version=4)
    namespace = {}
    run_code_cells(nb, namespace, "episode 16")
    fill_gaps, bins = solutions(nb)
    namespace["exercise1"] = run_solution(fill_gaps, namespace)
    namespace["exercise2"] = run_solution(bins, namespace)
    plt.close("all")
    return namespace


def test_the_data_as_the_text_describes_it(ep16):
    """1,000 applicants, 70% good risks, 310 women and 690 men; 500/300/200 rows; 28 features."""
    data = ep16["data"]
    assert len(data.labels) == 1000 and data.labels.mean() == 0.7
    sex = ep16["protected_values"](data).value_counts().to_dict()
    assert sex == {"male": 690, "female": 310}
    assert [len(ep16[part].labels) for part in ("train", "val", "test")] == [500, 300, 200]
    assert data.features.shape[1] == 28 == ep16["config"]["in_features"]
    assert ep16["model"].init_args["hidden"] == (32, 32)


def test_the_network_barely_beats_approving_everyone(ep16):
    """The network barely beats approving everyone, and its balanced accuracy shows it finds bad risks poorly."""
    from sklearn.metrics import recall_score

    measured = ep16["measured"]
    gain = measured["accuracy"] - measured["accuracy of approving everyone"]
    assert 0 < gain <= 0.05
    assert recall_score(ep16["y_test"], ep16["test_pred"], pos_label=0) < 0.5
    assert measured["balanced accuracy"] < measured["accuracy"] - 0.05


def test_group_sizes_and_what_one_decision_moves(ep16):
    """62 women and 138 men in the test set: one decision moves a woman's selection rate by almost two points."""
    rows = ep16["by_group"]["rows"].to_dict()
    assert rows == {"female": 62, "male": 138}
    assert 0.015 < 1 / rows["female"] < 0.02
    assert ep16["measured"]["disparate impact"] == pytest.approx(ep16["group_metrics"]["disp_imp"])


def test_the_notebooks_ece_is_torchmetrics_ece(ep16):
    """The written-out ECE equals torchmetrics' (top-label, equal-width bins), for every bin count used."""
    from torchmetrics.functional.classification import multiclass_calibration_error

    probs, y = ep16["test_probs"], ep16["y_test"]
    for n_bins in (5, 10, 15, 20):
        ours, _ = ep16["expected_calibration_error"](probs, y, n_bins=n_bins)
        reference = multiclass_calibration_error(torch.tensor(probs), torch.tensor(y), num_classes=2, n_bins=n_bins)
        assert ours == pytest.approx(float(reference), abs=1e-6), n_bins
    assert probs.max(axis=1).min() >= 0.5  # "with two classes the confidence is never below 0.5"
    bins = ep16["bins"]
    assert (bins[:, 0] >= 0.5 - 1e-9).all() and (bins[:, 3] < bins[:, 4]).any()  # some bin is overconfident


def test_exercise_2_the_ece_moves_with_the_bins(ep16):
    """Between about 0.07 and 0.10 as the number of bins goes from 5 to 20."""
    values = list(ep16["exercise2"].values())
    assert 0.065 <= min(values) and max(values) <= 0.105 and max(values) - min(values) >= 0.015


def test_far_inputs_get_more_confidence_not_less(ep16):
    """The AUROC is far below 0.5: the model is more confident on the rows times 5 than on real applicants."""
    from sklearn.metrics import roc_auc_score

    measured = ep16["measured"]
    assert measured["mean confidence, test rows x5"] > measured["mean confidence, test rows"]
    auroc = measured["OOD AUROC (max softmax, test rows x5)"]
    assert auroc < 0.3
    scores, is_ood = ep16["scores"].detach().numpy(), ep16["is_ood"].numpy() < 0
    assert auroc == pytest.approx(roc_auc_score(is_ood, scores), abs=1e-6)  # pytorch-ood agrees with scikit-learn


def test_every_way_of_saving_gives_back_the_same_model(ep16):
    from safetensors.torch import load_file

    model, x = ep16["model"], ep16["x"]
    for twin in (ep16["twin"], ep16["reloaded"], ep16["from_hub"]):
        assert torch.equal(model(x), twin(x))
    weights = load_file(ep16["release"] / "model.safetensors")
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    pre = ep16["saved"]["metadata"]["preprocessing"]
    assert np.allclose(pre["mean"], ep16["mean"]) and len(pre["features"]) == 28


def test_the_edited_config_fails_naming_the_tensor(ep16):
    expected = r"tensor 'body.1.weight' has shape \(32, 28\), but the MLP .* expects \(64, 28\)"
    with pytest.raises(ValueError, match=expected):
        ep16["load_model"](ep16["edited"])


def test_from_pretrained_is_lenient_unless_asked(ep16, tmp_path):
    """By default from_pretrained skips weights missing from the file; a tensor of the wrong shape still fails."""
    from torch import nn

    hub_folder = ep16["workspace"] / "hub"
    MLP, mixin = ep16["MLP"], ep16["PyTorchModelHubMixin"]

    class Changed(MLP, mixin):
        def __init__(self, in_features, num_classes, *, hidden=(64, 64), dropout=0.0):
            super().__init__(in_features, num_classes, hidden=hidden, dropout=dropout)
            self.calibrator = nn.Linear(2, 2)  # a layer the saved model never had

    Changed.from_pretrained(hub_folder)  # silently leaves calibrator at its random start
    with pytest.raises(RuntimeError, match="Missing key"):
        Changed.from_pretrained(hub_folder, strict=True)
    with pytest.raises(RuntimeError, match="size mismatch"):
        ep16["CreditMLP"].from_pretrained(hub_folder, hidden=[16, 16])


def test_the_push_stops_offline_and_the_card_refuses_what_was_never_measured(ep16, capsys):
    from trustml.release import HubUnavailableError

    with pytest.raises(HubUnavailableError, match="TRUSTML_OFFLINE=1 forbids it"):
        ep16["push_to_hub"](ep16["workspace"] / "hub", "your-user-name/credit-mlp")
    with pytest.raises(ValueError, match="asks for 'Brier score', which was never computed"):
        ep16["model_card"](ep16["measured"], **{**CARD_MINIMUM, "calibration": ["Brier score"]})


CARD_MINIMUM = dict(name="x", summary="x", intended_use="x", out_of_scope_use="x", training_data="x",
                    evaluation_data="x", dataset="x", training={}, metrics=["accuracy"], limitations="x")


def test_the_card_reports_the_measured_numbers(ep16):
    from huggingface_hub import ModelCard

    card, measured = ep16["card"], ep16["measured"]
    parsed = ModelCard(str(card))  # huggingface_hub reads the metadata back
    assert {r.metric_name: r.metric_value for r in parsed.data.eval_results} == {
        name: round(value, 4) for name, value in measured.items()}
    assert "| female | 62 |" in card.text and "Results are broken down by sex (female, male)." in card.text
    for limitation in ep16["limitations"]:
        assert f"- {limitation}" in card.text
    assert "[More Information Needed]" in card.text  # the gaps the first exercise fills


def test_exercise_1_fills_the_gaps_and_the_card_reads_back(ep16):
    from huggingface_hub import ModelCard

    assert ep16["exercise1"] == round(ep16["measured"]["accuracy"], 4)
    text = ModelCard.load(ep16["release"] / "README.md").text
    assert "- **Developed by:** Your name" in text and "from trustml.release import load_config, load_model" in text
