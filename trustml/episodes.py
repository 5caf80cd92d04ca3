"""Find, describe and execute the course's episode notebooks headless (``trustml run``, the tests).

An episode runs in a fresh kernel with the working directory set to its
folder, offline and in fast mode unless asked otherwise; the executed notebook
(and an HTML rendering) is written to the output folder. ``trustml run``
remembers how long each episode took (:func:`record_run_time`), so that
``trustml list`` can say what to expect, and writes an ``index.html`` that lists
the episodes it ran with their questions, run times and status
(:func:`write_index`).
"""

from __future__ import annotations

import datetime
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EpisodeRun",
    "default_episodes_dir",
    "episode_datasets",
    "episode_questions",
    "episode_title",
    "find_episodes",
    "record_run_time",
    "run_episode",
    "run_times",
    "write_index",
]

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
    """The outcome of one executed episode (``fast``: the mode it ran in)."""

    notebook: Path
    seconds: float
    output: Path | None
    error: str | None = None
    fast: bool | None = None

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
        Time taken, where the output went, the error if a cell failed, and the mode.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    env = dict(os.environ, TRUSTML_FAST="1" if fast else "0", TRUSTML_OFFLINE="1" if offline else "0")
    # OpenMP threads that wait by spinning fight over a busy laptop's cores: scikit-learn's small
    # predictions (permutation importance in episode 08) then took 5x longer; waiting passively does not
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    start = time.perf_counter()
    error = None
    with tempfile.TemporaryDirectory(prefix="trustml-kernel-") as sockets:
        client = _client_class()(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(notebook.parent)}},
            config=_kernel_transport(sockets),
        )
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
    return EpisodeRun(notebook, seconds, output, error, fast)


_REPLY_POLL_S = 1.0


def _client_class():
    """nbclient's ``NotebookClient``, made to look for each cell's reply once a second.

    nbclient waits for a cell's ``execute_reply`` with one poll of the kernel's
    shell socket that lasts the whole cell timeout. After a cell that displays
    a widget, that poll sometimes misses the reply and only returns when the
    timeout ends (jupyter/nbclient#312): the episode passes, ten minutes late.
    Polling in one-second slices looks at the socket again, so a reply that
    the first poll missed is read within a second.
    """
    from nbclient import NotebookClient

    class _Client(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            kc.shell_channel.get_msg = _in_slices(kc.shell_channel.get_msg)
            return kc

    return _Client


def _in_slices(get_msg):
    """Wrap an async ``get_msg(timeout)`` so that it polls in slices of at most ``_REPLY_POLL_S``."""
    from queue import Empty

    async def get_msg_in_slices(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _REPLY_POLL_S if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=min(_REPLY_POLL_S, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


def _kernel_transport(folder: str):
    """Kernel connection settings: local sockets in ``folder`` where the OS has them.

    Over TCP (the default), ipykernel warns on every start that the kernel's
    traffic is unencrypted. Unix domain sockets never leave the machine and are
    private to the user, so on POSIX systems the runner uses them and the
    warning does not arise. Windows has no IPC transport; there the kernel is
    asked to log errors only, which silences that warning.
    """
    from traitlets.config import Config

    if os.name == "posix":
        return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})
    return Config({"NotebookClient": {"extra_arguments": ["--IPKernelApp.log_level=ERROR"]}})


def episode_title(notebook: Path) -> str:
    """The episode's title: the text of its first level-1 markdown heading.

    Parameters
    ----------
    notebook : pathlib.Path

    Returns
    -------
    str
        The heading without the ``#``; the file's stem when there is none.
    """
    for cell in _cells(notebook):
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return Path(notebook).stem


_QUESTIONS_HEADING = re.compile(r"^\s*(?:>\s*)?(?:#+\s*Questions\s*|\*\*Questions\*\*\s*)$")
_LIST_ITEM = re.compile(r"^\s*(?:>\s*)?[-*]\s+(.+?)\s*$")


def episode_questions(notebook: Path) -> list[str]:
    """The episode's questions: the list items under its "Questions" heading (Carpentries style).

    The heading is a markdown heading (``## Questions``) or a bold line (``> **Questions**``,
    as in a callout); the list that follows it is read up to the first line that is neither
    a list item nor blank.

    Parameters
    ----------
    notebook : pathlib.Path

    Returns
    -------
    list of str
        The questions' Markdown text, in order; empty when the episode has none.

    Examples
    --------
    >>> from trustml.episodes import episode_questions, find_episodes
    >>> episode_questions(find_episodes(["01"])[0])[0]
    'What do people mean when they call a machine learning system "trustworthy"?'
    """
    for cell in _cells(notebook):
        if cell.get("cell_type") != "markdown":
            continue
        lines = _source(cell).splitlines()
        for start, line in enumerate(lines):
            if not _QUESTIONS_HEADING.match(line):
                continue
            questions: list[str] = []
            for following in lines[start + 1 :]:
                item = _LIST_ITEM.match(following)
                if item:
                    questions.append(item.group(1))
                elif following.strip().lstrip(">").strip():
                    break
            return questions
    return []


_LOAD_CALL = re.compile(r"""\bload\(\s*["']([A-Za-z0-9_\-]+)["']""")


def episode_datasets(notebook: Path) -> list[str]:
    """The datasets an episode loads: the names in its ``load("...")`` calls, in order of first use.

    Parameters
    ----------
    notebook : pathlib.Path

    Returns
    -------
    list of str

    Examples
    --------
    >>> from trustml.episodes import episode_datasets, find_episodes
    >>> "german_credit" in episode_datasets(find_episodes(["02"])[0])
    True
    """
    names: list[str] = []
    for cell in _cells(notebook):
        if cell.get("cell_type") == "code":
            names.extend(name for name in _LOAD_CALL.findall(_source(cell)) if name not in names)
    return names


def _cells(notebook: Path) -> list[dict]:
    with open(notebook, encoding="utf-8") as f:
        return json.load(f).get("cells", [])


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


_TIMES_FILE = "episode-times.json"


def _times_path() -> Path:
    from trustml.config import settings

    return settings().data_dir / _TIMES_FILE


def run_times() -> dict[str, dict[str, dict]]:
    """The last measured run time of each episode on this machine, by mode.

    ``trustml run`` records them in ``episode-times.json`` in the data folder
    (``TRUSTML_DATA``): like the dataset cache, run times belong to the machine,
    and ``trustml list`` finds them from any folder, whatever ``--output`` a run
    used. An unreadable file counts as no measurements.

    Returns
    -------
    dict
        ``{episode stem: {"fast" | "full": {"seconds": float, "measured": ISO date}}}``.
    """
    try:
        with open(_times_path(), encoding="utf-8") as f:
            times = json.load(f)
    except (OSError, ValueError):
        return {}
    return times if isinstance(times, dict) else {}


def record_run_time(run: EpisodeRun) -> None:
    """Remember how long a successful run took (see :func:`run_times`); failed runs are not recorded.

    Parameters
    ----------
    run : EpisodeRun
        As returned by :func:`run_episode`.
    """
    if not run.ok or run.fast is None:
        return
    times = run_times()
    episode = times.setdefault(run.notebook.stem, {})
    episode["fast" if run.fast else "full"] = {
        "seconds": round(run.seconds, 1),
        "measured": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    path = _times_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
        json.dump(times, f, indent=1, sort_keys=True)
    os.replace(f.name, path)


INDEX_FILE = "index.html"

_INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ccc; padding: 0.5rem; text-align: left; vertical-align: top; }
td.time { white-space: nowrap; text-align: right; }
ul { margin: 0; padding-left: 1.2rem; }
.ok { color: #1a7f37; } .failed { color: #b42318; font-weight: bold; }
"""


def write_index(runs: Iterable[EpisodeRun], output_dir: Path, *, title: str = "trustml: the course") -> Path:
    """Write ``index.html`` into ``output_dir``: one row per run episode, linking its rendering.

    Each row has the episode's number and title (linked to its ``.html`` when it
    was written there, and to the executed notebook), its questions, its measured
    run time and whether every cell ran. The page is plain HTML with its style
    inline: it opens offline, from the folder, in any browser.

    Parameters
    ----------
    runs : iterable of EpisodeRun
        As returned by :func:`run_episode`, in the order to list them.
    output_dir : pathlib.Path
        The folder the runs wrote into.
    title : str, default "trustml: the course"

    Returns
    -------
    pathlib.Path
        The index page.

    Examples
    --------
    >>> import tempfile
    >>> from trustml.episodes import EpisodeRun, find_episodes, write_index
    >>> run = EpisodeRun(find_episodes(["01"])[0], 12.5, None, None, True)
    >>> page = write_index([run], Path(tempfile.mkdtemp()))
    >>> page.name, "12.5 s fast" in page.read_text()
    ('index.html', True)
    """
    runs = list(runs)
    output_dir = Path(output_dir)
    rows = []
    for run in runs:
        stem = run.notebook.stem
        name = html.escape(episode_title(run.notebook))
        rendered = output_dir / f"{stem}.html"
        executed = output_dir / f"{stem}.ipynb"
        if rendered.is_file():
            name = f'<a href="{html.escape(rendered.name)}">{name}</a>'
        links = f' <small>(<a href="{html.escape(executed.name)}">notebook</a>)</small>' if executed.is_file() else ""
        questions = "".join(f"<li>{html.escape(q)}</li>" for q in episode_questions(run.notebook))
        status = '<span class="ok">ok</span>' if run.ok else '<span class="failed">failed</span>'
        mode = "" if run.fast is None else (" fast" if run.fast else " full")
        rows.append(
            f"<tr><td>{html.escape(stem[:2])}</td><td>{name}{links}</td>"
            f"<td><ul>{questions}</ul></td><td class=\"time\">{run.seconds:.1f} s{mode}</td><td>{status}</td></tr>"
        )
    total = sum(run.seconds for run in runs)
    failed = sum(not run.ok for run in runs)
    when = datetime.datetime.now().isoformat(sep=" ", timespec="minutes")
    summary = (
        f"{len(runs)} episode(s) executed on {html.escape(when)} in {total:.1f} s"
        + (f"; <span class=\"failed\">{failed} failed</span>" if failed else ", all cells ran")
        + "."
    )
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_INDEX_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{summary}</p>\n<table>\n"
        "<thead><tr><th>#</th><th>episode</th><th>questions</th><th>run time</th><th>status</th></tr></thead>\n"
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</body>\n</html>\n"
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / INDEX_FILE
    path.write_text(page, encoding="utf-8")
    return path
