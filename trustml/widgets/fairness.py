"""The threshold explorer: move a decision threshold (or one per group) and watch fairness change.

A thin layer of core ipywidgets over :func:`trustml.fairness.threshold_view`,
which draws the same view for given thresholds (and renders statically).
"""

from __future__ import annotations

import ipywidgets as widgets
from IPython.display import HTML

from trustml.fairness import matching_threshold, threshold_sweep
from trustml.fairness._data import group_label
from trustml._checks import check_number
from trustml.fairness._views import SLIDER_GRID, ExplorerFigure, explorer_state
from trustml.widgets._view import ViewWidget

__all__ = ["threshold_explorer"]

GLOBAL, PER_GROUP = "global", "per group"
_HEADINGS = {
    "confusion": HTML("<b>Confusion matrix of each group</b> (rows: actual label, columns: predicted label)"),
    "rates": HTML("<b>Rates by group</b>"),
    "metrics": HTML("<b>Balanced accuracy and fairness metrics</b> (differences are unprivileged minus "
                    "privileged, 0 is parity; disparate impact is their ratio, 1 is parity)"),
}


def threshold_explorer(dataset, scores, *, privileged_groups, unprivileged_groups, threshold=0.5):
    """A What-If-style explorer of decision thresholds: per-group confusion matrices, rates and metrics.

    Controls: a toggle between one global threshold and one threshold per
    group; the global slider; one slider per group; and two buttons that set
    the unprivileged group's threshold so that its selection rate
    (demographic parity) or its true positive rate (equal opportunity) comes
    as close as a single threshold can to the privileged group's. While there
    is one threshold, the group sliders follow the global one; touching a
    group's slider switches to one threshold per group, and touching the
    global slider switches back. A slider move redraws once.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
        Usually the validation set.
    scores : array-like of shape (n_rows,)
        Probabilities of the favourable label (:func:`trustml.fairness.favourable_scores`).
    privileged_groups, unprivileged_groups : list of dict
        AIF360's group format (:func:`trustml.fairness.protected_groups`).
    threshold : float, default 0.5
        Where every slider starts.

    Returns
    -------
    trustml.widgets.ViewWidget
        Controls ``mode``, ``threshold``, ``privileged_threshold`` and
        ``unprivileged_threshold``; ``.result`` is what
        :func:`~trustml.fairness.threshold_view` returns for the current values
        (its figure as the live ExplorerFigure, each table after an HTML heading); ``.buttons`` holds the
        ``demographic_parity`` and ``equal_opportunity`` buttons.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import protected_groups
    >>> from trustml.widgets import threshold_explorer
    >>> credit = load_german_credit()
    >>> explorer = threshold_explorer(credit, np.linspace(0, 1, 1000), **protected_groups(credit))
    >>> explorer.controls["threshold"].value = 0.6  # redraws
    >>> explorer.result[-1].index.tolist()
    ['at these thresholds']
    """
    start = check_number(threshold, "threshold", low=0, high=1)
    groups = {"privileged_groups": privileged_groups, "unprivileged_groups": unprivileged_groups}
    curve = threshold_sweep(dataset, scores, SLIDER_GRID, undefined="nan", **groups)  # validates everything once

    def slider(description):
        return widgets.FloatSlider(
            value=start, min=0.0, max=1.0, step=0.01, description=description, continuous_update=True,
            readout_format=".2f", style={"description_width": "initial"},
        )

    controls = {
        "mode": widgets.ToggleButtons(
            options=[("one threshold", GLOBAL), ("one per group", PER_GROUP)], value=GLOBAL,
            style={"button_width": "auto"},
        ),
        "threshold": slider("threshold (all)"),
        "privileged_threshold": slider(group_label(dataset, privileged_groups)),
        "unprivileged_threshold": slider(group_label(dataset, unprivileged_groups)),
    }
    buttons = {
        "demographic_parity": widgets.Button(description="demographic parity", tooltip=(
            "equalise selection rates: move the unprivileged group's threshold")),
        "equal_opportunity": widgets.Button(description="equal opportunity", tooltip=(
            "equalise true positive rates: move the unprivileged group's threshold")),
    }

    figure = []  # the ExplorerFigure, built on the first draw and updated on every later one

    def view(mode, threshold, privileged_threshold, unprivileged_threshold):
        if mode == GLOBAL:
            privileged_threshold = unprivileged_threshold = threshold
        state = explorer_state(
            dataset, scores, privileged_threshold=privileged_threshold,
            unprivileged_threshold=unprivileged_threshold, curve=curve, per_group=mode == PER_GROUP, **groups,
        )
        if figure:
            figure[0].update(state)
        else:
            figure.append(ExplorerFigure(state))
        return (
            figure[0],
            _HEADINGS["confusion"], state.confusion,
            _HEADINGS["rates"], state.rates.round(3),
            _HEADINGS["metrics"], state.metrics.round(3),
        )

    explorer = ViewWidget(view, controls, extra=list(buttons.values()))
    explorer.buttons = buttons

    # These observers run after the ViewWidget's own redraw. While the mode is "one threshold",
    # the group sliders follow the global slider silently, so a group slider never starts from
    # a stale value.
    def on_mode(change):
        if not explorer.holding and change["new"] == GLOBAL:
            with explorer.hold(redraw=False):
                _set(controls, privileged_threshold=controls["threshold"].value,
                     unprivileged_threshold=controls["threshold"].value)

    def on_global(change):
        if explorer.holding:
            return
        was_global = controls["mode"].value == GLOBAL
        with explorer.hold(redraw=not was_global):
            _set(controls, mode=GLOBAL, privileged_threshold=change["new"], unprivileged_threshold=change["new"])

    def on_group(change):
        if not explorer.holding and controls["mode"].value == GLOBAL:
            with explorer.hold(redraw=True):
                _set(controls, mode=PER_GROUP)

    def on_button(criterion):
        def click(_):
            reference = controls["threshold" if controls["mode"].value == GLOBAL else "privileged_threshold"].value
            matched = matching_threshold(
                dataset, scores, reference_threshold=reference, criterion=criterion, grid=SLIDER_GRID, **groups
            )
            with explorer.hold(redraw=True):
                _set(controls, mode=PER_GROUP, privileged_threshold=reference, unprivileged_threshold=matched)
        return click

    controls["mode"].observe(on_mode, names="value")
    controls["threshold"].observe(on_global, names="value")
    controls["privileged_threshold"].observe(on_group, names="value")
    controls["unprivileged_threshold"].observe(on_group, names="value")
    for criterion, button in buttons.items():
        button.on_click(on_button(criterion))
    return explorer


def _set(controls, **values):
    for key, value in values.items():
        controls[key].value = value
