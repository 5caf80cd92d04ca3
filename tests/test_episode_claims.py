"""The numbers episode 02's text quotes about the German credit data are the numbers its code computes.

Each test repeats the notebook's computation (same data, models, folds and seeds) and checks the
sentence quoted in its docstring or comment; "about x" means within 0.01 of x. (Episode 01's claims
are in test_privacy.py, the feedback-loop claims in test_simulations.py and below.)
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from trustml.data import load
from trustml.simulations import simulate_patrols


@pytest.fixture(scope="module")
def credit():
    data = load("german_credit")
    df, _ = data.convert_to_dataframe()
    others = [name for name in data.feature_names if name != "sex"]
    return df, others


def column_of(feature):
    return feature.split("=")[0]


def proxy_model():
    return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))


def cv(random_state=0):
    return StratifiedKFold(n_splits=5, shuffle=True, random_state=random_state)


def proxy_auroc(df, features, model=None, random_state=0):
    model = proxy_model() if model is None else model
    p = cross_val_predict(model, df[features], df["sex"], cv=cv(random_state), method="predict_proba")[:, 1]
    return roc_auc_score(df["sex"], p), balanced_accuracy_score(df["sex"], p > 0.5)


def about(value, quoted, tolerance=0.01):
    return abs(value - quoted) <= tolerance


def test_base_rates(credit):
    """Women are fewer (310 of 1,000) and rated good risks less often (65% against 72%); 69% are men."""
    df, _ = credit
    women, men = df[df.sex == 0], df[df.sex == 1]
    assert len(women) == 310 and len(df) == 1000 and round(len(men) / len(df), 2) == 0.69
    assert round(women.risk.mean(), 2) == 0.65 and round(men.risk.mean(), 2) == 0.72


def test_all_other_columns_predict_sex_weakly(credit):
    """An AUROC of about 0.64 ... (and a balanced accuracy of 0.60, quoted in exercise 3's solution)."""
    df, others = credit
    auroc, balanced = proxy_auroc(df, others)
    assert about(auroc, 0.64) and about(balanced, 0.60)


def test_permutation_test(credit):
    """Ridge ranks almost exactly as logistic regression; no shuffle comes close, so p = 1 / (shuffles + 1)."""
    df, others = credit
    X, is_male = df[others], df["sex"]
    for n_shuffles in (100, 500):  # fast and full mode
        rng = np.random.default_rng(0)
        shuffled = rng.permuted(np.tile(is_male.to_numpy()[:, None], n_shuffles), axis=0)
        folds = list(cv().split(X, is_male))
        ridge = make_pipeline(StandardScaler(), Ridge())
        real = roc_auc_score(is_male, cross_val_predict(ridge, X, is_male, cv=folds))
        null = roc_auc_score(shuffled, cross_val_predict(ridge, X, shuffled, cv=folds), average=None)
        assert abs(real - proxy_auroc(df, others)[0]) < 0.01
        assert null.max() < real - 0.03  # "none of the shuffled versions comes close"
        assert (1 + np.sum(null >= real)) / (1 + n_shuffles) == 1 / (1 + n_shuffles)
        assert abs(null.mean() - 0.5) < 0.02


@pytest.fixture(scope="module")
def by_column(credit):
    df, others = credit
    columns = sorted({column_of(name) for name in others})
    return pd.Series({c: proxy_auroc(df, [n for n in others if column_of(n) == c])[0] for c in columns})


def test_which_columns_carry_the_signal(credit, by_column):
    """Most of the signal comes from age and housing, then purpose and amount; the account balances are
    a little below 0.5; age alone gets almost as far as all columns together."""
    df, others = credit
    ranked = by_column.sort_values(ascending=False).index.tolist()
    assert ranked[:2] == ["age", "housing"] and set(ranked[2:4]) == {"purpose", "credit_amount"}
    assert by_column["checking_account"] < 0.5 and by_column["saving_accounts"] < 0.5
    assert by_column["age"] > proxy_auroc(df, others)[0] - 0.01


def test_weak_proxies_add_up(credit, by_column):
    """Without age, no remaining column reaches 0.6 on its own, yet together they get to about 0.62."""
    df, others = credit
    assert by_column.drop("age").max() < 0.6
    assert about(proxy_auroc(df, [n for n in others if n != "age"])[0], 0.62)


def test_what_the_proxies_look_like(credit):
    """Women are on average about four years younger, rent far more often (31% against 12%), borrow
    somewhat smaller amounts, more often for furniture and less often for business."""
    df, _ = credit
    means = df.groupby("sex")[["age", "housing=rent", "credit_amount", "purpose=furniture/equipment", "purpose=business"]].mean()
    women, men = means.loc[0.0], means.loc[1.0]
    assert 3.5 < men.age - women.age < 4.5
    assert round(women["housing=rent"], 2) == 0.31 and round(men["housing=rent"], 2) == 0.12
    assert women.credit_amount < men.credit_amount
    assert women["purpose=furniture/equipment"] > men["purpose=furniture/equipment"]
    assert women["purpose=business"] < men["purpose=business"]


def test_exercise_3_forest(credit):
    """The forest reaches an AUROC of about 0.68 and a balanced accuracy of about 0.63; with
    random_state=1 in StratifiedKFold it scores about 0.65."""
    df, others = credit
    forest = RandomForestClassifier(n_estimators=200, min_samples_leaf=5, class_weight="balanced", random_state=0)
    auroc, balanced = proxy_auroc(df, others, model=forest)
    assert about(auroc, 0.68) and about(balanced, 0.63)
    assert about(proxy_auroc(df, others, model=forest, random_state=1)[0], 0.65)


def test_exercise_4_without_age_and_housing(credit):
    """The AUROC drops to about 0.57."""
    df, others = credit
    rest = [n for n in others if column_of(n) not in ("age", "housing")]
    assert about(proxy_auroc(df, rest)[0], 0.57)


def share_a(values):
    totals = values.sum(axis=0)
    return totals[0] / totals.sum()


def test_simulation_quoted_numbers():
    """After a year the records show more than twice as much crime in A as in B (default run)."""
    recorded = simulate_patrols()["recorded"].sum(axis=0)
    assert recorded[0] / recorded[1] > 2


def test_exercise_5_solutions():
    """B ahead: 80% of patrols and about 70% of records; proportional: near 0.54 with seed 0, between about
    0.49 and 0.56 with other seeds; report_rate=0.5: about 0.56 and A keeps 80% of patrols; reweighting:
    about 0.5 whatever the seed, and with proportional patrols as well the patrols settle at 50/50."""
    b_ahead = simulate_patrols(initial_records=(50, 60))
    assert np.allclose(b_ahead["patrol_share_a"], 0.2) and abs(1 - share_a(b_ahead["recorded"]) - 0.70) < 0.03
    assert about(share_a(simulate_patrols(rule="proportional")["recorded"]), 0.54)
    shares = [share_a(simulate_patrols(rule="proportional", seed=s)["recorded"]) for s in range(1, 10)]
    assert 0.48 <= min(shares) and max(shares) <= 0.57
    reported = simulate_patrols(report_rate=0.5)
    assert about(share_a(reported["recorded"]), 0.56, 0.015) and (reported["patrol_share_a"] == 0.8).all()
    for seed in range(5):
        assert abs(share_a(simulate_patrols(reweight=True, seed=seed)["recorded"]) - 0.5) < 0.03
    lead = simulate_patrols(reweight=True)["patrol_share_a"]
    changes = np.flatnonzero(np.diff(lead) != 0)
    assert 1 <= len(changes) and changes.max() < 150  # "a few times in the first months"
    both = simulate_patrols(reweight=True, rule="proportional")["patrol_share_a"]
    assert abs(both[-30:].mean() - 0.5) < 0.03
