"""The lesson's threshold tools, generalised: each agrees with scikit-learn on the same decisions."""

import numpy as np
import pandas as pd
import pytest
from refusals import assert_refused
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from trustml.ood import (
    best_thresholds,
    classify_with_threshold,
    ood_confusion_matrix,
    rates_at,
    threshold_sweep,
)


def problem(seed=0, k=3, n_id=120, n_ood=60):
    """K ID classes and OOD samples, with scores that overlap and a model that errs sometimes."""
    rng = np.random.default_rng(seed)
    labels = np.r_[rng.integers(0, k, n_id), np.full(n_ood, -1)]
    predictions = np.where(rng.random(len(labels)) < 0.8, np.maximum(labels, 0), rng.integers(0, k, len(labels)))
    predictions[labels < 0] = rng.integers(0, k, n_ood)
    scores = np.r_[rng.normal(0, 1, n_id), rng.normal(1.5, 1, n_ood)].round(1)  # rounded: many ties
    return labels, scores, predictions


def lesson_classification(probs, threshold):
    """The lesson's softmax_thresh_classifications, for two classes."""
    return np.where(probs[:, 1] >= threshold, 1, np.where(probs[:, 0] >= threshold, 0, -1))


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.9, 0.99])
def test_classify_with_threshold_on_minus_softmax_is_the_lessons_rule(threshold):
    rng = np.random.default_rng(0)
    p1 = rng.random(500)
    probs = np.c_[1 - p1, p1]
    ours = classify_with_threshold(-probs.max(1), probs.argmax(1), threshold=-threshold)
    np.testing.assert_array_equal(ours, lesson_classification(probs, threshold))


@pytest.mark.parametrize("seed", range(3))
def test_confusion_matrix_equals_scikit_learns(seed):
    labels, scores, predictions = problem(seed)
    for threshold in (-1.0, 0.3, 1.2, 5.0):
        decided = classify_with_threshold(scores, predictions, threshold=threshold)
        expected = confusion_matrix(labels, decided, labels=[0, 1, 2, -1])
        ours = ood_confusion_matrix(labels, scores, predictions, threshold=threshold, class_names=["a", "b", "c"])
        np.testing.assert_array_equal(ours.to_numpy(), expected)
        assert list(ours.index) == ["a", "b", "c", "OOD"] == list(ours.columns)


@pytest.mark.parametrize("seed", range(3))
def test_sweep_equals_scikit_learns_macro_precision_recall_f1_at_every_threshold(seed):
    labels, scores, predictions = problem(seed)
    sweep = threshold_sweep(labels, scores, predictions)
    assert sweep.index.is_monotonic_increasing and len(sweep) > 20
    for threshold, row in sweep.iterrows():
        decided = classify_with_threshold(scores, predictions, threshold=threshold)
        p, r, f, _ = precision_recall_fscore_support(labels, decided, labels=[0, 1, 2], average="macro",
                                                     zero_division=0)
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p, r, f), abs=1e-12)
        assert row["id_flagged"] == pytest.approx(np.mean(decided[labels >= 0] == -1))
        assert row["ood_accepted"] == pytest.approx(np.mean(decided[labels < 0] != -1))
        cm = ood_confusion_matrix(labels, scores, predictions, threshold=threshold)
        assert rates_at(cm) == pytest.approx(row.to_dict(), abs=1e-12)


def test_sweep_of_the_lessons_two_classes_at_its_thresholds():
    """On two classes, trustml's sweep of -softmax at -t is the lesson's eval_softmax_thresholds at t."""
    rng = np.random.default_rng(3)
    test_labels = rng.integers(0, 2, 200)
    p_true = rng.beta(8, 2, 200)
    id_probs = np.where(test_labels[:, None] == 1, np.c_[1 - p_true, p_true], np.c_[p_true, 1 - p_true])
    ood_p = rng.beta(3, 3, 80)
    ood_probs = np.c_[ood_p, 1 - ood_p]
    thresholds = np.linspace(0.5, 1, 50)
    labels = np.r_[-np.ones(80, int), test_labels]
    probs = np.r_[ood_probs, id_probs]
    sweep = threshold_sweep(labels, -probs.max(1), probs.argmax(1), thresholds=-thresholds)
    for t in thresholds:
        decided = lesson_classification(probs, t)
        p, r, f, _ = precision_recall_fscore_support(labels, decided, labels=[0, 1], average="macro", zero_division=0)
        row = sweep.loc[-t]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p, r, f), abs=1e-12)


def test_best_thresholds_break_ties_towards_the_other_metric():
    sweep = pd.DataFrame(
        {"precision": [1.0, 1.0, 1.0, 0.8, 0.6], "recall": [0.2, 0.5, 0.7, 0.9, 0.9],
         "f1": [0.3, 0.6, 0.82, 0.85, 0.72],
         "id_flagged": [0.8, 0.5, 0.3, 0.1, 0.1], "ood_accepted": [0.0, 0.0, 0.0, 0.3, 0.6]},
        index=pd.Index([0.1, 0.2, 0.3, 0.4, 0.5], name="threshold"),
    )
    best = best_thresholds(sweep)
    assert best.loc["precision", "threshold"] == 0.3  # precision 1 from 0.1 to 0.3: the best recall among them
    assert best.loc["recall", "threshold"] == 0.4  # recall 0.9 at 0.4 and 0.5: the better precision
    assert best.loc["f1", "threshold"] == 0.4 and best.loc["f1", "value"] == 0.85
    assert best.loc["precision", "ood_accepted"] == 0.0 and best.loc["precision", "id_flagged"] == 0.3


def test_default_thresholds_span_the_scores():
    labels, scores, predictions = problem()
    sweep = threshold_sweep(labels, scores, predictions)
    assert sweep.index.min() == scores.min() and sweep.index.max() == scores.max()
    assert sweep["id_flagged"].iloc[-1] == 0 and sweep["ood_accepted"].iloc[-1] == 1


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: classify_with_threshold([0.1, 0.2], [0], threshold=0.5), ValueError,
         r"predictions must have shape \(2,\)"),
        (lambda: classify_with_threshold([0.1], [0.5], threshold=0.5), TypeError,
         "predictions must hold predicted class"),
        (lambda: classify_with_threshold([0.1], [-1], threshold=0.5), ValueError, "negative class index"),
        (lambda: classify_with_threshold([0.1], [0], threshold="high"), TypeError, "threshold must be a finite number"),
        (lambda: classify_with_threshold([0.1], [0], threshold=np.nan), ValueError,
         "threshold must be a finite number"),
        (lambda: classify_with_threshold([np.nan], [0], threshold=0.5), ValueError, "scores has 1 NaN"),
        (lambda: classify_with_threshold([], [], threshold=0.5), ValueError, "scores is empty"),
        (lambda: ood_confusion_matrix([0, 1], [0.1, 0.2, 0.3], [0, 1, 1], threshold=0.5), ValueError,
         "labels has 2 entries but there are 3 scores"),
        (lambda: ood_confusion_matrix([-1, -1], [0.1, 0.2], [0, 1], threshold=0.5), ValueError,
         "labels has no in-distribution sample"),
        (lambda: ood_confusion_matrix([0, 1], [0.1, 0.2], [0, 1], threshold=0.5, class_names=["a"]), ValueError,
         "class_names names 1 classes"),
        (lambda: ood_confusion_matrix([0.0, 1.0], [0.1, 0.2], [0, 1], threshold=0.5), TypeError,
         "labels must hold integer labels"),
        (lambda: threshold_sweep([0, -1], [0.1, 0.2], [0, 0], thresholds=[0.1, np.nan]), ValueError,
         "thresholds has 1 NaN"),
        (lambda: best_thresholds(pd.DataFrame({"x": [1]})), ValueError, "sweep must be the DataFrame"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message):
    assert_refused(call, error, message)
