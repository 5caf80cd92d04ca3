"""Find and execute the course's episode notebooks headless (``trustml run``, the tests).

An episode runs in a fresh kernel with the working directory set to its
folder, offline and in fast mode unless asked otherwise; the executed notebook
(and an HTML rendering) is written to the output folder.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EpisodeRun", "default_episodes_dir", "find_episodes", "run_episode"]

_CHECKOUT = Path(__file__).resolve().parent.parent


def default_episodes_dir() -> Path:
    """The checkout's ``episodes/`` folder (the course runs from a checkout)."""
    return _CHECKOUT / "episodes"


def find_episodes(selection: Iterable[str] = (), *, episodes_dir: Path | None = None) -> list[Path]:
    """The episode notebooks, in teaching order, optionally only some of them.

    Parameters
    ----------
    selection : iterable of str
        Episode numbers (``"3"``, ``"03"``), file names or paths; empty for all.
    episodes_dir : pathlib.Path, optional
        Default :func:`default_episodes_dir`.

    Returns
    -------
    list of pathlib.Path
    """
    folder = Path(episodes_dir) if episodes_dir is not None else default_episodes_dir()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"No episodes folder at {folder}: run from a checkout of the course, or pass the folder explicitly."
        )
    notebooks = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    selection = list(selection)
    if not selection:
        return notebooks
    chosen = []
    for item in selection:
        path = Path(item)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path)
            continue
        if re.fullmatch(r"\d{1,2}", item):
            matches = [nb for nb in notebooks if nb.name.startswith(f"{int(item):02d}-")]
        else:
            matches = [nb for nb in notebooks if nb.stem == item or nb.name == item]
        if not matches:
            known = ", ".join(nb.stem for nb in notebooks)
            raise ValueError(f"No episode matches {item!r}. Episodes: {known}.")
        chosen.extend(matches)
    return chosen


@dataclass(frozen=True)
class EpisodeRun:
    """The outcome of one executed episode."""

    notebook: Path
    seconds: float
    output: Path | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every cell ran without error."""
        return self.error is None


def run_episode(
    notebook: Path,
    *,
    output_dir: Path | None = None,
    fast: bool = True,
    offline: bool = True,
    timeout: int = 600,
    html: bool = True,
) -> EpisodeRun:
    """Execute one episode notebook top to bottom in a fresh kernel.

    Parameters
    ----------
    notebook : pathlib.Path
    output_dir : pathlib.Path, optional
        Where the executed ``.ipynb`` (and ``.html``) are written; nothing is
        written when None.
    fast, offline : bool, default True
        Set ``TRUSTML_FAST`` and ``TRUSTML_OFFLINE`` for the kernel.
    timeout : int, default 600
        Seconds allowed per cell.
    html : bool, default True
        Also write an HTML rendering.

    Returns
    -------
    EpisodeRun
        Time taken, where the output went and the error, if a cell failed.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    env = dict(os.environ, TRUSTML_FAST="1" if fast else "0", TRUSTML_OFFLINE="1" if offline else "0")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        error = str(err)
    seconds = time.perf_counter() - start
    output = None
    if output_dir is not None:
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        output = output_dir / notebook.name
        nbformat.write(nb, output)
        if html:
            from nbconvert import HTMLExporter

            body, _ = HTMLExporter().from_notebook_node(nb)
            output.with_suffix(".html").write_text(body, encoding="utf-8")
    return EpisodeRun(notebook, seconds, output, error)
