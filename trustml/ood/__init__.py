"""Out-of-distribution (OOD) detection: scores, metrics, thresholds and views, on top of pytorch-ood.

Split a dataset by class into in-distribution (ID) classes to train on and OOD
classes held out (:func:`id_ood_split`); score inputs with one of
pytorch-ood's detectors through one surface, :class:`OODDetector`
(``softmax``, ``energy``, ``mahalanobis``, ``knn``, ``vim``; see
:func:`ood_methods`); measure how well a score separates ID from OOD with
:func:`metrics` (pytorch-ood's ``OODMetrics``); and choose a threshold with the
Carpentries lesson's tools, generalised to any number of ID classes:
:func:`classify_with_threshold` (an ID class or OOD), :func:`ood_confusion_matrix`,
:func:`threshold_sweep` and :func:`best_thresholds`. Views:
:func:`plot_score_densities`, :func:`plot_pca`, :func:`plot_tsne`,
:func:`plot_threshold_sweep`, :func:`plot_ood_confusion_matrix` and
:func:`threshold_view` (behind ``trustml.widgets.ood_threshold_explorer``) and :func:`split_view`
(behind ``trustml.widgets.ood_class_picker``).

Every OOD score that trustml returns means **higher = more OOD**, as in
pytorch-ood, and OOD samples are labelled -1 (pytorch-ood: labels < 0).

>>> from trustml.data import load
>>> from trustml.ood import id_ood_split
>>> split = id_ood_split(load("digits"), id_classes=[0, 1], ood_classes=[5])
"""

from trustml.ood._detectors import OODDetector, ood_methods
from trustml.ood._metrics import metrics
from trustml.ood._split import IDOODSplit, id_ood_split
from trustml.ood._thresholds import (
    OOD_LABEL,
    best_thresholds,
    classify_with_threshold,
    ood_confusion_matrix,
    threshold_sweep,
)
from trustml.ood._views import (
    ThresholdFigure,
    plot_ood_confusion_matrix,
    plot_pca,
    plot_score_densities,
    plot_threshold_sweep,
    plot_tsne,
    rates_at,
    split_view,
    threshold_view,
)

__all__ = [
    "OOD_LABEL",
    "IDOODSplit",
    "OODDetector",
    "ThresholdFigure",
    "best_thresholds",
    "classify_with_threshold",
    "id_ood_split",
    "metrics",
    "ood_confusion_matrix",
    "ood_methods",
    "plot_ood_confusion_matrix",
    "plot_pca",
    "plot_score_densities",
    "plot_threshold_sweep",
    "plot_tsne",
    "rates_at",
    "split_view",
    "threshold_sweep",
    "threshold_view",
]
