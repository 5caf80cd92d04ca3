import numpy as np
import pytest
import torch
from torch import nn

from trustml import set_seed
from trustml.models import MLP, SimpleCNN
from trustml.training import Callback, RecordLogits, fit, predict_logits


def blobs(n=120, seed=0):
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    return centres[y] + torch.randn(n, 2, generator=generator), y


def test_fit_learns_separable_data_and_reports_history():
    X, y = blobs()
    set_seed(0)
    model = MLP(2, 3, hidden=(16,))
    history = fit(model, X, y, epochs=15, lr=1e-2, X_val=X, y_val=y, progress=False)
    assert len(history.loss) == len(history.val_accuracy) == 15
    assert history.loss[-1] < history.loss[0]
    assert history.accuracy[-1] > 0.95 and history.val_accuracy[-1] > 0.95
    frame = history.to_frame()
    assert list(frame.columns) == ["loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    assert not model.training  # left in eval mode


def test_same_seed_same_numbers_different_seed_different_numbers():
    X, y = blobs()

    def run(seed):
        set_seed(seed)
        model = MLP(2, 3, hidden=(8,), dropout=0.3)
        return fit(model, X, y, epochs=3, seed=seed, progress=False).loss

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_numpy_inputs_are_accepted():
    X, y = blobs()
    history = fit(MLP(2, 3), X.numpy(), y.numpy(), epochs=1, progress=False)
    assert len(history.loss) == 1


def test_recorded_logits_are_the_training_pass_logits_in_sample_order():
    X, y = blobs(n=50)
    set_seed(0)
    model = nn.Linear(2, 3)  # no dropout or batch norm: train and eval passes agree

    class Freeze(Callback):
        """Undo every step, so that each epoch sees the initial weights."""

        def on_train_begin(self, model, **info):
            self.state = {k: v.clone() for k, v in model.state_dict().items()}

        def on_batch_end(self, epoch, indices, logits, targets):
            model.load_state_dict(self.state)

    recorder = RecordLogits()
    fit(model, X, y, epochs=3, batch_size=8, callbacks=[recorder, Freeze()], progress=False)
    assert recorder.logits.shape == (3, 50, 3)
    expected = predict_logits(model, X)
    for epoch in range(3):
        assert torch.allclose(recorder.logits[epoch], expected, atol=1e-6)


def test_every_sample_is_recorded_every_epoch_with_batch_norm():
    # 65 samples with batch size 64 must not leave a batch of one (batch norm would fail)
    X = torch.rand(65, 1, 8, 8)
    y = torch.arange(65) % 2
    recorder = RecordLogits()
    fit(SimpleCNN(1, 2, width=4), X, y, epochs=2, callbacks=[recorder], progress=False)
    assert not torch.isnan(recorder.logits).any()


def test_callbacks_see_epochs_and_logs():
    X, y = blobs(n=30)
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, model, logs):
            seen.append((epoch, sorted(logs)))

    fit(MLP(2, 3), X, y, epochs=2, callbacks=[Spy()], progress=False)
    assert seen == [(0, ["accuracy", "loss"]), (1, ["accuracy", "loss"])]


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
        ({"epochs": 2.5}, ValueError, "epochs must be a positive integer"),
        ({"batch_size": -4}, ValueError, "batch_size must be a positive integer"),
        ({"lr": 0}, ValueError, "lr must be a positive number"),
        ({"lr": float("nan")}, ValueError, "lr must be a positive number"),
        ({"optimizer": "adamw"}, ValueError, "optimizer must be one of"),
        ({"weight_decay": -1}, ValueError, "weight_decay must be a non-negative"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
        ({"X_val": torch.zeros(3, 2)}, ValueError, "Give both X_val and y_val"),
        ({"y": torch.zeros(30)}, TypeError, "integer class indices"),
        ({"y": torch.zeros(29, dtype=torch.long)}, ValueError, "X has 30 samples but y has 29 labels"),
        ({"y": torch.full((30,), 3)}, ValueError, "y has label 3 but the model outputs only 3 logits"),
        ({"y": torch.full((30,), -1)}, ValueError, "negative labels"),
        ({"y": torch.zeros(30, 1, dtype=torch.long)}, ValueError, "must be 1-D"),
        ({"X": torch.zeros(30, 5)}, ValueError, "cannot take inputs of shape"),
        ({"X": [[0.0, 1.0]] * 30}, TypeError, "X must be a torch.Tensor or numpy array"),
        ({"model": "mlp"}, TypeError, "model must be a torch.nn.Module"),
    ],
)
def test_bad_arguments_get_clear_errors(change, error, message):
    X, y = blobs(n=30)
    args = {"model": MLP(2, 3), "X": X, "y": y, "epochs": 1, "progress": False} | change
    with pytest.raises(error, match=message):
        fit(**args)


def test_nan_inputs_are_refused_with_a_count():
    X, y = blobs(n=30)
    X[[3, 7], 0] = float("nan")
    with pytest.raises(ValueError, match=r"NaN or infinite values in 2 sample\(s\)"):
        fit(MLP(2, 3), X, y, epochs=1, progress=False)


def test_predict_logits_batches_and_restores_mode():
    model = MLP(2, 3, dropout=0.5)
    model.train()
    X = torch.randn(1000, 2)
    out = predict_logits(model, X, batch_size=128)
    assert out.shape == (1000, 3)
    assert model.training
    assert torch.allclose(out, predict_logits(model, X))  # eval mode: dropout off, deterministic


@pytest.mark.gpu
def test_fit_runs_on_cuda():
    X, y = blobs()
    model = MLP(2, 3)
    history = fit(model, X, y, epochs=2, device="cuda", progress=False)
    assert next(model.parameters()).device.type == "cuda"
    assert np.isfinite(history.loss).all()


# --------------------------------------------------------------------------- divergence and input checks


def test_a_diverging_run_stops_naming_epoch_batch_and_a_smaller_lr():
    X, y = blobs(n=60)
    with pytest.raises(ValueError) as info:
        fit(MLP(2, 3), X * 1e3, y, epochs=5, lr=1e10, optimizer="sgd", batch_size=20, progress=False)
    message = str(info.value)
    assert "loss became NaN or infinite in epoch" in message and "batch " in message and "of 3" in message
    assert "smaller learning rate, e.g. lr=1e+09" in message


def test_divergence_can_be_a_warning():
    X, y = blobs(n=60)
    with pytest.warns(RuntimeWarning, match="Training diverged.*on_divergence='warn'") as caught:
        history = fit(MLP(2, 3), X * 1e3, y, epochs=4, lr=1e10, optimizer="sgd", on_divergence="warn", progress=False)
    assert len(caught) == 1 and len(history.loss) == 4 and np.isnan(history.loss[-1])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble, np.int64, np.uint8, np.bool_])
def test_numpy_inputs_of_any_real_dtype_are_converted(dtype):
    X, y = blobs(n=30)
    history = fit(MLP(2, 3), X.numpy().astype(dtype), y.numpy(), epochs=1, progress=False)
    assert np.isfinite(history.loss).all()
    assert predict_logits(MLP(2, 3), X.numpy().astype(dtype)).dtype == torch.float32


def test_big_endian_and_strided_numpy_inputs():
    X, y = blobs(n=30)
    big_endian = X.numpy().astype(">f8")
    assert torch.allclose(predict_logits(nn.Identity(), big_endian[::-1]), X.flip(0))
    fit(MLP(2, 3), big_endian[::-1], y.numpy()[::-1], epochs=1, progress=False)


def test_float64_inputs_meet_a_float64_model():
    X, y = blobs(n=30)
    model = MLP(2, 3).double()
    fit(model, X.double(), y, epochs=1, progress=False)
    assert predict_logits(model, X.numpy().astype(np.float64)).shape == (30, 3)


def test_numpy_scalars_are_accepted_for_lr_and_weight_decay():
    X, y = blobs(n=30)
    history = fit(MLP(2, 3), X, y, epochs=1, lr=np.float32(1e-3), weight_decay=np.float64(1e-4), progress=False)
    assert len(history.loss) == 1


def test_models_without_weights():
    X = torch.randn(5, 3)
    assert torch.equal(predict_logits(nn.Identity(), X), X)  # runs on the CPU
    with pytest.raises(ValueError, match=r"The model \(Identity\) has no trainable parameters"):
        fit(nn.Identity(), X, torch.zeros(5, dtype=torch.long), epochs=1, progress=False)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"X": np.zeros((30, 2), np.complex64)}, TypeError, "X is complex"),
        ({"X": torch.zeros(30, 2, dtype=torch.complex64)}, TypeError, "X is complex"),
        ({"X": np.array([["a", "b"]] * 30)}, TypeError, "X has dtype <U1: it must hold numbers"),
        ({"X": np.full((30, 2), 1e300)}, ValueError, "X has values too large for torch.float32"),
        ({"X": np.zeros((30, 2), np.float64)[:, :1]}, ValueError, r"cannot take inputs of shape \(1,\) per sample"),
        ({"y": np.array(["a"] * 30)}, TypeError, "y has dtype <U1"),
        (
            {"X_val": torch.zeros(5, 2), "y_val": torch.zeros(4, dtype=torch.long)},
            ValueError,
            "X_val has 5 samples but y_val has 4",
        ),
        (
            {"X_val": torch.zeros(4, 3), "y_val": torch.zeros(4, dtype=torch.long)},
            ValueError,
            r"X_val's samples have shape \(3,\) but X's have \(2,\)",
        ),
        ({"X_val": np.zeros((4, 2), np.complex128), "y_val": np.zeros(4, int)}, TypeError, "X_val is complex"),
        (
            {"X_val": torch.full((4, 2), float("nan")), "y_val": torch.zeros(4, dtype=torch.long)},
            ValueError,
            "X_val has NaN",
        ),
        ({"y_val": torch.full((4,), 7), "X_val": torch.zeros(4, 2)}, ValueError, "y_val has label 7"),
        ({"lr": np.bool_(True)}, ValueError, "lr must be a positive number"),
        ({"lr": "0.1"}, ValueError, "lr must be a positive number"),
        ({"lr": np.float32("inf")}, ValueError, "lr must be a positive number"),
        ({"weight_decay": np.float64(-1)}, ValueError, "weight_decay must be a non-negative number"),
        ({"on_divergence": "ignore"}, ValueError, "on_divergence must be 'raise' or 'warn'"),
        ({"device": "gpu"}, ValueError, "device must be a torch.device or a name"),
    ],
)
def test_more_bad_arguments_get_clear_errors(change, error, message):
    X, y = blobs(n=30)
    args = {"model": MLP(2, 3), "X": X, "y": y, "epochs": 1, "progress": False} | change
    with pytest.raises(error, match=message):
        fit(**args)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message where there is no CUDA device")
def test_an_unavailable_device_is_named():
    X, y = blobs(n=30)
    with pytest.raises(ValueError, match="device='cuda' is not available here"):
        fit(MLP(2, 3), X, y, epochs=1, device="cuda", progress=False)


@pytest.mark.parametrize(
    "model, X, error, message",
    [
        (MLP(2, 3), torch.zeros(4, 5), ValueError, r"cannot take inputs of shape \(5,\) per sample \(the samples of X"),
        ("mlp", torch.zeros(4, 2), TypeError, "model must be a torch.nn.Module"),
        (MLP(2, 3), np.zeros((4, 2), np.complex64), TypeError, "X is complex"),
        (nn.Flatten(0), torch.zeros(4, 2), ValueError, r"must output \(batch, classes\) logits, got shape \(4,\)"),
    ],
)
def test_predict_logits_errors_name_the_problem(model, X, error, message):
    with pytest.raises(error, match=message):
        predict_logits(model, X)


@pytest.mark.episodes
def test_a_saved_notebook_shows_the_finished_progress_bar(tmp_path):
    """The widget bar's plain-text fallback, which saved notebooks show, is the final state, not 0/3."""
    import nbformat

    from trustml.episodes import run_episode

    notebook = tmp_path / "bar.ipynb"
    code = (
        "import torch\nfrom trustml.models import MLP\nfrom trustml.training import fit\n"
        "X = torch.randn(40, 2); y = (X[:, 0] > 0).long()\n"
        "history = fit(MLP(2, 2), X, y, epochs=3)"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebook)
    run = run_episode(notebook, output_dir=tmp_path / "out", html=False)
    assert run.ok, run.error
    outputs = nbformat.read(run.output, as_version=4).cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], "one bar, nothing on stderr"
    data = outputs[0].data
    assert "application/vnd.jupyter.widget-view+json" in data  # still the widget where widgets run
    text = data["text/plain"]
    assert "3/3" in text and "0/3" not in text, text
    assert "loss=" in text and "accuracy=" in text  # the last epoch's numbers


def test_outside_a_notebook_the_bar_is_tqdms_plain_text(capsys):
    X, y = blobs(30)
    fit(MLP(2, 3), X, y, epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "training" in err and "3/3" in err and "loss=" in err
