"""What episode 03's prose says about the methods holds for the settings the episode uses.

The episode's text and solutions describe patterns ("the label-free methods are near chance on
label noise", "zoom_shift is the hardest type", ...). These tests run the episode's two settings
on the embedded digits and check each statement, so a change in the library or its defaults that
breaks one shows up here rather than in a learner's notebook.
"""

import numpy as np
import pytest

from trustml import set_seed
from trustml.data import load
from trustml.hardness import HardnessGrid, characterize, perturb
from trustml.models import LeNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")


LABEL_BASED = ["aum", "cleanlab", "data_iq", "data_maps", "el2n", "loss", "detector"]
LABEL_FREE = ["conf_agree", "allsh"]


@pytest.fixture(
    scope="module",
    params=[
        dict(n=600, epochs=6, batch_size=32, lr=3e-3),  # fast mode
        dict(n=1437, epochs=10, batch_size=64, lr=1e-3),  # full mode on the digits (H-CAT's recipe)
    ],
    ids=["fast", "full"],
)
def main_characterization(request):
    """The hands-on run: digits, 20% uniform label noise, LeNet with dropout 0.2."""
    recipe = {key: value for key, value in request.param.items() if key != "n"}
    digits = load("digits").subset(request.param["n"], seed=0)  # as the episode: subset(min(n, 1437))
    noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2, seed=0)
    set_seed(0)
    result = characterize(LeNet(dropout=0.2), noisy.X, noisy.y, seed=0, **recipe)
    return noisy, result


@pytest.fixture(scope="module")
def main_run(main_characterization):
    noisy, result = main_characterization
    return result.evaluate(noisy.mask)["auroc"]


def test_the_data_map_puts_the_mislabeled_in_the_hard_corner_and_has_almost_no_easy_samples(main_characterization):
    noisy, result = main_characterization
    groups = result.groups["data_maps"]
    assert (groups[noisy.mask] == "hard").mean() > 0.8
    assert (groups == "easy").mean() < 0.01


@pytest.fixture(scope="module")
def full_grid():
    """The episode's full-mode grid (600 digits, 6 epochs), every image type, at 30% perturbed."""
    digits = load("digits").subset(600, seed=1)
    grid = HardnessGrid(
        digits.X_train, digits.y_train, model=lambda: LeNet(dropout=0.2), proportions=[0.3],
        epochs=6, batch_size=32, lr=3e-3,
    )  # fmt: skip
    return grid.table().pivot_table(index="method", columns="kind", values="auroc")


def test_most_methods_find_uniform_label_noise_but_the_label_free_ones_do_not(main_run):
    assert (main_run > 0.9).sum() >= 9
    assert (main_run[LABEL_BASED] > 0.9).all()
    assert main_run[LABEL_FREE].between(0.35, 0.65).all()  # near chance
    assert main_run["vog"] < 0.65  # near or below chance


def test_label_based_methods_find_every_kind_of_mislabeling(full_grid):
    mislabeling = ["uniform", "asymmetric", "adjacent", "instance"]
    assert (full_grid.loc[LABEL_BASED, mislabeling] > 0.75).all().all()
    assert (full_grid.loc[LABEL_FREE, mislabeling] < 0.7).all().all()


def test_far_ood_found_by_conf_agree_and_prototypicality_reversed_by_allsh_and_vog(full_grid):
    far = full_grid["far_ood"]
    assert far["conf_agree"] > 0.95 and far["prototypicality"] > 0.95
    assert far["allsh"] < 0.3 and far["vog"] < 0.3


def test_zoom_shift_is_hardest_and_near_ood_is_hard_for_label_based_methods(full_grid):
    median = full_grid.median().sort_values()
    assert median.index[0] == "zoom_shift"
    label_based = full_grid.loc[LABEL_BASED]
    near_ood = label_based[["ood_covariate", "domain_shift"]]
    assert (near_ood < 0.8).all().all()
    assert label_based[["uniform", "asymmetric", "adjacent", "instance"]].median().min() > near_ood.median().max()
    zoom = full_grid["zoom_shift"].sort_values(ascending=False)
    assert zoom.index[0] == "vog" and zoom["vog"] > 0.65
    assert zoom["prototypicality"] > 0.5
    assert (full_grid.loc[LABEL_BASED, "zoom_shift"] < 0.55).all()  # near or below chance
    assert np.median(zoom) < 0.5


def test_vog_is_best_on_noisy_inputs(full_grid):
    assert full_grid["ood_covariate"].idxmax() == "vog"
