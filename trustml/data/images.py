"""Image datasets: MNIST, Fashion-MNIST and CIFAR-10, with scikit-learn's digits as the stand-in.

Every image dataset comes as :class:`ImageData`: float tensors ``X`` of shape
``(N, C, H, W)`` in [0, 1], long tensors ``y``, class names and a train/test
split. Download addresses and checksums are torchvision's own.
"""

from __future__ import annotations

import gzip
import pickle
import tarfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from trustml.data._download import download
from trustml.data._registry import DatasetSpec, register
from trustml.data._split import stratified_indices

__all__ = ["ImageData", "load_digits", "read_idx"]


@dataclass(frozen=True, repr=False)
class ImageData:
    """An image classification dataset with a train/test split.

    Attributes
    ----------
    name : str
        The dataset's name.
    X_train, X_test : torch.Tensor
        Float images ``(N, C, H, W)`` with values in [0, 1].
    y_train, y_test : torch.Tensor
        Long class indices ``(N,)``.
    class_names : list of str
        ``class_names[k]`` names class ``k``.
    source : {"real", "embedded"}
        Whether this is the real dataset or an embedded stand-in.
    """

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    class_names: list = field(default_factory=list)
    source: str = "real"

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple:
        """``(C, H, W)`` of one image."""
        return tuple(self.X_train.shape[1:])

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        return (
            f"ImageData({self.name!r}, {self.source}: {len(self.y_train)} train / {len(self.y_test)} test "
            f"images of {c}x{h}x{w}, {self.num_classes} classes)"
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None, *, classes=None, seed: int = 0):
        """Return a smaller dataset: some classes, and/or a random sample of each split.

        Parameters
        ----------
        n_train, n_test : int, optional
            How many images to keep in each split (all when None). The sample is
            stratified by class, so small subsets keep every class.
        classes : sequence of int or str, optional
            Keep only these classes (indices or names), relabelled 0..k-1 in the
            order given.
        seed : int, default 0
            Seed of the random sample.

        Examples
        --------
        >>> from trustml.data import load
        >>> small = load("digits").subset(100, classes=[0, 1])
        >>> small.class_names, len(small.y_train)
        (['0', '1'], 100)
        """
        data = self
        if classes is not None:
            data = data._select_classes(classes)
        generator = np.random.default_rng(seed)
        train = torch.from_numpy(stratified_indices(data.y_train.numpy(), n_train, generator, "n_train"))
        test = torch.from_numpy(stratified_indices(data.y_test.numpy(), n_test, generator, "n_test"))
        return replace(
            data,
            X_train=data.X_train[train],
            y_train=data.y_train[train],
            X_test=data.X_test[test],
            y_test=data.y_test[test],
        )

    def _select_classes(self, classes):
        if isinstance(classes, (str, int)):
            classes = [classes]
        indices = []
        for c in classes:
            if isinstance(c, str):
                if c not in self.class_names:
                    raise ValueError(f"Unknown class {c!r}; the classes are {self.class_names}.")
                c = self.class_names.index(c)
            if not 0 <= int(c) < self.num_classes:
                raise ValueError(f"Class index {c} is out of range 0..{self.num_classes - 1}.")
            indices.append(int(c))
        if len(set(indices)) != len(indices) or not indices:
            raise ValueError(f"classes must name at least one class, each once; got {list(classes)}.")
        relabel = torch.full((self.num_classes,), -1, dtype=torch.long)
        relabel[indices] = torch.arange(len(indices))

        def keep(X, y):
            mask = relabel[y] >= 0
            return X[mask], relabel[y[mask]]

        X_train, y_train = keep(self.X_train, self.y_train)
        X_test, y_test = keep(self.X_test, self.y_test)
        names = [self.class_names[i] for i in indices]
        return replace(self, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test, class_names=names)


# --------------------------------------------------------------------------- files


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a NumPy array.

    Parameters
    ----------
    path : pathlib.Path
        The file; a name ending in ``.gz`` is decompressed on the fly.

    Returns
    -------
    numpy.ndarray
        The array, with the shape and dtype the file declares.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in dtypes:
        raise ValueError(f"{path} is not an IDX file (bad magic number); delete it and fetch the dataset again.")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(dtypes[data[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - offset != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: it declares shape {shape} ({expected} bytes) "
            f"but holds {len(data) - offset} bytes; delete it and fetch the dataset again."
        )
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)


def _images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images (N, H, W) or (N, C, H, W) to float (N, C, H, W) in [0, 1]."""
    X = torch.from_numpy(images.astype(np.float32)).div_(255.0)
    return X.unsqueeze(1) if X.ndim == 3 else X


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles CIFAR's batch files without running code: only NumPy arrays are allowed."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how Python 3 writes bytes in protocol-2 pickles
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _read_cifar_batch(path: Path) -> dict:
    with open(path, "rb") as f:
        entry = _RestrictedUnpickler(f, encoding="latin1").load()
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}


# --------------------------------------------------------------------------- MNIST family

_MNIST_FILES = {
    "X_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "X_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def _register_mnist_like(name, tv_class, class_names, description, licence):
    def fetch(folder: Path) -> None:
        md5 = dict(tv_class.resources)
        for filename in _MNIST_FILES.values():
            download([m + filename for m in tv_class.mirrors], folder, filename, known_hash=f"md5:{md5[filename]}")

    def is_cached(folder: Path) -> bool:
        return all((folder / f).is_file() for f in _MNIST_FILES.values())

    def load_real(folder: Path) -> ImageData:
        arrays = {key: read_idx(folder / filename) for key, filename in _MNIST_FILES.items()}
        return ImageData(
            name,
            X_train=_images_to_tensor(arrays["X_train"]),
            y_train=torch.from_numpy(arrays["y_train"].astype(np.int64)),
            X_test=_images_to_tensor(arrays["X_test"]),
            y_test=torch.from_numpy(arrays["y_test"].astype(np.int64)),
            class_names=list(class_names),
        )

    register(
        DatasetSpec(
            name=name,
            kind="image",
            description=description,
            source=tv_class.mirrors[0],
            licence=licence,
            fetch=fetch,
            is_cached=is_cached,
            load_real=load_real,
            embedded_default="digits",
        )
    )


def _safe_extract(tar: tarfile.TarFile, folder: Path) -> None:
    """Extract regular files and folders only, and only inside ``folder``."""
    if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
        tar.extractall(folder, filter="data")
        return
    root = folder.resolve()
    for member in tar.getmembers():
        target = (folder / member.name).resolve()
        if not (member.isfile() or member.isdir()) or root not in (target, *target.parents):
            raise ValueError(f"refusing to extract {member.name!r}: not a plain file inside {folder}")
    tar.extractall(folder)


def _register_cifar10():
    from torchvision.datasets import CIFAR10

    def fetch(folder: Path) -> None:
        archive = download(CIFAR10.url, folder, CIFAR10.filename, known_hash=f"md5:{CIFAR10.tgz_md5}")
        with tarfile.open(archive) as tar:
            _safe_extract(tar, folder)
        archive.unlink()

    files = [name for name, _ in CIFAR10.train_list + CIFAR10.test_list] + [CIFAR10.meta["filename"]]

    def is_cached(folder: Path) -> bool:
        return all((folder / CIFAR10.base_folder / f).is_file() for f in files)

    def load_real(folder: Path) -> ImageData:
        base = folder / CIFAR10.base_folder

        def split(names):
            batches = [_read_cifar_batch(base / n) for n, _ in names]
            X = np.concatenate([np.asarray(b["data"], dtype=np.uint8) for b in batches]).reshape(-1, 3, 32, 32)
            y = np.concatenate([np.asarray(b["labels"], dtype=np.int64) for b in batches])
            return _images_to_tensor(X), torch.from_numpy(y)

        X_train, y_train = split(CIFAR10.train_list)
        X_test, y_test = split(CIFAR10.test_list)
        meta = _read_cifar_batch(base / CIFAR10.meta["filename"])
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta[CIFAR10.meta["key"]]]
        return ImageData("cifar10", X_train, y_train, X_test, y_test, class_names=names)

    register(
        DatasetSpec(
            name="cifar10",
            kind="image",
            description="CIFAR-10: 60,000 colour images 32x32, 10 classes (airplane ... truck)",
            source=CIFAR10.url,
            licence="no licence stated; free for research (Krizhevsky 2009)",
            fetch=fetch,
            is_cached=is_cached,
            load_real=load_real,
            embedded_default="digits_rgb",
        )
    )


# --------------------------------------------------------------------------- embedded: digits


def load_digits(*, size: int = 28, channels: int = 1, test_fraction: float = 0.2, seed: int = 0) -> ImageData:
    """scikit-learn's 1,797 handwritten digits, enlarged to look like MNIST.

    The 8x8 scans (16 grey levels) are scaled to ``(size * 5 / 7)`` pixels with
    bilinear interpolation and centred on a ``size x size`` black canvas, as
    MNIST centres its 20x20 digits in 28x28, so models built for MNIST run on
    them unchanged.

    Parameters
    ----------
    size : int, default 28
        Side of the output images.
    channels : int, default 1
        1 for greyscale; 3 repeats the grey channel (a stand-in for colour data).
    test_fraction : float, default 0.2
        Share of the images held out as the (stratified) test split.
    seed : int, default 0
        Seed of the train/test split.

    Returns
    -------
    ImageData
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    images = torch.from_numpy(digits.images).float().div_(16.0).unsqueeze(1)
    inner = round(size * 20 / 28)
    images = F.interpolate(images, size=(inner, inner), mode="bilinear", align_corners=False).clamp_(0, 1)
    pad = size - inner
    images = F.pad(images, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
    images = images.repeat(1, channels, 1, 1)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    train, test = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, stratify=digits.target, random_state=seed
    )
    train, test = np.sort(train), np.sort(test)
    name = "digits" if channels == 1 else "digits_rgb"
    return ImageData(
        name, images[train], labels[train], images[test], labels[test], [str(k) for k in range(10)], "embedded"
    )


def _register_all():
    from torchvision.datasets import MNIST, FashionMNIST

    register(
        DatasetSpec(
            name="digits",
            kind="image",
            description="1,797 handwritten digits (8x8 scans shown as 1x28x28, like MNIST), 10 classes",
            source="scikit-learn's bundled copy of the UCI optical recognition of handwritten digits data",
            licence="CC BY 4.0 (UCI); bundled with scikit-learn (BSD-3-Clause)",
            load_embedded=load_digits,
        )
    )
    register(
        DatasetSpec(
            name="digits_rgb",
            kind="image",
            description="the digits as 3x32x32 images: the stand-in for colour datasets",
            source="scikit-learn's bundled copy of the UCI optical recognition of handwritten digits data",
            licence="CC BY 4.0 (UCI); bundled with scikit-learn (BSD-3-Clause)",
            load_embedded=lambda: load_digits(size=32, channels=3),
        )
    )
    _register_mnist_like(
        "mnist",
        MNIST,
        [str(k) for k in range(10)],
        "MNIST: 70,000 handwritten digits 28x28, 10 classes",
        "CC BY-SA 3.0 (LeCun, Cortes, Burges)",
    )
    _register_mnist_like(
        "fashion_mnist",
        FashionMNIST,
        FashionMNIST.classes,
        "Fashion-MNIST: 70,000 Zalando article images 28x28, 10 classes",
        "MIT (Zalando Research)",
    )
    _register_cifar10()


_register_all()
