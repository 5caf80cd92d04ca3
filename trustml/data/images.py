"""Image datasets: MNIST, Fashion-MNIST and CIFAR-10, with scikit-learn's digits as the stand-in.

Every image dataset comes as :class:`ImageData`: float tensors ``X`` of shape
``(N, C, H, W)`` in [0, 1], long tensors ``y``, class names and a train/test
split. Download addresses and checksums are torchvision's own.
"""

from __future__ import annotations

import gzip
import math
import pickle
import tarfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from trustml.data._cache import file_hash
from trustml.data._download import download, install, staging
from trustml.data._errors import DataIntegrityError
from trustml.data._registry import DatasetSpec, register
from trustml.data._split import stratified_indices

__all__ = ["ImageData", "load_digits", "read_cifar_batch", "read_cifar_meta", "read_idx"]


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
            How many images to keep in each split (all when None or at least
            the split's length). The sample is stratified by class, so small
            subsets keep every class; below one image per class it is a plain
            random draw, with a :class:`~trustml.data.DataNotice`.
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
        if isinstance(classes, (torch.Tensor, np.ndarray)):
            classes = classes.tolist()
        if isinstance(classes, (str, int, np.integer)):
            classes = [classes]
        indices = []
        for c in classes:
            if isinstance(c, str):
                if c not in self.class_names:
                    raise ValueError(f"Unknown class {c!r}; the classes are {self.class_names}.")
                c = self.class_names.index(c)
            if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)):
                raise TypeError(
                    f"classes must be class indices (int) or names (str), got {c!r} ({type(c).__name__}); "
                    f"the classes are {self.class_names}."
                )
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

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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

    Raises
    ------
    DataIntegrityError
        When the file is no valid gzip stream, is no IDX file (magic number,
        data type, dimensions) or holds more or fewer bytes than its header
        declares.
    """
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            data = path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:  # not gzip, cut short, damaged stream
        raise DataIntegrityError(path, f"is not a valid gzip file ({err or type(err).__name__})") from err
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataIntegrityError(path, "is not an IDX file (bad magic number)")
    ndim = data[3]
    offset = 4 + 4 * ndim
    if ndim == 0:
        raise DataIntegrityError(path, "is not an IDX file (it declares no dimensions)")
    if len(data) < offset:
        raise DataIntegrityError(path, f"is truncated: its header declares {ndim} dimensions but ends early")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    if min(shape) < 0:
        raise DataIntegrityError(path, f"is corrupt: its header declares a negative dimension {shape}")
    if min(shape) == 0:  # no data; and numpy cannot even shape e.g. (0, 2**21, 2**21, 2**21)
        raise DataIntegrityError(path, f"is empty: its header declares a dimension of length 0 {shape}")
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - offset != expected:
        raise DataIntegrityError(
            path,
            f"is truncated or corrupt: its header declares shape {shape} ({expected} bytes) "
            f"but it holds {len(data) - offset} bytes",
        )
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)


def _check_images(path: Path, images: np.ndarray, shape: tuple) -> None:
    """IDX images must be unsigned bytes ``(N, *shape)`` with N at least 1."""
    if images.dtype != np.uint8 or images.ndim != 1 + len(shape) or images.shape[1:] != shape or not len(images):
        want = "x".join(map(str, shape))
        raise DataIntegrityError(
            path, f"should hold images of {want} bytes, but holds an array {images.shape} of {images.dtype}"
        )


def _check_labels(path: Path, labels: np.ndarray, n_images: int, num_classes: int) -> None:
    """Labels must be a 1-D array of unsigned bytes, one per image, each below ``num_classes``."""
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataIntegrityError(
            path, f"should hold labels (a 1-D array of bytes), but holds an array {labels.shape} of {labels.dtype}"
        )
    if len(labels) != n_images:
        raise DataIntegrityError(path, f"holds {len(labels)} labels, but its images file holds {n_images} images")
    if len(labels) and int(labels.max()) >= num_classes:
        raise DataIntegrityError(path, f"holds label {int(labels.max())}, but the classes are 0-{num_classes - 1}")


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


_CIFAR_PIXELS = 3 * 32 * 32


def _unpickle_cifar(path: Path) -> dict:
    """The dict a CIFAR file holds, with str keys."""
    with open(path, "rb") as f:
        try:
            entry = _RestrictedUnpickler(f, encoding="latin1").load()
        except Exception as err:  # damaged or foreign bytes can make an unpickler raise nearly anything
            raise DataIntegrityError(path, f"is not a CIFAR-10 python file ({type(err).__name__}: {err})") from err
    if not isinstance(entry, dict):
        raise DataIntegrityError(path, f"is not a CIFAR-10 python file (it holds a {type(entry).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def read_cifar_batch(path: Path, *, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR batch file (the python version) without running code from it.

    Parameters
    ----------
    path : pathlib.Path
        A file such as ``data_batch_1`` or ``test_batch``.
    num_classes : int, default 10
        Labels must lie in ``0..num_classes-1``.

    Returns
    -------
    images : numpy.ndarray
        uint8 ``(N, 3, 32, 32)``.
    labels : numpy.ndarray
        int64 ``(N,)``.

    Raises
    ------
    DataIntegrityError
        When the file is no pickled dict with ``data`` (uint8, ``(N, 3072)``)
        and ``labels`` (N integers in range), or wants to run code.
    """
    path = Path(path)
    entry = _unpickle_cifar(path)
    data, labels = entry.get("data"), entry.get("labels")
    if data is None or labels is None:
        raise DataIntegrityError(path, f"is not a CIFAR-10 batch (it has the keys {sorted(map(str, entry))})")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _CIFAR_PIXELS:
        what = f"an array {data.shape} of {data.dtype}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataIntegrityError(path, f"should hold images as bytes (N, {_CIFAR_PIXELS}), but holds {what}")
    try:
        labels = np.asarray(labels)
    except (ValueError, TypeError, OverflowError) as err:
        raise DataIntegrityError(path, f"has labels that are no list of integers ({err})") from err
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataIntegrityError(
            path, f"should hold a list of integer labels, but holds an array {labels.shape} of {labels.dtype}"
        )
    if len(labels) != len(data):
        raise DataIntegrityError(path, f"holds {len(labels)} labels for {len(data)} images")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels[(labels < 0) | (labels >= num_classes)][0])
        raise DataIntegrityError(path, f"holds label {bad}, but the classes are 0-{num_classes - 1}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def read_cifar_meta(path: Path, *, key: str = "label_names", num_classes: int = 10) -> list[str]:
    """The class names in CIFAR's ``batches.meta`` file (read without running code from it).

    Raises
    ------
    DataIntegrityError
        When the file does not list ``num_classes`` names under ``key``.
    """
    path = Path(path)
    names = _unpickle_cifar(path).get(key)
    if not isinstance(names, (list, tuple)) or len(names) != num_classes:
        raise DataIntegrityError(path, f"should list {num_classes} class names under {key!r}")
    if not all(isinstance(n, (bytes, str)) for n in names):
        raise DataIntegrityError(path, f"should list class names as text under {key!r}")
    return [n.decode("latin1") if isinstance(n, bytes) else n for n in names]


# --------------------------------------------------------------------------- MNIST family

_MNIST_FILES = {
    "X_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "X_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


def _register_mnist_like(name, tv_class, class_names, description, licence):
    def files() -> dict:
        md5 = dict(tv_class.resources)  # torchvision's checksums of the published files
        return {filename: f"md5:{md5[filename]}" for filename in _MNIST_FILES.values()}

    def fetch(folder: Path, wanted: list) -> None:
        expected = files()
        with staging(folder) as staged:
            for filename in wanted:
                download([m + filename for m in tv_class.mirrors], staged, filename, known_hash=expected[filename])
            for filename in wanted:
                install(staged / filename, folder / filename)

    def load_real(folder: Path) -> ImageData:
        paths = {key: folder / filename for key, filename in _MNIST_FILES.items()}
        arrays = {key: read_idx(path) for key, path in paths.items()}
        for split in ("train", "test"):
            _check_images(paths[f"X_{split}"], arrays[f"X_{split}"], (28, 28))
            _check_labels(paths[f"y_{split}"], arrays[f"y_{split}"], len(arrays[f"X_{split}"]), len(class_names))
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
            files=files,
            fetch=fetch,
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

    def files() -> dict:
        # torchvision's md5 of each extracted file (the archive's own md5 is checked when it is downloaded)
        listed = CIFAR10.train_list + CIFAR10.test_list + [[CIFAR10.meta["filename"], CIFAR10.meta["md5"]]]
        return {f"{CIFAR10.base_folder}/{filename}": f"md5:{md5}" for filename, md5 in listed}

    def fetch(folder: Path, wanted: list) -> None:
        """Download the archive and extract it, then swap the whole batches folder in (whatever was wanted)."""
        expected = files()
        with staging(folder) as staged:
            archive = download(CIFAR10.url, staged, CIFAR10.filename, known_hash=f"md5:{CIFAR10.tgz_md5}")
            extracted = staged / "extracted"
            with tarfile.open(archive) as tar:
                _safe_extract(tar, extracted)
            archive.unlink()
            for rel, md5 in expected.items():
                path = extracted / rel
                if not path.is_file():
                    raise DataIntegrityError(folder / CIFAR10.filename, f"lacks {rel}")
                if file_hash(path, "md5") != md5:
                    raise DataIntegrityError(folder / CIFAR10.filename, f"holds a {rel} that fails its checksum")
            install(extracted / CIFAR10.base_folder, folder / CIFAR10.base_folder)

    def load_real(folder: Path) -> ImageData:
        base = folder / CIFAR10.base_folder
        names = read_cifar_meta(base / CIFAR10.meta["filename"], key=CIFAR10.meta["key"])

        def split(listed):
            batches = [read_cifar_batch(base / filename, num_classes=len(names)) for filename, _ in listed]
            X = np.concatenate([images for images, _ in batches])
            y = np.concatenate([labels for _, labels in batches])
            return _images_to_tensor(X), torch.from_numpy(y)

        X_train, y_train = split(CIFAR10.train_list)
        X_test, y_test = split(CIFAR10.test_list)
        return ImageData("cifar10", X_train, y_train, X_test, y_test, class_names=names)

    register(
        DatasetSpec(
            name="cifar10",
            kind="image",
            description="CIFAR-10: 60,000 colour images 32x32, 10 classes (airplane ... truck)",
            source=CIFAR10.url,
            licence="no licence stated; free for research (Krizhevsky 2009)",
            files=files,
            fetch=fetch,
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
