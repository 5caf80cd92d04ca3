"""Small dataset files in the publishers' formats, made by the tests (no test touches the network).

``publish_*`` make torchvision's published checksums those of the small files,
as if the publisher had released them, so the verified cache accepts them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
from torchvision.datasets import CIFAR10, MNIST

MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def idx_bytes(array: np.ndarray, *, compress: bool = True) -> bytes:
    """Encode a uint8 array as an IDX file (the MNIST format), gzipped by default."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    raw = header + array.astype(np.uint8).tobytes()
    return gzip.compress(raw) if compress else raw


def small_mnist_arrays(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(12, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([9, 8, 7, 6, 5], dtype=np.uint8),
    }


def publish_mnist(monkeypatch, files: dict, tv_class=MNIST) -> None:
    """Make ``files`` ({name: bytes}) what torchvision's checksums describe."""
    monkeypatch.setattr(tv_class, "resources", [(name, md5(content)) for name, content in files.items()])


def write_files(folder, files: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def cifar_batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(rng.integers(0, 10, n))}


def cifar_members() -> dict:
    """A small CIFAR-10 (python version): 5 train batches of 4 images, a test batch of 3, the meta file."""
    members = {name: cifar_batch(4, i) for i, (name, _) in enumerate(CIFAR10.train_list)}
    members["test_batch"] = cifar_batch(3, 99)
    members["batches.meta"] = {b"label_names": [n.encode() for n in CIFAR_CLASSES]}
    return members


def cifar_files(members: dict) -> dict:
    """{file name: pickled bytes}, as the archive holds them."""
    return {name: pickle.dumps(entry, protocol=2) for name, entry in members.items()}


def cifar_archive(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{CIFAR10.base_folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def publish_cifar(monkeypatch, files: dict, archive: bytes | None = None) -> None:
    """Make torchvision's CIFAR-10 checksums (archive and extracted files) those of ``files``."""
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5(files[n])] for n, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5(files["test_batch"])]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5(files["batches.meta"])})
    if archive is not None:
        monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
