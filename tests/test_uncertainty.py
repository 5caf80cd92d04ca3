"""trustml.uncertainty against the references: pytorch-ood (MC dropout, entropy, temperature scaling),
torchmetrics (ECE), scikit-learn (reliability bins, log loss), SciPy (entropy, the NLL optimum)."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trustml import set_seed
from trustml.models import MLP, LeNet, SimpleCNN
from trustml.uncertainty import (
    TemperatureScaling,
    ensemble_predict,
    expected_calibration_error,
    expected_entropy,
    grid_points,
    mc_dropout_predict,
    mutual_information,
    negative_log_likelihood,
    plot_reliability_diagram,
    plot_uncertainty_maps,
    predictive_entropy,
    reliability_table,
    train_ensemble,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def random_probs(n=400, k=5, seed=0, concentration=0.5):
    return np.random.default_rng(seed).dirichlet([concentration] * k, size=n)


def small_cnn(dropout=0.5):
    set_seed(0)
    return SimpleCNN(in_channels=1, num_classes=4, width=4, depth=1, dropout=dropout)


# --------------------------------------------------------------------------- MC dropout


def test_mc_dropout_equals_pytorch_ood_mcd_with_batch_norm_in_eval_mode():
    from pytorch_ood.detector import MCD

    model = small_cnn().eval()
    with torch.no_grad():  # batch norm statistics far from their defaults: train-mode BN would change the outputs
        model.body[1].running_mean.uniform_(-1, 1)
        model.body[1].running_var.uniform_(0.5, 2)
    x = torch.randn(32, 1, 8, 8)
    ours = mc_dropout_predict(model, x, passes=7, seed=3)
    torch.manual_seed(3)
    reference = MCD.run_mean(model, x, samples=7, batch_norm=True)
    torch.manual_seed(3)
    best, mean_var = MCD.run(model, x, samples=7, batch_norm=True)
    assert torch.allclose(ours.mean(0), reference, atol=1e-6)
    assert torch.allclose(ours.mean(0).max(1).values, best, atol=1e-6)
    assert torch.allclose(ours.var(0).mean(1), mean_var, atol=1e-6)


def test_mc_dropout_keeps_batch_norm_statistics_and_restores_every_mode():
    model = small_cnn()
    model.train()
    model.head[0].eval()  # a mixed state must come back as it was
    modes = {name: m.training for name, m in model.named_modules()}
    stats = [b.clone() for b in model.buffers()]
    mc_dropout_predict(model, torch.randn(16, 1, 8, 8), passes=5)
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert all(torch.equal(a, b) for a, b in zip(stats, model.buffers()))


def test_mc_dropout_passes_differ_and_a_seed_repeats_them_without_touching_the_global_random_state():
    model = MLP(3, 4, hidden=(32,), dropout=0.5)
    x = torch.randn(50, 3)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = mc_dropout_predict(model, x, passes=6, seed=1)
    assert torch.rand(1) == before  # the global generator did not move
    b = mc_dropout_predict(model, x, passes=6, seed=1)
    c = mc_dropout_predict(model, x, passes=6, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.std(0).max() > 0.01  # the passes disagree
    assert torch.allclose(a.sum(-1), torch.ones(6, 50), atol=1e-6)


def test_mc_dropout_in_batches_gives_the_same_shape_and_each_pass_is_a_dropout_pass():
    model = MLP(3, 2, hidden=(16,), dropout=0.3)
    x = torch.randn(21, 3)
    out = mc_dropout_predict(model, x, passes=4, batch_size=5)
    assert out.shape == (4, 21, 2)
    with torch.no_grad():
        deterministic = model.eval()(x).softmax(-1)
    assert not torch.allclose(out[0], deterministic)  # dropout was on
    assert torch.allclose(out.mean(0), deterministic, atol=0.25)  # and centred on the deterministic net


@pytest.mark.parametrize(
    ("model", "X", "message"),
    [
        (MLP(3, 2), torch.randn(4, 3), "MLP has none with p > 0 (it has 2 with p = 0)"),
        (nn.Sequential(nn.Linear(3, 2)), torch.randn(4, 3), "Sequential has none with p > 0: every pass would give"),
        (LeNet(dropout=0.0), torch.randn(4, 1, 28, 28), "Train a model built with dropout, e.g. LeNet(dropout=0.2)"),
    ],
)
def test_mc_dropout_without_dropout_says_so(model, X, message):
    with pytest.raises(ValueError) as err:
        mc_dropout_predict(model, X)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(passes=0), ValueError, "passes must be a positive integer, got 0 (the number T"),
        (dict(passes=2.5), ValueError, "passes must be a positive integer"),
        (dict(passes=True), ValueError, "passes must be a positive integer"),
        (dict(seed=-1), ValueError, "seed must be a non-negative integer"),
        (dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
        (dict(X=torch.randn(4, 5)), ValueError, "cannot take inputs of shape (5,)"),
        (dict(X=torch.empty(0, 3)), ValueError, "X is empty"),
        (dict(X=torch.full((2, 3), float("nan"))), ValueError, "X has NaN or infinite values"),
        (dict(X=[[1.0, 2.0, 3.0]]), TypeError, "X must be a torch.Tensor or numpy array"),
        (dict(model="net"), TypeError, "model must be a torch.nn.Module"),
    ],
)
def test_mc_dropout_bad_input(kwargs, error, message):
    args = dict(model=MLP(3, 2, dropout=0.2), X=torch.randn(4, 3))
    args.update(kwargs)
    with pytest.raises(error) as err:
        mc_dropout_predict(args.pop("model"), args.pop("X"), **args)
    assert message in str(err.value)


# --------------------------------------------------------------------------- ensembles


def test_ensemble_predict_is_each_members_softmax_in_eval_mode():
    members = [MLP(3, 4, hidden=(8,), dropout=0.5) for _ in range(3)]
    for m in members:
        m.train()
    x = torch.randn(10, 3)
    out = ensemble_predict(members, x, batch_size=4)
    with torch.no_grad():
        expected = torch.stack([m.eval()(x).softmax(-1) for m in members])
    assert torch.allclose(out, expected, atol=1e-6)
    assert all(m.training is False for m in members)  # predict_logits restored their (eval) mode


def test_train_ensemble_members_differ_and_repeat_with_the_seed():
    X = torch.randn(80, 2)
    y = (X[:, 0] > 0).long()
    build = lambda: MLP(2, 2, hidden=(8,))  # noqa: E731
    a = train_ensemble(build, X, y, members=3, epochs=2, seed=4)
    b = train_ensemble(build, X, y, members=3, epochs=2, seed=4)
    first = [next(m.parameters()) for m in a]
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[1], first[2])
    assert all(torch.equal(p, next(m.parameters())) for p, m in zip(first, b))
    # member m is exactly fit(build() after set_seed(seed + m), seed=seed + m)
    from trustml.training import fit

    set_seed(5)
    lone = build()
    fit(lone, X, y, epochs=2, seed=5, progress=False)
    assert torch.equal(next(lone.parameters()).cpu(), first[1].cpu())


@pytest.mark.parametrize(
    ("models", "error", "message"),
    [
        ([], ValueError, "models is empty: an ensemble needs at least one member"),
        (MLP(3, 2), TypeError, "got a single MLP: pass [model]"),
        (nn.Sequential(nn.Linear(3, 2)), TypeError, "got a single Sequential"),
        ([MLP(3, 2), "x"], TypeError, "models[1] is a str, not a torch.nn.Module"),
        ([MLP(3, 2), MLP(3, 4)], ValueError, "models[1] outputs 4 classes but models[0] outputs 2"),
        ((m for m in [MLP(3, 2)]), TypeError, "models must be a list of torch.nn.Module"),
    ],
)
def test_ensemble_predict_bad_input(models, error, message):
    with pytest.raises(error) as err:
        ensemble_predict(models, torch.randn(4, 3))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("build", "kwargs", "error", "message"),
    [
        (MLP(2, 2), dict(epochs=1), TypeError, "build must be a function that returns a fresh model"),
        ("MLP", dict(epochs=1), TypeError, "build must be a function"),
        (lambda: MLP(2, 2), dict(epochs=1, members=0), ValueError, "members must be a positive integer, got 0"),
        (lambda: MLP(2, 2), dict(), TypeError, "needs epochs="),
        (lambda: MLP(2, 2), dict(epochs=1, **{"seed": 0, "lr": 1e-3}), None, None),
        (lambda: "model", dict(epochs=1), TypeError, "build() must return a torch.nn.Module, got str"),
    ],
)
def test_train_ensemble_bad_input(build, kwargs, error, message):
    X, y = torch.randn(20, 2), torch.randint(0, 2, (20,))
    if error is None:  # seed= is train_ensemble's own option, not fit's: allowed
        assert len(train_ensemble(build, X, y, **kwargs)) == 5
        return
    with pytest.raises(error) as err:
        train_ensemble(build, X, y, **kwargs)
    assert message in str(err.value)


def test_train_ensemble_refuses_a_build_that_returns_the_same_model():
    shared = MLP(2, 2)
    with pytest.raises(ValueError, match="returned the same model object twice"):
        train_ensemble(lambda: shared, torch.randn(20, 2), torch.randint(0, 2, (20,)), members=2, epochs=1)


# --------------------------------------------------------------------------- entropy and mutual information


def test_predictive_entropy_equals_torch_scipy_and_pytorch_ood():
    from pytorch_ood.detector import Entropy
    from scipy.stats import entropy

    probs = random_probs(concentration=2.0)  # no probability below pytorch-ood's clip of 1e-7
    ours = predictive_entropy(probs)
    assert np.allclose(ours, entropy(probs, axis=1))
    assert np.allclose(ours, torch.distributions.Categorical(probs=torch.from_numpy(probs)).entropy().numpy())
    logits = torch.from_numpy(np.log(probs))
    assert np.allclose(ours, Entropy.score(logits).numpy(), atol=1e-6)
    assert np.allclose(expected_entropy(probs), ours) and np.all(mutual_information(probs) == 0)


def test_entropies_of_samples_follow_their_definitions():
    from scipy.stats import entropy

    rng = np.random.default_rng(1)
    samples = rng.dirichlet([0.4] * 3, size=(6, 50))  # (S, N, K)
    mean = samples.mean(0)
    assert np.allclose(predictive_entropy(samples), entropy(mean, axis=1))
    assert np.allclose(expected_entropy(samples), entropy(samples, axis=2).mean(0))
    mi = mutual_information(samples)
    assert np.allclose(mi, entropy(mean, axis=1) - entropy(samples, axis=2).mean(0))
    assert (mi >= 0).all() and (mi <= math.log(3) + 1e-12).all()
    # torch tensors and zeros (0 log 0 = 0) are fine
    assert np.allclose(predictive_entropy(torch.tensor([[1.0, 0.0, 0.0]])), 0)


def test_mutual_information_known_answers():
    certain_apart = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    unsure_together = np.full((2, 1, 2), 0.5)
    assert mutual_information(certain_apart) == pytest.approx(math.log(2))
    assert expected_entropy(certain_apart) == pytest.approx(0)
    assert mutual_information(unsure_together) == pytest.approx(0)
    assert expected_entropy(unsure_together) == pytest.approx(math.log(2))
    # S members each certain of another of K >= S classes: MI = log S
    one_hot = np.eye(4)[:, None, :]  # (4 members, 1 input, 4 classes)
    assert mutual_information(one_hot) == pytest.approx(math.log(4))


@pytest.mark.parametrize(
    ("probs", "error", "message"),
    [
        (np.ones((2, 3)), ValueError, "each row must sum to 1"),
        (np.array([[0.5, 0.6]]), ValueError, "some sum to 1.1"),
        (np.array([[1.5, -0.5]]), ValueError, "apply softmax first"),
        (np.array([[np.nan, 0.5]]), ValueError, "NaN or infinite"),
        (np.zeros((0, 3)), ValueError, "is empty"),
        (np.zeros((0, 4, 3)), ValueError, "is empty"),
        (np.ones((4, 1)), ValueError, "at least 2 classes"),
        (np.ones(3) / 3, ValueError, "(samples, N, classes)"),
        (np.ones((2, 2, 2, 2)) / 2, ValueError, "(samples, N, classes)"),
        (np.array([["a", "b"]]), TypeError, "real probabilities"),
        (np.array([[True, False]]), TypeError, "real probabilities"),
        ("0.5", TypeError, "must be a torch.Tensor or numpy array"),
    ],
)
@pytest.mark.parametrize("measure", [predictive_entropy, expected_entropy, mutual_information])
def test_uncertainty_measures_bad_input(measure, probs, error, message):
    with pytest.raises(error) as err:
        measure(probs)
    assert message in str(err.value)


# --------------------------------------------------------------------------- calibration


@pytest.mark.parametrize(("k", "bins", "seed"), [(2, 10, 0), (5, 15, 1), (10, 15, 2), (10, 5, 3), (3, 1, 4)])
def test_ece_equals_torchmetrics(k, bins, seed):
    from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error

    probs = random_probs(n=500, k=k, seed=seed)
    labels = np.random.default_rng(seed + 10).integers(0, k, 500)
    ours = expected_calibration_error(probs, labels, bins=bins)
    theirs = multiclass_calibration_error(
        torch.from_numpy(probs), torch.from_numpy(labels), num_classes=k, n_bins=bins, norm="l1"
    )
    assert ours == pytest.approx(float(theirs), abs=1e-6)  # torchmetrics computes in float32
    if k == 2:  # the top-label ECE of a binary problem, as a confidence per sample
        confidence = torch.from_numpy(probs.max(1))
        correct = torch.from_numpy((probs.argmax(1) == labels).astype(np.int64))
        assert ours == pytest.approx(float(binary_calibration_error(confidence, correct, n_bins=bins)), abs=1e-6)


def test_ece_hand_computed():
    # confidences 0.95 0.95 0.75 0.65 | right, wrong, right, wrong | 10 bins
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.25, 0.75], [0.35, 0.65]])
    labels = np.array([0, 1, 1, 0])
    assert expected_calibration_error(probs, labels, bins=10) == pytest.approx((2 * 0.45 + 0.25 + 0.65) / 4)
    assert expected_calibration_error(probs, labels, bins=1) == pytest.approx(abs(0.5 - 0.825))
    perfect = np.array([[0.8, 0.2]] * 5)
    assert expected_calibration_error(perfect, np.array([0, 0, 0, 0, 1])) == pytest.approx(0)


def test_reliability_table_equals_scikit_learn_calibration_curve_edges_included():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    probs = random_probs(n=300, k=3)
    probs[:30] = [0.6, 0.3, 0.1]  # on a bin edge of 5 and 10 bins: (0.4, 0.6] holds it
    probs[30:40] = [1.0, 0.0, 0.0]  # confidence 1 falls in the last bin
    labels = rng.integers(0, 3, 300)
    confidence, correct = probs.max(1), (probs.argmax(1) == labels).astype(int)
    for bins in (5, 10, 15):
        table = reliability_table(probs, labels, bins=bins)
        observed, predicted = calibration_curve(correct, confidence, n_bins=bins, strategy="uniform")
        filled = table[table["count"] > 0]
        assert np.allclose(filled["accuracy"], observed) and np.allclose(filled["confidence"], predicted)
        assert table["count"].sum() == 300 and np.allclose(table["gap"], table["accuracy"] - table["confidence"],
                                                           equal_nan=True)  # fmt: skip
    table = reliability_table(probs, labels, bins=5)
    assert table.loc[2, "count"] >= 30  # (0.4, 0.6]
    assert table.loc[4, "count"] >= 10


def test_nll_equals_scikit_learn_log_loss_and_cross_entropy():
    from sklearn.metrics import log_loss

    logits = torch.randn(200, 4, dtype=torch.float64) * 3
    labels = torch.randint(0, 4, (200,))
    probs = logits.softmax(1)
    ours = negative_log_likelihood(probs, labels)
    assert ours == pytest.approx(float(F.cross_entropy(logits, labels)), rel=1e-9)
    assert ours == pytest.approx(log_loss(labels.numpy(), probs.numpy(), labels=range(4)), rel=1e-9)
    certain_mistake = negative_log_likelihood(np.array([[1.0, 0.0]]), np.array([1]))
    assert certain_mistake == pytest.approx(-math.log(np.finfo(np.float64).eps))


@pytest.mark.parametrize(
    ("probs", "labels", "kwargs", "error", "message"),
    [
        (np.full((3, 2), 0.5), np.array([0, 1]), {}, ValueError, "labels has 2 entries but there are 3 predictions"),
        (np.full((3, 2), 0.5), np.array([0, 1, 2]), {}, ValueError, "class index 2, outside 0..1"),
        (np.full((3, 2), 0.5), np.array([0, -1, 1]), {}, ValueError, "class index -1"),
        (np.full((3, 2), 0.5), np.array([0.0, 1.0, 1.0]), {}, TypeError, "integer class indices"),
        (np.full((3, 2), 0.5), np.array([[0, 1, 1]]), {}, ValueError, "must be 1-D"),
        (np.full((4, 3, 2), 0.5), np.array([0, 1, 1]), {}, ValueError, "average the samples"),
        (np.full((3, 2), 0.6), np.array([0, 1, 1]), {}, ValueError, "each row must sum to 1"),
        (np.full((3, 2), 0.5), np.array([0, 1, 1]), {"bins": 0}, ValueError, "bins must be a positive integer"),
    ],
)
def test_calibration_bad_input(probs, labels, kwargs, error, message):
    for function in (expected_calibration_error, reliability_table, negative_log_likelihood):
        if kwargs and function is negative_log_likelihood:
            continue
        with pytest.raises(error) as err:
            function(probs, labels, **kwargs)
        assert message in str(err.value)


def overconfident_logits(n=600, k=4, seed=0, wrong=0.25, scale=6.0):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, k, (n,), generator=generator)
    logits = scale * (torch.randn(n, k, generator=generator) * 0.5 + F.one_hot(labels, k))
    flip = torch.rand(n, generator=generator) < wrong
    logits[flip] = logits[flip].roll(1, dims=1)
    return logits.double(), labels


def test_temperature_scaling_finds_the_nll_optimum_and_beats_pytorch_ood():
    from pytorch_ood.detector import TemperatureScaling as OODTemperatureScaling
    from scipy.optimize import minimize_scalar

    logits, labels = overconfident_logits()
    ours = TemperatureScaling().fit(logits, labels)

    def nll(log_t):
        return float(F.cross_entropy(logits / math.exp(log_t), labels))

    optimum = minimize_scalar(nll, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10})
    assert ours.temperature_ == pytest.approx(math.exp(optimum.x), rel=1e-4)
    assert ours.temperature_ > 1.5  # overconfident: softened
    reference = OODTemperatureScaling(None).fit_logits(logits.float(), labels)
    their_t = float(reference.t.detach())
    assert their_t > 1  # the same direction (its L-BFGS stops after 50 steps of lr 0.01)
    assert ours.nll_after_ <= nll(math.log(their_t)) + 1e-12
    assert ours.nll_after_ < ours.nll_before_ == pytest.approx(float(F.cross_entropy(logits, labels)))


def test_temperature_scaling_keeps_accuracy_lowers_nll_and_sharpens_an_underconfident_model():
    logits, labels = overconfident_logits(seed=1)
    val, test = slice(0, 300), slice(300, None)
    scaler = TemperatureScaling().fit(logits[val], labels[val])
    before, after = logits[test].softmax(1), scaler.predict_proba(logits[test])
    assert torch.equal(before.argmax(1), after.argmax(1))
    assert negative_log_likelihood(after, labels[test]) < negative_log_likelihood(before, labels[test])
    assert expected_calibration_error(after, labels[test]) < expected_calibration_error(before, labels[test])
    assert torch.allclose(scaler.transform(logits), (logits / scaler.temperature_).float())
    timid = TemperatureScaling().fit(logits[val] / 20, labels[val])  # the same model, far too unsure
    assert timid.temperature_ < 1 and "temperature_=" in repr(timid)


@pytest.mark.parametrize(
    ("logits", "labels", "error", "message"),
    [
        (torch.randn(5, 3), torch.tensor([0, 1, 2]), ValueError, "labels has 3 entries but there are 5 predictions"),
        (torch.randn(3, 3), torch.tensor([0, 1, 3]), ValueError, "class index 3, outside 0..2"),
        (torch.randn(3), torch.tensor([0, 1, 2]), ValueError, "logits must have shape (N, classes)"),
        (torch.randn(0, 3), torch.tensor([], dtype=torch.long), ValueError, "logits is empty"),
        (torch.randn(3, 1), torch.tensor([0, 0, 0]), ValueError, "at least 2 classes"),
        (torch.tensor([[0.0, float("inf")]]), torch.tensor([0]), ValueError, "NaN or infinite"),
        (torch.randint(0, 3, (3, 3)), torch.tensor([0, 1, 2]), TypeError, "floating point (pre-softmax outputs)"),
        ([[0.0, 1.0]], torch.tensor([0]), TypeError, "logits must be a torch.Tensor or numpy array"),
    ],
)
def test_temperature_scaling_bad_input(logits, labels, error, message):
    with pytest.raises(error) as err:
        TemperatureScaling().fit(logits, labels)
    assert message in str(err.value)


def test_temperature_scaling_must_be_fitted_and_max_iter_checked():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        TemperatureScaling().predict_proba(torch.randn(2, 2))
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        TemperatureScaling(max_iter=0)
    assert repr(TemperatureScaling()) == "TemperatureScaling(not fitted)"


# --------------------------------------------------------------------------- views


def test_reliability_diagram_draws_each_filled_bin_and_its_ece():
    probs, labels = random_probs(n=300, k=3), np.random.default_rng(0).integers(0, 3, 300)
    ax = plot_reliability_diagram(probs, labels, bins=10, title="model")
    filled = int((reliability_table(probs, labels, bins=10)["count"] > 0).sum())
    heights = [p.get_height() for p in ax.containers[0]]
    assert len(heights) == filled
    assert np.allclose(heights, reliability_table(probs, labels, bins=10).query("count > 0")["accuracy"])
    assert f"{expected_calibration_error(probs, labels, bins=10):.3f}" in ax.get_title()


def test_grid_points_run_row_by_row_from_the_bottom_as_imshow_reads_them():
    points = grid_points((0, 2, 10, 11), resolution=3)
    assert points.shape == (9, 2)
    assert points[:3, 1].eq(10).all() and torch.allclose(points[:3, 0], torch.tensor([0.0, 1.0, 2.0]))
    assert points[-1].tolist() == [2.0, 11.0]


def test_uncertainty_maps_follow_the_measures_and_put_each_point_where_it_belongs():
    extent = (-1, 1, -1, 1)
    points = grid_points(extent, resolution=11)
    p_right = torch.sigmoid(10 * points[:, 0])
    member_a = torch.stack([1 - p_right, p_right], 1)
    member_b = member_a.flip(1) * (points[:, 1:] > 0) + member_a * (points[:, 1:] <= 0)  # disagree in the top half
    samples = torch.stack([member_a, member_b])
    out = plot_uncertainty_maps(samples, extent=extent, X=points[:5], y=np.zeros(5))
    maps = out["maps"]
    assert np.allclose(maps["mutual_information"].ravel(), mutual_information(samples))
    assert np.allclose(maps["predictive_entropy"].ravel(), predictive_entropy(samples))
    assert maps["mutual_information"][:5].max() == pytest.approx(0, abs=1e-12)  # bottom rows: the members agree
    assert maps["mutual_information"][-1].max() == pytest.approx(math.log(2), abs=1e-3)  # top rows: they disagree
    assert out["axes"][0].images[0].get_extent() == list(extent)


@pytest.mark.parametrize(
    ("extent", "kwargs", "error", "message"),
    [
        ((1, 0, 0, 1), {}, ValueError, "x_min < x_max"),
        ((0, 1, 0), {}, ValueError, "four finite numbers"),
        ((0, 1, 0, float("nan")), {}, ValueError, "four finite numbers"),
        ("abcd", {}, TypeError, "extent must be four numbers"),
        ((0, 1, 0, 1), {"resolution": 0}, ValueError, "resolution must be a positive integer"),
    ],
)
def test_grid_points_bad_input(extent, kwargs, error, message):
    with pytest.raises(error) as err:
        grid_points(extent, **kwargs)
    assert message in str(err.value)


def test_uncertainty_maps_bad_input():
    with pytest.raises(ValueError, match="not a square grid"):
        plot_uncertainty_maps(np.full((1, 10, 2), 0.5), extent=(0, 1, 0, 1))
    with pytest.raises(ValueError, match="axes must be three Axes"):
        plot_uncertainty_maps(np.full((1, 9, 2), 0.5), extent=(0, 1, 0, 1), axes=plt.subplots(1, 2)[1])


@pytest.mark.gpu
def test_mc_dropout_and_ensembles_on_cuda_match_the_cpu():
    model = small_cnn()
    x = torch.randn(64, 1, 8, 8)
    cpu = ensemble_predict([model], x)
    on_gpu = ensemble_predict([model.to("cuda")], x)
    assert torch.allclose(cpu, on_gpu, atol=1e-5) and on_gpu.device.type == "cpu"
    samples = mc_dropout_predict(model, x, passes=8, seed=0)
    assert samples.device.type == "cpu" and samples.shape == (8, 64, 4) and samples.std(0).max() > 0
    assert torch.equal(samples, mc_dropout_predict(model, x, passes=8, seed=0))
    scaler = TemperatureScaling().fit(torch.randn(50, 3, device="cuda"), torch.randint(0, 3, (50,), device="cuda"))
    assert scaler.temperature_ > 0
