"""trustml.release: save/load with a config, the Hugging Face way, the guarded push and the model card.

The reference libraries: safetensors reads the weights file back, huggingface_hub's own
card parser reads the card's metadata, and its PyTorchModelHubMixin saves and loads the
course's models. No test touches the network: sockets are blocked where a push is tried.
"""

import json
import socket

import numpy as np
import pandas as pd
import pytest
import torch

from trustml.models import MLP, LeNet, SimpleCNN
from trustml.release import (
    HubUnavailableError,
    load_config,
    load_model,
    model_card,
    push_to_hub,
    save_model,
)

torch.set_num_threads(1)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# --------------------------------------------------------------------------- the constructor arguments


def test_models_remember_their_constructor_arguments():
    assert MLP(5, 3, hidden=(7,), dropout=0.1).init_args == {
        "in_features": 5, "num_classes": 3, "hidden": (7,), "dropout": 0.1}
    assert LeNet(3, image_size=32).init_args == {"in_channels": 3, "num_classes": 10, "image_size": 32, "dropout": 0.0}
    model = SimpleCNN(width=4)
    model.init_args["width"] = 99  # a copy: changing it changes nothing
    assert model.init_args["width"] == 4


def test_a_subclass_records_its_own_arguments_not_its_parents():
    class Binary(MLP):
        def __init__(self, in_features):
            super().__init__(in_features, 2, hidden=(4,))

    assert Binary(6).init_args == {"in_features": 6}


# --------------------------------------------------------------------------- save and load


def trained(model, x):
    """The model after one optimiser step and a forward pass in training mode (BatchNorm statistics move)."""
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    model(x).sum().backward()
    optimiser.step()
    return model.eval()


@pytest.mark.parametrize(
    "model, x",
    [
        (MLP(6, 3, hidden=(5, 4)), torch.randn(8, 6)),
        (LeNet(1, 4, dropout=0.2), torch.randn(8, 1, 28, 28)),
        (SimpleCNN(3, 2, width=4, depth=2), torch.randn(8, 3, 16, 16)),
    ],
    ids=["MLP", "LeNet", "SimpleCNN"],
)
def test_load_model_rebuilds_the_same_model(tmp_path, model, x):
    torch.manual_seed(0)
    model = trained(model, x)
    save_model(model, tmp_path / "saved")
    twin = load_model(tmp_path / "saved")
    assert type(twin) is type(model) and not twin.training
    assert torch.equal(twin(x), model(x))
    for key, value in model.state_dict().items():  # BatchNorm's running statistics travel too
        assert torch.equal(twin.state_dict()[key], value), key


def test_the_weights_are_plain_safetensors(tmp_path):
    from safetensors.torch import load_file

    model = MLP(4, 2, hidden=(3,))
    save_model(model, tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")  # the reference reader, no trustml involved
    assert set(tensors) == set(model.state_dict())
    assert all(torch.equal(tensors[k], v) for k, v in model.state_dict().items())


def test_the_config_names_the_class_its_arguments_and_the_metadata(tmp_path):
    save_model(MLP(4, 2, hidden=(3,)), tmp_path, metadata={"mean": [1.5, 2.0], "features": ["a", "b"]})
    raw = json.loads((tmp_path / "config.json").read_text())
    assert raw["model_class"] == "MLP" and raw["format"] == "trustml-model/1"
    assert raw["init_args"] == {"in_features": 4, "num_classes": 2, "hidden": [3], "dropout": 0.0}
    assert raw["metadata"] == {"mean": [1.5, 2.0], "features": ["a", "b"]} == load_config(tmp_path)["metadata"]
    assert raw["torch_version"] == torch.__version__.split("+")[0]


def test_save_model_writes_the_card_as_readme_and_leaves_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    save_model(MLP(4, 2), tmp_path, card="# A card\n")
    assert (tmp_path / "README.md").read_text() == "# A card\n" and (tmp_path / "notes.txt").read_text() == "mine"
    assert not list(tmp_path.glob("*.tmp"))


def test_load_model_puts_the_weights_on_the_device_asked_for(tmp_path):
    save_model(MLP(4, 2), tmp_path)
    assert next(load_model(tmp_path, device="cpu").parameters()).device.type == "cpu"


class Subclassed(MLP):
    pass


@pytest.mark.parametrize(
    "model, directory, kwargs, error, message",
    [
        (torch.nn.Linear(2, 2), "out", {}, TypeError,
         r"one of trustml's models \(LeNet, MLP, SimpleCNN\).*got a Linear"),
        (Subclassed(2, 2), "out", {}, TypeError, "a Subclassed \\(a subclass of MLP\\).*PyTorchModelHubMixin"),
        (MLP(2, 2), "a-file", {}, ValueError, "is a file: name a folder"),
        (MLP(2, 2), "out", {"metadata": [1, 2]}, TypeError, "metadata must be a mapping"),
        (MLP(2, 2), "out", {"metadata": {"mean": np.zeros(2)}}, ValueError, r"only JSON values.*\.tolist\(\)"),
        (MLP(2, 2), "out", {"metadata": {"x": float("nan")}}, ValueError, "no NaN"),
        (MLP(2, 2), "out", {"card": 3}, TypeError, "card must be a huggingface_hub.ModelCard or a Markdown string"),
    ],
)
def test_save_model_refuses_bad_input(tmp_path, model, directory, kwargs, error, message):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(error, match=message):
        save_model(model, tmp_path / directory, **kwargs)
    assert not (tmp_path / "out").exists()


def test_save_model_refuses_a_diverged_model(tmp_path):
    model = MLP(2, 2, hidden=(3,))
    with torch.no_grad():
        model.head.bias[0] = float("nan")
    with pytest.raises(ValueError, match="tensor 'head.bias' holds NaN or infinite values"):
        save_model(model, tmp_path)


def edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def test_weights_that_do_not_fit_the_config_name_the_tensor(tmp_path):
    save_model(MLP(4, 2, hidden=(8,)), tmp_path)
    edit_config(tmp_path, init_args={"in_features": 4, "num_classes": 2, "hidden": [16], "dropout": 0.0})
    with pytest.raises(ValueError) as info:
        load_model(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'model.safetensors'}: tensor 'body.1.weight' has shape (8, 4), but the MLP that config.json "
        f"describes expects (16, 4): the weights and the config do not belong together (saved from another model, "
        f"or config edited?)."
    )


def replace_weights(folder, tensors):
    from safetensors.torch import save_file

    save_file(tensors, str(folder / "model.safetensors"))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: replace_weights(f, {k: v for k, v in MLP(4, 2, hidden=(8,)).state_dict().items()
                                       if k != "head.bias"}),
         "has no tensor 'head.bias', which the MLP that config.json describes needs"),
        (lambda f: replace_weights(f, {**MLP(4, 2, hidden=(8,)).state_dict(), "extra.weight": torch.zeros(2)}),
         "has tensor 'extra.weight', which the MLP that config.json describes does not have"),
        (lambda f: (f / "model.safetensors").write_bytes(b"not a safetensors file"),
         "is not a readable safetensors file"),
        (lambda f: (f / "model.safetensors").unlink(), "has config.json but no model.safetensors"),
        (lambda f: (f / "config.json").unlink(), "has no config.json: is it a folder that save_model wrote"),
        (lambda f: (f / "config.json").write_text("{oops"), "config.json is not valid JSON"),
        (lambda f: (f / "config.json").write_text('{"in_features": 4}'),
         "not written by trustml.release.save_model.*from_pretrained"),
        (lambda f: edit_config(f, format="trustml-model/9"), "is in format 'trustml-model/9'"),
        (lambda f: edit_config(f, model_class="os.system"),
         "names model_class 'os.system', which is not one of trustml's models"),
        (lambda f: edit_config(f, init_args=[4, 2]), "init_args must be a JSON object"),
        (lambda f: edit_config(f, init_args={"in_features": 4, "num_classes": 2, "width": 3}),
         "do not build a MLP: .*width"),
        (lambda f: edit_config(f, init_args={"in_features": 4, "num_classes": 0}),
         "do not build a MLP: num_classes must be"),
    ],
    ids=["missing-tensor", "extra-tensor", "corrupt-weights", "no-weights", "no-config", "bad-json", "hub-config",
         "format", "class", "init-args-type", "init-args-unknown", "init-args-value"],
)
def test_load_model_says_what_is_wrong_with_the_folder(tmp_path, damage, message):
    save_model(MLP(4, 2, hidden=(8,)), tmp_path)
    damage(tmp_path)
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        load_model(tmp_path)


def test_load_model_needs_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist: name the folder that save_model wrote"):
        load_model(tmp_path / "nowhere")


# --------------------------------------------------------------------------- the Hugging Face way


class HubMLP(MLP, __import__("huggingface_hub").PyTorchModelHubMixin, library_name="trustml"):
    pass


def test_the_course_models_save_and_load_with_the_hub_mixin(tmp_path, no_network):
    torch.manual_seed(0)
    model = HubMLP(4, 2, hidden=(8,))
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {
        "in_features": 4, "num_classes": 2, "hidden": [8], "dropout": 0.0}
    assert {"model.safetensors", "README.md"} <= {p.name for p in tmp_path.iterdir()}
    twin = HubMLP.from_pretrained(tmp_path, strict=True)
    x = torch.randn(3, 4)
    assert torch.equal(twin(x), model.eval()(x))


# --------------------------------------------------------------------------- push_to_hub, guarded


@pytest.fixture
def saved(tmp_path):
    return save_model(MLP(4, 2), tmp_path / "model")


@pytest.fixture
def logged_out(monkeypatch, tmp_path):
    """Online as far as trustml knows, but no Hugging Face token anywhere."""
    import huggingface_hub.constants

    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    for variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))


class FakeHub:
    """Stands in for huggingface_hub.HfApi: records what a push asks for."""

    calls: list = []
    fail = None

    def __init__(self, token=None):
        FakeHub.calls.append(("token", token))

    def create_repo(self, **kwargs):
        FakeHub.calls.append(("create_repo", kwargs))
        if FakeHub.fail:
            raise FakeHub.fail
        return type("Repo", (), {"repo_id": kwargs["repo_id"]})()

    def upload_folder(self, **kwargs):
        FakeHub.calls.append(("upload_folder", kwargs))
        return type("Commit", (), {"commit_url": f"https://hub.example/{kwargs['repo_id']}/commit/1"})()


def test_push_offline_says_so_and_touches_nothing(saved, no_network):
    with pytest.raises(HubUnavailableError, match="needs the network, and TRUSTML_OFFLINE=1 forbids it"):
        push_to_hub(saved, "someone/model")


def test_push_without_a_token_says_how_to_get_one(saved, logged_out, no_network):
    with pytest.raises(HubUnavailableError) as info:
        push_to_hub(saved, "someone/model")
    assert "no Hugging Face token" in str(info.value)
    assert "https://huggingface.co/settings/tokens" in str(info.value) and "hf auth login" in str(info.value)


def test_push_respects_hf_hub_offline(saved, logged_out, no_network, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnavailableError, match="HF_HUB_OFFLINE is set"):
        push_to_hub(saved, "someone/model", token="hf_x")


def test_push_with_a_token_creates_a_private_repo_and_uploads_the_folder(saved, logged_out, no_network, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    monkeypatch.setattr(FakeHub, "calls", [])
    monkeypatch.setenv("HF_TOKEN", "hf_from_env")
    assert push_to_hub(saved, "someone/model") == "https://hub.example/someone/model/commit/1"
    (_, token), (_, created), (_, uploaded) = FakeHub.calls
    assert token == "hf_from_env"
    assert created == {"repo_id": "someone/model", "private": True, "exist_ok": True}
    assert uploaded["folder_path"] == str(saved) and uploaded["repo_type"] == "model"


def test_a_failed_upload_is_a_hub_error(saved, logged_out, no_network, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    monkeypatch.setattr(FakeHub, "fail", OSError("connection refused"))
    with pytest.raises(HubUnavailableError, match="could not be reached or refused the upload: connection refused"):
        push_to_hub(saved, "someone/model", token="hf_x")


@pytest.mark.parametrize(
    "folder, repo_id, error, message",
    [
        ("missing", "a/b", FileNotFoundError, "is not a folder"),
        ("empty", "a/b", FileNotFoundError, "has no config.json"),
        ("model", "just-a-name", ValueError, "repo_id must look like 'your-user-name/model-name'"),
        ("model", None, ValueError, "repo_id must look like"),
    ],
)
def test_push_refuses_bad_arguments_before_anything_else(saved, tmp_path, no_network, folder, repo_id, error, message):
    (tmp_path / "empty").mkdir()
    with pytest.raises(error, match=message):
        push_to_hub(tmp_path / folder, repo_id)


# --------------------------------------------------------------------------- the model card

MEASURED = {"accuracy": 0.715, "balanced accuracy": 0.61, "disparate impact": 0.87, "ECE": 0.09, "OOD AUROC": 0.15}


def card_arguments(**changes):
    arguments = dict(
        name="credit-mlp", summary="Predicts credit risk.", intended_use="Teaching.",
        out_of_scope_use="Real lending decisions.", training_data="German credit, 500 rows.",
        evaluation_data="German credit, 200 test rows.", training={"epochs": 20, "optimiser": "Adam"},
        metrics=["accuracy", "balanced accuracy"], fairness=["disparate impact"], calibration=["ECE"],
        ood=["OOD AUROC"], limitations=["Small data.", "Overconfident far from the data."], dataset="german_credit",
    )
    arguments.update(changes)
    return arguments


def test_the_hubs_parser_reads_every_reported_number_back(tmp_path):
    from huggingface_hub import ModelCard, metadata_load

    card = model_card(MEASURED, **card_arguments())
    card.save(tmp_path / "README.md")
    parsed = ModelCard.load(tmp_path / "README.md")  # huggingface_hub's own reader
    assert {r.metric_name: r.metric_value for r in parsed.data.eval_results} == MEASURED
    rounded = model_card({**MEASURED, 'accuracy': 0.7153846}, **card_arguments()).data.eval_results[0]
    assert rounded.metric_value == 0.7154
    assert {r.dataset_type for r in parsed.data.eval_results} == {"german_credit"}
    meta = metadata_load(tmp_path / "README.md")
    assert meta["license"] == "mit" and meta["pipeline_tag"] == "tabular-classification"
    assert meta["model-index"][0]["name"] == "credit-mlp" and meta["datasets"] == ["german_credit"]


def test_the_card_has_the_sections_a_model_card_needs():
    by_group = pd.DataFrame({"rows": [62, 138], "TPR": [0.825, 0.876]}, index=pd.Index(["female", "male"], name="sex"))
    card = model_card(MEASURED, **card_arguments(by_group=by_group, model=MLP(28, 2, hidden=(32, 32)),
                                                 notes={"ood": "Inputs scaled by 5."}, preprocessing="Standardised."))
    text = card.text
    for heading in ["## Uses", "### Out-of-Scope Use", "## Bias, Risks, and Limitations", "### Training Data",
                    "#### Performance", "#### Fairness", "#### Calibration", "#### Out-of-distribution inputs"]:
        assert f"\n{heading}\n" in text, heading
    assert "| accuracy | 0.715 |" in text and "| ECE | 0.090 |" in text and "| OOD AUROC | 0.150 |" in text
    assert "| sex | rows | TPR |" in text and "| female | 62 | 0.825 |" in text
    assert "Results are broken down by sex (female, male)." in text
    assert "- Overconfident far from the data." in text and "Inputs scaled by 5." in text
    assert "  - epochs: 20\n  - optimiser: Adam" in text and "\nStandardised.\n" in text
    assert "`MLP(in_features=28, num_classes=2, hidden=(32, 32), dropout=0.0)`: 2,050 parameters" in text
    assert f"PyTorch {torch.__version__.split('+')[0]}" in text
    assert "[More Information Needed]" in text  # what nobody said stays visibly open


def test_a_section_without_metrics_says_not_measured_and_fields_fill_the_template():
    card = model_card(MEASURED, **card_arguments(ood=(), calibration=[]),
                      fields={"developers": "The trustml course", "model_card_contact": "someone@example.org"})
    assert "#### Calibration\n\nNot measured." in card.text
    assert "#### Out-of-distribution inputs\n\nNot measured." in card.text
    assert "- **Developed by:** The trustml course" in card.text and "someone@example.org" in card.text
    assert [r.metric_name for r in card.data.eval_results] == ["accuracy", "balanced accuracy", "disparate impact"]


@pytest.mark.parametrize(
    "measured, changes, error, message",
    [
        (MEASURED, {"calibration": ["Brier score"]}, ValueError,
         r"calibration section \(calibration=\) asks for 'Brier score', which was never computed: measured has "
         r"'accuracy', 'balanced accuracy', 'disparate impact', 'ECE', 'OOD AUROC'"),
        (MEASURED, {"fairness": ["disparate_impact"]}, ValueError, "never computed.*Did you mean 'disparate impact'"),
        (MEASURED, {"metrics": ["accuracy", "AUROC"]}, ValueError,
         r"performance section \(metrics=\) asks for 'AUROC'"),
        (MEASURED, {"ood": ["FPR95"]}, ValueError, r"out-of-distribution inputs section \(ood=\) asks for 'FPR95'"),
        ({}, {}, ValueError, "measured has nothing"),
        ([("accuracy", 0.7)], {}, TypeError, "measured must be a mapping"),
        ({"accuracy": "high"}, {}, TypeError, r"measured\['accuracy'\] must be a number, got str"),
        ({"accuracy": True}, {}, TypeError, "must be a number, got bool"),
        ({"accuracy": float("nan")}, {}, ValueError, "is nan: a card reports finite numbers only"),
        ({"": 0.5}, {}, ValueError, "keys must be metric names"),
        (MEASURED, {"metrics": []}, ValueError, "metrics must name at least one number"),
        (MEASURED, {"metrics": "accuracy"}, TypeError,
         r"metrics must be a list of names from measured, e.g. \['accuracy'\]"),
        (MEASURED, {"summary": "  "}, ValueError, "summary must be a non-empty string"),
        (MEASURED, {"intended_use": None}, ValueError, "intended_use must be a non-empty string"),
        (MEASURED, {"limitations": []}, ValueError, "limitations must be a string or a non-empty list"),
        (MEASURED, {"limitations": ["ok", ""]}, ValueError, "each limitation must be a non-empty string"),
        (MEASURED, {"training": [("epochs", 2)]}, TypeError, "training must be a mapping"),
        (MEASURED, {"by_group": {"a": 1}}, TypeError, "by_group must be a pandas DataFrame"),
        (MEASURED, {"notes": {"results": "x"}}, ValueError, "notes has 'results'; its keys are the result sections"),
        (MEASURED, {"fields": {"developer": "me"}}, ValueError, "fields has 'developer'.*did you mean 'developers'"),
        (MEASURED, {"model": "MLP"}, TypeError, "model must be a torch.nn.Module"),
        (MEASURED, {"tags": "fairness"}, TypeError, "tags must be a list of strings"),
    ],
)
def test_model_card_refuses_bad_input(measured, changes, error, message):
    with pytest.raises(error, match=message):
        model_card(measured, **card_arguments(**changes))


@pytest.mark.gpu
def test_a_model_trained_on_the_gpu_saves_and_loads_onto_the_gpu(tmp_path):
    model = SimpleCNN(3, 2, width=4).to("cuda")
    x = torch.randn(4, 3, 16, 16, device="cuda")
    model = trained(model, x)
    save_model(model, tmp_path)  # the weights are written from the CPU
    twin = load_model(tmp_path, device="cuda")
    assert next(twin.parameters()).is_cuda and torch.allclose(twin(x), model(x))
