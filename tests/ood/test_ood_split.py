"""id_ood_split splits any trustml ImageData by class, and says clearly what is wrong with a bad request."""

import numpy as np
import pytest
import torch

from refusals import assert_refused

from trustml.data import ImageData, load
from trustml.ood import id_ood_split

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def fake_fashion(n_per_class=3):
    """A tiny ImageData with Fashion-MNIST's class names; each image's pixels hold its class and position."""
    y = torch.arange(10).repeat_interleave(n_per_class)
    X = (y.float()[:, None, None, None] + torch.arange(len(y)).float()[:, None, None, None] / 1000).expand(-1, 1, 4, 4)
    return ImageData("fashion_mnist", X.clone(), y.clone(), X.flip(0).clone(), y.flip(0).clone(), FASHION, "real")


def test_splits_by_name_and_relabels_in_the_order_given():
    data = fake_fashion()
    split = id_ood_split(data, id_classes=["Trouser", "T-shirt/top"], ood_classes=["Sandal"])
    assert split.id_names == ["Trouser", "T-shirt/top"] and split.ood_names == ["Sandal"]
    # Trousers (class 1) are now label 0, T-shirts label 1; their images are unchanged
    assert torch.equal(split.X_train[split.y_train == 0, 0, 0, 0].floor(), torch.full((3,), 1.0))
    assert torch.equal(split.X_train[split.y_train == 1, 0, 0, 0].floor(), torch.zeros(3))
    assert set(split.y_test.tolist()) == {0, 1} and len(split.y_test) == 6
    # OOD images come from both splits by default, from the test split only on request
    assert len(split.X_ood) == 6 and set(split.ood_original.tolist()) == {5}
    assert len(id_ood_split(data, ["Trouser"], ["Sandal"], ood_from="test").X_ood) == 3
    assert split.num_classes == 2 and split.dataset == "fashion_mnist" and split.source == "real"
    assert "ID ['Trouser', 'T-shirt/top'] (6 train / 6 test), OOD ['Sandal'] (6)" in repr(split)


def test_indices_work_like_names_and_evaluation_labels_mark_ood_with_minus_one():
    data = fake_fashion()
    by_index = id_ood_split(data, [0, 1], [5, 7])
    by_name = id_ood_split(data, ["T-shirt/top", "Trouser"], ["Sandal", "Sneaker"])
    for field in ("X_train", "y_train", "X_test", "y_test", "X_ood", "ood_original"):
        assert torch.equal(getattr(by_index, field), getattr(by_name, field))
    labels = by_index.evaluation_labels()
    assert labels.tolist() == by_index.y_test.tolist() + [-1] * len(by_index.X_ood)
    assert labels.dtype == np.int64


def test_works_on_the_embedded_digits():
    split = id_ood_split(load("digits"), [0, 1], ["5"])
    assert split.id_names == ["0", "1"] and len(split.X_ood) == 182  # every 5 of the 1,797 digits
    assert split.X_train.shape[1:] == (1, 28, 28)


@pytest.mark.parametrize(
    "id_classes, ood_classes, error, message",
    [
        (["T-shirt/top", "Trouser"], ["Trouser"], ValueError, r"\['Trouser'\] in both id_classes and ood_classes"),
        ([0, 1], [1, 5], ValueError, "in both id_classes and ood_classes"),
        (["tshirt"], ["Sandal"], ValueError, r"Unknown class 'tshirt' in id_classes\. Did you mean 'T-shirt/top'"),
        (["T-shirt/top"], ["Sandals"], ValueError, r"Unknown class 'Sandals' in ood_classes\. Did you mean 'Sandal'"),
        (["T-shirt/top"], ["Boot"], ValueError, "Did you mean 'Ankle boot'"),
        ([0], [10], ValueError, r"class index 10 in ood_classes is out of range 0\.\.9"),
        ([-1], [5], ValueError, "out of range"),
        ([], [5], ValueError, "id_classes is empty"),
        ([0], [], ValueError, "ood_classes is empty"),
        ([0, 0], [5], ValueError, "id_classes names class 'T-shirt/top' twice"),
        ([0.0], [5], TypeError, "id_classes must hold class names"),
        ([True], [5], TypeError, "id_classes must hold class names"),
        (None, [5], TypeError, "id_classes must be a list"),
    ],
)
def test_bad_class_lists_get_a_clear_error(id_classes, ood_classes, error, message):
    assert_refused(lambda: id_ood_split(fake_fashion(), id_classes, ood_classes), error, message)


def test_other_bad_input():
    assert_refused(lambda: id_ood_split({"X": 1}, [0], [1]), TypeError, "dataset must be a trustml.data.ImageData")
    assert_refused(lambda: id_ood_split(fake_fashion(), [0], [1], ood_from="train"), ValueError,
                   "ood_from must be 'all'")
    tiny = fake_fashion().subset(classes=[0, 1, 5])  # Sandal is class 2 here, T-shirts and trousers 0 and 1
    no_test = ImageData("x", tiny.X_train, tiny.y_train, tiny.X_test[:0], tiny.y_test[:0], tiny.class_names)
    assert_refused(lambda: id_ood_split(no_test, [0, 1], [2]), ValueError, "no ID test images")
