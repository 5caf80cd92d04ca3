"""The dataset registry: each dataset's real source, its cache folder and its stand-in.

A *real* dataset is downloaded once into ``<data dir>/<name>/`` and read from
there; an *embedded* dataset needs no network (it ships with trustml or a
dependency, or trustml generates it). Every real dataset names the embedded one
that stands in for it when it cannot be had.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustml.config import settings

__all__ = [
    "DataNotice",
    "DatasetNotAvailableError",
    "DatasetSpec",
    "DownloadError",
    "cache_folder",
    "fetch",
    "get_spec",
    "is_cached",
    "list_datasets",
    "load",
    "register",
]

SOURCES = ("auto", "real", "embedded")


class DatasetNotAvailableError(RuntimeError):
    """A real dataset was asked for and cannot be had here (offline, terms, not cached)."""


class DownloadError(DatasetNotAvailableError):
    """A download failed or its checksum did not match; nothing was left in the cache."""


class DataNotice(UserWarning):
    """Shown when ``load(source="auto")`` stands an embedded dataset in for a real one."""


warnings.simplefilter("always", DataNotice)


@dataclass(frozen=True)
class DatasetSpec:
    """How to get one dataset.

    Parameters
    ----------
    name, kind, description, source, licence
        What the dataset is (``kind`` is ``"image"``, ``"tabular"`` or ``"text"``),
        where its real copy comes from and under which licence.
    load_embedded
        For an embedded dataset: a function with no arguments returning it.
    fetch, is_cached, load_real
        For a real dataset: functions of its cache folder that download it there,
        tell whether a complete copy is there, and read it from there.
    embedded_default
        For a real dataset: the embedded dataset that stands in for it.
    terms
        Data-use terms the user must accept before the download (or ``None``).
    """

    name: str
    kind: str
    description: str
    source: str
    licence: str
    load_embedded: Callable[[], Any] | None = None
    fetch: Callable[[Path], None] | None = None
    is_cached: Callable[[Path], bool] | None = None
    load_real: Callable[[Path], Any] | None = None
    embedded_default: str | None = None
    terms: str | None = None

    @property
    def embedded(self) -> bool:
        """True for a dataset that needs no network."""
        return self.load_embedded is not None


_REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add a dataset to the registry (used by trustml's data modules)."""
    if spec.embedded == (spec.fetch is not None):
        raise ValueError(f"dataset {spec.name!r} must be either embedded or real (with fetch/is_cached/load_real).")
    _REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> DatasetSpec:
    """Return the registry entry of ``name``; unknown names raise a ValueError listing the known ones."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(sorted(_REGISTRY))}.")


def cache_folder(name: str) -> Path:
    """The folder where the real copy of dataset ``name`` lives."""
    return settings().data_dir / get_spec(name).name


def is_cached(name: str) -> bool:
    """True when ``name`` can be loaded without the network (embedded, or real and downloaded)."""
    spec = get_spec(name)
    return spec.embedded or spec.is_cached(cache_folder(name))


def list_datasets():
    """Describe every dataset trustml knows, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``kind``, ``embedded`` (needs no network),
        ``cached`` (loadable offline now), ``stand_in`` (the embedded dataset
        used when the real one cannot be had), ``terms`` (data-use terms to
        accept before downloading, if any), ``description``, ``source``,
        ``licence``.

    Examples
    --------
    >>> from trustml.data import list_datasets
    >>> "digits" in set(list_datasets()["name"])
    True
    """
    import pandas as pd

    rows = [
        {
            "name": spec.name,
            "kind": spec.kind,
            "embedded": spec.embedded,
            "cached": is_cached(spec.name),
            "stand_in": spec.embedded_default or "",
            "terms": spec.terms or "",
            "description": spec.description,
            "source": spec.source,
            "licence": spec.licence,
        }
        for spec in sorted(_REGISTRY.values(), key=lambda s: (s.kind, s.embedded, s.name))
    ]
    return pd.DataFrame(rows)


def fetch(name: str, *, accept_terms: bool = False) -> Path:
    """Download the real dataset ``name`` into the cache (for a workshop: do it once, online).

    Parameters
    ----------
    name : str
        A real dataset's name (``trustml.data.list_datasets()`` lists them).
    accept_terms : bool, default False
        Set to True to accept the dataset's data-use terms (MEPS has some);
        without it such a dataset is not downloaded.

    Returns
    -------
    pathlib.Path
        The dataset's cache folder.

    Raises
    ------
    DatasetNotAvailableError
        When offline (``TRUSTML_OFFLINE=1``) or when the terms were not accepted.
    DownloadError
        When the download fails or its checksum does not match.
    """
    spec = get_spec(name)
    folder = cache_folder(name)
    if spec.embedded:
        return folder
    if spec.is_cached(folder):
        return folder
    if spec.terms and not accept_terms:
        raise DatasetNotAvailableError(
            f"{name!r} has data-use terms: {spec.terms}\nRead them, then run "
            f"`trustml fetch {name} --accept-meps-terms` (or fetch({name!r}, accept_terms=True))."
        )
    if settings().offline:
        raise DatasetNotAvailableError(
            f"{name!r} is not in the cache ({folder}) and TRUSTML_OFFLINE=1 forbids downloading it. "
            f"Unset TRUSTML_OFFLINE and run `trustml fetch {name}` while online."
        )
    folder.mkdir(parents=True, exist_ok=True)
    try:
        spec.fetch(folder)
    except DatasetNotAvailableError:
        raise
    except Exception as err:  # network, HTTP and checksum errors all end here
        raise DownloadError(
            f"Could not download {name!r} from {spec.source}: {err}\n"
            f"Check the connection and run `trustml fetch {name}` again; nothing incomplete was kept in {folder}."
        ) from err
    if not spec.is_cached(folder):
        raise DownloadError(f"Downloading {name!r} finished but its files are incomplete in {folder}.")
    return folder


def load(name: str, *, source: str = "auto"):
    """Load a dataset by name.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    source : {"auto", "real", "embedded"}, default "auto"
        ``"real"`` loads the real data, downloading it if it is not cached and
        the network is allowed, and otherwise fails, saying how to fetch it.
        ``"embedded"`` loads the embedded stand-in. ``"auto"`` loads the real
        data when it is cached or can be downloaded, and otherwise the stand-in,
        with a :class:`DataNotice` naming what it used.

    Returns
    -------
    ImageData, TextData or aif360 dataset
        Images and text come as :class:`~trustml.data.ImageData` and
        :class:`~trustml.data.TextData`; tabular data as an AIF360
        ``BinaryLabelDataset``.

    Examples
    --------
    >>> from trustml.data import load
    >>> digits = load("digits")
    >>> tuple(digits.X_train.shape[1:])
    (1, 28, 28)
    """
    spec = get_spec(name)
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}.")
    if spec.embedded:
        return spec.load_embedded()
    if source == "embedded":
        return get_spec(spec.embedded_default).load_embedded()
    folder = cache_folder(name)
    if spec.is_cached(folder):
        return spec.load_real(folder)
    if source == "real":
        fetch(name)  # raises with instructions when it cannot
        return spec.load_real(folder)
    try:
        fetch(name)
    except DatasetNotAvailableError as err:
        reason = str(err).splitlines()[0]
    else:
        return spec.load_real(folder)
    warnings.warn(
        f"Using the embedded dataset {spec.embedded_default!r} in place of {name!r}: {reason}",
        DataNotice,
        stacklevel=2,
    )
    return get_spec(spec.embedded_default).load_embedded()
