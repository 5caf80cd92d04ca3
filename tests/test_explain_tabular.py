"""trustml.explain's accuracy-versus-complexity helpers: parameter counts against the fitted models'
own arrays, the sweep against scikit-learn's cross_validate, and every bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from trustml.explain import complexity_sweep, count_parameters, plot_complexity

X, y = make_classification(n_samples=300, n_features=8, n_informative=4, random_state=0)


def test_a_tree_counts_two_numbers_per_split_and_one_per_leaf():
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    leaves = tree.get_n_leaves()
    assert count_parameters(tree) == 2 * (tree.tree_.node_count - leaves) + leaves
    three_classes = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, np.arange(300) % 3)
    assert count_parameters(three_classes) == 2 * 3 + 2 * 4  # 3 splits, 4 leaves of 2 free shares each
    regressor = DecisionTreeRegressor(max_depth=1).fit(X, X[:, 0])
    assert count_parameters(regressor) == 2 + 2


def test_linear_models_count_their_non_zero_coefficients_and_intercept():
    dense = LogisticRegression().fit(X, y)
    assert count_parameters(dense) == X.shape[1] + 1
    sparse = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.02).fit(X, y)
    counted = count_parameters(sparse)  # liblinear penalises the intercept too: it may be zero
    assert counted == np.count_nonzero(sparse.coef_) + np.count_nonzero(sparse.intercept_) < X.shape[1] + 1
    assert count_parameters(make_pipeline(StandardScaler(), dense)) == X.shape[1] + 1  # the scaler is not counted


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_networks_and_ensembles_count_all_their_parts():
    mlp = MLPClassifier(hidden_layer_sizes=(5, 3), max_iter=50, random_state=0).fit(X, y)
    assert count_parameters(mlp) == (8 * 5 + 5) + (5 * 3 + 3) + (3 * 1 + 1)
    forest = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    assert count_parameters(forest) == sum(count_parameters(t) for t in forest.estimators_)
    boosting = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0).fit(X, y)
    assert count_parameters(boosting) == sum(count_parameters(t) for t in boosting.estimators_.ravel())
    hist = HistGradientBoostingClassifier(max_iter=5, max_depth=2, random_state=0).fit(X, y)
    leaves = sum(int(p.nodes["is_leaf"].sum()) for it in hist._predictors for p in it)
    nodes = sum(len(p.nodes) for it in hist._predictors for p in it)
    assert count_parameters(hist) == 2 * (nodes - leaves) + leaves and hist.n_iter_ == 5


@pytest.mark.parametrize("model", [KNeighborsClassifier().fit(X, y), DecisionTreeClassifier(), "tree"])
def test_what_it_cannot_count_is_named(model):
    with pytest.raises(TypeError, match="count_parameters does not know how to count a"):
        count_parameters(model)


def test_the_sweep_scores_what_cross_validate_scores():
    trees = [(f"depth {d}", DecisionTreeClassifier(max_depth=d, random_state=0)) for d in (1, 5)]
    linear = [("C=1", make_pipeline(StandardScaler(), LogisticRegression()))]
    table = complexity_sweep({"tree": trees, "linear": linear}, X, y, cv=4, seed=3)
    assert list(table["family"]) == ["tree", "tree", "linear"] and list(table["setting"])[:2] == ["depth 1", "depth 5"]
    folds = StratifiedKFold(4, shuffle=True, random_state=3)
    for (_, estimator), row in zip(trees + linear, table.itertuples()):
        reference = cross_val_score(estimator, X, y, cv=folds, scoring="balanced_accuracy")
        assert row._4 == pytest.approx(reference.mean()) and row.std == pytest.approx(reference.std())
    assert table.loc[2, "parameters"] == 9 and table.loc[0, "parameters"] == 4


@pytest.mark.parametrize(
    "families, kwargs, message",
    [
        ({}, {}, "families must be a non-empty dict"),
        ({"tree": []}, {}, r"families\['tree'\] must be a non-empty list of \(setting, unfitted estimator\)"),
        ({"tree": [DecisionTreeClassifier()]}, {}, "must be a non-empty list of"),
        ({"tree": [("d1", DecisionTreeClassifier())]}, {"cv": 1}, "cv must be an integer of at least 2"),
        ({"tree": [("d1", DecisionTreeClassifier())]}, {"y": y[:10]}, "X has 300 rows but y has 10 labels"),
    ],
)
def test_bad_input_to_the_sweep_is_named(families, kwargs, message):
    with pytest.raises(ValueError, match=message):
        complexity_sweep(families, X, kwargs.pop("y", y), **kwargs)


def test_the_plot_draws_one_line_per_family_and_rejects_other_tables():
    table = pd.DataFrame({"family": ["a", "a", "b"], "setting": ["1", "2", "x"], "parameters": [1, 10, 5],
                          "balanced accuracy": [0.6, 0.7, 0.65], "std": [0.01, 0.02, 0.03]})  # fmt: skip
    ax = plot_complexity(table)
    assert [list(c.lines[0].get_xdata()) for c in ax.containers] == [[1, 10], [5]]
    with pytest.raises(ValueError, match="table must be a non-empty DataFrame from complexity_sweep"):
        plot_complexity(table.drop(columns="std"))
