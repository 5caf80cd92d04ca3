"""What does the verified cache cost? The first check of MNIST and CIFAR-10, and every check after it.

No network is used: the script writes random files of the real datasets' sizes
(MNIST's four ``.gz`` files; CIFAR-10's five training batches, test batch and
meta file as extracted) into a temporary data folder, makes torchvision's
checksums theirs (as if published), and times in one run:

- the first ``cache_status`` (every file hashed, then stamped),
- ``is_cached`` afterwards (the stamp of size and modification time answers),
- hashing the same bytes with ``hashlib`` alone, for comparison.

Usage: ``.venv/bin/python benchmarks/bench_cache.py``.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

# The published files' sizes in bytes (MNIST as downloaded; CIFAR-10 as extracted from its archive).
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
CIFAR_SIZES = {**{f"data_batch_{i}": 31_035_704 for i in range(1, 6)}, "test_batch": 31_035_526, "batches.meta": 158}


def write_random(folder: Path, sizes: dict) -> dict:
    """Random files of the given sizes; returns their md5s."""
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for name, size in sizes.items():
        content = os.urandom(size)
        (folder / name).write_bytes(content)
        md5[name] = hashlib.md5(content).hexdigest()
    return md5


def timed(function, repeat=1):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain_md5(folder: Path, names) -> None:
    for name in names:
        hashlib.md5((folder / name).read_bytes()).hexdigest()


def main() -> None:
    from torchvision.datasets import CIFAR10, MNIST

    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["TRUSTML_DATA"] = data_dir
        os.environ["TRUSTML_OFFLINE"] = "1"
        from trustml.data import cache_status, is_cached

        mnist = write_random(Path(data_dir) / "mnist", MNIST_SIZES)
        MNIST.resources = list(mnist.items())
        base = Path(data_dir) / "cifar10" / CIFAR10.base_folder
        cifar = write_random(base, CIFAR_SIZES)
        CIFAR10.train_list = [[n, cifar[n]] for n, _ in CIFAR10.train_list]
        CIFAR10.test_list = [["test_batch", cifar["test_batch"]]]
        CIFAR10.meta = {**CIFAR10.meta, "md5": cifar["batches.meta"]}

        print(f"{'dataset':<10} {'MB':>7} {'first check':>12} {'hashlib md5':>12} {'ratio':>6} {'is_cached after':>16}")
        for name, folder, sizes in [("mnist", Path(data_dir) / "mnist", MNIST_SIZES), ("cifar10", base, CIFAR_SIZES)]:
            os.sync()
            first = timed(lambda name=name: cache_status(name))
            assert cache_status(name).state == "verified"
            plain = timed(lambda folder=folder, sizes=sizes: plain_md5(folder, sizes), repeat=3)
            stamped = timed(lambda name=name: is_cached(name), repeat=200)
            megabytes = sum(sizes.values()) / 1e6
            print(
                f"{name:<10} {megabytes:7.1f} {first * 1e3:9.0f} ms {plain * 1e3:9.0f} ms {first / plain:6.2f} "
                f"{stamped * 1e3:13.2f} ms"
            )


if __name__ == "__main__":
    main()
