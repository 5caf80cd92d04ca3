"""Accuracy against complexity: fit models of growing size and score them on held-out folds.

:func:`count_parameters` counts the numbers a fitted scikit-learn model learned
(coefficients, split thresholds, leaf values, weights); :func:`complexity_sweep`
cross-validates families of models of growing size and :func:`plot_complexity`
draws balanced accuracy against that count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["complexity_sweep", "count_parameters", "plot_complexity"]


def _tree_parameters(tree) -> int:
    """A fitted ``sklearn.tree`` structure: two numbers per split (feature, threshold), one per leaf and output."""
    leaves = int((tree.children_left == -1).sum())
    splits = int(tree.node_count) - leaves
    n_outputs, width = tree.value.shape[1], tree.value.shape[2]
    per_leaf = n_outputs * (width - 1 if width > 1 else 1)  # K class shares sum to one: K - 1 free numbers
    return 2 * splits + per_leaf * leaves


def count_parameters(estimator) -> int:
    """How many numbers a fitted scikit-learn model learned: a rough, comparable measure of its complexity.

    Linear models: their non-zero coefficients plus intercepts. Decision trees:
    two numbers per split (the feature and the threshold) and one per leaf (for
    a binary classifier, the share of one class; a regression tree's value).
    Ensembles of trees (random forests, gradient boosting): the sum over their
    trees. Multi-layer perceptrons: all weights and biases. A pipeline: its
    last step (scalers and encoders are not counted).

    Parameters
    ----------
    estimator : fitted scikit-learn estimator
        ``LogisticRegression`` and other linear models, ``DecisionTreeClassifier``
        / ``Regressor``, ``RandomForestClassifier``, ``GradientBoostingClassifier``,
        ``HistGradientBoostingClassifier``, ``MLPClassifier``, or a ``Pipeline``
        ending in one of them.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        For a model of another kind, or one that is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from trustml.explain import count_parameters
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> stump = DecisionTreeClassifier(max_depth=1).fit(X, y)
    >>> count_parameters(stump)       # one split (feature, threshold) and two leaves
    4
    """
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        return count_parameters(estimator[-1])
    name = type(estimator).__name__
    if hasattr(estimator, "tree_"):
        return _tree_parameters(estimator.tree_)
    if hasattr(estimator, "estimators_") and name.startswith(("RandomForest", "ExtraTrees", "GradientBoosting")):
        trees = np.ravel(estimator.estimators_)
        return int(sum(_tree_parameters(tree.tree_) for tree in trees))
    if hasattr(estimator, "_predictors"):  # HistGradientBoosting: one list of tree predictors per iteration
        total = 0
        for iteration in estimator._predictors:
            for predictor in iteration:
                leaves = int(predictor.nodes["is_leaf"].sum())
                total += 2 * (len(predictor.nodes) - leaves) + leaves
        return total
    if hasattr(estimator, "coefs_") and hasattr(estimator, "intercepts_"):
        return int(sum(w.size for w in estimator.coefs_) + sum(b.size for b in estimator.intercepts_))
    if hasattr(estimator, "coef_"):
        intercept = np.atleast_1d(getattr(estimator, "intercept_", 0.0))
        return int(np.count_nonzero(estimator.coef_) + np.count_nonzero(intercept))
    raise TypeError(
        f"count_parameters does not know how to count a {name} (or it is not fitted): it counts fitted linear "
        "models, decision trees, random forests, gradient boosting and MLPs, or a Pipeline ending in one."
    )


def complexity_sweep(families: Mapping, X, y, *, cv: int = 5, seed: int = 0) -> pd.DataFrame:
    """Cross-validate families of models of growing size: balanced accuracy against parameters learned.

    Parameters
    ----------
    families : mapping of str to sequence of (str, estimator)
        For each family (``"decision tree"``, ...), its members from small to
        large as ``(setting, unfitted estimator)``, e.g. ``("depth 3",
        DecisionTreeClassifier(max_depth=3))``.
    X : array-like or DataFrame of shape (N, features)
    y : array-like of shape (N,)
        Binary or multi-class labels.
    cv : int, default 5
        Number of stratified folds (shuffled with ``seed``).
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row per member: ``family``, ``setting``, ``parameters`` (mean of
        :func:`count_parameters` over the folds' fitted models), ``balanced
        accuracy`` (mean over the held-out folds), ``std`` (its standard
        deviation over folds) and ``train balanced accuracy``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from trustml.explain import complexity_sweep
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> trees = [(f"depth {d}", DecisionTreeClassifier(max_depth=d, random_state=0)) for d in (1, 3)]
    >>> table = complexity_sweep({"tree": trees}, X, y, cv=3)
    >>> print(table[["setting", "parameters", "balanced accuracy"]].round(3).to_string(index=False))
    setting  parameters  balanced accuracy
    depth 1         4.0              0.866
    depth 3        20.0              0.907
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_validate

    if not isinstance(families, Mapping) or not families:
        raise ValueError("families must be a non-empty dict {family: [(setting, estimator), ...]}.")
    for family, members in families.items():
        if not isinstance(members, Sequence) or not members or not all(
            isinstance(m, tuple) and len(m) == 2 and hasattr(m[1], "fit") for m in members
        ):
            raise ValueError(
                f"families[{family!r}] must be a non-empty list of (setting, unfitted estimator) pairs, "
                f"e.g. [('depth 1', DecisionTreeClassifier(max_depth=1))]."
            )
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels: give one label per row.")
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv must be an integer of at least 2 (the number of folds), got {cv!r}.")
    folds = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=seed)
    rows = []
    for family, members in families.items():
        for setting, estimator in members:
            scores = cross_validate(
                clone(estimator), X, y, cv=folds, scoring="balanced_accuracy", return_estimator=True,
                return_train_score=True,
            )  # fmt: skip
            rows.append({
                "family": family,
                "setting": str(setting),
                "parameters": float(np.mean([count_parameters(m) for m in scores["estimator"]])),
                "balanced accuracy": float(scores["test_score"].mean()),
                "std": float(scores["test_score"].std()),
                "train balanced accuracy": float(scores["train_score"].mean()),
            })  # fmt: skip
    return pd.DataFrame(rows)


def plot_complexity(table: pd.DataFrame, *, ax=None, annotate: bool = True):
    """Held-out balanced accuracy against the number of learned parameters, one line per family.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`complexity_sweep`.
    ax : matplotlib.axes.Axes, optional
    annotate : bool, default True
        Write each family's first and last setting next to its points.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from trustml.explain import plot_complexity
    >>> table = pd.DataFrame({"family": ["tree", "tree"], "setting": ["depth 1", "depth 3"],
    ...                       "parameters": [4, 20], "balanced accuracy": [0.6, 0.7], "std": [0.02, 0.03]})
    >>> ax = plot_complexity(table)
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('log', ['tree'])
    """
    import matplotlib.pyplot as plt

    needed = {"family", "setting", "parameters", "balanced accuracy", "std"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns) or table.empty:
        raise ValueError(f"table must be a non-empty DataFrame from complexity_sweep, with columns {sorted(needed)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for k, (family, rows) in enumerate(table.groupby("family", sort=False)):
        colour = f"C{k}"
        ax.errorbar(rows["parameters"], rows["balanced accuracy"], yerr=rows["std"], marker="o", color=colour,
                    capsize=2, label=family)  # fmt: skip
        if annotate:
            for _, row in rows.iloc[[0, -1]].iterrows():
                ax.annotate(row["setting"], (row["parameters"], row["balanced accuracy"]), fontsize=7, color=colour,
                            xytext=(4, 4), textcoords="offset points")  # fmt: skip
    ax.set_xscale("log")
    ax.set(xlabel="number of learned parameters (log scale)", ylabel="held-out balanced accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax
