"""The instructor guide (episodes/README.md) lists every episode, every widget and commands that exist."""

import re
from pathlib import Path

import nbformat

from trustml import cli
from trustml.episodes import episode_title, find_episodes

GUIDE = Path(__file__).resolve().parents[1] / "episodes" / "README.md"


def table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``## heading``, as lists of cells."""
    lines = GUIDE.read_text().split(f"## {heading}\n", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in lines[start + 2 : end]]


def test_the_schedule_has_every_episode_once_with_its_title_and_run_times():
    rows = {row[1]: row for row in table("Schedule")}
    episodes = find_episodes()
    assert sorted(rows) == [nb.stem[:2] for nb in episodes]
    for nb in episodes:
        row = rows[nb.stem[:2]]
        assert row[2] == episode_title(nb)
        assert re.fullmatch(r"\d+ s", row[5]), row
        assert re.fullmatch(r"\d+ s" if has_two_modes(nb) else "one mode", row[6]), row


def has_two_modes(path: Path) -> bool:
    """The episode's code asks for the mode (``fast_or_full``); without it, fast and full are the same run."""
    nb = nbformat.read(path, as_version=4)
    return any("fast_or_full" in cell.source for cell in nb.cells if cell.cell_type == "code")


def test_each_episode_states_the_guides_times_and_whether_it_has_one_mode():
    rows = {row[1]: row for row in table("Schedule")}
    for path in find_episodes():
        row = rows[path.stem[:2]]
        teaching, exercises = row[3], row[4].split(" (")[0]
        header = nbformat.read(path, as_version=4).cells[0].source
        expected = f"Teaching: {teaching}. Exercises: {exercises}."
        assert expected in header, f"{path.name} should say {expected!r}, as the instructor guide does"
        assert ("One mode" in header) != has_two_modes(path), path.name


def test_the_guide_counts_each_episodes_exercises_and_discussions():
    rows = {row[1]: row for row in table("Schedule")}
    for path in find_episodes():
        nb = nbformat.read(path, as_version=4)
        boxes = sum(
            len(re.findall(r"^> \*\*(?:Exercise|Discussion|Challenge)", cell.source, flags=re.M))
            for cell in nb.cells if cell.cell_type == "markdown"
        )  # fmt: skip
        assert rows[path.stem[:2]][4].endswith(f"({boxes})"), (path.name, boxes)


def test_every_widget_of_every_episode_is_listed_where_it_is():
    listed = {(row[0], row[1], row[2].strip("`")) for row in table("Where the widgets are")}
    found = set()
    for nb in find_episodes():
        heading = None
        for cell in nbformat.read(nb, as_version=4).cells:
            if cell.cell_type == "markdown":
                headings = [line.lstrip("#").strip() for line in cell.source.splitlines() if line.startswith("#")]
                heading = headings[-1] if headings else heading
            else:
                found |= {(nb.stem[:2], heading, name)
                          for name in re.findall(r"\b(\w+_(?:explorer|widget|picker))\(", cell.source)}
    assert listed == found


def test_the_static_views_named_exist():
    import importlib

    for row in table("Where the widgets are"):
        module, _, name = row[4].strip("`").rpartition(".")
        assert hasattr(importlib.import_module(module), name), row[4]


def test_the_commands_named_exist():
    commands = set(re.findall(r"`(?:\.venv/bin/)?trustml (\w+)", GUIDE.read_text()))
    parser = cli.build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert commands <= set(choices), commands - set(choices)
    for name in re.findall(r"`trustml fetch ([a-z]\w*)", GUIDE.read_text()):
        assert name == "all" or name in cli.MODELS or name in {"meps19"}
