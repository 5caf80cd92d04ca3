"""Checksummed downloads on top of pooch, and the atomic moves that put them into the cache.

A dataset's files are downloaded (and archives extracted) into a staging
folder inside its cache folder; only when everything is there and checked are
they moved into place with ``os.replace``, so a failure part-way leaves the
cache exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pooch

from trustml.data._errors import DataIntegrityError

TIMEOUT_S = 60


def _downloader():
    return pooch.HTTPDownloader(timeout=TIMEOUT_S, progressbar=True)


def download(urls: str | Sequence[str], folder: Path, filename: str, *, known_hash: str | None) -> Path:
    """Download ``filename`` into ``folder`` from the first of ``urls`` that works.

    pooch writes to a temporary file beside the target, checks the hash and
    only then renames it, so ``folder`` never holds a partial file.

    Parameters
    ----------
    urls : str or sequence of str
        Full URLs of the same file (mirrors), tried in order.
    folder : pathlib.Path
        Where the file is written (a staging folder, see :func:`staging`).
    filename : str
        The name it gets there.
    known_hash : str or None
        ``"md5:..."`` or ``"sha256:..."``; ``None`` only for files whose
        publisher gives no checksum (then the caller checks the content).

    Returns
    -------
    pathlib.Path
        The downloaded file.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    errors = []
    for url in urls:
        try:
            return Path(pooch.retrieve(url, known_hash, fname=filename, path=folder, downloader=_downloader()))
        except Exception as err:  # try the next mirror, report them all
            errors.append(f"{url}: {err}")
    raise OSError("every source failed:\n  " + "\n  ".join(errors))


@contextlib.contextmanager
def staging(folder: Path) -> Iterator[Path]:
    """A temporary folder inside ``folder`` (same file system: renames out of it are atomic), removed on exit."""
    path = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def install(staged: Path, target: Path) -> None:
    """Move a staged file or folder to ``target``, replacing what is there in one step for the user.

    A file is swapped in with ``os.replace``. A folder cannot replace a
    non-empty folder in one rename: the old one is renamed aside first and
    renamed back if the second rename fails, then removed.
    """
    if not staged.is_dir() or not target.exists():
        os.replace(staged, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=".replaced-", dir=target.parent)) / target.name
    os.replace(target, aside)
    try:
        os.replace(staged, target)
    except OSError:
        os.replace(aside, target)
        raise
    finally:
        shutil.rmtree(aside.parent, ignore_errors=True)


def check_zip(path: Path) -> None:
    """Check every member's CRC-32 of a zip archive (which reads the whole archive).

    Raises
    ------
    DataIntegrityError
        When it is no zip archive or a member is damaged.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as err:  # damaged
        raise DataIntegrityError(path, f"is corrupt (not a readable zip archive: {err or type(err).__name__})") from err
    if bad is not None:
        raise DataIntegrityError(path, f"is corrupt (member {bad!r} fails its CRC-32 check)")
