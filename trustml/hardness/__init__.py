"""Data hardness characterisation: H-CAT's hardness types and methods, from one training run.

Which training samples are mislabeled, ambiguous, atypical or out of
distribution? :func:`perturb` plants a known kind of hardness in a dataset
(H-CAT's hardness types, :func:`hardness_types`); :func:`characterize` trains a
model once and scores every sample with the thirteen hardness characterisation
methods (:func:`hardness_methods`), each also a plain function of what it looks
at; :func:`evaluate` measures how well each score finds the planted samples, and
:func:`benchmark` runs the whole grid (hardness type x proportion x seed) in
parallel, on a Dask cluster if you have one.

Data parameters (Saxena et al., 2019; :class:`DataParameters`) learn a
temperature per sample while the model trains; :func:`categorize` sorts the
samples into easy, hard and need-review from the temperatures' trajectories.

Every score trustml returns means **higher = harder**.

A typical session (H-CAT's MNIST protocol; about two plain trainings' time)::

    from trustml.data import load
    from trustml.hardness import characterize, perturb
    from trustml.models import LeNet

    digits = load("digits")
    noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2)
    result = characterize(LeNet(dropout=0.2), noisy.X, noisy.y, epochs=10)
    result.evaluate(noisy.mask)     # AUROC, AUPRC, precision at k of each method
    result.to_frame()               # per sample: label, data-map statistics, groups, every score
"""

from trustml.hardness._benchmark import HardnessGrid, benchmark, plot_benchmark
from trustml.hardness._characterize import Characterization, characterize, evaluate
from trustml.hardness._data_parameters import DataParameters
from trustml.hardness._enrichment import (
    categorize,
    plot_category_grid,
    plot_temperature_detection,
    plot_trajectories,
    plot_trajectory_tsne,
    trajectory_tsne,
)
from trustml.hardness._methods import (
    METHODS,
    allsh,
    aum,
    cleanlab,
    conf_agree,
    data_iq,
    data_map,
    data_maps,
    detector,
    easy_ambiguous_hard,
    el2n,
    forgetting,
    grand,
    hardness_methods,
    loss,
    prototypicality,
    vog,
)
from trustml.hardness._perturb import MNIST_INSTANCE_RULE, Perturbation, hardness_types, perturb
from trustml.hardness._recorders import RecordGradNorms, RecordInputGradients
from trustml.hardness._views import plot_data_map, plot_hardest, plot_method_ranking

__all__ = [
    "HardnessGrid",
    "METHODS",
    "MNIST_INSTANCE_RULE",
    "Characterization",
    "DataParameters",
    "Perturbation",
    "RecordGradNorms",
    "RecordInputGradients",
    "allsh",
    "aum",
    "benchmark",
    "categorize",
    "characterize",
    "cleanlab",
    "conf_agree",
    "data_iq",
    "data_map",
    "data_maps",
    "detector",
    "easy_ambiguous_hard",
    "el2n",
    "evaluate",
    "forgetting",
    "grand",
    "hardness_methods",
    "hardness_types",
    "loss",
    "perturb",
    "plot_benchmark",
    "plot_category_grid",
    "plot_data_map",
    "plot_hardest",
    "plot_method_ranking",
    "plot_temperature_detection",
    "plot_trajectories",
    "plot_trajectory_tsne",
    "prototypicality",
    "trajectory_tsne",
    "vog",
]
