"""Plots and the threshold explorer's view: pure functions that draw for given values."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from trustml.fairness._by_group import group_table
from trustml.fairness._data import describe_dataset, group_label
from trustml.fairness._metrics import (
    METRICS,
    _prepare,
    check_scores,
    check_thresholds,
    metrics_from_counts,
    prediction_confusion,
    sweep_confusion,
    threshold_sweep,
)

__all__ = [
    "disparate_impact_gap",
    "matching_threshold",
    "plot_threshold_sweep",
    "plot_tradeoff",
    "threshold_view",
]

SLIDER_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)  # the explorer's slider positions
_CRITERIA = {"demographic_parity": "selection rate", "equal_opportunity": "TPR"}
_GAP_LABEL = "1 − min(DI, 1/DI)   (0 = parity)"


def disparate_impact_gap(disp_imp):
    """How far disparate impact is from parity, in either direction: 1 − min(DI, 1/DI).

    0 means equal selection rates; 1 means one group is never selected. The
    lesson plots this, so that favouring either group counts as a gap.

    Parameters
    ----------
    disp_imp : float or array-like
        Disparate impact values (NaN stays NaN).

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from trustml.fairness import disparate_impact_gap
    >>> disparate_impact_gap([0.5, 1.0, 2.0, 0.0]).tolist()
    [0.5, 0.0, 0.5, 1.0]
    """
    di = np.asarray(disp_imp, dtype=float)
    if (di < 0).any():
        raise ValueError("disparate impact is a ratio of selection rates and cannot be negative.")
    with np.errstate(divide="ignore"):
        gap = 1.0 - np.minimum(di, np.where(di > 0, 1.0 / np.where(di > 0, di, 1.0), 0.0))
    return float(gap) if gap.ndim == 0 else gap


def plot_threshold_sweep(sweep, *, chosen=None, ax=None, title=None):
    """Balanced accuracy and 1 − min(DI, 1/DI) against the threshold, with the chosen threshold marked.

    Parameters
    ----------
    sweep : pandas.DataFrame
        As :func:`threshold_sweep` returns it.
    chosen : float, optional
        The threshold to mark; default the one with the best balanced accuracy.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import plot_threshold_sweep, protected_groups, threshold_sweep
    >>> credit = load_german_credit()
    >>> sweep = threshold_sweep(credit, np.linspace(0, 1, 1000), [0.2, 0.4, 0.6], **protected_groups(credit))
    >>> fig = plot_threshold_sweep(sweep)
    >>> fig.axes[0].get_xlabel()
    'classification threshold'
    """
    _check_sweep(sweep, ("bal_acc", "disp_imp"))
    if chosen is None:
        chosen = float(sweep["bal_acc"].idxmax())
    fig, ax = _figure(ax, (7, 4))
    x = sweep.index.to_numpy(dtype=float)
    ax.plot(x, sweep["bal_acc"], color="tab:blue")
    ax.set_xlabel("classification threshold")
    ax.set_ylabel("balanced accuracy", color="tab:blue")
    right = ax.twinx()
    right.plot(x, disparate_impact_gap(sweep["disp_imp"].to_numpy()), color="tab:red")
    right.set_ylabel(_GAP_LABEL, color="tab:red")
    right.set_ylim(0, 1)
    ax.axvline(chosen, color="k", ls=":", label=f"chosen threshold {chosen:.2f}")
    ax.legend(loc="lower left")
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "accuracy and disparate impact over thresholds")
    return fig


def plot_tradeoff(results, *, curve=None, curve_label="every threshold", ax=None, title=None):
    """The accuracy–fairness trade-off: one point per model, optionally over a threshold curve.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per model (the index names it), with columns ``bal_acc`` and
        ``disp_imp`` (e.g. rows of :func:`threshold_sweep` or :func:`fairness_metrics`).
    curve : pandas.DataFrame, optional
        A :func:`threshold_sweep`, drawn as a line: what moving one threshold reaches.
    curve_label : str, default "every threshold"
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from trustml.fairness import plot_tradeoff
    >>> results = pd.DataFrame({"bal_acc": [0.70, 0.66], "disp_imp": [0.6, 0.95]}, index=["original", "mitigated"])
    >>> fig = plot_tradeoff(results)
    >>> fig.axes[0].get_ylabel()
    'balanced accuracy'
    """
    _check_sweep(results, ("bal_acc", "disp_imp"), what="results")
    fig, ax = _figure(ax, (6.5, 4.5))
    if curve is not None:
        _check_sweep(curve, ("bal_acc", "disp_imp"), what="curve")
        ax.plot(disparate_impact_gap(curve["disp_imp"].to_numpy()), curve["bal_acc"], color="0.7", lw=1,
                label=curve_label, zorder=1)
    gaps = disparate_impact_gap(results["disp_imp"].to_numpy())
    markers = "osD^vP*X"
    for i, (name, gap, acc) in enumerate(zip(results.index, gaps, results["bal_acc"])):
        ax.scatter(gap, acc, s=60, marker=markers[i % len(markers)], label=str(name), zorder=3)
    ax.set_xlabel(_GAP_LABEL)
    ax.set_ylabel("balanced accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    ax.set_title(title or "accuracy–fairness trade-off (better: up and to the left)")
    return fig


def _check_sweep(frame, columns, what="sweep"):
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        raise ValueError(f"{what} must be a DataFrame with columns {list(columns)} (as threshold_sweep returns).")
    if frame.empty:
        raise ValueError(f"{what} has no rows.")


def _figure(ax, size):
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


# --------------------------------------------------------------------------- matching thresholds


def matching_threshold(
    dataset, scores, *, reference_threshold, criterion, privileged_groups, unprivileged_groups, grid=None
):
    """The unprivileged group's threshold that best matches the privileged group's rate.

    With the privileged group thresholded at ``reference_threshold``, return the
    threshold on ``grid`` at which the unprivileged group's selection rate
    (``"demographic_parity"``) or true positive rate (``"equal_opportunity"``)
    is closest to the privileged group's; ties go to the one nearest the
    reference. One deterministic threshold per group can only approximately
    equalise rates; fairlearn's ``ThresholdOptimizer`` randomises to do it exactly.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
    scores : array-like of shape (n_rows,)
        Probabilities of the favourable label.
    reference_threshold : float
        The privileged group's threshold, in [0, 1].
    criterion : {"demographic_parity", "equal_opportunity"}
    privileged_groups, unprivileged_groups : list of dict
    grid : array-like, optional
        Candidate thresholds in [0, 1]; default 0, 0.01, ..., 1 (the explorer's slider).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import matching_threshold, protected_groups
    >>> credit = load_german_credit()
    >>> t = matching_threshold(credit, np.linspace(0, 1, 1000), reference_threshold=0.5,
    ...                        criterion="demographic_parity", **protected_groups(credit))
    >>> 0 <= t <= 1
    True
    """
    if criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {tuple(_CRITERIA)}, got {criterion!r}.")
    positive, weights, privileged, unprivileged = _prepare(dataset, privileged_groups, unprivileged_groups)
    scores = check_scores(scores, len(positive))
    reference = float(check_thresholds(reference_threshold, "reference_threshold")[0])
    grid = SLIDER_GRID if grid is None else check_thresholds(grid, "grid")

    def rate(mask, thresholds):
        c = sweep_confusion(positive, scores, weights, mask, thresholds)
        if criterion == "demographic_parity":
            return (c.tp + c.fp) / (c.tp + c.fp + c.tn + c.fn)
        if not (c.tp + c.fn)[0] > 0:
            raise ValueError("equal opportunity needs rows with the favourable label in both groups.")
        return c.tp / (c.tp + c.fn)

    target = rate(privileged, np.array([reference]))[0]
    distance = np.abs(rate(unprivileged, grid) - target)
    best = np.flatnonzero(distance <= distance.min() + 1e-12)
    return float(grid[best[np.argmin(np.abs(grid[best] - reference))]])


# --------------------------------------------------------------------------- the explorer's view


def threshold_view(
    dataset,
    scores,
    *,
    privileged_threshold,
    unprivileged_threshold,
    privileged_groups,
    unprivileged_groups,
    curve=None,
):
    """What the threshold explorer shows for one threshold per group (equal thresholds: one global threshold).

    Draws each group's confusion matrix, the groups' selection rate, TPR and
    FPR side by side, and the current point on the accuracy–fairness curve of a
    single global threshold; returns the per-group table and the six metrics.
    Undefined metrics (e.g. disparate impact when no one in the privileged
    group is selected) show as NaN, with the reason in the table's caption.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
    scores : array-like of shape (n_rows,)
        Probabilities of the favourable label.
    privileged_threshold, unprivileged_threshold : float
        Each group's threshold in [0, 1] (favourable when score > threshold).
    privileged_groups, unprivileged_groups : list of dict
        When the thresholds differ, the two groups must cover every row once.
    curve : pandas.DataFrame, optional
        :func:`threshold_sweep` over global thresholds (computed on 0, 0.01, ..., 1 if not given).

    Returns
    -------
    (matplotlib.figure.Figure, pandas.DataFrame, pandas.DataFrame)
        The figure; the per-group table (as :func:`metrics_by_group`); the six
        metrics of :func:`threshold_sweep` at these thresholds (one row).

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import protected_groups, threshold_view
    >>> credit = load_german_credit()
    >>> fig, by_group, metrics = threshold_view(
    ...     credit, np.linspace(0, 1, 1000), privileged_threshold=0.5, unprivileged_threshold=0.4,
    ...     **protected_groups(credit))
    >>> by_group.index.tolist(), len(fig.axes)
    (['male', 'female'], 4)
    """
    positive, weights, privileged, unprivileged = _prepare(dataset, privileged_groups, unprivileged_groups)
    scores = check_scores(scores, len(positive))
    t_priv = float(check_thresholds(privileged_threshold, "privileged_threshold")[0])
    t_unpriv = float(check_thresholds(unprivileged_threshold, "unprivileged_threshold")[0])
    if t_priv != t_unpriv and ((privileged & unprivileged).any() or not (privileged | unprivileged).all()):
        raise ValueError(
            "one threshold per group needs groups that cover every row exactly once; "
            "these groups overlap or leave rows out. Use equal thresholds."
        )
    if curve is None:
        curve = threshold_sweep(
            dataset, scores, SLIDER_GRID, privileged_groups=privileged_groups,
            unprivileged_groups=unprivileged_groups, undefined="nan",
        )
    predicted = scores > np.where(privileged, t_priv, t_unpriv)
    everyone = np.ones_like(positive)
    per_group = [prediction_confusion(positive, predicted, weights, m) for m in (privileged, unprivileged)]
    values, reasons = metrics_from_counts(
        prediction_confusion(positive, predicted, weights, everyone),
        prediction_confusion(positive, predicted, np.ones_like(weights), everyone),
        *per_group,
    )
    about = describe_dataset(dataset)
    names = [group_label(dataset, privileged_groups), group_label(dataset, unprivileged_groups)]
    table = group_table(names, per_group, [int(privileged.sum()), int(unprivileged.sum())])
    metrics = pd.DataFrame({name: [float(values[name])] for name in METRICS}, index=["at these thresholds"])

    fig, axes = plt.subplots(1, 4, figsize=(15, 3.4), gridspec_kw={"width_ratios": [1, 1, 1.3, 1.6]})
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.2, top=0.85, wspace=0.45)
    for ax, name, threshold, (_, row) in zip(axes[:2], names, (t_priv, t_unpriv), table.iterrows()):
        _draw_confusion(ax, row, about, title=f"{name}: score > {threshold:.2f}", weighted=about.weighted)
    _draw_rates(axes[2], table)
    gap = disparate_impact_gap(values["disp_imp"]) if np.isfinite(values["disp_imp"]) else np.nan
    _draw_curve_point(axes[3], curve, gap, float(values["bal_acc"]), (t_priv, t_unpriv))
    undefined = [f"{name} undefined: {reasons[name]}" for name in METRICS if np.isnan(values[name])]
    if undefined:
        fig.text(0.01, 0.01, "; ".join(undefined), fontsize="small", color="crimson")
    return fig, table.round(3), metrics.round(3)


def _draw_confusion(ax, row, about, *, title, weighted):
    cells = np.array([[row["TN"], row["FP"]], [row["FN"], row["TP"]]])
    ax.imshow(cells, cmap="Blues", vmin=0, vmax=max(cells.max(), 1e-12))
    fmt = "{:,.0f}" if not weighted else "{:,.3g}"
    for (i, j), value in np.ndenumerate(cells):
        ax.text(j, i, fmt.format(value), ha="center", va="center",
                color="white" if value > 0.6 * cells.max() else "black")
    ax.set_xticks([0, 1], [about.unfavourable, about.favourable], fontsize="small")
    ax.set_yticks([0, 1], [about.unfavourable, about.favourable], fontsize="small", rotation=90, va="center")
    ax.set_xlabel("predicted" + (" (weighted)" if weighted else ""))
    ax.set_ylabel("actual")
    ax.set_title(title, fontsize="medium")


def _draw_rates(ax, table):
    rates = ["selection rate", "TPR", "FPR"]
    x = np.arange(len(rates))
    width = 0.8 / len(table)
    for i, (name, row) in enumerate(table.iterrows()):
        ax.bar(x + (i - (len(table) - 1) / 2) * width, row[rates].to_numpy(dtype=float), width, label=str(name))
    ax.set_xticks(x, rates)
    ax.set_ylim(0, 1)
    ax.set_ylabel("rate")
    ax.set_xlabel("per group")
    ax.legend(fontsize="small", loc="upper right")
    ax.set_title("rates by group", fontsize="medium")


def _draw_curve_point(ax, curve, gap, bal_acc, thresholds):
    ax.plot(disparate_impact_gap(curve["disp_imp"].to_numpy()), curve["bal_acc"], color="0.6", lw=1,
            label="one threshold for all")
    label = "now: " + (f"t = {thresholds[0]:.2f}" if thresholds[0] == thresholds[1] else
                       f"t = {thresholds[0]:.2f} / {thresholds[1]:.2f}")
    if np.isfinite(gap) and np.isfinite(bal_acc):
        ax.scatter([gap], [bal_acc], color="crimson", s=70, zorder=3, label=label)
    else:
        ax.text(0.5, 0.5, "undefined here", transform=ax.transAxes, ha="center", color="crimson")
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(_GAP_LABEL, fontsize="small")
    ax.set_ylabel("balanced accuracy")
    ax.legend(fontsize="small", loc="lower left")
    ax.set_title("trade-off", fontsize="medium")
