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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustml.config import settings
from trustml.data import _cache
from trustml.data._errors import DataIntegrityError, DataNotice, DatasetNotAvailableError, DownloadError

__all__ = [
    "CacheStatus",
    "DataIntegrityError",
    "DataNotice",
    "DatasetNotAvailableError",
    "DatasetSpec",
    "DownloadError",
    "cache_folder",
    "cache_status",
    "fetch",
    "get_spec",
    "is_cached",
    "list_datasets",
    "load",
    "register",
]

SOURCES = ("auto", "real", "embedded")


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
    files
        For a real dataset: a function with no arguments returning its files,
        ``{path relative to its cache folder: hash}``, where a hash is
        ``"md5:..."`` or ``"sha256:..."`` as the publisher gives it, or None
        where the publisher gives none (then trustml records the hash of the
        file it downloads and checks the file with ``check_file``).
    fetch
        For a real dataset: ``fetch(folder, wanted)`` downloads the files
        ``wanted`` (relative paths, those that failed verification) into the
        cache folder ``folder``, atomically: on failure nothing there changes.
    load_real
        For a real dataset: reads it from its cache folder, raising
        :class:`DataIntegrityError` for anything wrong in a file.
    check_file
        A structural check of a file without a published hash (raises
        :class:`DataIntegrityError`), run before its hash is recorded.
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
    files: Callable[[], dict[str, str | None]] | None = None
    fetch: Callable[[Path, list[str]], None] | None = None
    load_real: Callable[[Path], Any] | None = None
    check_file: Callable[[Path], None] | None = None
    embedded_default: str | None = None
    terms: str | None = None

    @property
    def embedded(self) -> bool:
        """True for a dataset that needs no network."""
        return self.load_embedded is not None

    @property
    def repair_command(self) -> str:
        """The command that downloads this dataset or repairs its cache."""
        return f"trustml fetch {self.name}" + (" --accept-meps-terms" if self.terms else "")


@dataclass(frozen=True)
class CacheStatus:
    """The state of one dataset in the cache, as :func:`cache_status` found it.

    Attributes
    ----------
    name : str
    state : {"embedded", "verified", "missing", "damaged"}
        ``"verified"``: every file is there and passes its checksum (the
        dataset loads offline). ``"missing"``: not downloaded (or nowhere to
        put it, see ``problems``). ``"damaged"``: some file is there but
        fails its checksum or a loader's check.
    folder : pathlib.Path
        The dataset's cache folder.
    problems : dict
        ``{file relative to folder: what is wrong}`` for each file that fails.
    command : str or None
        What downloads or repairs it (``"trustml fetch mnist"``); None for an
        embedded dataset.
    """

    name: str
    state: str
    folder: Path
    problems: dict = field(default_factory=dict)
    command: str | None = None

    def describe(self) -> str:
        """One line: the damaged files and what is wrong with each."""
        damaged = {rel: p for rel, p in self.problems.items() if p != _cache.MISSING}
        return "; ".join(f"{rel} {problem}" if rel else problem for rel, problem in damaged.items())


_REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add a dataset to the registry (used by trustml's data modules)."""
    real = (spec.files, spec.fetch, spec.load_real)
    if spec.embedded == any(part is not None for part in real) or not (spec.embedded or all(real)):
        raise ValueError(f"dataset {spec.name!r} must be either embedded or real (with files, fetch and load_real).")
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


def _stamps(name: str) -> _cache.Stamps:
    return _cache.Stamps(settings().data_dir / ".verified" / f"{name}.json")


def _not_a_folder(folder: Path) -> Path | None:
    """The cache folder, or the data dir above it, where it exists as something else than a folder."""
    for path in (folder.parent, folder):
        if path.exists() and not path.is_dir():
            return path
    return None


def cache_status(name: str) -> CacheStatus:
    """Check the cache of dataset ``name``: is every file there and intact?

    Each file is checked against its checksum (the publisher's, or the one
    recorded when trustml downloaded it). The first check of a large file
    takes a moment (hashing it); after that a stamp of its size, modification
    time and hash makes the check take milliseconds until the file changes.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.

    Returns
    -------
    CacheStatus

    Examples
    --------
    >>> from trustml.data import cache_status
    >>> cache_status("digits").state
    'embedded'
    """
    spec = get_spec(name)
    folder = cache_folder(name)
    if spec.embedded:
        return CacheStatus(spec.name, "embedded", folder)
    blocked = _not_a_folder(folder)
    if blocked is not None:
        problem = f"cannot be cached: {blocked} is a file, not a folder"
        return CacheStatus(spec.name, "missing", folder, {"": problem}, spec.repair_command)
    problems = _cache.verify_files(folder, spec.files(), _stamps(spec.name), spec.check_file)
    if not problems:
        state = "verified"
    elif all(problem == _cache.MISSING for problem in problems.values()):
        state = "missing"
    else:
        state = "damaged"
    return CacheStatus(spec.name, state, folder, problems, spec.repair_command)


def is_cached(name: str) -> bool:
    """True when ``name`` can be loaded without the network: embedded, or real, complete and verified."""
    return cache_status(name).state in ("embedded", "verified")


def list_datasets():
    """Describe every dataset trustml knows, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``kind``, ``embedded`` (needs no network),
        ``cached`` (loadable offline now), ``state`` (``embedded``,
        ``verified``, ``missing`` or ``damaged``: see :func:`cache_status`),
        ``stand_in`` (the embedded dataset used when the real one cannot be
        had), ``terms`` (data-use terms to accept before downloading, if any),
        ``description``, ``source``, ``licence``.

    Examples
    --------
    >>> from trustml.data import list_datasets
    >>> "digits" in set(list_datasets()["name"])
    True
    """
    import pandas as pd

    rows = []
    for spec in sorted(_REGISTRY.values(), key=lambda s: (s.kind, s.embedded, s.name)):
        state = cache_status(spec.name).state
        rows.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "embedded": spec.embedded,
                "cached": state in ("embedded", "verified"),
                "state": state,
                "stand_in": spec.embedded_default or "",
                "terms": spec.terms or "",
                "description": spec.description,
                "source": spec.source,
                "licence": spec.licence,
            }
        )
    return pd.DataFrame(rows)


def _left_as_it_was(status: CacheStatus) -> str:
    """What a failed fetch left in the cache: exactly what was there before."""
    if status.state == "damaged":
        return f"The files in {status.folder} were left as they were before this fetch (still damaged: {status.describe()})"
    return f"Nothing in {status.folder} was changed"


def fetch(name: str, *, accept_terms: bool = False) -> Path:
    """Download the real dataset ``name`` into the cache, or repair its damaged files.

    Only the files that fail verification (missing, or failing their checksum
    or a loader's check) are downloaded, into a staging folder, and moved into
    place when complete: a failure leaves the cache as it was. A repair is
    reported with a :class:`DataNotice`. For a workshop, run it once, online.

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
        When offline (``TRUSTML_OFFLINE=1``), when the terms were not
        accepted, or when the cache cannot be written.
    DataIntegrityError
        When offline and a cached file is damaged (it names the file).
    DownloadError
        When the download fails or its checksum does not match.
    """
    spec = get_spec(name)
    status = cache_status(name)
    folder = status.folder
    if spec.embedded or status.state == "verified":
        return folder
    if "" in status.problems:
        raise DatasetNotAvailableError(
            f"{name!r} {status.problems['']}. Point TRUSTML_DATA at a folder (or move the file away) "
            f"and run `{spec.repair_command}` again."
        )
    damaged = {rel: p for rel, p in status.problems.items() if p != _cache.MISSING}
    offline = settings().offline
    needs_terms = bool(spec.terms) and not accept_terms
    if damaged and (offline or needs_terms):
        rel, problem = next(iter(damaged.items()))
        if len(damaged) > 1:
            problem += f" (and {len(damaged) - 1} more damaged file(s): {', '.join(list(damaged)[1:])})"
        if offline:
            repair = f"unset TRUSTML_OFFLINE (it forbids downloading) and run `{spec.repair_command}`"
        else:
            repair = f"run `{spec.repair_command}` (which accepts its data-use terms)"
        raise DataIntegrityError(folder / rel, problem, repair + ": it downloads again only what is damaged")
    if needs_terms:
        raise DatasetNotAvailableError(
            f"{name!r} has data-use terms: {spec.terms}\nRead them, then run "
            f"`{spec.repair_command}` (or fetch({name!r}, accept_terms=True))."
        )
    if offline:
        raise DatasetNotAvailableError(
            f"{name!r} is not in the cache ({folder}) and TRUSTML_OFFLINE=1 forbids downloading it. "
            f"Unset TRUSTML_OFFLINE and run `{spec.repair_command}` while online."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetNotAvailableError(
            f"Cannot create the cache folder {folder} for {name!r}: {err.strerror or err}. "
            f"Point TRUSTML_DATA at a folder you can write to and run `{spec.repair_command}` again."
        ) from err
    wanted = list(status.problems)
    expected = spec.files()
    try:
        spec.fetch(folder, wanted)
    except Exception as err:  # network, HTTP, checksum, disk and extraction errors all end here
        if isinstance(err, DataIntegrityError):
            reason = f"the downloaded {err.path.name} {err.problem}"
        else:
            reason = str(err)
        raise DownloadError(
            f"Could not download {name!r} from {spec.source}: {reason}\n"
            f"{_left_as_it_was(cache_status(name))}; check the connection and run `{spec.repair_command}` again."
        ) from err
    stamps = _stamps(spec.name)
    for rel in wanted:
        if rel in expected and expected[rel] is None and (folder / rel).is_file():
            _cache.record(folder, rel, stamps)  # the hash of this download is the one to check from now on
    after = cache_status(name)
    if after.state != "verified":
        raise DownloadError(
            f"Downloading {name!r} finished, but some files still fail verification in {folder}: "
            f"{after.describe() or ', '.join(after.problems)}. Run `{spec.repair_command}` again."
        )
    if damaged:
        kept = len(expected) - len(wanted)
        warnings.warn(
            f"Repaired {name!r} in {folder}: downloaded again what failed verification "
            f"({status.describe()}); the other {kept} file(s) had passed verification.",
            DataNotice,
            stacklevel=2,
        )
    return folder


def _load_verified(spec: DatasetSpec, folder: Path):
    """Read a verified real dataset; a file the loader finds wrong is marked damaged, so fetch repairs it."""
    try:
        return spec.load_real(folder)
    except DataIntegrityError as err:
        try:
            rel = str(err.path.relative_to(folder))
        except ValueError:
            rel = None
        if rel is not None:
            _cache.mark_damaged(folder, rel, err.problem, _stamps(spec.name))
        raise DataIntegrityError(err.path, err.problem, err.repair or f"run `{spec.repair_command}`") from err


def load(name: str, *, source: str = "auto"):
    """Load a dataset by name.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    source : {"auto", "real", "embedded"}, default "auto"
        ``"real"`` loads the real data, downloading (or repairing) it if it is
        not cached and verified and the network is allowed, and otherwise
        fails, saying how to fetch it; a damaged file is named with the
        command that repairs it. ``"embedded"`` loads the embedded stand-in.
        ``"auto"`` loads the real data when it is cached or can be downloaded,
        and otherwise the stand-in, with a :class:`DataNotice` naming what it
        used and why (for a damaged cache: the file and the repair command).

    Returns
    -------
    ImageData, TextData or aif360 dataset
        Images and text come as :class:`~trustml.data.ImageData` and
        :class:`~trustml.data.TextData`; tabular data as an AIF360
        ``BinaryLabelDataset``.

    Raises
    ------
    DatasetNotAvailableError
        With ``source="real"``, when the real data cannot be had; its subclass
        :class:`DataIntegrityError` when a cached file is damaged.

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
    if source == "real":
        fetch(name)  # returns at once when verified; raises with instructions when it cannot
        return _load_verified(spec, folder)
    try:
        fetch(name)
        return _load_verified(spec, folder)
    except DatasetNotAvailableError as err:
        reason = str(err).splitlines()[0]
    warnings.warn(
        f"Using the embedded dataset {spec.embedded_default!r} in place of {name!r}: {reason}",
        DataNotice,
        stacklevel=2,
    )
    return get_spec(spec.embedded_default).load_embedded()
