"""Mitigation with fairlearn: post-processing (ThresholdOptimizer) and in-processing (ExponentiatedGradient).

Pre-processing with AIF360's ``Reweighing`` needs no wrapper: it sets the
training dataset's ``instance_weights``, and :func:`fit_model` passes those to
the model.
"""

from __future__ import annotations

import numpy as np
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient, TruePositiveRateParity
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from trustml._checks import check_number
from trustml.fairness._data import (
    _default_estimator,
    _label_names,
    check_both_labels,
    check_estimator,
    check_fitted_classifier,
    protected_values,
)
from trustml.fairness._metrics import check_dataset

__all__ = ["describe_thresholds", "fit_exponentiated_gradient", "fit_threshold_optimizer", "threshold_rule"]

_THRESHOLD_CONSTRAINTS = ("demographic_parity", "equalized_odds", "true_positive_rate_parity")
_REDUCTION_CONSTRAINTS = {
    "demographic_parity": DemographicParity,
    "equalized_odds": EqualizedOdds,
    "true_positive_rate_parity": TruePositiveRateParity,
}


def _check_binary_01(dataset, what):
    if float(dataset.favorable_label) != 1.0 or float(dataset.unfavorable_label) != 0.0:
        raise ValueError(
            f"{what} needs the favourable label to be 1 and the unfavourable 0 (fairlearn reads the second "
            f"predict_proba column as favourable); this dataset has {dataset.favorable_label} and "
            f"{dataset.unfavorable_label}."
        )


def _check_labels_in_every_group(dataset, groups, what: str) -> None:
    """Every group has rows of both labels (fairlearn's threshold search needs both in each group)."""
    labels = dataset.labels.ravel()
    for group in groups.unique():
        present = set(np.unique(labels[(groups == group).to_numpy()]).tolist())
        if len(present) < 2:
            raise ValueError(
                f"{what} needs rows of both labels in every group, but group {group!r} has only label "
                f"{present.pop():g}: fairlearn cannot trade off its rates; merge or leave out that group."
            )


def fit_threshold_optimizer(model, dataset, *, constraints, objective="balanced_accuracy_score", attribute=None):
    """Post-processing: fairlearn's ``ThresholdOptimizer`` on a fitted model's scores.

    It learns, for each group, a threshold rule on the model's score (randomised
    between two thresholds where one threshold alone cannot meet the constraint)
    that maximises ``objective`` subject to ``constraints``. Fit it on data the
    model was not trained on (the validation set, as in the lesson).

    Parameters
    ----------
    model : fitted classifier with ``predict_proba``
        Not refitted (``prefit=True``).
    dataset : aif360.datasets.BinaryLabelDataset
        Where to learn the thresholds; favourable label 1.
    constraints : {"demographic_parity", "equalized_odds", "true_positive_rate_parity"}
        Equal selection rates; equal TPR and FPR; equal TPR (equal opportunity).
    objective : {"balanced_accuracy_score", "accuracy_score"}, default "balanced_accuracy_score"
    attribute : str, optional
        The protected attribute; default the dataset's first. Groups are passed
        to fairlearn by name (e.g. ``"female"``), so predict with
        ``protected_values(dataset)`` as ``sensitive_features``.

    Returns
    -------
    fairlearn.postprocessing.ThresholdOptimizer
        Fitted. ``predict(X, sensitive_features=..., random_state=...)`` is randomised;
        :func:`describe_thresholds` puts its rule in words.

    Notes
    -----
    fairlearn's threshold search does not use instance weights: on MEPS the
    thresholds are chosen for the sample, not the survey-weighted population.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import fit_model, fit_threshold_optimizer, protected_values
    >>> credit = load_german_credit()
    >>> optimizer = fit_threshold_optimizer(fit_model(credit), credit, constraints="demographic_parity")
    >>> optimizer.predict(credit.features, sensitive_features=protected_values(credit), random_state=0).shape
    (1000,)
    """
    check_dataset(dataset)
    if not isinstance(constraints, str) or constraints not in _THRESHOLD_CONSTRAINTS:
        raise ValueError(f"constraints must be one of {_THRESHOLD_CONSTRAINTS}, got {constraints!r}.")
    allowed = ("balanced_accuracy_score", "accuracy_score")
    if not isinstance(objective, str) or objective not in allowed:
        raise ValueError(f"objective must be one of {allowed}, got {objective!r}.")
    _check_binary_01(dataset, "fit_threshold_optimizer")
    check_fitted_classifier(model, dataset)
    check_both_labels(dataset, "fit_threshold_optimizer")
    groups = protected_values(dataset, attribute=attribute)
    _check_labels_in_every_group(dataset, groups, "fit_threshold_optimizer")
    optimizer = ThresholdOptimizer(
        estimator=model, constraints=constraints, objective=objective, prefit=True, predict_method="predict_proba"
    )
    return optimizer.fit(dataset.features, dataset.labels.ravel().astype(int), sensitive_features=groups)


def fit_exponentiated_gradient(dataset, *, constraints="demographic_parity", eps=0.01, estimator=None, attribute=None):
    """In-processing: fairlearn's ``ExponentiatedGradient`` reduction, trained on ``dataset``.

    It trains a sequence of models on reweighted data, each time raising the
    weight of the rows that break the constraint, and returns a randomised mix
    of them whose constraint violation is at most ``eps``.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
        Training data; favourable label 1.
    constraints : {"demographic_parity", "equalized_odds", "true_positive_rate_parity"}, default "demographic_parity"
    eps : float, default 0.01
        Allowed constraint violation (e.g. difference in selection rates).
    estimator : scikit-learn classifier or Pipeline, optional
        The base learner, cloned; default the lesson's scaled logistic regression.
        It must accept ``sample_weight`` (for a Pipeline, its last step).
    attribute : str, optional
        The protected attribute; default the dataset's first. Groups go by name.

    Returns
    -------
    fairlearn.reductions.ExponentiatedGradient
        Fitted; ``predict(X, random_state=...)`` is randomised.

    Notes
    -----
    The reduction sets its own per-row weights, so the dataset's instance
    weights (MEPS survey weights) are not used.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import fit_exponentiated_gradient
    >>> credit = load_german_credit()
    >>> mitigator = fit_exponentiated_gradient(credit)
    >>> mitigator.predict(credit.features, random_state=0).shape
    (1000,)
    """
    check_dataset(dataset)
    if not isinstance(constraints, str) or constraints not in _REDUCTION_CONSTRAINTS:
        raise ValueError(f"constraints must be one of {tuple(_REDUCTION_CONSTRAINTS)}, got {constraints!r}.")
    eps = check_number(eps, "eps", low=0, high=1, low_open=True, high_open=True, hint=" (the allowed violation)")
    _check_binary_01(dataset, "fit_exponentiated_gradient")
    check_both_labels(dataset, "fit_exponentiated_gradient")
    groups = protected_values(dataset, attribute=attribute)
    base = clone(check_estimator(estimator)) if estimator is not None else _default_estimator()
    weight_name = f"{base.steps[-1][0]}__sample_weight" if isinstance(base, Pipeline) else "sample_weight"
    mitigator = ExponentiatedGradient(
        base, constraints=_REDUCTION_CONSTRAINTS[constraints](), eps=eps, sample_weight_name=weight_name
    )
    return mitigator.fit(dataset.features, dataset.labels.ravel().astype(int), sensitive_features=groups)


# --------------------------------------------------------------------------- the learned rule in words


def _favourable_probability(rule, scores):
    """P(favourable | score) under one group's interpolation rule (fairlearn's InterpolatedThresholder formula)."""
    scores = np.asarray(scores, dtype=float)
    p = rule.p0 * rule.operation0(scores) + rule.p1 * rule.operation1(scores)
    if "p_ignore" in rule:
        p = rule.p_ignore * rule.prediction_constant + (1 - rule.p_ignore) * p
    return np.asarray(p, dtype=float)


def threshold_rule(optimizer) -> dict:
    """Each group's learned rule as score ranges with their probability of the favourable outcome.

    Parameters
    ----------
    optimizer : fitted fairlearn.postprocessing.ThresholdOptimizer

    Returns
    -------
    dict
        ``{group: [(low, high, low_included, high_included, probability), ...]}``,
        ranges in increasing order that cover all scores, with neighbours of equal
        probability merged.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import fit_model, fit_threshold_optimizer, threshold_rule
    >>> credit = load_german_credit()
    >>> rule = threshold_rule(fit_threshold_optimizer(fit_model(credit), credit, constraints="demographic_parity"))
    >>> sorted(rule)
    ['female', 'male']
    """
    try:
        interpolation = optimizer.interpolated_thresholder_.interpolation_dict
    except AttributeError:
        raise TypeError(
            f"optimizer must be a fitted fairlearn ThresholdOptimizer (see fit_threshold_optimizer), "
            f"got {type(optimizer).__name__}."
        ) from None
    return {group: _pieces(rule) for group, rule in interpolation.items()}


def _pieces(rule):
    cuts = sorted(
        {float(op.threshold) for op in (rule.operation0, rule.operation1) if np.isfinite(float(op.threshold))}
    )
    # Regions: below the first cut, each cut itself, between cuts, above the last.
    regions = []  # (low, high, low_included, high_included, probe)
    edges = [-np.inf, *cuts, np.inf]
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        if i > 0:
            regions.append((low, low, True, True, low))
        regions.append((low, high, False, False, _inside(low, high)))
    probs = _favourable_probability(rule, [r[4] for r in regions])
    merged = []
    for (low, high, low_in, high_in, _), p in zip(regions, probs):
        if merged and np.isclose(merged[-1][4], p, rtol=0, atol=1e-12):
            merged[-1] = (merged[-1][0], high, merged[-1][2], high_in, merged[-1][4])
        else:
            merged.append((low, high, low_in, high_in, float(p)))
    return merged


def _inside(low, high):
    """A point strictly inside the open interval (low, high), which may be unbounded."""
    if np.isfinite(low) and np.isfinite(high):
        return (low + high) / 2
    if np.isfinite(high):
        return high - 1
    if np.isfinite(low):
        return low + 1
    return 0.5


def _range_words(low, high, low_in, high_in, decimals):
    lower = "" if not np.isfinite(low) else f"{'at least' if low_in else 'above'} {low:.{decimals}f}"
    upper = "" if not np.isfinite(high) else f"{'at most' if high_in else 'below'} {high:.{decimals}f}"
    if lower and upper:
        return f"score {lower} and {upper}" if low != high else f"score exactly {low:.{decimals}f}"
    return f"score {lower or upper}" if lower or upper else "any score"


def describe_thresholds(optimizer, dataset, *, decimals=2) -> str:
    """A fitted ``ThresholdOptimizer``'s per-group rule, in words a learner can restate.

    Each group's score ranges are listed from the highest scores down, with the
    decision they get: a fixed one where the probability of the favourable
    outcome (rounded to ``decimals``) is 0 or 1, and a weighted coin flip with
    that probability only where it lies strictly between. Neighbouring ranges
    that round to the same probability are merged. fairlearn's occasional
    "ignore the score for a small share of people" term is already inside the
    probabilities. :func:`threshold_rule` has the exact, unrounded rule.

    Parameters
    ----------
    optimizer : fitted fairlearn.postprocessing.ThresholdOptimizer
        As :func:`fit_threshold_optimizer` returns it.
    dataset : aif360.datasets.BinaryLabelDataset
        For the outcomes' names (from the metadata).
    decimals : int, default 2
        Decimals of the probabilities; the score cuts get one more.

    Returns
    -------
    str
        A Markdown list: for each group, its score ranges and their decisions.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import describe_thresholds, fit_model, fit_threshold_optimizer
    >>> credit = load_german_credit()
    >>> optimizer = fit_threshold_optimizer(fit_model(credit), credit, constraints="demographic_parity")
    >>> print(describe_thresholds(optimizer, credit).splitlines()[0])
    - **female** (rule learned by fairlearn for demographic_parity):
    """
    check_dataset(dataset)
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or not 1 <= decimals <= 6:
        raise ValueError(f"decimals must be a whole number from 1 to 6, got {decimals!r}.")
    labels = _label_names(dataset)
    good = str(labels.get(float(dataset.favorable_label), "the favourable label"))
    bad = str(labels.get(float(dataset.unfavorable_label), "the unfavourable label"))
    rules = threshold_rule(optimizer)
    lines = []
    for group, pieces in sorted(rules.items(), key=lambda item: str(item[0])):
        lines.append(f"- **{group}** (rule learned by fairlearn for {optimizer.constraints}):")
        for low, high, low_in, high_in, p in reversed(_rounded_pieces(pieces, decimals)):
            where = _range_words(low, high, low_in, high_in, decimals + 1)
            if p == 1:
                what = f"*{good}*"
            elif p == 0:
                what = f"*{bad}*"
            else:
                what = f"a weighted coin flip: *{good}* with probability {p:.{decimals}f}, else *{bad}*"
            lines.append(f"  - {where}: {what}")
    return "\n".join(lines)


def _rounded_pieces(pieces, decimals):
    """The rule's pieces with probabilities rounded, neighbours of equal rounded probability merged."""
    merged = []
    for low, high, low_in, high_in, p in pieces:
        p = round(float(p), decimals)
        if merged and merged[-1][4] == p:
            merged[-1] = (merged[-1][0], high, merged[-1][2], high_in, p)
        else:
            merged.append((low, high, low_in, high_in, p))
    return merged
