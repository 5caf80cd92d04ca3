"""The claims episode 08's prose makes about its live methods, checked on what its code computes.

The episode's code cells run in one namespace, followed by the permutation-importance solution, and
the hand-written importance is compared with scikit-learn's permutation_importance on the same model.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from trustml.episodes import default_episodes_dir

STEM = "08-explainability-methods-overview"


@pytest.fixture(scope="module")
def ep08():
    nb = nbformat.read(default_episodes_dir() / f"{STEM}.ipynb", as_version=4)
    namespace = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip():
            exec(compile(cell.source, f"<{STEM}>", "exec"), namespace)
    (by_hand,) = [b for c in nb.cells if c.cell_type == "markdown" and "<summary>Solution</summary>" in c.source
                  for b in re.findall(r"```python\n(.*?)```", c.source, flags=re.S)]  # fmt: skip
    exec(compile(by_hand, "<solution>", "exec"), namespace)
    plt.close("all")
    return namespace


def test_exercise_1_checking_account_then_duration(ep08):
    """'The checking account matters most, then the loan's duration and amount; the other attributes change the
    score by a point or two at most'."""
    drops = ep08["by_hand"]
    assert list(drops.index[:3]) == ["checking_account", "duration", "credit_amount"]
    assert drops.iloc[3:].max() <= 0.025 and drops.min() < 0.005  # "and some not at all"


def test_the_hand_written_importance_agrees_with_scikit_learns(ep08):
    """For a single-column attribute, shuffling by hand and permutation_importance measure the same drop."""
    from sklearn.inspection import permutation_importance

    ns = ep08
    reference = permutation_importance(ns["black_box"], ns["X_test"], ns["y_test"], scoring="balanced_accuracy",
                                       n_repeats=30, random_state=1)  # fmt: skip
    columns = list(ns["X"].columns)
    for attribute in ["duration", "credit_amount", "age"]:
        scikit = reference.importances_mean[columns.index(attribute)]
        spread = reference.importances_std[columns.index(attribute)]
        assert abs(ns["by_hand"][attribute] - scikit) < max(0.01, 2 * spread / np.sqrt(10))
    top = ns["importance"].index[0]
    assert top.startswith("checking_account")


def test_partial_dependence_falls_with_duration(ep08):
    """'The black line falls as the loan's duration grows'."""
    average = ep08["pd_display"].pd_results[0]["average"][0]
    assert average[-1] < average[0] - 0.2


def test_the_counterfactual_and_the_surrogate(ep08):
    assert ep08["p_what_if"][-1] < 0.5 and len(ep08["flips"]) > 0  # a shorter loan changes this applicant's rating
    assert 0.7 < ep08["fidelity"] < 1.0  # "where they disagree with it (the rest of the applicants)"
