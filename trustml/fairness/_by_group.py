"""Per-group views: selection rate, TPR, FPR, precision and the confusion matrix of every group."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
from sklearn.metrics import confusion_matrix, precision_score

from trustml._checks import check_weights

__all__ = ["BY_GROUP_COLUMNS", "metrics_by_group"]

BY_GROUP_COLUMNS = ("rows", "selection rate", "TPR", "FPR", "precision", "TN", "FP", "FN", "TP")


def metrics_by_group(y_true, y_pred, *, sensitive_features, sample_weight=None, pos_label=1):
    """Selection rate, true and false positive rates, precision and confusion matrix per group.

    A thin layer over fairlearn's ``MetricFrame``: one row per group, one column
    per number, so that the table reads at a glance.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True and predicted binary labels.
    sensitive_features : array-like or pandas.Series of shape (n,)
        Each row's group (names read best, e.g. from :func:`protected_values`).
    sample_weight : array-like of shape (n,), optional
        Non-negative weights for every rate and count (MEPS: survey weights),
        positive in total in every group; ``rows`` is always unweighted.
    pos_label : default 1
        The favourable (positive) label.

    Returns
    -------
    pandas.DataFrame
        Indexed by group; columns ``rows`` (number of rows), ``selection rate``
        (share predicted favourable), ``TPR``, ``FPR``, ``precision`` (NaN when
        a group has no favourable prediction), and the confusion matrix's
        ``TN, FP, FN, TP`` (weighted counts when ``sample_weight`` is given).

    Examples
    --------
    >>> from trustml.fairness import metrics_by_group
    >>> table = metrics_by_group([1, 0, 1, 1], [1, 1, 0, 1], sensitive_features=["a", "a", "b", "b"])
    >>> table["selection rate"].to_dict(), table["TPR"].to_dict()
    ({'a': 1.0, 'b': 0.5}, {'a': 1.0, 'b': 0.5})
    >>> table.loc["b", ["FPR", "TN", "FP", "FN", "TP"]].tolist()  # group b has no negatives: FPR undefined
    [nan, 0.0, 0.0, 1.0, 1.0]
    """
    y_true, y_pred = _one_per_row(y_true, "y_true"), _one_per_row(y_pred, "y_pred")
    groups = _one_per_row(sensitive_features, "sensitive_features", columns_ok=True)
    if not len(y_true) == len(y_pred) == len(groups):
        raise ValueError(
            f"y_true, y_pred and sensitive_features must have one entry per row; got lengths "
            f"{len(y_true)}, {len(y_pred)} and {len(groups)}."
        )
    if len(y_true) == 0:
        raise ValueError("y_true is empty: give at least one row.")
    for values, what in ((y_true, "y_true"), (y_pred, "y_pred"), (groups, "sensitive_features")):
        missing = pd.isna(pd.DataFrame(values)).to_numpy().any(axis=1) if values.dtype.kind in "fO" else None
        if missing is not None and missing.any():
            raise ValueError(f"{what} has {int(missing.sum())} missing (NaN) value(s): every row needs one.")
    found = np.unique(np.concatenate([y_true, y_pred])).tolist()
    others = [v for v in found if v != pos_label]
    if len(others) > 1:
        if len(others) == len(found) == 2:
            hint = f" (pos_label {pos_label!r} is not among them: pass pos_label=, one of them)"
        elif y_pred.dtype.kind == "f" and not np.array_equal(y_pred, np.round(y_pred)):
            hint = " (y_pred looks like scores: threshold them first, e.g. scores > 0.5)"
        else:
            hint = ""
        raise ValueError(
            f"y_true and y_pred must be binary: pos_label {pos_label!r} and one other label; found {others[:5]} "
            f"besides it{hint}."
        )
    order = [others[0] if others else (0 if pos_label != 0 else 1), pos_label]  # negative, positive
    metrics = {
        "selection rate": functools.partial(selection_rate, pos_label=pos_label),
        "TPR": functools.partial(_rate_or_nan, true_positive_rate, positives=True, pos_label=pos_label),
        "FPR": functools.partial(_rate_or_nan, false_positive_rate, positives=False, pos_label=pos_label),
        "precision": functools.partial(precision_score, pos_label=pos_label, zero_division=np.nan),
        "confusion": functools.partial(confusion_matrix, labels=order),
    }
    params = {}
    if sample_weight is not None:
        weights = check_weights(sample_weight, len(y_true), "sample_weight")
        keys = pd.DataFrame(groups).astype(str).agg(" & ".join, axis=1)
        totals = pd.Series(weights).groupby(keys.to_numpy()).sum()
        if (totals <= 0).any():
            raise ValueError(
                f"sample_weight sums to 0 in group {totals.index[totals <= 0][0]!r}: its rates would be undefined; "
                "give it a positive weight or leave it out."
            )
        params = {name: {"sample_weight": weights} for name in metrics}
    metrics["rows"] = count
    frame = MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features, sample_params=params
    ).by_group  # given as passed: a pandas Series keeps its name, the index's name
    cells = np.stack([np.asarray(m, dtype=float).ravel() for m in frame["confusion"]])  # tn, fp, fn, tp
    table = frame.drop(columns="confusion").assign(**{k: cells[:, i] for i, k in enumerate(["TN", "FP", "FN", "TP"])})
    table["rows"] = table["rows"].astype(int)
    return table[list(BY_GROUP_COLUMNS)].astype({c: float for c in BY_GROUP_COLUMNS if c != "rows"})


def _one_per_row(values, what: str, *, columns_ok: bool = False) -> np.ndarray:
    """A 1-D array of one value per row ((n, 1) columns are flattened; ``columns_ok``: (n, k) kept)."""
    if values is None or isinstance(values, (str, bytes, dict)) or np.ndim(values) == 0:
        raise TypeError(f"{what} must be an array-like with one entry per row, got {type(values).__name__}.")
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 and not (columns_ok and array.ndim == 2):
        raise ValueError(f"{what} must have one entry per row (1-D), got shape {array.shape}.")
    return array


def _rate_or_nan(rate, y_true, y_pred, *, positives, pos_label, sample_weight=None):
    """fairlearn's TPR / FPR, but NaN (not 0) for a group without positives / negatives."""
    has = np.asarray(y_true) == pos_label
    if not (has if positives else ~has).any():
        return np.nan
    return rate(y_true, y_pred, pos_label=pos_label, sample_weight=sample_weight)


def group_table(names, confusions, rows) -> pd.DataFrame:
    """The :func:`metrics_by_group` table from precomputed weighted confusion counts (the widget's fast path).

    ``names``: group names; ``confusions``: one ``Confusion`` of scalars per group; ``rows``: row counts.
    """
    records = []
    for confusion, n in zip(confusions, rows):
        tp, fp, tn, fn = (float(confusion.tp), float(confusion.fp), float(confusion.tn), float(confusion.fn))
        total = tp + fp + tn + fn
        records.append(
            {
                "rows": int(n),
                "selection rate": (tp + fp) / total if total else np.nan,
                "TPR": tp / (tp + fn) if tp + fn else np.nan,
                "FPR": fp / (fp + tn) if fp + tn else np.nan,
                "precision": tp / (tp + fp) if tp + fp else np.nan,
                "TN": tn,
                "FP": fp,
                "FN": fn,
                "TP": tp,
            }
        )
    return pd.DataFrame(records, index=pd.Index(list(names), name="group"))[list(BY_GROUP_COLUMNS)]
