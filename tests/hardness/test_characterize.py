import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import trustml.hardness._characterize as characterize_module
from trustml import set_seed
from trustml.data import load
from trustml.hardness import (
    METHODS,
    RecordGradNorms,
    RecordInputGradients,
    characterize,
    evaluate,
    grand,
    perturb,
)
from trustml.hardness._methods import input_gradients
from trustml.models import MLP, LeNet
from trustml.training import Callback, fit


@pytest.fixture(scope="module")
def noisy_digits():
    digits = load("digits").subset(240, classes=[0, 1, 2, 3])
    return perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2, seed=0)


@pytest.fixture(scope="module")
def characterized(noisy_digits):
    set_seed(0)
    calls = []
    original = characterize_module.fit

    def counting_fit(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    characterize_module.fit = counting_fit
    try:
        model = LeNet(num_classes=4, dropout=0.2)
        result = characterize(model, noisy_digits.X, noisy_digits.y, epochs=6, lr=5e-3, batch_size=32)
    finally:
        characterize_module.fit = original
    return result, len(calls)


def test_all_thirteen_methods_from_one_training_run(characterized, noisy_digits):
    result, fit_calls = characterized
    assert fit_calls == 1
    n = len(noisy_digits.y)
    assert result.methods == METHODS
    for name, scores in result.scores.items():
        assert scores.shape == (n,) and scores.dtype == np.float64 and np.isfinite(scores).all(), name
    assert tuple(result.logits.shape) == (6, n, 4) and not torch.isnan(result.logits).any()
    assert tuple(result.input_gradients.shape) == (3, n, 28, 28)
    assert tuple(result.final_logits.shape) == (n, 4) and result.features.shape[0] == n
    assert set(result.groups) == {"data_iq", "data_maps"}
    assert set(result.seconds) == {"fit", "predict", *METHODS}
    assert len(result.history.loss) == 6


def test_scores_find_label_noise(characterized, noisy_digits):
    result, _ = characterized
    table = result.evaluate(noisy_digits.mask)
    for method in ("aum", "loss", "el2n", "cleanlab", "data_iq", "data_maps", "detector", "prototypicality", "grand"):
        assert table.loc[method, "auroc"] > 0.9, table
    # conf_agree and allsh never look at the label: they cannot tell a wrong label from a right one
    assert table.loc[["conf_agree", "allsh"], "auroc"].between(0.25, 0.75).all()


def test_result_as_a_table(characterized, noisy_digits):
    result, _ = characterized
    frame = result.to_frame()
    assert len(frame) == len(noisy_digits.y)
    assert {"label", "predicted", "confidence", "variability", "aleatoric", "data_iq_group"} <= set(frame.columns)
    assert set(METHODS) <= set(frame.columns)
    hardest = result.hardest("aum", k=5)
    assert np.all(np.diff(result.scores["aum"][hardest]) <= 0)
    assert "Characterization(240 samples, 4 classes, 6 epochs" in repr(result)
    with pytest.raises(ValueError, match="No scores for 'vg'"):
        result.hardest("vg")


def test_same_seed_same_scores(noisy_digits):
    def run():
        set_seed(1)
        return characterize(MLP(784, 4, dropout=0.2), noisy_digits.X, noisy_digits.y, epochs=3, seed=1,
                            methods=["aum", "conf_agree", "allsh", "detector"]).scores  # fmt: skip

    first, second = run(), run()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


class Snapshots(Callback):
    def __init__(self, epochs):
        self.epochs, self.models = epochs, []

    def on_epoch_end(self, epoch, model, logs):
        if epoch in self.epochs:
            self.models.append({k: v.clone() for k, v in model.state_dict().items()})


def test_recorders_capture_gradients_at_the_checkpoints(noisy_digits):
    X, y = noisy_digits.X[:60], noisy_digits.y[:60]
    set_seed(0)
    model = LeNet(num_classes=4, dropout=0.2)
    vog_recorder = RecordInputGradients(X, y, epochs=[0, 2])
    grand_recorder = RecordGradNorms(X, y, batch_size=16)
    snapshots = Snapshots({0, 2})
    fit(model, X, y, epochs=3, callbacks=[vog_recorder, snapshots, grand_recorder], progress=False)
    assert vog_recorder.epochs == (0, 2) and vog_recorder.seconds > 0
    replay = LeNet(num_classes=4, dropout=0.2)
    for recorded, state in zip(vog_recorder.gradients, snapshots.models):
        replay.load_state_dict(state)
        torch.testing.assert_close(recorded, input_gradients(replay, X, y))
    np.testing.assert_allclose(grand_recorder.norms, grand(model, X, y), rtol=1e-5)


def test_recorder_errors(noisy_digits):
    X, y = noisy_digits.X[:20], noisy_digits.y[:20]
    with pytest.raises(ValueError, match=r"epochs to record must be in 0..1"):
        fit(LeNet(num_classes=4), X, y, epochs=2, callbacks=[RecordInputGradients(X, y, epochs=[5])], progress=False)
    with pytest.raises(ValueError, match="pass it the same X and y as fit"):
        fit(LeNet(num_classes=4), X, y, epochs=1, callbacks=[RecordGradNorms(X[:5], y[:5])], progress=False)


class NoFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 4))

    def forward(self, x):
        return self.net(x)


def test_bad_input_to_characterize(noisy_digits):
    X, y = noisy_digits.X[:40], noisy_digits.y[:40]
    with pytest.raises(TypeError, match=r"'prototypicality' needs model.features\(x\).*NoFeatures"):
        characterize(NoFeatures(), X, y, epochs=1, methods=["aum", "prototypicality"])
    result = characterize(NoFeatures(), X, y, epochs=2, methods=["aum", "grand", "vog"])  # no features needed
    assert set(result.scores) == {"aum", "grand", "vog"}
    with pytest.raises(ValueError, match="Unknown method 'margin'; the known ones are: aum, cleanlab"):
        characterize(NoFeatures(), X, y, epochs=1, methods=["margin"])
    with pytest.raises(ValueError, match="methods is empty"):
        characterize(NoFeatures(), X, y, epochs=1, methods=[])
    with pytest.raises(ValueError, match="'vog' compares input gradients across epochs"):
        characterize(NoFeatures(), X, y, epochs=1, methods="vog")
    with pytest.raises(ValueError, match="has 39 entries but there are 40 samples"):
        characterize(NoFeatures(), X, y[:-1], epochs=1, methods="aum")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        characterize(lambda x: x, X, y, epochs=1)


def test_evaluate_metrics_and_errors():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    mask = rng.random(100) < 0.3
    scores = {"noisy": mask + rng.normal(scale=0.8, size=100), "ties": np.ones(100)}
    table = evaluate(scores, mask)
    assert isinstance(table, pd.DataFrame) and list(table.index) == ["noisy", "ties"]
    assert table.loc["noisy", "auroc"] == roc_auc_score(mask, scores["noisy"])
    assert table.loc["noisy", "auprc"] == average_precision_score(mask, scores["noisy"])
    top = np.argsort(-scores["noisy"])[: mask.sum()]
    assert table.loc["noisy", "precision_at_k"] == mask[top].mean()
    assert table.loc["ties", "auroc"] == 0.5
    with pytest.raises(ValueError, match="both perturbed"):
        evaluate(scores, np.zeros(100, dtype=bool))
    with pytest.raises(ValueError, match="has shape"):
        evaluate({"short": np.ones(10)}, mask)
    with pytest.raises(ValueError, match="NaN or infinite"):
        evaluate({"nan": np.full(100, np.nan)}, mask)
    with pytest.raises(TypeError, match="dict of method name"):
        evaluate(np.ones(100), mask)
