"""trustml: the helper library of a course on trustworthy machine learning.

The episode notebooks in ``episodes/`` teach; this library carries the code a
learner should not have to read twice: data loading, the training loop, models,
metrics, plots and widgets.
"""

from __future__ import annotations

import logging
import random

import numpy as np
import torch

from trustml.config import Settings, fast_or_full, settings

__all__ = ["Settings", "__version__", "fast_or_full", "get_device", "set_seed", "settings"]
__version__ = "0.1.0"


class _OptionalExtrasFilter(logging.Filter):
    """Drops AIF360's import-time notices about optional extras the course does not use.

    AIF360 logs "No module named 'tensorflow': AdversarialDebiasing will be
    unavailable. To install, run: ..." on the root logger when its modules are
    imported; in a notebook that is noise in a learner's cell.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "root" and "will be unavailable. To install, run" in str(record.msg))


if not any(isinstance(f, _OptionalExtrasFilter) for f in logging.getLogger().filters):
    logging.getLogger().addFilter(_OptionalExtrasFilter())


def get_device() -> torch.device:
    """Return the best available device: CUDA, then Apple's MPS, then the CPU.

    Examples
    --------
    >>> from trustml import get_device
    >>> get_device().type in {"cuda", "mps", "cpu"}
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and GPU).

    The same seed then gives the same numbers from ``random``, ``numpy.random``
    and ``torch``.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Examples
    --------
    >>> import torch
    >>> from trustml import set_seed
    >>> set_seed(0); a = torch.rand(2)
    >>> set_seed(0); b = torch.rand(2)
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # seeds CUDA too
