"""The verified cache: which files of a real dataset are there and intact, cheaply after the first time.

Every real dataset lists its files with their expected hashes: the
publisher's (``"md5:..."``) or ``None`` for a file whose publisher gives none,
whose hash trustml records when it downloads it (or, for a copy put there by
hand, the first time it sees it, after a structural check). Hashing a large
file takes a while, so what was learned about each file is kept in a stamp,
``<data dir>/.verified/<dataset>.json``: its size, modification time, hash
and any problem a loader found in it. As long as size and modification time
are unchanged the stamp is believed; when either changes the file is hashed
again.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from trustml.data._errors import DataIntegrityError

__all__ = ["MISSING", "Stamps", "file_hash", "mark_damaged", "record", "verify_files"]

MISSING = "is missing"
_RECORDED_ALGORITHM = "sha256"
_CHUNK = 1 << 20


def file_hash(path: Path, algorithm: str) -> str:
    """``"<algorithm>:<hex digest>"`` of the file's bytes, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return f"{algorithm}:{digest.hexdigest()}"


class Stamps:
    """What trustml knows about one dataset's files, kept between sessions.

    ``files[rel]`` holds ``size``, ``mtime_ns``, ``hash`` and ``problem`` of the
    file at ``rel`` (relative to the dataset's folder) as last seen;
    ``recorded[rel]`` the hash recorded for a file whose publisher gives none.
    Writing the stamp is best effort: in a read-only cache every check hashes
    again, but nothing fails.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            content = json.loads(path.read_text())
            self.files = dict(content["files"])
            self.recorded = dict(content["recorded"])
        except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: start afresh
            self.files, self.recorded = {}, {}
        self._saved = self._content()

    def _content(self) -> str:
        return json.dumps({"files": self.files, "recorded": self.recorded}, sort_keys=True, indent=1)

    def entry(self, rel: str, st: os.stat_result) -> dict | None:
        """The stamp of ``rel`` if it still describes the file (same size and modification time)."""
        entry = self.files.get(rel)
        if isinstance(entry, dict) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return entry
        return None

    def put(self, rel: str, st: os.stat_result, digest: str | None, problem: str | None) -> dict:
        """Stamp ``rel`` as seen now."""
        self.files[rel] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "hash": digest, "problem": problem}
        return self.files[rel]

    def save(self) -> None:
        """Write the stamp (atomically) if anything changed."""
        content = self._content()
        if content == self._saved:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(handle, "w") as f:
                f.write(content)
            os.replace(temporary, self.path)
        except OSError:
            return
        self._saved = content


def verify_files(
    folder: Path,
    expected: dict[str, str | None],
    stamps: Stamps,
    check_file: Callable[[Path], None] | None = None,
) -> dict[str, str]:
    """Check each expected file; return ``{rel: problem}`` for those that fail (empty: all verified).

    A file with a published hash must match it; a file without one must match
    the hash recorded for it, and when none is recorded yet it must pass
    ``check_file`` (which raises :class:`DataIntegrityError`), and its hash is
    recorded then. A problem a loader reported (:func:`mark_damaged`) stands
    until the file changes.
    """
    problems = {}
    for rel, published in expected.items():
        path = folder / rel
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            problems[rel] = MISSING
            continue
        except OSError as err:
            problems[rel] = f"cannot be read ({err.strerror or err})"
            continue
        if not stat.S_ISREG(st.st_mode):
            problems[rel] = "is not a file"
            continue
        want = published or stamps.recorded.get(rel)
        algorithm = want.split(":", 1)[0] if want else _RECORDED_ALGORITHM
        entry = stamps.entry(rel, st)
        if entry is None or (not entry.get("problem") and not str(entry.get("hash")).startswith(f"{algorithm}:")):
            try:
                digest = file_hash(path, algorithm)
            except OSError as err:
                problems[rel] = f"cannot be read ({err.strerror or err})"
                continue
            problem = "is empty (0 bytes)" if st.st_size == 0 else None
            if problem is None and want is None and check_file is not None:
                try:
                    check_file(path)
                except DataIntegrityError as err:
                    problem = err.problem
            entry = stamps.put(rel, st, digest, problem)
        if entry.get("problem"):
            problems[rel] = entry["problem"]
        elif want is None:
            stamps.recorded[rel] = entry["hash"]  # first sight of a copy put there by hand
        elif entry["hash"] != want:
            problems[rel] = f"fails its checksum ({entry['hash']}, expected {want})"
    stamps.save()
    return problems


def mark_damaged(folder: Path, rel: str, problem: str, stamps: Stamps) -> None:
    """Remember that a loader found ``problem`` in ``rel``, until the file changes."""
    try:
        st = (folder / rel).stat()
    except OSError:
        return
    entry = stamps.entry(rel, st)
    if entry is None:
        entry = stamps.put(rel, st, None, problem)
    entry["problem"] = problem
    stamps.save()


def record(folder: Path, rel: str, stamps: Stamps) -> None:
    """Record the hash of a freshly downloaded file whose publisher gives none."""
    path = folder / rel
    st = path.stat()
    digest = file_hash(path, _RECORDED_ALGORITHM)
    stamps.put(rel, st, digest, None)
    stamps.recorded[rel] = digest
    stamps.save()
