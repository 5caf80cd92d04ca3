"""Checksummed, atomic downloads on top of pooch.

pooch downloads into a temporary file beside the target, checks the hash and
only then moves the file into place, so an interrupted or corrupt download
never leaves a file that later looks valid.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import pooch

TIMEOUT_S = 60


def _downloader():
    return pooch.HTTPDownloader(timeout=TIMEOUT_S, progressbar=True)


def download(urls: str | Sequence[str], folder: Path, filename: str, *, known_hash: str | None) -> Path:
    """Download ``filename`` into ``folder`` from the first of ``urls`` that works.

    Parameters
    ----------
    urls : str or sequence of str
        Full URLs of the same file (mirrors), tried in order.
    folder : pathlib.Path
        Where the file is written.
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


def check_zip(path: Path) -> None:
    """Check every member's CRC-32 of a zip archive; remove the file and raise if one is bad."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:  # damaged headers or compressed data
        bad = str(err) or type(err).__name__
    if bad is not None:
        Path(path).unlink(missing_ok=True)
        raise OSError(f"{Path(path).name} is corrupt ({bad}); it was removed, download it again.")
