"""Group fairness of a classifier's decisions, on top of AIF360 and fairlearn.

Measure: :func:`threshold_sweep` (AIF360's ``ClassificationMetric`` numbers for
many thresholds at once), :func:`fairness_metrics` (the same for given
predictions) and :func:`metrics_by_group` (fairlearn's ``MetricFrame``).
Mitigate: AIF360's ``Reweighing`` with :func:`fit_model`, fairlearn's
``ThresholdOptimizer`` (:func:`fit_threshold_optimizer`, its rule in words with
:func:`describe_thresholds`) and ``ExponentiatedGradient``
(:func:`fit_exponentiated_gradient`). Look: :func:`plot_threshold_sweep`,
:func:`plot_tradeoff` and :func:`threshold_view` (the view behind
``trustml.widgets.threshold_explorer``).

>>> from trustml.data import load
>>> from trustml.fairness import protected_groups, split_train_val_test
>>> train, val, test = split_train_val_test(load("german_credit"))
>>> groups = protected_groups(train)  # {'privileged_groups': [...], 'unprivileged_groups': [...]}
"""

from trustml.fairness._by_group import metrics_by_group
from trustml.fairness._data import (
    DatasetDescription,
    describe_dataset,
    favourable_scores,
    fit_model,
    protected_groups,
    protected_values,
    split_train_val_test,
)
from trustml.fairness._metrics import METRICS, fairness_metrics, threshold_sweep
from trustml.fairness._mitigation import (
    describe_thresholds,
    fit_exponentiated_gradient,
    fit_threshold_optimizer,
    threshold_rule,
)
from trustml.fairness._views import (
    disparate_impact_gap,
    matching_threshold,
    plot_threshold_sweep,
    plot_tradeoff,
    threshold_view,
)

__all__ = [
    "METRICS",
    "DatasetDescription",
    "describe_dataset",
    "describe_thresholds",
    "disparate_impact_gap",
    "fairness_metrics",
    "favourable_scores",
    "fit_exponentiated_gradient",
    "fit_model",
    "fit_threshold_optimizer",
    "matching_threshold",
    "metrics_by_group",
    "plot_threshold_sweep",
    "plot_tradeoff",
    "protected_groups",
    "protected_values",
    "split_train_val_test",
    "threshold_rule",
    "threshold_sweep",
    "threshold_view",
]
