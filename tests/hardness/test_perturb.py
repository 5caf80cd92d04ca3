import numpy as np
import pytest
import torch

from trustml.data import load
from trustml.hardness import MNIST_INSTANCE_RULE, hardness_types, perturb

IMAGE_KINDS = ["ood_covariate", "domain_shift", "far_ood", "zoom_shift", "crop_shift"]
LABEL_KINDS = ["uniform", "asymmetric", "adjacent", "instance"]


@pytest.fixture(scope="module")
def digits():
    data = load("digits").subset(300, 10)
    return data.X_train, data.y_train


def tabular(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, 3, size=n)


def test_every_kind_is_described_once():
    table = hardness_types()
    assert list(table.index) == LABEL_KINDS + IMAGE_KINDS + ["atypical"]
    assert set(table["applies_to"]) == {"both", "images", "tabular"}
    assert table["description"].str.len().gt(20).all()


@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_mislabeling_changes_exactly_the_masked_labels(digits, kind):
    X, y = digits
    before_X, before_y = X.clone(), y.clone()
    result = perturb(X, y, kind=kind, proportion=0.3, seed=1)
    assert result.mask.dtype == bool and result.mask.sum() == round(0.3 * len(y))
    changed = (result.y != y).numpy()
    assert np.array_equal(changed, result.mask)  # every flagged label really changed, no other did
    assert torch.equal(result.X, X) and result.X is not X
    assert torch.equal(X, before_X) and torch.equal(y, before_y)  # inputs untouched
    assert result.y.dtype == y.dtype and int(result.y.max()) < 10


def test_adjacent_and_instance_follow_their_rules(digits):
    X, y = digits
    adjacent = perturb(X, y, kind="adjacent", proportion=0.4, seed=0)
    step = (adjacent.y - y).numpy()[adjacent.mask] % 10
    assert set(step) <= {1, 9}
    instance = perturb(X, y, kind="instance", proportion=0.3, seed=0)
    for old, new in zip(y.numpy()[instance.mask], instance.y.numpy()[instance.mask]):
        assert new in MNIST_INSTANCE_RULE[old]


def test_uniform_reaches_every_other_class():
    y = np.zeros(4000, dtype=np.int64)
    y[:10] = np.arange(10)  # ten classes, almost all samples in class 0
    result = perturb(np.zeros((4000, 2), np.float32), y, kind="uniform", proportion=0.5, seed=0)
    counts = np.bincount(result.y[result.mask & (y == 0)], minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 150  # ~222 each of the 9 other classes


def test_asymmetric_noise_is_class_dependent():
    y = np.repeat(np.arange(4), 1000)
    result = perturb(np.zeros((4000, 1), np.float32), y, kind="asymmetric", proportion=0.5, seed=3)
    rows = [np.bincount(result.y[result.mask & (y == c)], minlength=4) for c in range(4)]
    for c, row in enumerate(rows):
        assert row[c] == 0
    assert not all(np.allclose(r[r > 0] / r.sum(), 1 / 3, atol=0.05) for r in rows)  # not uniform


def test_seed_decides_and_is_reproducible(digits):
    X, y = digits
    a = perturb(X, y, kind="far_ood", proportion=0.2, seed=5)
    b = perturb(X, y, kind="far_ood", proportion=0.2, seed=5)
    c = perturb(X, y, kind="far_ood", proportion=0.2, seed=6)
    assert np.array_equal(a.mask, b.mask) and torch.equal(a.X, b.X)
    assert not np.array_equal(a.mask, c.mask)


@pytest.mark.parametrize("channels", [1, 3, 2])
@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_image_shifts_change_only_masked_images_and_stay_in_range(kind, channels):
    X = load("digits").X_train[:60].repeat(1, channels, 1, 1)
    y = torch.arange(60) % 10
    result = perturb(X, y, kind=kind, proportion=0.5, seed=0)
    assert result.X.shape == X.shape and result.X.dtype == X.dtype
    assert 0 <= float(result.X.min()) and float(result.X.max()) <= 1
    changed = (result.X != X).flatten(1).any(1).numpy()
    assert np.array_equal(changed, result.mask)
    assert torch.equal(result.y, y)


def test_shift_geometry(digits):
    X, y = digits
    crop = perturb(X, y, kind="crop_shift", proportion=0.1, seed=0)
    i = np.flatnonzero(crop.mask)[0]
    assert torch.equal(crop.X[i, :, :, 10:], X[i, :, :, :-10]) and crop.X[i, :, :, :10].eq(0).all()
    zoom = perturb(X, y, kind="zoom_shift", proportion=0.1, seed=0)
    i = np.flatnonzero(zoom.mask)[0]
    # zoomed in: the ink covers more of the image
    assert (zoom.X[i] > 0.5).sum() > 1.5 * (X[i] > 0.5).sum()


def test_far_ood_images_come_from_photographs_and_say_so(digits):
    X, y = digits
    result = perturb(X, y, kind="far_ood", proportion=0.2, seed=0)
    assert "scikit-learn's sample photographs" in result.details and "greyscale" in result.details
    replaced = result.X[result.mask]
    # photographs have no black border, unlike every centred digit
    assert replaced[..., :2, :].mean() > 0.1 and X[..., :2, :].max() == 0
    colour = perturb(X.repeat(1, 3, 1, 1), y, kind="far_ood", proportion=0.2, seed=0)
    assert "colour" in colour.details
    assert not torch.equal(colour.X[colour.mask][:, 0], colour.X[colour.mask][:, 1])


def test_domain_shift_is_the_cartoon_of_the_noisy_image(digits):
    X, y = digits
    noisy = perturb(X, y, kind="ood_covariate", proportion=0.2, seed=2)
    cartoon = perturb(X, y, kind="domain_shift", proportion=0.2, seed=2)
    assert np.array_equal(noisy.mask, cartoon.mask)
    flat = cartoon.X[cartoon.mask]
    # the bilateral filter smooths the noise: neighbouring pixels differ less than in the noisy image
    roughness = lambda z: (z[..., 1:] - z[..., :-1]).abs().mean()  # noqa: E731
    assert roughness(flat) < 0.7 * roughness(noisy.X[noisy.mask])


def test_tabular_kinds_keep_type_and_touch_only_masked_rows():
    X, y = tabular()
    for kind in ["ood_covariate", "atypical", "uniform"]:
        result = perturb(X, y, kind=kind, proportion=0.25, seed=0)
        assert isinstance(result.X, np.ndarray) and result.X.dtype == X.dtype
        assert isinstance(result.y, np.ndarray)
        rows = (result.X != X).any(1) | (result.y != y)
        assert np.array_equal(rows, result.mask)
    atypical = perturb(X, y, kind="atypical", proportion=0.25, seed=0)
    column = int(np.flatnonzero((atypical.X != X).any(0))[0])
    assert (atypical.X[atypical.mask, column] >= np.quantile(X[:, column], 0.99) - 1e-6).all()
    assert f"feature {column}" in atypical.details


def test_bad_input_gets_clear_errors(digits):
    X, y = digits
    with pytest.raises(ValueError, match="Unknown hardness type 'noise'.*uniform, asymmetric"):
        perturb(X, y, kind="noise", proportion=0.1)
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            perturb(X, y, kind="uniform", proportion=bad)
    with pytest.raises(ValueError, match="'atypical' perturbs tabular data.*zoom_shift"):
        perturb(X, y, kind="atypical", proportion=0.1)
    Xt, yt = tabular()
    for kind in ["domain_shift", "far_ood", "zoom_shift", "crop_shift"]:
        with pytest.raises(ValueError, match=f"'{kind}' perturbs images.*tabular"):
            perturb(Xt, yt, kind=kind, proportion=0.1)
    with pytest.raises(ValueError, match="3 classes: pass rule="):
        perturb(Xt, yt, kind="instance", proportion=0.1)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        perturb(X * 2 - 1, y, kind="zoom_shift", proportion=0.1)
    with pytest.raises(ValueError, match="has 299 entries but there are 300 samples"):
        perturb(X, y[:-1], kind="uniform", proportion=0.1)
    with pytest.raises(ValueError, match="perturbs none"):
        perturb(X, y, kind="uniform", proportion=0.001)
    with pytest.raises(ValueError, match="images .N, C, H, W. or tabular rows"):
        perturb(X[:, 0], y, kind="uniform", proportion=0.1)


def test_instance_accepts_a_custom_rule():
    X, y = tabular()
    result = perturb(X, y, kind="instance", proportion=0.2, rule={0: 1, 2: (0, 1)})
    assert set(y[result.mask]) <= {0, 2}
    with pytest.raises(ValueError, match="must map a class"):
        perturb(X, y, kind="instance", proportion=0.2, rule={0: 0})
