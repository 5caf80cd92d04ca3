"""Plots and the threshold explorer's view: pure functions that draw for given values."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from trustml._checks import check_bool, check_number, real_array
from trustml._live import LiveFigure
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
    if isinstance(disp_imp, (bool, np.bool_)) or not isinstance(disp_imp, numbers.Real):
        if disp_imp is None or isinstance(disp_imp, (str, bytes)):
            raise TypeError(f"disp_imp must be a number or an array of numbers, got {disp_imp!r}.")
        disp_imp = real_array(disp_imp, "disp_imp", finite=False)
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
        if sweep["bal_acc"].isna().all():
            raise ValueError("sweep's bal_acc is undefined (NaN) at every threshold: there is no best one to mark.")
        chosen = float(sweep["bal_acc"].idxmax())
    chosen = check_number(chosen, "chosen", low=0, high=1, hint=" (a threshold of the sweep)")
    fig, ax = _figure(ax, (7, 4.3))
    x = sweep.index.to_numpy(dtype=float)
    (accuracy,) = ax.plot(x, sweep["bal_acc"], color="tab:blue", label="balanced accuracy")
    ax.set_xlabel("classification threshold")
    ax.set_ylabel("balanced accuracy", color="tab:blue")
    right = ax.twinx()
    (gap,) = right.plot(x, disparate_impact_gap(sweep["disp_imp"].to_numpy()), color="tab:red", label=_GAP_LABEL)
    right.set_ylabel(_GAP_LABEL, color="tab:red")
    right.set_ylim(0, 1)
    marked = ax.axvline(chosen, color="k", ls=":", label=f"chosen threshold {chosen:.2f}")
    # Above the axes, so that it covers no curve.
    ax.legend(handles=[accuracy, gap, marked], loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3,
              fontsize="small", frameon=False)  # fmt: skip
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "accuracy and disparate impact over thresholds", pad=24)
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
    gaps = disparate_impact_gap(results["disp_imp"].to_numpy())
    if curve is not None:
        _check_sweep(curve, ("bal_acc", "disp_imp"), what="curve")
        curve_gaps = disparate_impact_gap(curve["disp_imp"].to_numpy())
    own_figure = ax is None
    fig, ax = _figure(ax, (9.5, 4.5))
    if curve is not None:
        ax.plot(curve_gaps, curve["bal_acc"], color="0.7", lw=1, marker=".", ms=3, label=curve_label, zorder=1)
        _label_some_thresholds(ax, curve.index.to_numpy(dtype=float), curve_gaps, curve["bal_acc"].to_numpy())
    markers = "osD^vP*X"
    for i, (name, gap, acc) in enumerate(zip(results.index, gaps, results["bal_acc"])):
        ax.scatter(gap, acc, s=60, marker=markers[i % len(markers)], label=str(name), zorder=3)
    ax.set_xlabel(_GAP_LABEL)
    ax.set_ylabel("balanced accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)  # beside, not over
    ax.set_title(title or "accuracy–fairness trade-off (better: up and to the left)")
    if own_figure:
        fig.tight_layout()  # room for the legend beside the axes
    return fig


def _label_some_thresholds(ax, thresholds, gaps, accuracies, count=5):
    """Write the threshold beside a few evenly spaced points of the curve, so that its ends can be told apart."""
    defined = np.flatnonzero(np.isfinite(gaps) & np.isfinite(accuracies))
    for i in defined[np.linspace(0, len(defined) - 1, min(count, len(defined))).round().astype(int)]:
        ax.annotate(f"t = {thresholds[i]:.2f}", (gaps[i], accuracies[i]), xytext=(4, -10),
                    textcoords="offset points", fontsize="x-small", color="0.45")  # fmt: skip


def _check_sweep(frame, columns, what="sweep"):
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns):
        raise ValueError(f"{what} must be a DataFrame with columns {list(columns)} (as threshold_sweep returns).")
    if frame.empty:
        raise ValueError(f"{what} has no rows.")
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            raise TypeError(f"{what}[{column!r}] must hold numbers, got {frame[column].dtype}.")


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
    reference = check_number(reference_threshold, "reference_threshold", low=0, high=1)
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
    per_group=None,
):
    """What the threshold explorer shows for one threshold per group (equal thresholds: one global threshold).

    A figure with the groups' selection rate, TPR and FPR side by side and the
    current point on the accuracy–fairness curve of a single global threshold;
    each group's confusion matrix; the per-group rates; and the six metrics of
    :func:`threshold_sweep`. Undefined metrics (e.g. disparate impact when no
    one in the privileged group is selected) show as NaN, with the reason
    written on the figure.

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
    per_group : bool, optional
        Label the thresholds as one per group (True) or one for all (False);
        default: per group when they differ.

    Returns
    -------
    (matplotlib.figure.Figure, pandas.DataFrame, pandas.DataFrame, pandas.DataFrame)
        The figure (not registered with pyplot: show it with IPython's
        ``display``, e.g. ``display(*threshold_view(...))``); the confusion matrices (rows: actual label, columns: group
        and predicted label; weighted counts when the dataset has instance
        weights); the per-group rates (columns of :func:`metrics_by_group`);
        the six metrics at these thresholds (one row).

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import protected_groups, threshold_view
    >>> credit = load_german_credit()
    >>> fig, confusion, rates, metrics = threshold_view(
    ...     credit, np.linspace(0, 1, 1000), privileged_threshold=0.5, unprivileged_threshold=0.4,
    ...     **protected_groups(credit))
    >>> rates.index.tolist(), confusion.shape, len(fig.axes)
    (['male', 'female'], (2, 4), 2)
    """
    state = explorer_state(
        dataset, scores, privileged_threshold=privileged_threshold, unprivileged_threshold=unprivileged_threshold,
        privileged_groups=privileged_groups, unprivileged_groups=unprivileged_groups, curve=curve,
        per_group=per_group,
    )
    return ExplorerFigure(state).figure, state.confusion, state.rates.round(3), state.metrics.round(3)


@dataclass(frozen=True)
class ExplorerState:
    """Everything the explorer shows for one pair of thresholds (numbers only, no drawing)."""

    thresholds: tuple
    per_group: bool
    names: tuple
    curve: pd.DataFrame
    confusion: pd.DataFrame
    rates: pd.DataFrame
    metrics: pd.DataFrame
    undefined: tuple


def explorer_state(
    dataset,
    scores,
    *,
    privileged_threshold,
    unprivileged_threshold,
    privileged_groups,
    unprivileged_groups,
    curve=None,
    per_group=None,
) -> ExplorerState:
    """The numbers behind :func:`threshold_view` (validated inputs, one confusion matrix per group)."""
    positive, weights, privileged, unprivileged = _prepare(dataset, privileged_groups, unprivileged_groups)
    scores = check_scores(scores, len(positive))
    t_priv = check_number(privileged_threshold, "privileged_threshold", low=0, high=1)
    t_unpriv = check_number(unprivileged_threshold, "unprivileged_threshold", low=0, high=1)
    if per_group is not None:
        check_bool(per_group, "per_group")
    if curve is not None:
        _check_sweep(curve, ("bal_acc", "disp_imp"), what="curve")
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
    confusions = [prediction_confusion(positive, predicted, weights, m) for m in (privileged, unprivileged)]
    values, reasons = metrics_from_counts(
        prediction_confusion(positive, predicted, weights, everyone),
        prediction_confusion(positive, predicted, np.ones_like(weights), everyone),
        *confusions,
    )
    names = (group_label(dataset, privileged_groups), group_label(dataset, unprivileged_groups))
    table = group_table(names, confusions, [int(privileged.sum()), int(unprivileged.sum())])
    metrics = pd.DataFrame({name: [float(values[name])] for name in METRICS}, index=["at these thresholds"])
    return ExplorerState(
        thresholds=(t_priv, t_unpriv),
        per_group=bool(t_priv != t_unpriv if per_group is None else per_group),
        names=names,
        curve=curve,
        confusion=_confusion_frame(table, describe_dataset(dataset)),
        rates=table[["rows", "selection rate", "TPR", "FPR", "precision"]],
        metrics=metrics,
        undefined=tuple(f"{name} undefined: {reasons[name]}" for name in METRICS if np.isnan(values[name])),
    )


def _confusion_frame(table, about):
    """Each group's 2x2 confusion matrix side by side: rows actual, columns (group, predicted)."""
    actual = [f"actual: {about.unfavourable}", f"actual: {about.favourable}"]
    columns, cells = [], []
    for group, row in table.iterrows():
        columns += [(f"{group}", f"predicted: {about.unfavourable}"), (f"{group}", f"predicted: {about.favourable}")]
        cells.append([[row["TN"], row["FP"]], [row["FN"], row["TP"]]])
    values = np.concatenate(cells, axis=1)
    frame = pd.DataFrame(values, index=actual, columns=pd.MultiIndex.from_tuples(columns))
    return frame.round(0).astype(int) if np.allclose(values, np.round(values)) else frame.round(1)


_RATES = ("selection rate", "TPR", "FPR")


class ExplorerFigure(LiveFigure):
    """The explorer's figure: rates by group, and the current point on the trade-off curve.

    Built once for a curve and the group names; :meth:`update` moves the bars,
    the point and the labels to a new :class:`ExplorerState`, so a widget
    redraws without building new axes (a :class:`~trustml.widgets.LiveFigure`).
    """

    def __init__(self, state: ExplorerState):
        super().__init__(figsize=(10, 3.2))  # not registered with pyplot: shown only when displayed
        rates_ax, curve_ax = self.figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.22, top=0.88, wspace=0.3)
        x, width = np.arange(len(_RATES)), 0.4
        self.bars = [
            rates_ax.bar(x + (i - 0.5) * width, np.zeros(len(_RATES)), width, label=name)
            for i, name in enumerate(state.names)
        ]
        rates_ax.set_xticks(x, _RATES)
        rates_ax.set_ylim(0, 1.5)  # room above a rate of 1 for the legend
        rates_ax.set_yticks([0, 0.5, 1])
        rates_ax.set_ylabel("rate")
        rates_ax.set_xlabel("per group")
        rates_ax.set_title("rates by group", fontsize="medium")
        self.rates_legend = rates_ax.legend(fontsize="small", loc="upper right")  # one column: labels are long

        curve_ax.plot(disparate_impact_gap(state.curve["disp_imp"].to_numpy()), state.curve["bal_acc"],
                      color="0.6", lw=1, label="one threshold for all")
        self.point = curve_ax.scatter([np.nan], [np.nan], color="crimson", s=70, zorder=3, label="now")
        curve_ax.set_xlim(-0.02, 1.02)
        curve_ax.set_xlabel(_GAP_LABEL)
        curve_ax.set_ylabel("balanced accuracy")
        curve_ax.set_title("accuracy–fairness trade-off", fontsize="medium")
        self.curve_legend = curve_ax.legend(fontsize="small", loc="lower left")
        self.note = self.figure.text(0.01, 0.01, "", fontsize="small", color="crimson")
        self.add_panel(self.figure, [
            *(bar for bars in self.bars for bar in bars), self.point, self.rates_legend, self.curve_legend, self.note,
        ])  # fmt: skip
        self.update(state)

    def update(self, state: ExplorerState) -> ExplorerFigure:
        """Show ``state``: bar heights, legend labels, the point on the curve and any undefined metric."""
        for bars, text, (name, row), t in zip(
            self.bars, self.rates_legend.get_texts(), state.rates.iterrows(), state.thresholds
        ):
            for bar, height in zip(bars, row[list(_RATES)].to_numpy(dtype=float)):
                bar.set_height(0.0 if np.isnan(height) else height)
            text.set_text(f"{name} (score > {t:.2f})")
        metrics = state.metrics.iloc[0]
        gap = disparate_impact_gap(metrics["disp_imp"]) if np.isfinite(metrics["disp_imp"]) else np.nan
        self.point.set_offsets([[gap, metrics["bal_acc"]]])
        t_priv, t_unpriv = state.thresholds
        names = state.names
        self.curve_legend.get_texts()[1].set_text(
            (f"now: {names[0]} {t_priv:.2f}, {names[1]} {t_unpriv:.2f}" if state.per_group
             else f"now: one threshold, {t_priv:.2f}")
            + ("" if np.isfinite(gap) else " (undefined)")
        )
        self.note.set_text("; ".join(state.undefined))
        return self

