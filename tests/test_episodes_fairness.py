"""The claims that episodes 05 and 06 make in prose, checked on what their code computes.

Episode 05's code cells (a second of work) run here in one namespace, followed by the
solutions of its code exercises; the assertions are the sentences of the episode. Episode
06's own numbers are checked in test_episode06_claims.py; here, the MEPS figures it quotes.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from episode_code import episode, run_code_cells, run_solution, solutions
from trustml.episodes import default_episodes_dir


@pytest.fixture(scope="module")
def ep05():
    nb = episode("05-model-evaluation-and-fairness")
    namespace = {}
    run_code_cells(nb, namespace, "episode 05")
    leak_fix, lender = solutions(nb)
    run_solution(leak_fix, namespace)
    namespace["exercise4"] = run_solution(lender, namespace)
    plt.close("all")
    return namespace


def test_ep05_confusion_matrix_numbers(ep05):
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    y_true, y_pred = ep05["y_true"], ep05["y_pred"]
    assert len(y_true) == 1000
    # "right 89.5% of the time; 79% of its positive calls are correct, and it finds 92% of the real positives"
    assert accuracy_score(y_true, y_pred) == pytest.approx(0.895)
    assert round(precision_score(y_true, y_pred), 2) == 0.79
    assert round(recall_score(y_true, y_pred), 2) == 0.92


def test_ep05_overfitting_story(ep05):
    table = ep05["fit_table"]
    assert table.loc["1", "train"] < 0.55 and table.loc["1", "test"] < 0.55  # the stump underfits
    assert table.loc["None", "train"] == 1.0  # the deepest tree memorises
    best = table["test"].idxmax()
    assert best not in {"1", "None"}  # the best test score lies in between
    assert table.loc["None", "test"] < table.loc[best, "test"]


def test_ep05_leakage_story(ep05):
    assert ep05["leaky"].mean() > 0.7  # "far above chance"
    assert 0.3 < ep05["honest"].mean() < 0.65  # "drops to about 0.5"


def test_ep05_lender_story(ep05):
    base = ep05["pd"].Series(ep05["repaid"]).groupby(ep05["group"]).mean()
    assert base["A"] > base["B"]
    same, parity, opportunity = ep05["same_rule"], ep05["parity"], ep05["opportunity"]
    assert same.loc["A", "selection rate"] == pytest.approx(0.5, abs=0.01)  # half of A approved
    assert same.loc["B", "selection rate"] < same.loc["A", "selection rate"] - 0.2  # "far less often"
    # demographic parity: equal selection, B lower precision and higher FPR
    assert parity.loc["B", "selection rate"] == pytest.approx(parity.loc["A", "selection rate"], abs=0.01)
    assert parity.loc["B", "precision"] < parity.loc["A", "precision"]
    assert parity.loc["B", "FPR"] > parity.loc["A", "FPR"]
    # equal opportunity: equal recall, unequal FPR
    assert opportunity.loc["B", "TPR"] == pytest.approx(opportunity.loc["A", "TPR"], abs=0.01)
    assert abs(opportunity.loc["B", "FPR"] - opportunity.loc["A", "FPR"]) > 0.03
    # "hundreds" of applicants would be decided otherwise under group thresholds; none under one rule
    counts = {name: ep05["treated_differently"](*table["threshold"]) for name, table in
              [("same", same), ("parity", parity), ("opportunity", opportunity)]}
    assert counts["same"] == 0 and counts["parity"] >= 100 and counts["opportunity"] >= 100


def test_ep05_score_is_calibrated_in_both_groups(ep05):
    from sklearn.calibration import calibration_curve

    group, score, repaid = ep05["group"], ep05["score"], ep05["repaid"]
    for name in ["A", "B"]:
        rows = group == name
        observed, predicted = calibration_curve(repaid[rows], score[rows], n_bins=10)
        assert np.abs(observed - predicted).max() < 0.1


def test_ep05_the_common_rule_meets_no_rate_criterion_though_its_score_is_calibrated(ep05):
    same = ep05["same_rule"]
    for column in ["selection rate", "TPR", "FPR", "precision"]:  # "all differ between the groups"
        assert abs(same.loc["A", column] - same.loc["B", column]) > 0.05, column


def test_ep05_impossibility_results_hold_on_the_lender(ep05):
    group, score, repaid, pd = ep05["group"], ep05["score"], ep05["repaid"], ep05["pd"]
    base = pd.Series(repaid).groupby(group).mean()
    assert base.round(2).tolist() == [0.66, 0.44]  # "the base rates are 0.66 and 0.44"
    # Kleinberg et al.: calibrated, so not balanced: A's repayers and A's defaulters score higher than B's
    for outcome in [0, 1]:
        a, b = (score[(group == name) & (repaid == outcome)].mean() for name in "AB")
        assert a > b + 0.1
    # Chouldechova: FPR = p/(1-p) (1-PPV)/PPV (1-FNR) in each group, on the equal-opportunity rule
    opportunity = ep05["opportunity"]
    ppv, fnr = opportunity["precision"], 1 - opportunity["TPR"]
    from_identity = base / (1 - base) * (1 - ppv) / ppv * (1 - fnr)
    assert np.allclose(from_identity, opportunity["FPR"], atol=0.005)  # its inputs are rounded to 3 decimals
    # "B's lower base rate and lower precision force its FPR above A's"
    assert opportunity.loc["B", "precision"] < opportunity.loc["A", "precision"]
    assert opportunity.loc["B", "FPR"] > opportunity.loc["A", "FPR"]


def test_ep05_exercise4_predictive_parity_is_stricter_with_b(ep05):
    table = ep05["exercise4"]
    assert table.loc["B", "precision"] >= ep05["same_rule"].loc["A", "precision"] - 1e-9
    assert table.loc["B", "threshold"] > table.loc["A", "threshold"]  # "B's threshold ends up higher"
    assert table.loc["B", "TPR"] < table.loc["A", "TPR"]
    assert table.loc["B", "selection rate"] < table.loc["A", "selection rate"]


def test_ep06_quotes_only_the_meps_numbers_that_the_reproduction_test_checks():
    """Episode 06 prints its own numbers; the MEPS figures it quotes are AIF360's published ones,
    which test_fairness.test_aif360_meps_tutorial_numbers_are_reproduced checks on the real data."""
    from test_fairness import MEPS_PUBLISHED

    text = "\n".join(c.source for c in episode("06-model-fairness-hands-on").cells if c.cell_type == "markdown")
    original, reweighed = MEPS_PUBLISHED.loc["original"], MEPS_PUBLISHED.loc["reweighed"]
    quotes = {
        "training DI of about 0.48": round(original["train_di"], 2) == 0.48,
        "threshold of\n0.19": original["threshold"] == 0.19,
        "balanced accuracy of about 0.78": round(original["bal_acc"], 2) == 0.78,
        "disparate impact of about 0.43": round(original["disp_imp"], 2) == 0.43,
        "DI 0.43 → 0.75": (round(original["disp_imp"], 2), round(reweighed["disp_imp"], 2)) == (0.43, 0.75),
        "−0.21 →\n  −0.02": (round(original["avg_odds_diff"], 2), round(reweighed["avg_odds_diff"], 2)) == (-0.21, -0.02),
        "−0.22 → −0.00": (round(original["eq_opp_diff"], 2), round(reweighed["eq_opp_diff"], 2)) == (-0.22, -0.00),
        "(0.776 → 0.754)": (round(original["bal_acc"], 3), round(reweighed["bal_acc"], 3)) == (0.776, 0.754),
        "about 2 points": round(100 * (original["bal_acc"] - reweighed["bal_acc"])) == 2,
        "Theil index barely changes": abs(original["theil_ind"] - reweighed["theil_ind"]) < 0.01,
        "about twice": round(1 / original["train_di"]) == 2,
    }
    flat = " ".join(text.split())  # line breaks and indentation count as one space
    for quote, agrees in quotes.items():
        assert " ".join(quote.split()) in flat, f"episode 06 no longer says {quote!r}: update this test"
        assert agrees, f"episode 06 says {quote!r}, which AIF360's published numbers do not give"


def test_episodes_05_and_06_link_only_to_existing_episodes():
    existing = {int(p.name[:2]) for p in default_episodes_dir().glob("[0-9][0-9]-*.ipynb")}
    for stem in ["05-model-evaluation-and-fairness", "06-model-fairness-hands-on"]:
        text = "\n".join(c.source for c in episode(stem).cells if c.cell_type == "markdown")
        for number in re.findall(r"episodes? (\d\d)", text):
            assert int(number) in existing, f"{stem} mentions episode {number}, which does not exist"
