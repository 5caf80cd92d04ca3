"""trustml.ood.metrics gives pytorch-ood's OODMetrics numbers, which agree with scikit-learn's curves."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_ood.metrics import OODMetrics
from sklearn.metrics import auc, precision_recall_curve, roc_auc_score, roc_curve

from refusals import assert_refused

from trustml.ood import metrics


# the reference computes AUTC too, which warns on constant or infinite scores (trustml does not report it)
pytestmark = pytest.mark.filterwarnings("ignore:AUTC is undefined")


def reference(id_scores, ood_scores):
    """pytorch-ood's OODMetrics, fed as its documentation shows (OOD labels < 0)."""
    scores = torch.tensor(np.r_[id_scores, ood_scores], dtype=torch.float64)
    labels = torch.tensor(np.r_[np.zeros(len(id_scores)), -np.ones(len(ood_scores))], dtype=torch.long)
    return OODMetrics().update(scores, labels).compute()


def sklearn_metrics(id_scores, ood_scores):
    """The same numbers from scikit-learn's curves, written out from the definitions."""
    s = np.nan_to_num(np.r_[id_scores, ood_scores].astype(float), posinf=1e300, neginf=-1e300)  # same ranks
    is_ood = np.r_[np.zeros(len(id_scores)), np.ones(len(ood_scores))]
    fpr, tpr, _ = roc_curve(is_ood, s, drop_intermediate=False)
    fpr_in, tpr_in, _ = roc_curve(1 - is_ood, -s, drop_intermediate=False)
    precision, recall, _ = precision_recall_curve(is_ood, s)
    precision_in, recall_in, _ = precision_recall_curve(1 - is_ood, -s)
    return {
        "auroc": roc_auc_score(is_ood, s),
        "fpr95": fpr[np.searchsorted(tpr, 0.95)],  # first threshold that catches >= 95% of the OOD samples
        "fpr95_in": fpr_in[np.searchsorted(tpr_in, 0.95)],
        "aupr_in": auc(recall_in, precision_in),
        "aupr_out": auc(recall, precision),
    }


def check(id_scores, ood_scores):
    ours = metrics(id_scores, ood_scores)
    theirs = reference(id_scores, ood_scores)
    assert set(ours) == {"auroc", "fpr95", "fpr95_in", "aupr_in", "aupr_out"}
    assert ours["auroc"] == theirs["AUROC"]
    assert ours["fpr95"] == theirs["FPR95TPR"]
    assert ours["aupr_in"] == theirs["AUPR-IN"]
    assert ours["aupr_out"] == theirs["AUPR-OUT"]
    expected = sklearn_metrics(id_scores, ood_scores)
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-12), key
    return ours


@pytest.mark.parametrize(
    "id_scores, ood_scores",
    [
        ([0.1, 0.2, 0.3, 0.4], [0.35, 0.8, 0.9]),  # the docstring's example
        ([0.0], [1.0]),  # one sample each
        ([1.0], [0.0]),  # one each, the wrong way round
        ([0.5], [0.5]),  # one each, tied
        ([0.5, 0.5, 0.5], [0.5, 0.5]),  # all tied: AUROC 0.5
        ([0, 1, 1, 2, 2, 2], [1, 2, 2, 3]),  # heavy ties across the groups
        ([-np.inf, 0.0, 1.0], [2.0, np.inf]),  # infinite scores are allowed
        (np.arange(5), np.arange(5) + 0.5),
    ],
)
def test_equal_to_pytorch_ood_and_sklearn_on_ties_and_tiny_sets(id_scores, ood_scores):
    check(np.asarray(id_scores, float), np.asarray(ood_scores, float))


def test_known_values():
    assert metrics([0.5, 0.5, 0.5], [0.5, 0.5])["auroc"] == 0.5
    perfect = metrics([0, 1, 2], [3, 4])
    assert perfect["auroc"] == 1 and perfect["fpr95"] == 0 and perfect["fpr95_in"] == 0
    reversed_ = metrics([3, 4], [0, 1, 2])
    assert reversed_["auroc"] == 0 and reversed_["fpr95"] == 1
    # fpr95 and fpr95_in differ: OOD or ID as the positive class
    asymmetric = metrics(np.arange(20.0), np.r_[-1.0, np.full(19, 100.0)])
    assert asymmetric["fpr95"] == 0  # catching 19 of the 20 OOD samples (threshold 100) flags no ID sample
    assert asymmetric["fpr95_in"] == 1 / 20  # keeping 19 of the 20 ID samples (up to 18) lets the OOD -1 through


@settings(max_examples=100)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=30),
    st.lists(st.integers(-3, 3), min_size=1, max_size=30),
)
def test_equal_to_pytorch_ood_and_sklearn_on_random_tied_scores(id_scores, ood_scores):
    check(np.asarray(id_scores, float), np.asarray(ood_scores, float))


def test_accepts_torch_numpy_and_lists_of_ints():
    a = metrics(torch.tensor([1, 2, 3]), np.array([2.5, 4.0]))
    b = metrics([1, 2, 3], [2.5, 4])
    assert a == b


@pytest.mark.parametrize(
    "id_scores, ood_scores, error, message",
    [
        ([], [1.0], ValueError, "id_scores is empty"),
        ([1.0], [], ValueError, "ood_scores is empty"),
        ([1.0, np.nan], [1.0], ValueError, "id_scores has 1 NaN"),
        ([1.0], [np.nan, np.nan, 2.0], ValueError, "ood_scores has 2 NaN"),
        (np.zeros((3, 2)), [1.0], ValueError, "id_scores must be 1-D"),
        (["a", "b"], [1.0], TypeError, "id_scores must hold real numbers"),
        ([True, False], [1.0], TypeError, "id_scores must hold real numbers"),
        ({"a": 1}, [1.0], TypeError, "id_scores must be a torch.Tensor or numpy array"),
    ],
)
def test_bad_scores_get_a_clear_error(id_scores, ood_scores, error, message):
    assert_refused(lambda: metrics(id_scores, ood_scores), error, message)
