"""The membership-inference attack: checked against scikit-learn's log loss, SciPy's Mann-Whitney U
and a brute-force threshold search, and against what episode 01 says about it."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from trustml.data import load
from trustml.privacy import MembershipInference, membership_inference, per_sample_loss, plot_membership_losses


@pytest.fixture(scope="module")
def overfitted():
    X, y = make_classification(n_samples=400, n_features=8, flip_y=0.2, random_state=0)
    tree = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])
    return tree, (X[:200], y[:200]), (X[200:], y[200:])


def test_per_sample_loss_averages_to_sklearn_log_loss():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=50)
    y = rng.choice(["a", "b", "c"], size=50)
    losses = per_sample_loss(y, proba, classes=["a", "b", "c"])
    assert losses.shape == (50,) and (losses >= 0).all()
    assert losses.mean() == pytest.approx(log_loss(y, proba, labels=["a", "b", "c"]))


def test_per_sample_loss_stays_finite_when_the_true_class_gets_zero():
    assert np.isfinite(per_sample_loss([0], [[0.0, 1.0]])).all()


def test_attack_auroc_is_the_mann_whitney_statistic(overfitted):
    attack = membership_inference(*overfitted)
    n_in, n_out = len(attack.member_loss), len(attack.non_member_loss)
    # a member "wins" when its loss is lower than a non-member's
    u = mannwhitneyu(-attack.member_loss, -attack.non_member_loss).statistic
    assert attack.auroc == pytest.approx(u / (n_in * n_out))


def test_advantage_is_the_best_threshold(overfitted):
    attack = membership_inference(*overfitted)
    thresholds = np.unique(np.r_[attack.member_loss, attack.non_member_loss])
    best = max((attack.member_loss <= t).mean() - (attack.non_member_loss <= t).mean() for t in thresholds)
    assert attack.advantage == pytest.approx(best)


def test_overfitted_model_leaks_and_the_summary_says_so(overfitted):
    attack = membership_inference(*overfitted)
    assert attack.member_accuracy == 1.0 and attack.non_member_accuracy < 0.9
    assert attack.auroc > 0.6 and attack.advantage > 0.2
    assert "attack AUROC" in str(attack) and "on unseen ones" in str(attack)


def test_a_model_that_saw_nothing_leaks_nothing():
    X, y = make_classification(n_samples=2000, n_features=5, random_state=1)
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X[1000:], y[1000:])
    attack = membership_inference(model, (X[:500], y[:500]), (X[500:1000], y[500:1000]))  # "members" never seen
    assert abs(attack.auroc - 0.5) < 0.05


@pytest.fixture(scope="module")
def credit_split():
    credit = load("german_credit")
    X, y = credit.features, credit.labels.ravel()
    X_train, X_unseen, y_train, y_unseen = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    return (X_train, y_train), (X_unseen, y_unseen)


def test_episode_01_claims_about_the_fully_grown_forest(credit_split):
    train, unseen = credit_split
    forest = RandomForestClassifier(n_estimators=200, random_state=0).fit(*train)
    attack = membership_inference(forest, train, unseen)
    assert attack.member_accuracy == 1.0  # "classifies every one of its training applicants correctly"
    assert attack.non_member_accuracy < 0.8  # "but far fewer of the unseen ones"
    assert attack.member_loss.mean() < attack.non_member_loss.mean() / 2  # "much lower"
    assert attack.auroc > 0.7 and attack.advantage > 0.3  # "well above 0.5", "far from 0"


def test_episode_01_exercise_solution_about_the_smoother_forest(credit_split):
    train, unseen = credit_split
    grown = membership_inference(RandomForestClassifier(n_estimators=200, random_state=0).fit(*train), train, unseen)
    smoother = RandomForestClassifier(n_estimators=200, min_samples_leaf=20, random_state=0).fit(*train)
    attack = membership_inference(smoother, train, unseen)
    assert 0 <= grown.non_member_accuracy - attack.non_member_accuracy < 0.04  # "drops by a few percentage points"
    assert abs(attack.member_accuracy - attack.non_member_accuracy) < 0.03  # "about the same level"
    assert abs(attack.auroc - 0.5) < 0.05  # "drops to about 0.5"


def test_bad_inputs_are_named(overfitted):
    tree, members, non_members = overfitted
    with pytest.raises(ValueError, match="one label per row"):
        per_sample_loss([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]])
    with pytest.raises(ValueError, match="2-D"):
        per_sample_loss([0], [0.5, 0.5])
    with pytest.raises(ValueError, match="summing to 1"):
        per_sample_loss([0], [[0.5, 0.7]])
    with pytest.raises(ValueError, match="not among the classes"):
        per_sample_loss([2], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="classes has 3 entries"):
        per_sample_loss([0], [[0.5, 0.5]], classes=[0, 1, 2])
    with pytest.raises(TypeError, match="predict_proba"):
        membership_inference(object(), members, non_members)
    with pytest.raises(ValueError, match=r"members must be a pair \(X, y\)"):
        membership_inference(tree, members[0], non_members)
    with pytest.raises(ValueError, match="non_members is empty"):
        membership_inference(tree, members, (non_members[0][:0], non_members[1][:0]))
    with pytest.raises(TypeError, match="MembershipInference"):
        plot_membership_losses({"auroc": 0.5})


def test_plot_draws_both_distributions_with_labelled_axes(overfitted):
    attack = membership_inference(*overfitted)
    ax = plot_membership_losses(attack, title="t")
    assert isinstance(attack, MembershipInference)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training records", "unseen records"]
