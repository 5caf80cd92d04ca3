import gzip
import io
import os
import pickle
import tarfile

import numpy as np
import pytest
import torch
from datafiles import (
    MNIST_FILES,
    cifar_archive,
    cifar_files,
    cifar_members,
    idx_bytes,
    publish_cifar,
    publish_mnist,
    small_mnist_arrays,
)
from torchvision.datasets import CIFAR10, MNIST

from trustml.data import (
    DataIntegrityError,
    DataNotice,
    DatasetNotAvailableError,
    DownloadError,
    ImageData,
    fetch,
    is_cached,
    load,
)
from trustml.data.images import read_idx


@pytest.fixture
def small_mnist():
    """A tiny MNIST in IDX form: {file name: bytes} plus the arrays it holds."""
    arrays = small_mnist_arrays()
    return {name: idx_bytes(a) for name, a in arrays.items()}, arrays


def test_digits_look_like_mnist():
    digits = load("digits")
    assert isinstance(digits, ImageData) and digits.source == "embedded"
    assert digits.X_train.shape == (1437, 1, 28, 28) and digits.X_test.shape == (360, 1, 28, 28)
    assert digits.X_train.dtype == torch.float32 and digits.y_train.dtype == torch.long
    assert 0.0 <= float(digits.X_train.min()) and float(digits.X_train.max()) <= 1.0
    assert digits.class_names == [str(k) for k in range(10)]
    # centred like MNIST: a black 4-pixel border
    assert float(digits.X_train[:, :, :4].abs().max()) == 0.0
    assert torch.bincount(digits.y_test).min() >= 35  # stratified split
    assert "1437 train / 360 test" in repr(digits)


def test_digits_rgb_stand_in_for_colour_images():
    rgb = load("digits_rgb")
    assert rgb.image_shape == (3, 32, 32)
    assert torch.equal(rgb.X_train[:, 0], rgb.X_train[:, 2])


def test_subset_by_class_name_and_size_relabels_and_stratifies():
    digits = load("digits")
    small = digits.subset(60, 20, classes=["7", "1"], seed=1)
    assert small.class_names == ["7", "1"]
    assert len(small.y_train) == 60 and len(small.y_test) == 20
    assert torch.bincount(small.y_train).tolist() == [30, 30]
    # relabelled images are the right ones: every kept "7" is a 7 of the original data
    sevens = small.X_train[small.y_train == 0]
    originals = digits.X_train[digits.y_train == 7]
    assert all(any(torch.equal(s, o) for o in originals) for s in sevens[:5])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes": ["cat"]}, "Unknown class 'cat'"),
        ({"classes": [10]}, "out of range"),
        ({"classes": [1, 1]}, "each once"),
        ({"n_train": 0}, "n_train must be a positive integer"),
    ],
)
def test_subset_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load("digits").subset(**kwargs)


def test_real_mnist_is_read_from_idx_files_in_the_cache(data_dir, small_mnist, monkeypatch):
    files, arrays = small_mnist
    publish_mnist(monkeypatch, files)
    folder = data_dir / "mnist"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    assert is_cached("mnist")
    mnist = load("mnist", source="real")
    assert mnist.source == "real" and mnist.X_train.shape == (12, 1, 28, 28)
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte.gz"]).float() / 255
    assert torch.allclose(mnist.X_train[:, 0], expected)
    assert mnist.y_test.tolist() == [9, 8, 7, 6, 5]


def test_read_idx_refuses_corrupt_files(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"\x01\x02\x03\x04"))
    with pytest.raises(DataIntegrityError, match="not an IDX file"):
        read_idx(bad)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(gzip.decompress(idx_bytes(np.zeros((4, 3), np.uint8)))[:-2])
    with pytest.raises(DataIntegrityError, match="truncated or corrupt"):
        read_idx(truncated)


def test_fetch_verifies_checksums_and_falls_back_to_the_mirror(data_dir, fake_downloads, small_mnist, monkeypatch):
    files, _ = small_mnist
    publish_mnist(monkeypatch, files)
    first, second = MNIST.mirrors[:2]
    fake_downloads.served.update({second + n: c for n, c in files.items()})  # the first mirror is down
    folder = fetch("mnist")
    assert sorted(os.listdir(folder)) == sorted(MNIST_FILES)
    assert fake_downloads.requested[:2] == [first + MNIST_FILES[0], second + MNIST_FILES[0]]
    assert load("mnist").source == "real"


def test_a_corrupt_download_fails_and_leaves_nothing(data_dir, fake_downloads, small_mnist):
    files, _ = small_mnist
    for mirror in MNIST.mirrors:
        fake_downloads.served.update({mirror + n: c for n, c in files.items()})  # md5 differs from MNIST's
    with pytest.raises(DownloadError, match="(?s)Could not download 'mnist'.*md5"):
        fetch("mnist")
    assert os.listdir(data_dir / "mnist") == []


def test_real_requested_offline_says_how_to_fetch():
    with pytest.raises(DatasetNotAvailableError, match="trustml fetch mnist"):
        load("mnist", source="real")


def test_auto_falls_back_to_the_stand_in_with_a_notice():
    with pytest.warns(DataNotice, match="'digits' in place of 'fashion_mnist'.*TRUSTML_OFFLINE"):
        data = load("fashion_mnist")
    assert data.name == "digits" and data.source == "embedded"
    with pytest.warns(DataNotice, match="'digits_rgb' in place of 'cifar10'"):
        assert load("cifar10").image_shape == (3, 32, 32)


def test_auto_falls_back_when_the_download_fails(fake_downloads):
    with pytest.warns(DataNotice, match="Could not download 'mnist'"):
        assert load("mnist").name == "digits"


def test_unknown_names_and_sources_list_the_choices():
    with pytest.raises(
        ValueError, match="Unknown dataset 'mnsit'. Did you mean 'mnist'.*Known datasets: cifar10, digits"
    ):
        load("mnsit")
    with pytest.raises(ValueError, match="source must be one of"):
        load("mnist", source="web")


def test_cifar10_fetch_extracts_and_loads(data_dir, fake_downloads, monkeypatch):
    members = cifar_members()
    files = cifar_files(members)
    archive = cifar_archive(files)
    publish_cifar(monkeypatch, files, archive)
    fake_downloads.served[CIFAR10.url] = archive
    cifar = load("cifar10", source="real")
    assert cifar.X_train.shape == (20, 3, 32, 32) and cifar.X_test.shape == (3, 3, 32, 32)
    assert cifar.class_names[:2] == ["airplane", "automobile"]
    first = members["data_batch_1"][b"data"][0].reshape(3, 32, 32)
    assert torch.allclose(cifar.X_train[0], torch.from_numpy(first).float() / 255)
    assert cifar.y_test.tolist() == [int(v) for v in members["test_batch"][b"labels"]]
    assert not (data_dir / "cifar10" / CIFAR10.filename).exists()  # the archive is not kept


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_cifar_batches_cannot_run_code(data_dir, monkeypatch):
    folder = data_dir / "cifar10" / CIFAR10.base_folder
    folder.mkdir(parents=True)
    files = {name: pickle.dumps({b"data": Exploit(), b"labels": []}, protocol=2) for name in cifar_members()}
    files["batches.meta"] = pickle.dumps({b"label_names": [b"x"] * 10}, protocol=2)
    publish_cifar(monkeypatch, files)  # even with the right checksums, the unpickler refuses to run code
    for name, content in files.items():
        (folder / name).write_bytes(content)
    with pytest.raises(DataIntegrityError, match="refusing to load posix.system"):
        load("cifar10", source="real")


@pytest.mark.parametrize("python_has_data_filter", [True, False])
def test_archives_cannot_write_outside_the_cache(tmp_path, monkeypatch, python_has_data_filter):
    from trustml.data.images import _safe_extract

    if not python_has_data_filter:
        monkeypatch.delattr(tarfile, "data_filter")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    buffer.seek(0)
    folder = tmp_path / "cache"
    folder.mkdir()
    with tarfile.open(fileobj=buffer) as tar, pytest.raises((ValueError, tarfile.TarError)):
        _safe_extract(tar, folder)
    assert not (tmp_path / "escaped.txt").exists()
