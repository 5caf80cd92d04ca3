"""Per-group views: selection rate, TPR, FPR, precision and the confusion matrix of every group."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
from sklearn.metrics import confusion_matrix, precision_score

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
        Weights for every rate and count (MEPS: survey weights); ``rows`` is always unweighted.
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
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred) or len(y_true) != len(np.asarray(sensitive_features)):
        raise ValueError(
            f"y_true, y_pred and sensitive_features must have one entry per row; got lengths "
            f"{len(y_true)}, {len(y_pred)} and {len(np.asarray(sensitive_features))}."
        )
    others = [v for v in np.unique(np.concatenate([y_true, y_pred])).tolist() if v != pos_label]
    if len(others) > 1:
        raise ValueError(
            f"y_true and y_pred must be binary: pos_label {pos_label!r} and one other label; found {others} besides it."
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
        weights = np.asarray(sample_weight, dtype=float).ravel()
        if len(weights) != len(y_true):
            raise ValueError(f"sample_weight has {len(weights)} entries for {len(y_true)} rows.")
        params = {name: {"sample_weight": weights} for name in metrics}
    metrics["rows"] = count
    frame = MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features, sample_params=params
    ).by_group
    cells = np.stack([np.asarray(m, dtype=float).ravel() for m in frame["confusion"]])  # tn, fp, fn, tp
    table = frame.drop(columns="confusion").assign(**{k: cells[:, i] for i, k in enumerate(["TN", "FP", "FN", "TP"])})
    table["rows"] = table["rows"].astype(int)
    return table[list(BY_GROUP_COLUMNS)].astype({c: float for c in BY_GROUP_COLUMNS if c != "rows"})


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
