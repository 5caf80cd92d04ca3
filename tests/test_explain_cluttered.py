"""Cluttered digits: boxes and markers where they should be, the marker correlation as asked, seeds.

And the pointing game on maps whose answer is known.
"""

import numpy as np
import pytest
import torch
from scipy.stats import binomtest, chi2_contingency

from trustml.data import load
from trustml.explain import MARKER_COLOURS, make_cluttered_digits, pointing_game


@pytest.fixture(scope="module")
def digits():
    return load("digits")


def inside(box, shape):
    x0, y0, x1, y1 = box
    mask = np.zeros(shape, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_without_clutter_or_marker_all_ink_is_the_digit_in_its_tight_box(digits):
    data = make_cluttered_digits(digits.X_train[:200], digits.y_train[:200], marker_correlation=None, n_clutter=0,
                                 seed=0)
    assert data.X.shape == (200, 3, 28, 28) and data.X.dtype == torch.float32
    grey = data.X.numpy()
    assert (grey[:, 0] == grey[:, 1]).all() and (grey[:, 1] == grey[:, 2]).all()  # digits are grey
    for image, box in zip(grey[:, 0], data.digit_boxes):
        x0, y0, x1, y1 = box
        assert 0 <= x0 < x1 <= 28 and 0 <= y0 < y1 <= 28
        assert max(x1 - x0, y1 - y0) in (11, 12)  # the longer side is digit_size (12), up to the ink threshold
        ink = image > 0.1
        assert not ink[~inside(box, image.shape)].any()  # no ink outside the box
        assert ink[y0].any() and ink[y1 - 1].any() and ink[:, x0].any() and ink[:, x1 - 1].any()  # tight
    assert (data.marker_boxes == -1).all() and (data.marker_classes == -1).all()
    assert np.isnan(data.marker_agreement)


def test_markers_are_squares_of_their_class_colour_clear_of_the_digit(digits):
    data = make_cluttered_digits(digits.X_train, digits.y_train, marker_correlation=0.0, seed=1)
    X = data.X.numpy()
    for i in range(0, len(data), 7):
        x0, y0, x1, y1 = data.marker_boxes[i]
        assert x1 - x0 == y1 - y0 == 5 and 0 <= x0 and x1 <= 28 and 0 <= y0 and y1 <= 28
        colour = MARKER_COLOURS[data.marker_classes[i]][:, None, None]
        np.testing.assert_allclose(X[i, :, y0:y1, x0:x1], np.broadcast_to(colour, (3, 5, 5)))
        dx0, dy0, dx1, dy1 = data.digit_boxes[i]
        assert x1 < dx0 or x0 > dx1 or y1 < dy0 or y0 > dy1  # at least a pixel of space between the boxes
    # coloured pixels are the marker's only: everything outside it is grey
    outside = np.ones(X.shape[:1] + X.shape[2:], dtype=bool)
    for i, (x0, y0, x1, y1) in enumerate(data.marker_boxes):
        outside[i, y0:y1, x0:x1] = False
    assert np.allclose(X[:, 0][outside], X[:, 1][outside]) and np.allclose(X[:, 1][outside], X[:, 2][outside])
    assert len(np.unique(MARKER_COLOURS, axis=0)) == 10 and not (np.ptp(MARKER_COLOURS, axis=1) == 0).any()


@pytest.mark.parametrize("correlation", [1.0, 0.7, 0.0])
def test_the_marker_shows_the_class_as_often_as_asked(digits, correlation):
    data = make_cluttered_digits(digits.X_train, digits.y_train, marker_correlation=correlation, seed=2)
    n, matches = len(data), int((data.marker_classes == data.y.numpy()).sum())
    expected = correlation + (1 - correlation) / 10  # otherwise a colour drawn from all ten
    if correlation == 1.0:
        assert matches == n
    else:
        assert binomtest(matches, n, expected).pvalue > 0.001
    if correlation == 0.0:  # independent of the class
        table = np.zeros((10, 10))
        np.add.at(table, (data.y.numpy(), data.marker_classes), 1)
        assert chi2_contingency(table).pvalue > 0.001
    assert data.marker_agreement == pytest.approx(matches / n)


def test_the_same_seed_gives_the_same_images_and_the_marker_does_not_move_the_digits(digits):
    kwargs = dict(images=digits.X_test, labels=digits.y_test)
    a = make_cluttered_digits(**kwargs, marker_correlation=1.0, seed=5)
    b = make_cluttered_digits(**kwargs, marker_correlation=1.0, seed=5)
    c = make_cluttered_digits(**kwargs, marker_correlation=1.0, seed=6)
    clean = make_cluttered_digits(**kwargs, marker_correlation=None, seed=5)
    random = make_cluttered_digits(**kwargs, marker_correlation=0.0, seed=5)
    assert torch.equal(a.X, b.X) and (a.digit_boxes == b.digit_boxes).all() and (a.marker_boxes == b.marker_boxes).all()
    assert not torch.equal(a.X, c.X)
    assert (clean.digit_boxes == a.digit_boxes).all() and (random.marker_boxes == a.marker_boxes).all()
    no_marker = np.ones(a.X.shape, dtype=bool)
    for i, (x0, y0, x1, y1) in enumerate(a.marker_boxes):
        no_marker[i, :, y0:y1, x0:x1] = False
    assert torch.equal(a.X[torch.from_numpy(no_marker)], clean.X[torch.from_numpy(no_marker)])
    assert torch.equal(a.y, digits.y_test)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(images=torch.rand(4, 3, 8, 8)), r"grey digits \(N, 1, H, W\)"),
        (dict(images=torch.rand(4, 1, 8, 8) * 2), r"values in \[0, 1\]"),
        (dict(labels=torch.tensor([0, 1, 2])), r"labels must be \(N,\) = \(4,\)"),
        (dict(labels=torch.tensor([0, 1, 2, 10])), r"classes 0\.\.9"),
        (dict(marker_correlation=1.5), r"probability in \[0, 1\] or None"),
        (dict(canvas_size=20), "canvas_size=20 is too small"),
        (dict(clutter_size=13), "clutter_size=13 must not exceed digit_size=12"),
        (dict(seed=-1), "seed must be an integer of at least 0"),
        (dict(images=torch.zeros(4, 1, 8, 8)), "is blank"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    arguments = {"images": torch.rand(4, 1, 8, 8), "labels": torch.tensor([0, 1, 2, 3]), **kwargs}
    with pytest.raises(ValueError, match=message):
        make_cluttered_digits(arguments.pop("images"), arguments.pop("labels"), **arguments)


def test_pointing_game_hits_where_the_peak_is_in_the_box():
    maps = np.zeros((6, 10, 10))
    maps[0, 2, 3] = 1  # row 2, column 3: inside x 2..4, y 1..3
    maps[1, 8, 8] = 1  # far outside
    maps[2, 1, 5] = 1  # one column right of the box: a hit only with tolerance 1
    maps[3] = 0.5  # constant: no peak
    maps[4, 2, 3] = 1  # a hit, but its box is missing (-1)
    maps[5, 4, 4] = maps[5, 0, 0] = 1  # a tie: the first in reading order, (0, 0), counts
    boxes = np.array([[2, 1, 5, 4]] * 4 + [[-1, -1, -1, -1], [3, 3, 6, 6]])
    assert pointing_game(maps, boxes).tolist() == [True, False, False, False, False, False]
    assert pointing_game(maps, boxes, tolerance=1).tolist() == [True, False, True, False, False, False]
    assert pointing_game(torch.from_numpy(maps), boxes).tolist() == pointing_game(maps, boxes).tolist()


@pytest.mark.parametrize(
    "maps, boxes, tolerance, message",
    [
        (np.zeros((2, 4)), np.zeros((2, 4)), 0, r"maps must be \(N, H, W\)"),
        (np.zeros((2, 4, 4)), np.zeros((3, 4)), 0, r"boxes must be \(N, 4\) = \(2, 4\)"),
        (np.full((1, 4, 4), np.nan), np.zeros((1, 4)), 0, "NaN"),
        (np.zeros((1, 4, 4)), np.zeros((1, 4)), -1, "tolerance must be an integer of at least 0"),
    ],
)
def test_pointing_game_refuses_bad_input(maps, boxes, tolerance, message):
    with pytest.raises(ValueError, match=message):
        pointing_game(maps, boxes, tolerance=tolerance)
