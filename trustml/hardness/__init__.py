"""Data hardness: which training samples are mislabelled, ambiguous or atypical, and how methods see them.

Data parameters (Saxena et al., 2019) learn a temperature per sample while the
model trains; its trajectory over the epochs sorts samples into easy, hard and
need-review.
"""

from trustml.hardness._data_parameters import DataParameters
from trustml.hardness._enrichment import (
    categorize,
    plot_category_grid,
    plot_trajectories,
    plot_trajectory_tsne,
    trajectory_tsne,
)

__all__ = [
    "DataParameters",
    "categorize",
    "plot_category_grid",
    "plot_trajectories",
    "plot_trajectory_tsne",
    "trajectory_tsne",
]
