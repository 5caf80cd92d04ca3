"""Data hardness characterisation: H-CAT's hardness types and methods, from one training run.

Which training samples are mislabeled, ambiguous, atypical or out of
distribution? :func:`perturb` plants a known kind of hardness in a dataset
(H-CAT's nine hardness types, :func:`hardness_types`).

Every score trustml returns means **higher = harder**.
"""

from trustml.hardness._perturb import MNIST_INSTANCE_RULE, Perturbation, hardness_types, perturb

__all__ = ["MNIST_INSTANCE_RULE", "Perturbation", "hardness_types", "perturb"]
