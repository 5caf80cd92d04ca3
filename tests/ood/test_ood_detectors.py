"""OODDetector: every method on a problem with a known answer, each equal to pytorch-ood (or scikit-learn)
on the same inputs, batched or not, and clear errors for bad input."""

import numpy as np
import pytest
import torch
from pytorch_ood.detector import KNN, EnergyBased, Mahalanobis, MaxSoftmax, ViM
from sklearn.covariance import EmpiricalCovariance, LedoitWolf
from refusals import assert_refused
from torch import nn

from trustml.models import LeNet, SimpleCNN
from trustml.ood import OODDetector, metrics, ood_methods

METHODS = ["softmax", "energy", "mahalanobis", "knn", "vim"]


class PointModel(nn.Module):
    """A classifier of points: the features are the point itself, the head a fixed linear map."""

    def __init__(self, dim=4):
        super().__init__()
        self.head = nn.Linear(dim, 2)
        with torch.no_grad():  # class 0 on the left of x0 = 0, class 1 on the right
            self.head.weight.zero_()
            self.head.weight[0, 0], self.head.weight[1, 0] = -1.0, 1.0
            self.head.bias.zero_()

    def features(self, x):
        return x

    def forward(self, x):
        return self.head(self.features(x))


def clusters(n=200, dim=4, seed=0):
    """Two well-separated ID clusters (at -5 and +5 on the first axis) and a third far away (50 on the second)."""
    rng = np.random.default_rng(seed)
    left = rng.normal(size=(n, dim)) + np.eye(dim)[0] * -5
    right = rng.normal(size=(n, dim)) + np.eye(dim)[0] * 5
    far = rng.normal(size=(n, dim)) + np.eye(dim)[1] * 50
    X = torch.tensor(np.r_[left, right], dtype=torch.float32)
    y = torch.tensor(np.r_[np.zeros(n), np.ones(n)], dtype=torch.long)
    return X, y, torch.tensor(far, dtype=torch.float32)


OPTIONS = {"softmax": {}, "energy": {}, "mahalanobis": {}, "knn": {"k": 10}, "vim": {"subspace_dim": 1}}


@pytest.mark.parametrize("method", METHODS)
def test_every_detector_finds_a_far_cluster_in_trustmls_direction(method):
    """pytorch-ood#81: a covariance change once put Mahalanobis at AUROC 0.5; here each method must reach ~1."""
    X, y, far = clusters()
    X_test, _, _ = clusters(seed=1)
    detector = OODDetector(method, PointModel(), device="cpu", **OPTIONS[method]).fit(X, y)
    result = metrics(detector.scores(X_test), detector.scores(far))
    assert result["auroc"] > 0.99, result
    assert result["fpr95"] < 0.05 and result["fpr95_in"] < 0.05, result


@pytest.mark.parametrize("shrinkage", ["ledoit-wolf", "empirical"])
def test_mahalanobis_finds_the_far_cluster_with_either_covariance(shrinkage):
    X, y, far = clusters(dim=8)
    detector = OODDetector("mahalanobis", PointModel(8), shrinkage=shrinkage, device="cpu").fit(X, y)
    assert metrics(detector.scores(clusters(dim=8, seed=1)[0]), detector.scores(far))["auroc"] > 0.99


def test_logit_methods_equal_pytorch_ood_on_the_same_logits():
    logits = torch.randn(300, 5, generator=torch.Generator().manual_seed(0)) * 4
    for t in (1.0, 2.5):
        np.testing.assert_allclose(OODDetector("softmax", temperature=t).scores(logits=logits),
                                   MaxSoftmax(None, t=t).predict_logits(logits).numpy(), rtol=1e-6)
        np.testing.assert_allclose(OODDetector("energy", temperature=t).scores(logits=logits),
                                   EnergyBased(None, t=t).predict_logits(logits).numpy(), rtol=1e-6)
    # the formulas, written out: minus the top probability; -T logsumexp(z / T)
    np.testing.assert_allclose(OODDetector("softmax").scores(logits=logits), -logits.softmax(1).max(1).values,
                               rtol=1e-6)
    np.testing.assert_allclose(OODDetector("energy", temperature=2.0).scores(logits=logits),
                               -2.0 * torch.logsumexp(logits / 2.0, 1), rtol=1e-6)


def test_logit_methods_take_log_probabilities_with_minus_infinity():
    proba = np.array([[1.0, 0.0], [0.3, 0.7]])
    with np.errstate(divide="ignore"):
        scores = OODDetector("softmax").scores(logits=np.log(proba))
    np.testing.assert_allclose(scores, [-1.0, -0.7])


def test_inputs_through_the_model_equal_logits_and_features_given_directly():
    torch.manual_seed(0)
    model = LeNet(num_classes=3)
    X = torch.rand(40, 1, 28, 28)
    y = torch.arange(40) % 3
    with torch.no_grad():
        logits, features = model.eval()(X), model.features(X)
    options = {"knn": {"k": 5}, "vim": {"subspace_dim": 10}}  # the principal subspace needs more samples than dims
    for method in METHODS:
        direct = OODDetector(method, model, device="cpu", **options.get(method, {}))
        batched = OODDetector(method, model, device="cpu", batch_size=7, **options.get(method, {}))
        direct.fit(X, y), batched.fit(X, y)
        from_inputs = direct.scores(X)
        np.testing.assert_allclose(batched.scores(X), from_inputs, rtol=1e-5, atol=1e-6)
        given = {"logits": logits} if method in ("softmax", "energy") else {"features": features}
        np.testing.assert_allclose(direct.scores(**given), from_inputs, rtol=1e-5, atol=1e-6)


def test_scoring_restores_the_models_training_mode():
    model = SimpleCNN(num_classes=2, dropout=0.5).train()
    OODDetector("energy", model, device="cpu").scores(torch.rand(4, 1, 28, 28))
    assert model.training


def test_mahalanobis_with_ledoit_wolf_equals_the_formula_with_scikit_learns_estimate():
    """Half the squared distance to the nearest class mean, with scikit-learn's Ledoit-Wolf precision."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 20)) @ rng.normal(size=(20, 20))  # few samples for 20 correlated dimensions
    y = np.repeat([0, 1, 2], 20)
    z[y == 1] += 3
    test = rng.normal(size=(30, 20)) * 2
    detector = OODDetector("mahalanobis").fit(features=z, y=y)
    means = np.stack([z[y == c].mean(0) for c in range(3)])
    precision = LedoitWolf(assume_centered=True).fit(z - means[y]).precision_
    expected = np.min([0.5 * np.einsum("ij,jk,ik->i", test - m, precision, test - m) for m in means], axis=0)
    np.testing.assert_allclose(detector.scores(features=test), expected, rtol=1e-3)


def test_mahalanobis_without_shrinkage_ranks_as_pytorch_ood_and_scales_by_n():
    """pytorch-ood divides by the scatter matrix (covariance times N): the empirical covariance gives N x its score."""
    rng = np.random.default_rng(1)
    z = torch.tensor(rng.normal(size=(200, 6)), dtype=torch.float32)
    y = torch.tensor(np.repeat([0, 1], 100))
    z[y == 1] += 4
    test = torch.tensor(rng.normal(size=(50, 6)) * 3, dtype=torch.float32)
    theirs = Mahalanobis(None).fit_features(z, y).predict_features(test).numpy()
    ours = OODDetector("mahalanobis", shrinkage="empirical").fit(features=z, y=y).scores(features=test)
    np.testing.assert_allclose(ours, len(z) * theirs, rtol=1e-3)
    centred = z.numpy() - np.stack([z[y == c].mean(0).numpy() for c in (0, 1)])[y.numpy()]
    assert np.allclose(EmpiricalCovariance(assume_centered=True).fit(centred).covariance_,
                       OODDetector("mahalanobis", shrinkage="empirical").fit(features=z, y=y).covariance_.covariance_)


def test_knn_and_vim_equal_pytorch_ood_on_the_same_features():
    rng = np.random.default_rng(2)
    z = torch.tensor(rng.normal(size=(120, 8)), dtype=torch.float32)
    y = torch.tensor(np.repeat([0, 1, 2], 40))
    test = torch.tensor(rng.normal(size=(30, 8)), dtype=torch.float32)
    theirs = KNN(None, k=7).fit_features(z, y).predict_features(test).numpy()
    np.testing.assert_allclose(OODDetector("knn", k=7).fit(features=z, y=y).scores(features=test), theirs, rtol=1e-6)
    # KNN's score, written out: distance of the normalised features to the k-th nearest normalised training feature
    unit = z / z.norm(dim=1, keepdim=True)
    test_unit = test / test.norm(dim=1, keepdim=True)
    kth = torch.cdist(test_unit, unit).sort(dim=1).values[:, 6]
    np.testing.assert_allclose(theirs, kth.numpy(), rtol=1e-5)

    model = nn.Sequential()  # features are the inputs; the head a linear layer
    model.features = lambda x: x
    model.head = nn.Linear(8, 3)
    w, b = model.head.weight.detach(), model.head.bias.detach()
    reference = ViM(None, d=4, w=w, b=b).fit_features(z, y).predict_features(test).numpy()
    ours = OODDetector("vim", model, subspace_dim=4).fit(features=z, y=y).scores(features=test)
    np.testing.assert_allclose(ours, reference, rtol=1e-5)


def test_the_methods_table_names_every_method():
    table = ood_methods()
    assert list(table.index) == METHODS
    assert table.loc["mahalanobis", "scores"] == "features" and table.loc["softmax", "scores"] == "logits"


@pytest.mark.gpu
def test_runs_on_the_gpu_and_gives_the_cpus_numbers():
    X, y, far = clusters()
    for method in METHODS:
        cpu = OODDetector(method, PointModel(), device="cpu", **OPTIONS[method]).fit(X, y).scores(far)
        gpu = OODDetector(method, PointModel(), device="cuda", **OPTIONS[method]).fit(X, y).scores(far)
        np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4)


# --- bad input -----------------------------------------------------------------------------------------------


def no_features_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: OODDetector("enrgy"), ValueError, r"Unknown OOD method 'enrgy' in method\. Did you mean 'energy'"),
        (lambda: OODDetector("mahalanobis", no_features_model()), ValueError,
         r"'mahalanobis' scores the model's penultimate features, but the model \(Sequential\) has no features\(\)"),
        (lambda: OODDetector("knn", no_features_model()), ValueError, "has no features"),
        (lambda: OODDetector("vim"), ValueError, "'vim' needs the model"),
        (lambda: OODDetector("energy", k=5), ValueError, "k is an option of knn, not of 'energy'"),
        (lambda: OODDetector("knn", temperature=2), ValueError, "temperature is an option of softmax and energy"),
        (lambda: OODDetector("softmax", temperature=0), ValueError, "temperature must be a positive number"),
        (lambda: OODDetector("knn", k=0), ValueError, "k must be a positive integer"),
        (lambda: OODDetector("mahalanobis", shrinkage="oas"), ValueError, "Unknown shrinkage 'oas'"),
        (lambda: OODDetector("softmax", model="resnet"), TypeError, "model must be a torch.nn.Module"),
        (lambda: OODDetector("softmax", batch_size=0), ValueError, "batch_size must be a positive integer"),
        (lambda: OODDetector("softmax", device="tpu"), ValueError, "device must be"),
    ],
)
def test_bad_construction_gets_a_clear_error(build, error, message):
    assert_refused(build, error, message)


X, Y, _ = clusters(n=20)
NAN_ROW = torch.tensor([[0.0, 1, 2, float("nan")]])


def fitted_knn():
    return OODDetector("knn", PointModel(), k=5, device="cpu").fit(X, Y)


def energy():
    return OODDetector("energy")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: OODDetector("knn", PointModel(), k=5, device="cpu").scores(X), "must be fitted first: call .fit"),
        (lambda: OODDetector("knn", PointModel(), k=5, device="cpu").fit(X), "fit\\(\\) needs y"),
        (lambda: fitted_knn().fit(X, torch.where(Y == 1, -1, 0)),
         "y has negative labels: fit the detector on ID training data only"),
        (lambda: fitted_knn().fit(X, Y * 2), r"y has no sample of class\(es\) \[1\]"),
        (lambda: OODDetector("knn", PointModel(), device="cpu").fit(X, Y), "k=50 is more than the 40 training samples"),
        (lambda: fitted_knn().scores(logits=torch.zeros(3, 2)), "scores penultimate features, not logits"),
        (lambda: fitted_knn().scores(features=torch.zeros(3, 3)),
         "features have 3 columns but the detector was fitted on 4"),
        (lambda: fitted_knn().scores(X, features=X), "give exactly one of X"),
        (lambda: fitted_knn().scores(features=NAN_ROW), r"features has NaN or infinite values in 1 row"),
        (lambda: fitted_knn().scores(torch.full((2, 4), float("nan"))), "X has NaN or infinite values"),
        (lambda: energy().scores(X), "no model to pass X through"),
        (lambda: energy().scores(features=X), "scores logits, not features"),
        (lambda: energy().scores(logits=torch.zeros(3)), "logits must be 2-D"),
        (lambda: energy().scores(logits=torch.zeros(3, 1)), "logits need one column per class"),
        (lambda: energy().scores(logits=torch.tensor([[float("-inf"), float("-inf")]])),
         "logits has NaN or infinite values"),
        (lambda: OODDetector("vim", PointModel(), subspace_dim=4, device="cpu").fit(X, Y),
         "subspace_dim=4 must be smaller than the feature width 4"),
        (lambda: OODDetector("vim", PointModel(), subspace_dim=3, device="cpu").fit(X[:3], torch.tensor([0, 1, 1])),
         "subspace_dim=3 must be smaller than the 3 fitting samples"),
    ],
)
def test_bad_scoring_and_fitting_get_a_clear_error(call, message):
    assert_refused(call, ValueError, message)
