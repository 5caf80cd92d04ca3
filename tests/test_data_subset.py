"""subset: every size from 1 to the split's length works, and classes must be class indices or names."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from trustml.data import DataNotice, ImageData, TextData, load, make_sentiment_sentences


def uneven_images():
    """23 training images of 4 classes (10, 7, 5 and 1 of them), 6 test images of 3 classes."""
    y_train = torch.tensor([0] * 10 + [1] * 7 + [2] * 5 + [3])
    y_test = torch.tensor([0, 0, 1, 1, 2, 2])
    X_train = torch.arange(len(y_train), dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone()
    return ImageData("toy", X_train, y_train, torch.zeros(6, 1, 2, 2), y_test, ["a", "b", "c", "d"], "embedded")


def draw_all_sizes(data, length, split):
    """subset(n) for every n from 1 to length: (n, kept labels, notices)."""
    results = []
    for n in range(1, length + 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            small = data.subset(**{f"n_{split}": n}, seed=n)
        labels = small.y_train if split == "train" else small.y_test
        labels = np.asarray(labels)
        results.append((n, labels, [w for w in caught if issubclass(w.category, DataNotice)]))
    return results


def test_every_size_works_and_keeps_every_class_it_can():
    data = uneven_images()
    for n, labels, notices in draw_all_sizes(data, 23, "train"):
        assert len(labels) == n
        if n >= 4:
            assert set(labels.tolist()) == {0, 1, 2, 3} and not notices, n  # the single "d" is always kept
        else:
            assert len(notices) == 1 and f"n_train={n} is fewer than the 4 classes" in str(notices[0].message)


def test_every_size_of_the_test_split_works():
    for n, labels, notices in draw_all_sizes(uneven_images(), 6, "test"):
        assert len(labels) == n and (set(labels.tolist()) == {0, 1, 2} or n < 3)
        assert bool(notices) == (n < 3)


def test_subsets_keep_distinct_samples_and_follow_the_seed():
    data = uneven_images()
    for n in (4, 12, 20, 22):
        kept = data.subset(n, seed=3).X_train[:, 0, 0, 0]
        assert len(set(kept.tolist())) == n  # no sample twice
        assert torch.equal(kept, data.subset(n, seed=3).X_train[:, 0, 0, 0])


@pytest.mark.parametrize("missing", range(1, 11))
def test_digits_subset_close_to_the_full_split(missing):
    digits = load("digits")
    n = len(digits.y_train) - missing  # scikit-learn's stratified split cannot leave fewer than 10 out
    small = digits.subset(n)
    assert len(small.y_train) == n and torch.bincount(small.y_train).min() >= 1
    counts, full = torch.bincount(small.y_train), torch.bincount(digits.y_train)
    assert ((full - counts) >= 0).all() and int((full - counts).sum()) == missing


def test_text_subset_every_size():
    data = make_sentiment_sentences(40)
    for n in range(1, len(data.y_test) + 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            small = data.subset(n_test=n)
        assert len(small.texts_test) == len(small.y_test) == len(small.meta_test) == n
        assert (set(small.y_test.tolist()) == {0, 1}) == (n >= 2)
        assert any(issubclass(w.category, DataNotice) for w in caught) == (n < 2)


def test_a_class_with_one_text_is_kept():
    data = TextData("toy", list("abcdefg"), np.array([0, 0, 0, 0, 0, 0, 1]), ["x"], np.array([0]), ["n", "p"])
    for n in range(2, 8):
        assert 1 in data.subset(n, seed=n).y_train.tolist()


@pytest.mark.parametrize("bad", [1.7, True, np.float64(1.0), np.bool_(True), None, [0.5], torch.tensor([1.5])])
def test_classes_must_be_indices_or_names(bad):
    classes = bad if isinstance(bad, (list, torch.Tensor)) else [bad]
    with pytest.raises(TypeError, match="classes must be class indices \\(int\\) or names \\(str\\)"):
        load("digits").subset(classes=classes)


def test_classes_as_numpy_or_torch_integers_work():
    digits = load("digits")
    assert digits.subset(classes=np.array([3, 5])).class_names == ["3", "5"]
    assert digits.subset(classes=torch.tensor([7])).class_names == ["7"]
    assert digits.subset(classes=np.int64(2)).class_names == ["2"]
