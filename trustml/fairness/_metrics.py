"""Group fairness metrics of a thresholded score, computed as AIF360's ``ClassificationMetric`` does.

A sweep over thresholds builds one weighted confusion matrix per group per
threshold from sorted scores and cumulative weights, instead of copying the
dataset and building a ``ClassificationMetric`` for every threshold. The
definitions are AIF360's (aif360 0.6, ``aif360.metrics.ClassificationMetric``):

* every count is a sum of the dataset's ``instance_weights`` (MEPS: survey weights);
* ``bal_acc`` is (TPR + TNR) / 2 over *all* rows, also rows in neither group;
* ``disp_imp`` and ``stat_par_diff`` compare the weighted selection rates
  P(yhat = favourable) of the unprivileged and the privileged group (ratio, difference);
* ``avg_odds_diff`` is the mean of the FPR and TPR differences, ``eq_opp_diff``
  the TPR difference (always unprivileged minus privileged);
* ``theil_ind`` is the generalised entropy index with alpha = 1 of
  b_i = 1 + yhat_i - y_i over all rows, **unweighted** (AIF360 ignores the
  instance weights there).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from aif360.datasets import BinaryLabelDataset
from aif360.metrics.utils import compute_boolean_conditioning_vector

from trustml._checks import check_weights

__all__ = ["METRICS", "fairness_metrics", "threshold_sweep"]

METRICS = ("bal_acc", "disp_imp", "avg_odds_diff", "stat_par_diff", "eq_opp_diff", "theil_ind")
_UNDEFINED_CHOICES = ("raise", "nan")


# --------------------------------------------------------------------------- validation


def check_dataset(dataset) -> None:
    """Raise a TypeError unless ``dataset`` is an AIF360 ``BinaryLabelDataset``."""
    if not isinstance(dataset, BinaryLabelDataset):
        raise TypeError(
            f"dataset must be an aif360 BinaryLabelDataset (as trustml.data.load('meps19') returns), "
            f"got {type(dataset).__name__}."
        )


def group_mask(dataset, groups, which: str) -> np.ndarray:
    """The rows of ``dataset`` in ``groups`` (AIF360's format: a list of dicts), checked.

    ``which`` ("privileged_groups" or "unprivileged_groups") names the argument in errors.
    """
    example = f"e.g. {which}=[{{{dataset.protected_attribute_names[0]!r}: 1}}]"
    if isinstance(groups, dict) or not isinstance(groups, (list, tuple)) or not groups:
        raise TypeError(f"{which} must be a non-empty list of dicts, {example}; got {groups!r}.")
    for group in groups:
        if not isinstance(group, dict) or not group:
            raise TypeError(f"each entry of {which} must be a non-empty dict, {example}; got {group!r}.")
        unknown = [name for name in group if name not in dataset.protected_attribute_names]
        if unknown:
            raise ValueError(
                f"{which} names {unknown[0]!r}, which is not a protected attribute of this dataset. "
                f"Its protected attributes are {dataset.protected_attribute_names}; "
                f"trustml.fairness.protected_groups(dataset) builds the groups from them."
            )
        for name, value in group.items():
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise TypeError(
                    f"{which} gives {name} the value {value!r}, but protected attributes hold numbers"
                    f"{_value_hint(dataset, name, value)}; protected_groups(dataset) builds the groups."
                )
    mask = compute_boolean_conditioning_vector(
        dataset.protected_attributes, dataset.protected_attribute_names, condition=list(groups)
    )
    if not mask.any():
        present = {
            name: sorted(np.unique(dataset.protected_attributes[:, i]).tolist())
            for i, name in enumerate(dataset.protected_attribute_names)
        }
        raise ValueError(
            f"{which} {list(groups)} has no members in this dataset (values present: {present}): "
            f"its metrics would be undefined. Check the attribute values."
        )
    if not dataset.instance_weights[mask].sum() > 0:
        raise ValueError(f"{which} {list(groups)} has members, but their instance weights sum to 0.")
    return mask


def _value_hint(dataset, attribute, value) -> str:
    """Where the metadata names the value: ``" ('male' is 1.0 in the dataset's metadata)"``."""
    maps = dataset.metadata.get("protected_attribute_maps") or []
    i = dataset.protected_attribute_names.index(attribute)
    names = {str(v): k for k, v in (maps[i].items() if i < len(maps) else ())}
    return f" ({value!r} is {names[str(value)]!r} in the dataset's metadata)" if str(value) in names else ""


def check_scores(scores, n_rows: int, name: str = "scores") -> np.ndarray:
    """Return ``scores`` as a float array of length ``n_rows`` with values in [0, 1], or raise."""
    values = np.asarray(scores)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.dtype.kind == "c":
        raise TypeError(f"{name} must be real numbers in [0, 1], got complex numbers ({values.dtype}).")
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be one number per row, got an array of shape {values.shape}. "
            f"For predict_proba output, take the favourable class's column (trustml.fairness.favourable_scores)."
        )
    if values.dtype == bool or not np.issubdtype(values.dtype, np.number):
        raise TypeError(f"{name} must be numbers in [0, 1], got values of type {values.dtype}.")
    if len(values) != n_rows:
        raise ValueError(
            f"{name} has {len(values)} values but the dataset has {n_rows} rows: "
            f"score the same dataset's rows, in its order."
        )
    values = values.astype(np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{name} contains {int(np.isnan(values).sum())} NaN values; every row needs a score.")
    outside = (values < 0) | (values > 1)
    if outside.any():
        raise ValueError(
            f"{name} must be probabilities in [0, 1], but {int(outside.sum())} are outside "
            f"(min {values.min():.4g}, max {values.max():.4g}). Use predict_proba, not decision_function "
            f"(or squash decision values with a sigmoid)."
        )
    return values


def check_thresholds(thresholds, name: str = "thresholds") -> np.ndarray:
    """Return ``thresholds`` (one or many) as a 1-D float array with values in [0, 1], or raise."""
    values = np.atleast_1d(np.asarray(thresholds))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a number or a non-empty 1-D sequence of numbers, got shape {values.shape}.")
    if values.dtype == bool or not np.issubdtype(values.dtype, np.number):
        raise TypeError(f"{name} must be numbers in [0, 1], got values of type {values.dtype}.")
    values = values.astype(np.float64)
    bad = ~((values >= 0) & (values <= 1))  # also catches NaN
    if bad.any():
        raise ValueError(
            f"{name} must lie in [0, 1] (a sample is favourable when its score is above the threshold); "
            f"got {values[bad][:5].tolist()}."
        )
    return values


def check_undefined(undefined: str) -> None:
    if undefined not in _UNDEFINED_CHOICES:
        raise ValueError(f"undefined must be 'raise' or 'nan', got {undefined!r}.")


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class Confusion:
    """Weighted confusion counts; each field is an array with one value per threshold (or a scalar)."""

    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray


def _weight_above(scores: np.ndarray, weights: np.ndarray, thresholds: np.ndarray):
    """For each threshold t: (sum of weights with score > t, sum of weights with score <= t)."""
    order = np.argsort(scores, kind="stable")
    s, w = scores[order], weights[order]
    at_or_below = np.concatenate([[0.0], np.cumsum(w)])  # [k] = weight of the k lowest scores
    from_top = np.concatenate([[0.0], np.cumsum(w[::-1])])  # [k] = weight of the k highest scores
    k = np.searchsorted(s, thresholds, side="right")  # how many scores are <= t
    return from_top[len(s) - k], at_or_below[k]  # summed from each end: no cancellation


def sweep_confusion(positive, scores, weights, mask, thresholds) -> Confusion:
    """Weighted confusion counts of ``scores > t`` for every threshold ``t``, on the rows in ``mask``."""
    pos, neg = mask & positive, mask & ~positive
    tp, fn = _weight_above(scores[pos], weights[pos], thresholds)
    fp, tn = _weight_above(scores[neg], weights[neg], thresholds)
    return Confusion(tp=tp, fp=fp, tn=tn, fn=fn)


def prediction_confusion(positive, predicted, weights, mask) -> Confusion:
    """Weighted confusion counts of given predictions (boolean, True = favourable), on the rows in ``mask``."""

    def total(selected):
        return np.sum(weights[mask & selected], dtype=np.float64)

    return Confusion(
        tp=total(positive & predicted),
        fp=total(~positive & predicted),
        tn=total(~positive & ~predicted),
        fn=total(positive & ~predicted),
    )


# --------------------------------------------------------------------------- metrics from counts


def _ratio(numerator, denominator):
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def metrics_from_counts(overall: Confusion, unweighted: Confusion, privileged: Confusion, unprivileged: Confusion):
    """The six metrics (dict of arrays, NaN where undefined) and a dict of why each NaN arose."""
    tpr = {k: _ratio(c.tp, c.tp + c.fn) for k, c in (("p", privileged), ("u", unprivileged))}
    fpr = {k: _ratio(c.fp, c.fp + c.tn) for k, c in (("p", privileged), ("u", unprivileged))}
    sel = {
        k: _ratio(c.tp + c.fp, c.tp + c.fp + c.tn + c.fn) for k, c in (("p", privileged), ("u", unprivileged))
    }
    bal_acc = (_ratio(overall.tp, overall.tp + overall.fn) + _ratio(overall.tn, overall.tn + overall.fp)) / 2

    # Theil index: b = 0 for false negatives, 1 for correct predictions, 2 for false positives (unweighted).
    n = unweighted.tp + unweighted.fp + unweighted.tn + unweighted.fn
    correct, false_pos = unweighted.tp + unweighted.tn, unweighted.fp
    mu = _ratio(correct + 2 * false_pos, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        theil = np.where(
            mu > 0,
            (correct * np.log(1 / mu) / mu + false_pos * 2 * np.log(2 / mu) / mu) / n,
            np.nan,
        )

    values = {
        "bal_acc": bal_acc,
        "disp_imp": _ratio(sel["u"], sel["p"]),
        "avg_odds_diff": 0.5 * ((fpr["u"] - fpr["p"]) + (tpr["u"] - tpr["p"])),
        "stat_par_diff": sel["u"] - sel["p"],
        "eq_opp_diff": tpr["u"] - tpr["p"],
        "theil_ind": theil,
    }
    reasons = {
        "bal_acc": "the dataset has no rows with the favourable (or no rows with the unfavourable) label",
        "disp_imp": "no one in the privileged group is predicted favourable, so the ratio of selection rates "
        "divides by zero",
        "avg_odds_diff": "a group has no rows with the favourable (or the unfavourable) label, so its "
        "TPR (or FPR) is undefined",
        "stat_par_diff": "a group has no weight",
        "eq_opp_diff": "a group has no rows with the favourable label, so its TPR is undefined",
        "theil_ind": "every row is a false negative, so the mean benefit is 0",
    }
    return {name: np.asarray(values[name], dtype=float) for name in METRICS}, reasons


def raise_if_undefined(values: dict, reasons: dict, thresholds, *, undefined: str) -> None:
    """With ``undefined="raise"``, raise a ValueError naming each undefined metric, where and why."""
    if undefined == "nan":
        return
    problems = []
    for name in METRICS:
        missing = np.isnan(np.atleast_1d(values[name]))
        if missing.any():
            where = ""
            if thresholds is not None:
                shown = ", ".join(f"{t:.4g}" for t in np.asarray(thresholds)[missing][:5])
                more = f" and {int(missing.sum()) - 5} more" if missing.sum() > 5 else ""
                where = f" at threshold(s) {shown}{more}"
            problems.append(f"{name} is undefined{where}: {reasons[name]}")
    if problems:
        raise ValueError(
            "; ".join(problems)
            + ". Choose thresholds where every group has favourable predictions, or pass undefined='nan' "
            "to get NaN for these cells."
        )


# --------------------------------------------------------------------------- public functions


def _prepare(dataset, privileged_groups, unprivileged_groups):
    check_dataset(dataset)
    weights = check_weights(dataset.instance_weights, dataset.features.shape[0], "dataset.instance_weights")
    privileged = group_mask(dataset, privileged_groups, "privileged_groups")
    unprivileged = group_mask(dataset, unprivileged_groups, "unprivileged_groups")
    both = privileged & unprivileged
    if both.any():
        raise ValueError(
            f"privileged_groups {list(privileged_groups)} and unprivileged_groups {list(unprivileged_groups)} "
            f"overlap: {int(both.sum())} rows are in both (first: row {int(np.argmax(both))}), so each metric "
            "would compare a group partly with itself. Give two groups that share no row, e.g. "
            "trustml.fairness.protected_groups(dataset)."
        )
    positive = dataset.labels.ravel() == dataset.favorable_label
    return positive, weights, privileged, unprivileged


def threshold_sweep(dataset, scores, thresholds, *, privileged_groups, unprivileged_groups, undefined="raise"):
    """Group fairness and balanced accuracy of ``score > threshold`` for many thresholds at once.

    Equal to what AIF360's ``ClassificationMetric`` gives for each threshold
    (when the predicted dataset is a copy of ``dataset`` with labels
    ``favourable if score > threshold else unfavourable``), instance weights
    included, but computed from one weighted confusion matrix per group per
    threshold: fast enough to redraw on every slider move.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
        True labels, protected attributes and instance weights.
    scores : array-like of shape (n_rows,)
        Each row's probability of the favourable label, in [0, 1].
    thresholds : float or array-like
        Thresholds in [0, 1]; a row is predicted favourable when its score is
        strictly above the threshold.
    privileged_groups, unprivileged_groups : list of dict
        AIF360's group format, e.g. ``[{"sex": 1}]``; see :func:`protected_groups`.
        The two may not share a row (rows in neither count only in ``bal_acc``
        and ``theil_ind``).
    undefined : {"raise", "nan"}, default "raise"
        What to do where a metric divides by zero (e.g. disparate impact when no
        one in the privileged group is selected): raise a ValueError saying
        which metric, where and why, or return NaN there.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``threshold``; columns ``bal_acc`` (balanced accuracy),
        ``disp_imp`` (disparate impact: unprivileged / privileged selection
        rate), ``avg_odds_diff``, ``stat_par_diff``, ``eq_opp_diff`` (each
        unprivileged minus privileged) and ``theil_ind`` (Theil index,
        unweighted as in AIF360).

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import protected_groups, threshold_sweep
    >>> credit = load_german_credit()
    >>> scores = np.linspace(0, 1, 1000)  # any scores in [0, 1], one per row
    >>> sweep = threshold_sweep(credit, scores, [0.25, 0.5], **protected_groups(credit))
    >>> list(sweep.columns)
    ['bal_acc', 'disp_imp', 'avg_odds_diff', 'stat_par_diff', 'eq_opp_diff', 'theil_ind']
    >>> sweep.index.tolist()
    [0.25, 0.5]
    """
    check_undefined(undefined)
    positive, weights, privileged, unprivileged = _prepare(dataset, privileged_groups, unprivileged_groups)
    scores = check_scores(scores, len(positive))
    thresholds = check_thresholds(thresholds)
    everyone = np.ones_like(positive)
    values, reasons = metrics_from_counts(
        sweep_confusion(positive, scores, weights, everyone, thresholds),
        sweep_confusion(positive, scores, np.ones_like(weights), everyone, thresholds),
        sweep_confusion(positive, scores, weights, privileged, thresholds),
        sweep_confusion(positive, scores, weights, unprivileged, thresholds),
    )
    raise_if_undefined(values, reasons, thresholds, undefined=undefined)
    return pd.DataFrame(values, index=pd.Index(thresholds, name="threshold"), columns=list(METRICS))


def fairness_metrics(dataset, predictions, *, privileged_groups, unprivileged_groups, undefined="raise"):
    """The metrics of :func:`threshold_sweep` for given predicted labels (e.g. from a randomised classifier).

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
        True labels, protected attributes and instance weights.
    predictions : array-like of shape (n_rows,)
        Predicted labels, in the dataset's label values (``favorable_label`` or
        ``unfavorable_label``).
    privileged_groups, unprivileged_groups : list of dict
        AIF360's group format; see :func:`protected_groups`.
    undefined : {"raise", "nan"}, default "raise"
        As in :func:`threshold_sweep`.

    Returns
    -------
    pandas.Series
        ``bal_acc, disp_imp, avg_odds_diff, stat_par_diff, eq_opp_diff, theil_ind``,
        equal to AIF360's ``ClassificationMetric`` on the same predictions.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import fairness_metrics, protected_groups
    >>> credit = load_german_credit()
    >>> perfect = fairness_metrics(credit, credit.labels.ravel(), **protected_groups(credit))
    >>> float(perfect["bal_acc"]), float(perfect["theil_ind"])
    (1.0, 0.0)
    """
    check_undefined(undefined)
    positive, weights, privileged, unprivileged = _prepare(dataset, privileged_groups, unprivileged_groups)
    predicted = check_predictions(dataset, predictions)
    everyone = np.ones_like(positive)
    values, reasons = metrics_from_counts(
        prediction_confusion(positive, predicted, weights, everyone),
        prediction_confusion(positive, predicted, np.ones_like(weights), everyone),
        prediction_confusion(positive, predicted, weights, privileged),
        prediction_confusion(positive, predicted, weights, unprivileged),
    )
    raise_if_undefined(values, reasons, None, undefined=undefined)
    return pd.Series({name: float(values[name]) for name in METRICS}, name="metric value")


def check_predictions(dataset, predictions) -> np.ndarray:
    """Return predicted labels as a boolean array (True = favourable), checking length and values."""
    values = np.asarray(predictions)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    n_rows = dataset.features.shape[0]
    if values.ndim != 1 or len(values) != n_rows:
        raise ValueError(
            f"predictions must be one label per row of the dataset ({n_rows} rows), got shape {values.shape}."
        )
    allowed = {float(dataset.favorable_label), float(dataset.unfavorable_label)}
    try:
        found = set(np.unique(values.astype(float)).tolist())
    except (TypeError, ValueError):
        found = {"non-numeric"}
    if not found <= allowed:
        raise ValueError(
            f"predictions must be the dataset's labels {sorted(allowed)} (favourable {dataset.favorable_label}), "
            f"got {sorted(map(str, found))[:5]}. Threshold scores first, or use threshold_sweep."
        )
    return values.astype(float) == float(dataset.favorable_label)
