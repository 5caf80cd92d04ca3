"""Small simulations that show a mechanism in a few lines, for teaching.

``simulate_patrols`` is the feedback-loop model of episode 02, after Ensign et
al. (2018), "Runaway feedback loops in predictive policing", FAT*.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_patrols", "simulate_patrols"]

RULES = ("hot_spot", "proportional")


def simulate_patrols(
    days=365,
    true_rate=(10, 10),
    initial_records=(60, 50),
    rule="hot_spot",
    hot_spot_share=0.8,
    detect=0.5,
    report_rate=0.1,
    reweight=False,
    seed=0,
):
    """Simulate daily patrol allocation in two districts, A and B; return the daily history.

    Every day: patrols are allocated from the records (``"hot_spot"``: a share
    ``hot_spot_share`` goes to the district with more recorded crime;
    ``"proportional"``: in proportion to recorded crime); incidents happen
    (Poisson with ``true_rate``); an incident is recorded if a patrol sees it
    (probability ``detect`` x patrol share) or a resident reports it
    (``report_rate``); the records grow. With ``reweight`` each record counts
    as ``1 / p_record`` incidents.

    Returns
    -------
    dict of numpy.ndarray
        ``patrol_share_a`` (days,), ``incidents`` and ``recorded`` (days, 2).

    Examples
    --------
    >>> history = simulate_patrols(days=30)
    >>> history["recorded"].shape
    (30, 2)
    """
    _check_arguments(rule, hot_spot_share=hot_spot_share, detect=detect, report_rate=report_rate)
    rng = np.random.default_rng(seed)
    records = np.array(initial_records, dtype=float)  # what the police "know"
    history = {"patrol_share_a": [], "incidents": [], "recorded": []}
    for _ in range(days):
        if rule == "hot_spot":  # most patrols go where most crime was recorded
            share_a = hot_spot_share if records[0] >= records[1] else 1 - hot_spot_share
        else:  # "proportional": patrols in proportion to recorded crime
            share_a = records[0] / records.sum()
        patrols = np.array([share_a, 1 - share_a])

        incidents = rng.poisson(true_rate)  # what really happens
        p_record = 1 - (1 - detect * patrols) * (1 - report_rate)  # seen by police or reported
        recorded = rng.binomial(incidents, p_record).astype(float)
        if reweight:  # count each record as 1 / p_record incidents
            recorded /= p_record
        records += recorded

        history["patrol_share_a"].append(share_a)
        history["incidents"].append(incidents)
        history["recorded"].append(recorded)
    return {key: np.array(value) for key, value in history.items()}


def _check_arguments(rule, **probabilities):
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}.")
    for name, p in probabilities.items():
        if not 0 <= p <= 1:
            raise ValueError(f"{name} is a probability: it must be in [0, 1], got {p!r}.")


def plot_patrols(history, title=""):
    """Draw a run of :func:`simulate_patrols`.

    Left: incidents recorded since day 0 in each district next to the true
    number (dashed). Right: the share of patrols sent to A each day and A's
    share of all records so far, against A's true share of incidents.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    days = np.arange(1, len(history["patrol_share_a"]) + 1)
    recorded, incidents = history["recorded"].cumsum(axis=0), history["incidents"].cumsum(axis=0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
    for d, (name, colour) in enumerate([("A", "tab:red"), ("B", "tab:blue")]):
        left.plot(days, recorded[:, d], color=colour, label=f"recorded in {name}")
        left.plot(days, incidents[:, d], color=colour, ls="--", lw=1, label=f"true incidents in {name}")
    left.set(xlabel="day", ylabel="incidents since day 0")
    left.legend(fontsize=8)
    right.plot(days, history["patrol_share_a"], color="black", lw=1, label="share of patrols in A")
    right.plot(days, recorded[:, 0] / recorded.sum(axis=1), color="tab:red", label="A's share of records since day 0")
    true_share = incidents[-1, 0] / incidents[-1].sum()
    right.axhline(true_share, color="grey", ls="--", label="A's true share of incidents")
    right.set(xlabel="day", ylabel="share for district A", ylim=(0, 1))
    right.legend(fontsize=8)
    fig.suptitle(title)
    return fig
