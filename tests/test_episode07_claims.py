"""The claims episode 07's prose makes about its German credit models, checked on what its code computes.

The episode's code cells run in one namespace (fast mode; full mode too with TRUSTML_CLAIMS_FULL=1),
followed by the bootstrap solution; each assertion quotes the sentence it checks.
"""

import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import pytest

from trustml.episodes import default_episodes_dir

STEM = "07-interpretability-vs-explainability"
FULL = pytest.mark.skipif(
    os.environ.get("TRUSTML_CLAIMS_FULL") != "1", reason="full mode: run with TRUSTML_CLAIMS_FULL=1"
)


@pytest.fixture(scope="module", params=["fast", pytest.param("full", marks=FULL)])
def ep07(request):
    nb = nbformat.read(default_episodes_dir() / f"{STEM}.ipynb", as_version=4)
    namespace = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRUSTML_FAST", "1" if request.param == "fast" else "0")
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.strip():
                exec(compile(cell.source, f"<{STEM}>", "exec"), namespace)
        (bootstrap,) = [b for c in nb.cells if c.cell_type == "markdown" and "<summary>Solution</summary>" in c.source
                        for b in re.findall(r"```python\n(.*?)```", c.source, flags=re.S)]  # fmt: skip
        *body, last = bootstrap.strip().splitlines()
        exec(compile("\n".join(body), "<solution>", "exec"), namespace)
        namespace["bootstrap_table"] = eval(last, namespace)
    namespace["mode"] = request.param
    plt.close("all")
    return namespace


def test_the_data(ep07):
    """'700 training and 300 test applicants'; '70% are good risks'; sex is left out."""
    assert (len(ep07["X_train"]), len(ep07["X_test"])) == (700, 300) and round(ep07["y"].mean(), 2) == 0.70
    assert "sex" not in ep07["X"].columns


def test_the_tree_asks_about_the_checking_account_first_and_uses_age(ep07):
    tree, columns = ep07["tree"], list(ep07["X"].columns)
    assert columns[tree.tree_.feature[0]].startswith("checking_account")
    used = {columns[f] for f in tree.tree_.feature if f >= 0}
    assert "age" in used


def test_the_coefficients_read_as_the_prose_says(ep07):
    c = ep07["coefficients"]
    assert ep07["reference"][0] == "checking_account=not_known"  # "the reference: the most common answer"
    for less in ["checking_account=little", "checking_account=moderate"]:
        assert c.loc[less, "high"] < 0  # "less likely to be good risks", interval below zero
    assert c.loc["duration", "high"] < 0  # "a longer loan duration goes with a lower chance"
    assert c.loc["credit_amount", "coefficient"] < 0 < c.loc["credit_amount", "high"]  # "negative too, but crosses"
    assert ep07["X"][["credit_amount", "duration"]].corr().iloc[0, 1] > 0.5  # "amount and duration are correlated"


def test_exercise_1_the_bootstrap_agrees_with_the_wald_intervals(ep07):
    """'The bootstrap percentiles land close to the Wald intervals (within a few hundredths), and the
    intervals are about as wide'."""
    t = ep07["bootstrap_table"]
    gaps = (t[["bootstrap low", "bootstrap high"]].to_numpy() - t[["low", "high"]].to_numpy())
    assert abs(gaps).max() < 0.06
    widths = (t["bootstrap high"] - t["bootstrap low"]) / (t["high"] - t["low"])
    assert widths.between(0.85, 1.15).all()


def test_the_black_boxes_learn_many_more_numbers(ep07):
    """'The black boxes learn tens to hundreds of times more numbers than the interpretable models'."""
    p = ep07["side_by_side"]["parameters"]
    small = max(p["decision tree (depth 3)"], p["logistic regression"])
    assert min(p["gradient boosting (100 trees)"], p["neural network (64 units)"]) > 10 * small


def test_reading_the_plot(ep07):
    sweep = ep07["sweep"].set_index(["family", "setting"])
    acc = sweep["balanced accuracy"]
    lr, boosting, tree, mlp = (acc.xs(f) for f in ["logistic regression (L1)", "gradient boosting", "decision tree",
                                                   "neural network"])  # fmt: skip
    sparse = sweep.loc[("logistic regression (L1)", "C=0.1")]
    assert 10 <= sparse["parameters"] <= 20  # "about 15 non-zero coefficients"
    best_black_box = acc.drop(["logistic regression (L1)", "decision tree"], level="family").idxmax()
    assert acc[best_black_box] - sparse["balanced accuracy"] < sweep.loc[best_black_box, "std"]  # "within the noise"
    assert tree["depth 12"] < tree["depth 1"] - 0.02  # "trees get worse as they grow"
    assert tree["depth 12"] == tree.min()
    assert sweep.loc[("decision tree", "depth 12"), "train balanced accuracy"] > 0.9  # "approaches 1"
    assert mlp.max() < min(lr.max(), boosting.max(), tree.max())  # "the neural network ... the least accurate"
    assert boosting["100 trees"] > boosting["10 trees"]  # "boosting improves from 10 to 100 trees"
    if ep07["mode"] == "full":
        assert boosting["300 trees"] - boosting["100 trees"] < 0.02  # "and gains little after"
