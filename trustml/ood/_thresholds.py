"""Thresholds on OOD scores: classify as an ID class or OOD, sweep precision / recall / F1, confusion matrices.

The Carpentries lesson classifies each test image as one of its two ID classes
or as OOD by a threshold on the softmax probability, and sweeps the threshold
to trade precision against recall. These functions do the same for any number
of ID classes and any OOD score, in pytorch-ood's conventions: higher scores
mean more OOD, and OOD samples are labelled -1 (any negative label).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustml._checks import check_class_names
from trustml.ood._checks import check_ood_labels, check_predictions, check_scores, check_threshold

__all__ = ["OOD_LABEL", "best_thresholds", "classify_with_threshold", "ood_confusion_matrix", "threshold_sweep"]

#: The label of an OOD sample (and of a sample classified as OOD), as in pytorch-ood (labels < 0).
OOD_LABEL = -1


def classify_with_threshold(scores, predictions, *, threshold) -> np.ndarray:
    """The model's class where the OOD score is at most ``threshold``, else :data:`OOD_LABEL` (-1).

    Parameters
    ----------
    scores : array-like of shape (n,)
        OOD scores, higher = more OOD (e.g. ``OODDetector(...).scores(X)``).
    predictions : array-like of int, shape (n,)
        The model's predicted classes (``logits.argmax(1)``).
    threshold : float
        A sample is flagged as OOD when its score is **above** it. For
        ``softmax`` scores (minus the top probability), ``threshold=-0.9``
        keeps the samples whose top probability is at least 0.9.

    Returns
    -------
    numpy.ndarray
        int64 ``(n,)``: a class index, or -1 for OOD.

    Examples
    --------
    >>> from trustml.ood import classify_with_threshold
    >>> classify_with_threshold([-0.99, -0.6, -0.95], [1, 0, 0], threshold=-0.9)
    array([ 1, -1,  0])
    """
    scores = check_scores(scores, "scores")
    predictions = check_predictions(predictions, len(scores))
    threshold = check_threshold(threshold)
    return np.where(scores > threshold, OOD_LABEL, predictions)


def ood_confusion_matrix(labels, scores, predictions, *, threshold, class_names=None) -> pd.DataFrame:
    """Confusion matrix of the ID classes and OOD at a threshold: rows actual, columns predicted.

    Parameters
    ----------
    labels : array-like of int, shape (n,)
        True labels: ID classes ``0..K-1``, OOD samples negative (e.g.
        :meth:`IDOODSplit.evaluation_labels`).
    scores, predictions, threshold
        As in :func:`classify_with_threshold`.
    class_names : sequence of str, optional
        Names of the K ID classes (default ``"0"``, ``"1"``, ...).

    Returns
    -------
    pandas.DataFrame
        ``(K + 1) x (K + 1)`` counts, the last row and column ``"OOD"``; the
        same numbers as ``sklearn.metrics.confusion_matrix(labels,
        classify_with_threshold(...), labels=[0, ..., K-1, -1])``.

    Examples
    --------
    >>> from trustml.ood import ood_confusion_matrix
    >>> ood_confusion_matrix([0, 1, -1, -1], [0.1, 0.2, 0.9, 0.3], [0, 1, 1, 1], threshold=0.5,
    ...                      class_names=["shirt", "trousers"])
    predicted  shirt  trousers  OOD
    actual
    shirt          1         0    0
    trousers       0         1    0
    OOD            0         1    1
    """
    scores = check_scores(scores, "scores")
    labels = check_ood_labels(labels, len(scores))
    predictions = check_predictions(predictions, len(scores))
    names = _class_names(class_names, labels, predictions)
    decided = classify_with_threshold(scores, predictions, threshold=threshold)
    k = len(names)
    rows = np.where(labels < 0, k, labels)
    cols = np.where(decided < 0, k, decided)
    counts = np.bincount(rows * (k + 1) + cols, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)
    index = pd.Index([*names, "OOD"], name="actual")
    return pd.DataFrame(counts, index=index, columns=pd.Index([*names, "OOD"], name="predicted"))


def threshold_sweep(labels, scores, predictions, *, thresholds=None) -> pd.DataFrame:
    """Precision, recall and F1 of the ID classes, and the two error rates, at many thresholds.

    At each threshold the samples are classified with
    :func:`classify_with_threshold`. Precision, recall and F1 are
    macro-averaged over the ID classes, as the lesson (and
    ``sklearn.metrics.precision_recall_fscore_support(..., labels=ID classes,
    average="macro", zero_division=0)``) computes them: an OOD sample let
    through lowers the precision of the class it is given, an ID sample
    flagged as OOD lowers the recall of its class.

    Parameters
    ----------
    labels, scores, predictions
        As in :func:`ood_confusion_matrix`.
    thresholds : array-like, optional
        Default: 101 quantiles of the scores, from the lowest to the highest.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``threshold`` (increasing); columns ``precision``,
        ``recall``, ``f1``, ``id_flagged`` (share of ID samples flagged as OOD)
        and ``ood_accepted`` (share of OOD samples let through as ID).

    Examples
    --------
    >>> from trustml.ood import threshold_sweep
    >>> sweep = threshold_sweep([0, 1, -1], [0.1, 0.2, 0.9], [0, 1, 0], thresholds=[0.5, 1.0])
    >>> sweep[["precision", "recall", "ood_accepted"]]
               precision  recall  ood_accepted
    threshold
    0.5             1.00     1.0           0.0
    1.0             0.75     1.0           1.0
    """
    scores = check_scores(scores, "scores")
    labels = check_ood_labels(labels, len(scores))
    predictions = check_predictions(predictions, len(scores))
    k = len(_class_names(None, labels, predictions))
    if thresholds is None:
        thresholds = np.unique(np.quantile(scores, np.linspace(0, 1, 101)))
    else:
        thresholds = check_scores(thresholds, "thresholds")
        thresholds = np.sort(thresholds)
    accepted = (scores[None, :] <= thresholds[:, None]).astype(np.float64)  # (T, N)
    predicted_as = np.eye(k)[predictions]  # (N, K)
    truly = np.eye(k + 1)[np.where(labels < 0, k, labels)][:, :k]  # (N, K), no column for OOD
    predicted = accepted @ predicted_as  # (T, K): accepted samples given class c
    true_positive = accepted @ (predicted_as * truly)  # (T, K)
    support = truly.sum(axis=0)  # (K,)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    is_id, is_ood = labels >= 0, labels < 0
    frame = pd.DataFrame(
        {
            "precision": precision.mean(axis=1),
            "recall": recall.mean(axis=1),
            "f1": f1.mean(axis=1),
            "id_flagged": 1.0 - accepted[:, is_id].mean(axis=1),
            "ood_accepted": accepted[:, is_ood].mean(axis=1) if is_ood.any() else np.nan,
        },
        index=pd.Index(thresholds, name="threshold"),
    )
    return frame


def best_thresholds(sweep: pd.DataFrame) -> pd.DataFrame:
    """The thresholds of a :func:`threshold_sweep` with the best F1, precision and recall.

    Ties are common (precision is often 1 over a whole range of thresholds):
    among the thresholds with the best precision, the one with the best
    recall is chosen, and the other way round; among those with the best F1,
    the one with the best recall.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``f1``, ``precision``, ``recall``; columns ``threshold``,
        ``value`` (the best value) and the sweep's other columns at that threshold.

    Examples
    --------
    >>> from trustml.ood import best_thresholds, threshold_sweep
    >>> sweep = threshold_sweep([0, 1, -1], [0.1, 0.2, 0.9], [0, 1, 0], thresholds=[0.05, 0.5, 1.0])
    >>> best_thresholds(sweep)["threshold"].to_dict()
    {'f1': 0.5, 'precision': 0.5, 'recall': 0.5}
    """
    if not isinstance(sweep, pd.DataFrame) or not {"precision", "recall", "f1"} <= set(sweep.columns) or sweep.empty:
        raise ValueError("sweep must be the DataFrame that threshold_sweep returns (columns precision, recall, f1).")
    rows = {}
    for metric, tie_break in (("f1", "recall"), ("precision", "recall"), ("recall", "precision")):
        best = sweep[metric].max()
        tied = sweep[np.isclose(sweep[metric], best, rtol=0, atol=1e-12)]
        chosen = tied[tie_break].idxmax()
        rows[metric] = {"threshold": float(chosen), "value": float(best), **sweep.loc[chosen].to_dict()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "best"
    return frame


def _class_names(class_names, labels: np.ndarray, predictions: np.ndarray) -> list:
    k = int(max(labels.max(), predictions.max() if len(predictions) else 0)) + 1
    if class_names is None:
        return [str(c) for c in range(k)]
    names = check_class_names(class_names)
    if len(names) < k:
        raise ValueError(
            f"class_names names {len(names)} classes, but the labels or predictions go up to class {k - 1}: "
            "give one name per ID class."
        )
    return names
