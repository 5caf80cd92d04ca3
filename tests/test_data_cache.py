"""The verified cache: damaged files are caught, named and repaired, and nothing half-done is left behind."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile

import datasets
import pandas as pd
import pytest
from datafiles import (
    MNIST_FILES,
    cifar_archive,
    cifar_files,
    cifar_members,
    idx_bytes,
    md5,
    publish_cifar,
    publish_mnist,
    small_mnist_arrays,
    write_files,
)
from test_data_tabular import h181_zip, small_h181
from torchvision.datasets import CIFAR10, MNIST

import trustml.data._cache as cache_module
from trustml.data import (
    CacheStatus,
    DataIntegrityError,
    DataNotice,
    DatasetNotAvailableError,
    DownloadError,
    cache_status,
    fetch,
    is_cached,
    list_datasets,
    load,
)
from trustml.data._download import install
from trustml.data.tabular import _MEPS19_URL
from trustml.data.text import _IMDB_REVISION

BASE = CIFAR10.base_folder


def damage(path, at=100):
    """Flip one byte in place: same size; the modification time is moved on so the stamp sees a change."""
    data = bytearray(path.read_bytes())
    data[min(at, len(data) - 1)] ^= 0xFF
    st = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def snapshot(folder):
    """{relative path: (bytes, inode, mtime)} of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def mnist_files(monkeypatch):
    """The small MNIST's files, published (torchvision's md5s are theirs)."""
    files = {name: idx_bytes(a) for name, a in small_mnist_arrays().items()}
    publish_mnist(monkeypatch, files)
    return files


@pytest.fixture
def cached_mnist(data_dir, mnist_files):
    write_files(data_dir / "mnist", mnist_files)
    return data_dir / "mnist"


# --------------------------------------------------------------------------- verification


def test_zero_byte_files_are_damaged_not_cached(data_dir):
    write_files(data_dir / "mnist", dict.fromkeys(MNIST_FILES, b""))  # the real md5s: these cannot pass
    status = cache_status("mnist")
    assert isinstance(status, CacheStatus) and status.state == "damaged"
    assert status.problems == dict.fromkeys(MNIST_FILES, "is empty (0 bytes)")
    assert status.command == "trustml fetch mnist"
    assert not is_cached("mnist")
    assert list_datasets().set_index("name").loc["mnist", "state"] == "damaged"


def test_a_verified_cache_is_cached_and_loads(cached_mnist):
    status = cache_status("mnist")
    assert status.state == "verified" and status.problems == {}
    assert is_cached("mnist") and load("mnist").source == "real"


def test_a_file_failing_its_checksum_is_named(cached_mnist):
    damage(cached_mnist / MNIST_FILES[0])
    problems = cache_status("mnist").problems
    assert list(problems) == [MNIST_FILES[0]]
    assert problems[MNIST_FILES[0]].startswith("fails its checksum (md5:")


def test_the_stamp_spares_hashing_until_a_file_changes(cached_mnist, monkeypatch):
    hashed = []
    real_hash = cache_module.file_hash
    monkeypatch.setattr(
        cache_module, "file_hash", lambda path, algorithm: hashed.append(path.name) or real_hash(path, algorithm)
    )
    assert is_cached("mnist") and len(hashed) == 4  # first check: every file hashed
    assert is_cached("mnist") and len(hashed) == 4  # then: the stamp of size and mtime is enough
    damage(cached_mnist / MNIST_FILES[2])  # same size, new mtime: hashed again, and caught
    assert not is_cached("mnist") and hashed[4:] == [MNIST_FILES[2]]
    (cached_mnist / MNIST_FILES[2]).write_bytes(b"short")  # new size
    assert list(cache_status("mnist").problems) == [MNIST_FILES[2]]
    assert list(cache_status("mnist").problems) == [MNIST_FILES[2]]  # a damaged file's hash is stamped too
    assert hashed[5:] == [MNIST_FILES[2]]


def test_a_read_only_stamp_folder_only_costs_time(cached_mnist, data_dir):
    (data_dir / ".verified").write_text("not a folder")  # the stamp cannot be written
    assert is_cached("mnist") and is_cached("mnist")
    assert load("mnist", source="real").source == "real"


def test_a_half_downloaded_dataset_is_missing_not_damaged(cached_mnist):
    (cached_mnist / MNIST_FILES[1]).unlink()
    status = cache_status("mnist")
    assert status.state == "missing" and status.problems == {MNIST_FILES[1]: "is missing"}


# --------------------------------------------------------------------------- a damaged cache, offline


def test_damaged_offline_real_names_the_file_and_the_repair(data_dir):
    write_files(data_dir / "mnist", dict.fromkeys(MNIST_FILES, b""))
    with pytest.raises(DataIntegrityError) as info:
        load("mnist", source="real")
    message = str(info.value)
    assert str(data_dir / "mnist" / MNIST_FILES[0]) in message and "is empty (0 bytes)" in message
    assert "and 3 more damaged file(s)" in message and "`trustml fetch mnist`" in message
    assert "TRUSTML_OFFLINE" in message
    assert info.value.path == data_dir / "mnist" / MNIST_FILES[0]


def test_damaged_offline_auto_uses_the_stand_in_and_says_why(data_dir):
    write_files(data_dir / "mnist", dict.fromkeys(MNIST_FILES, b""))
    with pytest.warns(DataNotice, match=r"'digits' in place of 'mnist'.*is empty \(0 bytes\).*`trustml fetch mnist`"):
        assert load("mnist").name == "digits"


def test_wrong_content_with_the_right_checksum_is_marked_damaged(data_dir, monkeypatch):
    arrays = small_mnist_arrays()
    arrays["train-images-idx3-ubyte.gz"] = arrays["train-images-idx3-ubyte.gz"][:, :10, :10]  # 12 images of 10x10
    files = {name: idx_bytes(a) for name, a in arrays.items()}
    publish_mnist(monkeypatch, files)
    write_files(data_dir / "mnist", files)
    assert is_cached("mnist")  # the checksum cannot tell
    with pytest.raises(DataIntegrityError, match=r"train-images-idx3-ubyte.gz should hold images of 28x28"):
        load("mnist", source="real")
    status = cache_status("mnist")  # from now on the file counts as damaged, so fetch will replace it
    assert status.state == "damaged" and "should hold images of 28x28" in status.problems[MNIST_FILES[0]]
    with pytest.warns(DataNotice, match="damaged|should hold images"):
        assert load("mnist").name == "digits"


# --------------------------------------------------------------------------- repair


def test_fetch_downloads_again_only_what_fails(cached_mnist, mnist_files, fake_downloads):
    fake_downloads.served.update({MNIST.mirrors[0] + n: c for n, c in mnist_files.items()})
    (cached_mnist / MNIST_FILES[3]).write_bytes(b"")
    damage(cached_mnist / MNIST_FILES[1])
    before = snapshot(cached_mnist)
    with pytest.warns(DataNotice, match=r"Repaired 'mnist'.*t10k-labels-idx1-ubyte.gz is empty.*other 2 file\(s\)"):
        fetch("mnist")
    assert fake_downloads.requested == [MNIST.mirrors[0] + MNIST_FILES[1], MNIST.mirrors[0] + MNIST_FILES[3]]
    after = snapshot(cached_mnist)
    for name in (MNIST_FILES[0], MNIST_FILES[2]):
        assert after[name] == before[name]  # untouched: same bytes, inode and mtime
    assert {n: after[n][0] for n in MNIST_FILES} == mnist_files
    assert sorted(os.listdir(cached_mnist)) == sorted(MNIST_FILES)  # no staging folder left
    assert cache_status("mnist").state == "verified"


def test_load_online_repairs_a_damaged_cache(cached_mnist, mnist_files, fake_downloads):
    fake_downloads.served.update({MNIST.mirrors[0] + n: c for n, c in mnist_files.items()})
    damage(cached_mnist / MNIST_FILES[0])
    with pytest.warns(DataNotice, match="Repaired 'mnist'"):
        assert load("mnist", source="real").source == "real"


def test_a_failed_repair_leaves_the_cache_as_it_was_and_says_so(cached_mnist, fake_downloads):
    damage(cached_mnist / MNIST_FILES[0])
    before = snapshot(cached_mnist)
    with pytest.raises(DownloadError, match=r"(?s)left as they were before this fetch \(still damaged: train-images"):
        fetch("mnist")  # nothing served: every mirror fails
    assert snapshot(cached_mnist) == before


def test_a_corrupt_replacement_is_refused_and_nothing_changes(cached_mnist, fake_downloads):
    for mirror in MNIST.mirrors:
        fake_downloads.served[mirror + MNIST_FILES[0]] = b"<html>Service unavailable</html>"
    damage(cached_mnist / MNIST_FILES[0])
    before = snapshot(cached_mnist)
    with pytest.raises(DownloadError, match="md5"):
        fetch("mnist")
    assert snapshot(cached_mnist) == before


# --------------------------------------------------------------------------- CIFAR-10: verified batches, atomic extraction


@pytest.fixture
def cifar(monkeypatch, fake_downloads):
    files = cifar_files(cifar_members())
    archive = cifar_archive(files)
    publish_cifar(monkeypatch, files, archive)
    fake_downloads.served[CIFAR10.url] = archive
    return files


def test_cifar_extracted_batches_are_verified(data_dir, cifar):
    fetch("cifar10")
    assert cache_status("cifar10").state == "verified"
    damage(data_dir / "cifar10" / BASE / "data_batch_3")
    status = cache_status("cifar10")
    assert status.state == "damaged" and list(status.problems) == [f"{BASE}/data_batch_3"]


def test_cifar_repair_replaces_the_batches_folder(data_dir, cifar):
    fetch("cifar10")
    damage(data_dir / "cifar10" / BASE / "test_batch")
    with pytest.warns(DataNotice, match=r"Repaired 'cifar10'.*test_batch fails its checksum"):
        fetch("cifar10")
    assert (data_dir / "cifar10" / BASE / "test_batch").read_bytes() == cifar["test_batch"]
    assert sorted(os.listdir(data_dir / "cifar10")) == [BASE]  # no archive, staging or replaced folder left
    assert load("cifar10", source="real").X_test.shape == (3, 3, 32, 32)


def disk_full_after(monkeypatch, n_files):
    """Make tarfile fail with ENOSPC on writing its (n_files + 1)-th member."""
    real_copy = tarfile.copyfileobj
    written = []

    def copy(*args, **kwargs):
        if len(written) >= n_files:
            raise OSError(28, "No space left on device")
        written.append(1)
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(tarfile, "copyfileobj", copy)


def test_cifar_extraction_failing_midway_leaves_the_previous_state(data_dir, cifar, monkeypatch):
    fetch("cifar10")
    damage(data_dir / "cifar10" / BASE / "data_batch_2")
    before = snapshot(data_dir / "cifar10")
    disk_full_after(monkeypatch, 3)
    with pytest.raises(DownloadError) as info:
        fetch("cifar10")
    message = str(info.value)
    assert "No space left on device" in message
    assert "were left as they were before this fetch (still damaged: cifar-10-batches-py/data_batch_2" in message
    assert snapshot(data_dir / "cifar10") == before  # byte-identical, same inodes: nothing half-done
    assert sorted(os.listdir(data_dir / "cifar10")) == [BASE]


def test_cifar_first_extraction_failing_leaves_nothing(data_dir, cifar, monkeypatch):
    disk_full_after(monkeypatch, 2)
    with pytest.raises(DownloadError, match=r"(?s)No space left on device.*Nothing in .*cifar10 was changed"):
        fetch("cifar10")
    assert os.listdir(data_dir / "cifar10") == []
    assert cache_status("cifar10").state == "missing"


def test_cifar_archive_lacking_a_batch_is_refused(data_dir, cifar, fake_downloads, monkeypatch):
    files = dict(cifar)
    del files["data_batch_5"]
    archive = cifar_archive(files)
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    fake_downloads.served[CIFAR10.url] = archive
    with pytest.raises(
        DownloadError, match=r"downloaded cifar-10-python.tar.gz lacks cifar-10-batches-py/data_batch_5"
    ):
        fetch("cifar10")
    assert os.listdir(data_dir / "cifar10") == []


def test_install_puts_the_old_folder_back_when_the_swap_fails(tmp_path, monkeypatch):
    tmp_path = tmp_path / "cache"
    tmp_path.mkdir()
    target, staged = tmp_path / "batches", tmp_path / "new"
    target.mkdir()
    (target / "a").write_text("old")
    staged.mkdir()
    (staged / "a").write_text("new")
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError):
        install(staged, target)
    assert (target / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batches", "new"]


# --------------------------------------------------------------------------- IMDB and MEPS: hashes recorded at download


def fake_imdb(n=6, marker=""):
    def split(name):
        return datasets.Dataset.from_dict(
            {"text": [f"{name} review {i}{marker}" for i in range(n)], "label": [i % 2 for i in range(n)]}
        )

    return datasets.DatasetDict({"train": split("train"), "test": split("test")})


def test_imdb_download_is_pinned_and_its_hashes_recorded(data_dir, monkeypatch):
    calls = []
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setattr(datasets, "load_dataset", lambda path, **kw: calls.append(kw) or fake_imdb())
    fetch("imdb")
    assert calls[0]["revision"] == _IMDB_REVISION
    assert cache_status("imdb").state == "verified"
    # a later change to a file is caught against the recorded hash, and repaired alone
    folder = data_dir / "imdb"
    pd.DataFrame({"text": ["changed"], "label": [1]}).to_parquet(folder / "test.parquet")
    assert cache_status("imdb").problems["test.parquet"].startswith("fails its checksum (sha256:")
    before = snapshot(folder)
    monkeypatch.setattr(datasets, "load_dataset", lambda path, **kw: fake_imdb(marker="!"))
    with pytest.warns(DataNotice, match=r"Repaired 'imdb'.*test.parquet fails its checksum"):
        fetch("imdb")
    assert snapshot(folder)["train.parquet"] == before["train.parquet"]
    assert load("imdb", source="real").texts_test[0] == "test review 0!"
    assert cache_status("imdb").state == "verified"


def test_imdb_copied_by_hand_is_checked_then_recorded(data_dir):
    folder = data_dir / "imdb"
    folder.mkdir()
    for split in ("train", "test"):
        pd.DataFrame({"text": [f"{split} a", f"{split} b"], "label": [0, 1]}).to_parquet(folder / f"{split}.parquet")
    assert is_cached("imdb")
    pd.DataFrame({"text": ["other"], "label": [0]}).to_parquet(folder / "train.parquet")
    assert cache_status("imdb").state == "damaged"


def test_imdb_copy_that_is_no_parquet_is_damaged(data_dir):
    folder = data_dir / "imdb"
    folder.mkdir()
    (folder / "train.parquet").write_bytes(b"PAR1 not really")
    pd.DataFrame({"text": ["a"], "label": [0]}).to_parquet(folder / "test.parquet")
    status = cache_status("imdb")
    assert status.state == "damaged" and "is not a readable parquet file" in status.problems["train.parquet"]
    with pytest.warns(DataNotice, match=r"synthetic_sentiment.*train.parquet is not a readable parquet file"):
        load("imdb")


def test_meps_hash_is_recorded_at_download_and_checked_after(data_dir, fake_downloads, monkeypatch):
    fake_downloads.served[_MEPS19_URL] = h181_zip(small_h181())
    fetch("meps19", accept_terms=True)
    stamp = cache_module.Stamps(data_dir / ".verified" / "meps19.json")
    assert stamp.recorded["h181ssp.zip"].startswith("sha256:")
    damage(data_dir / "meps19" / "h181ssp.zip", at=300)
    assert cache_status("meps19").problems["h181ssp.zip"].startswith("fails its checksum (sha256:")
    # a damaged copy, online: the repair needs the terms accepted, and says so
    with pytest.raises(DataIntegrityError, match=r"h181ssp.zip fails its checksum.*--accept-meps-terms"):
        fetch("meps19")
    fake_downloads.served[_MEPS19_URL] = h181_zip(small_h181(seed=3))  # the publisher's file changed meanwhile
    with pytest.warns(DataNotice, match="Repaired 'meps19'"):
        fetch("meps19", accept_terms=True)
    assert cache_module.Stamps(data_dir / ".verified" / "meps19.json").recorded != stamp.recorded
    assert cache_status("meps19").state == "verified"
    monkeypatch.setenv("TRUSTML_OFFLINE", "1")
    damage(data_dir / "meps19" / "h181ssp.zip", at=300)
    with pytest.warns(DataNotice, match=r"'german_credit_age' in place of 'meps19'.*h181ssp.zip fails its checksum"):
        load("meps19")


def zip_of(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, problem",
    [
        pytest.param(lambda: b"<html>Service unavailable</html>", "is corrupt (not a readable zip archive", id="html"),
        pytest.param(lambda: b"", "is empty (0 bytes)", id="empty"),
        pytest.param(lambda: zip_of({"readme.txt": b"hi"}), "which is not a SAS transport (XPORT) file", id="no-xport"),
        pytest.param(lambda: zip_of({"a.ssp": b"x", "b.ssp": b"y"}), "should hold exactly one file", id="two-files"),
    ],
)
def test_meps_copy_by_hand_is_checked(data_dir, content, problem):
    write_files(data_dir / "meps19", {"h181ssp.zip": content()})
    status = cache_status("meps19")
    assert status.state == "damaged" and problem in status.problems["h181ssp.zip"]
    with pytest.raises(DataIntegrityError, match="trustml fetch meps19 --accept-meps-terms"):
        load("meps19", source="real")


def test_meps_corrupt_download_names_the_file_as_downloaded(data_dir, fake_downloads):
    fake_downloads.served[_MEPS19_URL] = zip_of({"readme.txt": b"hello"})
    with pytest.raises(DownloadError, match="the downloaded h181ssp.zip holds readme.txt, which is not a SAS"):
        fetch("meps19", accept_terms=True)
    assert os.listdir(data_dir / "meps19") == []


# --------------------------------------------------------------------------- nowhere to cache


@pytest.mark.parametrize("where", ["data dir", "dataset folder"])
def test_a_data_folder_that_is_a_file(data_dir, monkeypatch, where):
    if where == "data dir":
        blocked = data_dir.parent / "not-a-folder"
        blocked.write_text("x")
        monkeypatch.setenv("TRUSTML_DATA", str(blocked))
    else:
        blocked = data_dir / "mnist"
        blocked.write_text("x")
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    status = cache_status("mnist")
    assert status.state == "missing" and f"{blocked} is a file, not a folder" in status.problems[""]
    with pytest.raises(DatasetNotAvailableError, match=r"is a file, not a folder.*Point TRUSTML_DATA at a folder"):
        fetch("mnist")
    with pytest.raises(DatasetNotAvailableError, match="is a file, not a folder"):
        load("mnist", source="real")
    with pytest.warns(DataNotice, match="'digits' in place of 'mnist'.*is a file, not a folder"):
        assert load("mnist").name == "digits"
    assert not list_datasets().set_index("name").loc["mnist", "cached"]
