"""How sure is a model, and why not? MC dropout, deep ensembles, uncertainty measures and calibration.

Sample predictions: :func:`mc_dropout_predict` (one model, ``T`` passes with
dropout on), :func:`train_ensemble` and :func:`ensemble_predict` (``M`` models
from different seeds); both give ``(samples, N, K)`` probabilities. Split the
uncertainty: :func:`predictive_entropy` (total), :func:`expected_entropy`
(aleatoric) and :func:`mutual_information` (epistemic), in nats. Calibration:
:func:`expected_calibration_error`, :func:`reliability_table`,
:func:`negative_log_likelihood`, :class:`TemperatureScaling`. Pictures:
:func:`plot_reliability_diagram`, :func:`plot_uncertainty_maps` over
:func:`grid_points` of a 2-D plane.

>>> import torch
>>> from trustml.models import MLP
>>> from trustml.uncertainty import mc_dropout_predict, mutual_information
>>> samples = mc_dropout_predict(MLP(2, 2, dropout=0.3), torch.randn(8, 2), passes=10)
>>> mutual_information(samples).shape
(8,)
"""

from trustml.uncertainty._calibration import (
    TemperatureScaling,
    expected_calibration_error,
    negative_log_likelihood,
    reliability_table,
)
from trustml.uncertainty._measures import expected_entropy, mutual_information, predictive_entropy
from trustml.uncertainty._predict import DROPOUT_LAYERS, ensemble_predict, mc_dropout_predict, train_ensemble
from trustml.uncertainty._views import grid_points, plot_reliability_diagram, plot_uncertainty_maps

__all__ = [
    "DROPOUT_LAYERS",
    "TemperatureScaling",
    "ensemble_predict",
    "expected_calibration_error",
    "expected_entropy",
    "grid_points",
    "mc_dropout_predict",
    "mutual_information",
    "negative_log_likelihood",
    "plot_reliability_diagram",
    "plot_uncertainty_maps",
    "predictive_entropy",
    "reliability_table",
    "train_ensemble",
]
