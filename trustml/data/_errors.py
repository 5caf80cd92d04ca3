"""The errors and the notice of ``trustml.data``: one type per kind of failure."""

from __future__ import annotations

import warnings
from pathlib import Path

__all__ = ["DataIntegrityError", "DataNotice", "DatasetNotAvailableError", "DownloadError"]


class DatasetNotAvailableError(RuntimeError):
    """A real dataset was asked for and cannot be had here (offline, terms, not cached)."""


class DownloadError(DatasetNotAvailableError):
    """A download failed or its checksum did not match; the cache was left as it was."""


class DataIntegrityError(DatasetNotAvailableError, ValueError):
    """A dataset file is damaged or is not the file it should be.

    Raised for every problem found in a file of the cache, by its checksum or
    by the loader that reads it (a truncated or foreign file, labels out of
    range, a wrong shape, ...). The message names the file, the problem and
    the command that repairs it.

    Attributes
    ----------
    path : pathlib.Path
        The file at fault.
    problem : str
        What is wrong with it, as a phrase that follows the file name
        (``"is empty (0 bytes)"``).
    repair : str or None
        What to do about it (``"run `trustml fetch mnist`"``); None where the
        reader does not know which dataset the file belongs to.
    """

    def __init__(self, path, problem: str, repair: str | None = None):
        super().__init__(path, problem, repair)
        self.path = Path(path)
        self.problem = problem
        self.repair = repair

    def __str__(self) -> str:
        repair = self.repair or "delete it and download it again"
        return f"{self.path} {self.problem}. To repair it, {repair}."


class DataNotice(UserWarning):
    """Shown when ``trustml.data`` changes what you get or what is cached, and says why.

    ``load(source="auto")`` standing an embedded dataset in for a real one,
    ``fetch`` repairing a damaged cache, ``subset`` drawing a sample that
    cannot keep every class.
    """


warnings.simplefilter("always", DataNotice)
