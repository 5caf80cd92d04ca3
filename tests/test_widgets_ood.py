"""The OOD widgets: moving each control changes what is drawn."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from refusals import assert_refused

from trustml.data import load
from widget_checks import assert_each_move_redraws

from trustml.ood import threshold_view
from trustml.widgets import ood_class_picker, ood_threshold_explorer


def test_threshold_explorer_slider_redraws_the_matrix_lines_and_metrics_as_the_static_view():
    rng = np.random.default_rng(0)
    labels = np.r_[rng.integers(0, 2, 60), -np.ones(30, int)]
    scores = np.r_[rng.normal(0, 1, 60), rng.normal(2, 1, 30)]
    predictions = np.where(labels >= 0, labels, 1)
    w = ood_threshold_explorer(labels, scores, predictions, class_names=["a", "b"], score_name="energy")
    slider = w.controls["threshold"]
    assert slider.min == scores.min() and slider.max == scores.max() and w.redraws == 1
    assert slider.value == pytest.approx(w.figure.threshold) and slider.description == "threshold on the energy"
    before = (w.figure.matrix.copy(), w.figure.note.get_text())

    def static(threshold):
        return threshold_view(labels, scores, predictions, threshold=threshold, class_names=["a", "b"],
                              score_name="energy")

    low, high = slider.min, slider.max
    assert_each_move_redraws(w, [("threshold", low + 0.25 * (high - low)), ("threshold", low + 0.7 * (high - low))],
                             static=static)
    assert w.redraws == 3
    assert not w.figure.matrix.equals(before[0]) and w.figure.note.get_text() != before[1]
    assert w.figure.density_line.get_xdata()[0] == pytest.approx(slider.value)


def test_class_picker_each_picker_resplits_and_redraws():
    seen = []

    def view(split):
        seen.append((split.id_names, split.ood_names))
        return f"{split.id_names} vs {split.ood_names}"

    picker = ood_class_picker(load("digits"), id_classes=[0, 1], ood_classes=["5"], view=view)
    assert picker.result == "['0', '1'] vs ['5']" and list(picker.controls["id_classes"].options)[:2] == ["0", "1"]
    picker.controls["ood_classes"].value = ("7", "8")
    assert picker.result == "['0', '1'] vs ['7', '8']" and picker.split.ood_names == ["7", "8"]
    picker.controls["id_classes"].value = ("0", "1", "2")
    assert picker.result == "['0', '1', '2'] vs ['7', '8']" and picker.split.num_classes == 3
    picker.controls["id_classes"].value = ("0", "7")  # 7 is OOD too: explained, the last split kept
    assert picker.result.startswith("Not a valid split: ['7'] in both id_classes and ood_classes")
    assert picker.split.id_names == ["0", "1", "2"] and len(seen) == 3


def test_class_picker_default_view_and_bad_arguments():
    picker = ood_class_picker(load("digits"), id_classes=["0", "1"], ood_classes=["5"])
    assert len(picker.result.axes) == 2
    picker.controls["ood_classes"].value = ("7",)
    assert "OOD: 7" in [c.get_label() for c in picker.result.axes[0].collections]
    picker.controls["id_classes"].value = ("9",)  # a classifier needs two classes: said, not raised
    assert picker.result.startswith("Cannot draw this split: a classifier needs at least two ID classes")
    digits = load("digits")
    assert_refused(lambda: ood_class_picker(digits, id_classes=["0"], ood_classes=["seven"]), ValueError,
                   "Unknown class 'seven' in ood_classes")
    assert_refused(lambda: ood_class_picker(digits, id_classes=["0"], ood_classes=["5"], view="pca"), TypeError,
                   "view must be a function")


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        (dict(labels=[0, 1, -1], scores=[0.1, 0.2], predictions=[0, 1]), ValueError,
         "labels has 3 entries but there are 2 scores"),
        (dict(labels=[0, -1], scores=[0.1, np.nan], predictions=[0, 1]), ValueError, "scores has 1 NaN"),
        (dict(labels=[0, -1], scores=[0.1, 0.2], predictions=[0.0, 1.0]), TypeError, "predictions must hold"),
        (dict(labels=[-1, -1], scores=[0.1, 0.2], predictions=[0, 1]), ValueError, "no in-distribution sample"),
        (dict(labels=[0, -1], scores=[0.1, 0.2], predictions=[0, 1], class_names=["a", "a"]), ValueError,
         "class_names has 'a' more than once"),
        (dict(labels=[0, -1], scores=[0.1, 0.2], predictions=[0, 1], threshold="high"), TypeError,
         "threshold must be a finite number"),
    ],
)
def test_threshold_explorer_refuses_bad_input(arguments, error, message):
    assert_refused(lambda: ood_threshold_explorer(**arguments), error, message)
