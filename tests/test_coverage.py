"""episodes/COVERAGE.md accounts for every part of the lesson the course is built on.

The lesson's parts are listed in episodes/lesson-parts.tsv (extracted once from the lesson text,
which lives outside the repository). These tests check COVERAGE.md against that list and the
notebooks on every run. Where the lesson text itself is available (a checkout next to the course's
shared/ folder), they also check the list against the text: every episode, every marked
discussion, exercise, case study, callout and summary, and every key point must be listed, so
that no part of the lesson can be dropped without a test failing. Each check is a function that
returns the problems it finds; the last tests feed it broken inputs to show that it finds them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EPISODES = ROOT / "episodes"
PARTS_FILE = EPISODES / "lesson-parts.tsv"
COVERAGE_FILE = EPISODES / "COVERAGE.md"
SEED_NAME = "004_3878121ca1cfd01d.txt"
KINDS = {"section", "discussion", "exercise", "case study", "key point", "objective/question"}
HOWS = ("kept", "improved", "replaced", "planned")
PLANNED = re.compile(r"planned: episode (\d\d)")
LOCATION = re.compile(r"(\d\d-[\w-]+\.ipynb) § (.+)")
MARKERS = {"Discussion", "Discuss", "Challenge", "Callout", "Quick exercise", "Summary"}
MARKER_PREFIXES = ("Case study", "Case Study", "Exercise ", "Discussion: ")


def read_parts(text: str):
    """[(number, title, line, [part rows])] from the text of lesson-parts.tsv."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    episodes = []
    for row in csv.DictReader(lines, delimiter="\t"):
        if row["kind"] == "episode":
            episodes.append((int(row["lesson_episode"]), row["part"], int(row["line"]), []))
        else:
            assert episodes and int(row["lesson_episode"]) == episodes[-1][0], f"part outside its episode: {row}"
            episodes[-1][3].append(row)
    return episodes


def read_coverage(text: str):
    """{lesson episode title: [(part, kind, where, how)]} from the text of COVERAGE.md."""
    sections: dict[str, list[tuple[str, ...]]] = {}
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            current = line[3:].strip()
            assert current not in sections, f"COVERAGE.md line {number}: a second section for {current!r}"
            sections[current] = []
        elif line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            assert len(cells) == 4, f"COVERAGE.md line {number}: a row needs 4 cells, got {len(cells)}: {line}"
            if cells[0] == "lesson part" or set(cells[0]) <= {"-", ":"}:
                continue  # header and separator
            assert current is not None, f"COVERAGE.md line {number}: a row before the first ## heading"
            sections[current].append(tuple(cells))
    return sections


def notebook_headings(notebook: Path) -> set[str]:
    """Markdown headings and bold titles (exercises, discussions, Questions, Key points) of a notebook."""
    with open(notebook, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    headings = set()
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            match = re.match(r"#+\s+(.+)$", line) or re.match(r">?\s*\*\*(.+?)\*\*\s*$", line)
            if match:
                headings.add(match.group(1).strip())
    return headings


def parts_list_problems(parts) -> list[str]:
    problems = []
    if [number for number, *_ in parts] != list(range(1, 15)):
        problems.append("the lesson has 14 episodes, numbered 1 to 14")
    for number, title, _, rows in parts:
        labels = [row["part"] for row in rows]
        if not rows:
            problems.append(f"lesson episode {number} ({title}) lists no parts")
        if len(labels) != len(set(labels)):
            problems.append(f"{title}: part labels must be unique")
        problems += [f"{title}: unknown kind {row['kind']!r}" for row in rows if row["kind"] not in KINDS]
        problems += [f"{title}: '|' in {label!r}" for label in labels if "|" in label]
    return problems


def coverage_problems(coverage, parts, episodes_dir: Path) -> list[str]:
    """Everything wrong with COVERAGE.md (parsed) against the parts list and the notebooks."""
    problems = []
    titles = [title for _, title, _, _ in parts]
    if list(coverage) != titles:
        problems.append(f"need one '## <title>' per lesson episode, in lesson order: {titles}; got {list(coverage)}")
    headings: dict[Path, set[str]] = {}
    for _, title, _, rows in parts:
        have = coverage.get(title, [])
        counts = Counter(row[0] for row in have)
        kinds = {row["part"]: row["kind"] for row in rows}
        problems += [f"{title}: no row for {part!r}" for part in kinds if counts[part] == 0]
        problems += [f"{title}: a row for {part!r}, which the lesson does not have" for part in counts if part not in kinds]
        problems += [f"{title}: {n} rows for {part!r}" for part, n in counts.items() if n > 1]
        for part, kind, where, how in have:
            label = f"{title}: {part!r}"
            if part in kinds and kinds[part] != kind:
                problems.append(f"{label} is a {kinds[part]}, not a {kind}")
            if not re.match(rf"({'|'.join(HOWS)})\b", how):
                problems.append(f"{label}: how must start with one of {HOWS}, got {how!r}")
            planned = PLANNED.fullmatch(where)
            if planned:
                existing = sorted(episodes_dir.glob(f"{planned.group(1)}-*.ipynb"))
                if existing:
                    problems.append(f"{label} says planned, but {existing[0].name} exists: say where and how")
                if how != "planned":
                    problems.append(f"{label}: a planned row says 'planned' in how, got {how!r}")
                continue
            if how.startswith("planned"):
                problems.append(f"{label} points to {where!r} but says planned: say kept, improved or replaced")
            if how.startswith(("improved", "replaced")) and not re.match(r"(improved|replaced)[:(]\s*\S", how):
                problems.append(f"{label}: say what was improved or why it was replaced, got {how!r}")
            for location in where.split("; "):
                match = LOCATION.fullmatch(location)
                if not match:
                    problems.append(f"{label}: where must be 'NN-slug.ipynb § Heading' or 'planned: episode NN'")
                    continue
                notebook = episodes_dir / match.group(1)
                if not notebook.is_file():
                    problems.append(f"{label}: {match.group(1)} does not exist")
                    continue
                if notebook not in headings:
                    headings[notebook] = notebook_headings(notebook)
                if match.group(2) not in headings[notebook]:
                    problems.append(f"{label}: {match.group(1)} has no heading {match.group(2)!r}")
    return problems


def matches(line: str, text: str) -> bool:
    line = line.removeprefix("- ").strip()
    return line == text or line.startswith(text) or (len(text) >= 12 and text in line)


def seed_problems(seed_lines: list[str], parts) -> list[str]:
    """Everything the parts list misses or misplaces in the lesson text (lines stripped)."""
    problems = []
    titles = [line.removeprefix("Content from ") for line in seed_lines if line.startswith("Content from ")]
    if titles != [title for _, title, _, _ in parts]:
        problems.append(f"the lesson's episodes are {titles}")
    kind_at: dict[int, str] = {}
    for _, title, start, rows in parts:
        if seed_lines[start - 1 : start] != [f"Content from {title}"]:
            problems.append(f"line {start} does not start the episode {title!r}")
        previous = start
        for row in rows:
            at, text = int(row["line"]), row["seed_text"] or row["part"]
            kind_at[at] = row["kind"]
            if at <= previous:
                problems.append(f"{title}: parts out of order at {row['part']!r}")
            if not (0 < at <= len(seed_lines) and matches(seed_lines[at - 1], text)):
                problems.append(f"{title}: line {at} does not say {text!r}")
            previous = at
    starts = [n for n, line in enumerate(seed_lines, 1) if line.startswith("Content from ")]
    for number, line in enumerate(seed_lines, 1):
        if (line in MARKERS or line.startswith(MARKER_PREFIXES)) and number not in kind_at:
            problems.append(f"line {number} ({line!r}) is a lesson part missing from the list")
        if line != "Key Points":
            continue
        # the bullets right after 'Key Points' are key points, up to a line the list gives another kind
        end = min([s for s in starts if s > number], default=len(seed_lines) + 1)
        if not any(kind_at.get(n) == "key point" for n in range(number + 1, end)):
            problems.append(f"line {number}: key points with none listed")
        following = number + 1
        while following < end and seed_lines[following - 1].startswith("- ") and kind_at.get(following) in (None, "key point"):
            if following not in kind_at:
                problems.append(f"line {following}: key point missing from the list")
            following += 1
    return problems


PARTS = read_parts(PARTS_FILE.read_text(encoding="utf-8"))
COVERAGE = read_coverage(COVERAGE_FILE.read_text(encoding="utf-8"))


def find_seed() -> Path | None:
    for folder in ROOT.parents:
        candidate = folder / "shared" / "seeds" / SEED_NAME
        if candidate.is_file():
            return candidate
    return None


SEED = find_seed()
needs_seed = pytest.mark.skipif(SEED is None, reason=f"the lesson text (shared/seeds/{SEED_NAME}) is not next to this checkout")


def test_the_parts_list_is_well_formed():
    assert parts_list_problems(PARTS) == []


def test_coverage_has_a_true_row_for_every_lesson_part():
    problems = coverage_problems(COVERAGE, PARTS, EPISODES)
    assert not problems, "COVERAGE.md:\n" + "\n".join(problems)


@needs_seed
def test_the_list_was_made_from_this_lesson_text():
    digest = hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert digest in PARTS_FILE.read_text(encoding="utf-8"), "the lesson text changed: extract lesson-parts.tsv again"


@needs_seed
def test_the_list_has_every_part_of_the_lesson_text():
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    problems = seed_problems(lines, PARTS)
    assert not problems, "lesson-parts.tsv:\n" + "\n".join(problems)


# --- the checks find what they are meant to find -------------------------------------------------

def without(rows, part):
    return [row for row in rows if row[0] != part]


def test_coverage_check_finds_a_missing_a_stray_and_a_doubled_row():
    coverage = {title: list(rows) for title, rows in COVERAGE.items()}
    first = coverage["Overview"][0]
    coverage["Overview"] = without(coverage["Overview"], first[0]) + [("Not a lesson part", *first[1:])]
    coverage["Preparing to train a model"].append(coverage["Preparing to train a model"][0])
    problems = "\n".join(coverage_problems(coverage, PARTS, EPISODES))
    assert f"Overview: no row for {first[0]!r}" in problems
    assert "'Not a lesson part', which the lesson does not have" in problems
    assert "Preparing to train a model: 2 rows for" in problems


def test_coverage_check_finds_wrong_places_and_stale_plans():
    coverage = {title: list(rows) for title, rows in COVERAGE.items()}
    part, kind, _, _ = coverage["Overview"][1]
    coverage["Overview"][1] = (part, kind, "01-overview.ipynb § No such heading", "kept")
    part, kind, _, _ = coverage["Overview"][2]
    coverage["Overview"][2] = (part, kind, "planned: episode 01", "planned")
    part, kind, where, _ = coverage["Overview"][3]
    coverage["Overview"][3] = (part, kind, where, "improved")
    part, kind, _, how = coverage["Overview"][4]
    coverage["Overview"][4] = (part, "exercise", "99-missing.ipynb § Questions", how)
    problems = "\n".join(coverage_problems(coverage, PARTS, EPISODES))
    assert "01-overview.ipynb has no heading 'No such heading'" in problems
    assert "says planned, but 01-overview.ipynb exists" in problems
    assert "say what was improved" in problems
    assert "99-missing.ipynb does not exist" in problems and "not a exercise" in problems


def test_coverage_check_finds_missing_episode_sections():
    coverage = {title: rows for title, rows in COVERAGE.items() if title != "OOD detection: energy"}
    problems = "\n".join(coverage_problems(coverage, PARTS, EPISODES))
    assert "OOD detection: energy: no row for" in problems and "one '## <title>' per lesson episode" in problems


TOY_LESSON = """Content from First
Questions
Intro
Discussion
talk about it
Content from Second
Questions
Challenge
do it
Key Points
- one
- two""".splitlines()


def toy_parts(drop=None):
    parts = [
        (1, "First", 1, [{"kind": "objective/question", "part": "Q", "line": "2", "seed_text": "Questions"},
                         {"kind": "section", "part": "Intro", "line": "3", "seed_text": ""},
                         {"kind": "discussion", "part": "Discussion: talk", "line": "4", "seed_text": "Discussion"}]),
        (2, "Second", 6, [{"kind": "exercise", "part": "Challenge: do", "line": "8", "seed_text": "Challenge"},
                          {"kind": "key point", "part": "Key point: one", "line": "11", "seed_text": "one"},
                          {"kind": "key point", "part": "Key point: two", "line": "12", "seed_text": "two"}]),
    ]
    return [(n, t, line, [row for row in rows if row["part"] != drop]) for n, t, line, rows in parts]


def test_seed_check_accepts_a_complete_list_and_finds_dropped_parts():
    assert seed_problems(TOY_LESSON, toy_parts()) == []
    assert seed_problems(TOY_LESSON, toy_parts(drop="Discussion: talk")) == [
        "line 4 ('Discussion') is a lesson part missing from the list"
    ]
    assert seed_problems(TOY_LESSON, toy_parts(drop="Key point: two")) == ["line 12: key point missing from the list"]
    moved = toy_parts()
    moved[0][3][1]["line"] = "5"
    assert "First: line 5 does not say 'Intro'" in seed_problems(TOY_LESSON, moved)


def test_every_lesson_part_is_covered_now_that_all_sixteen_episodes_exist():
    """The last pass: no row says planned (every part is kept, improved, or replaced with a reason)."""
    assert len(list((ROOT / "episodes").glob("[0-1][0-9]-*.ipynb"))) == 16
    rows = [line for line in (ROOT / "episodes" / "COVERAGE.md").read_text().splitlines() if line.startswith("| ")]
    planned = [row for row in rows if "planned" in row.split("|")[-2]]
    assert not planned, f"{len(planned)} rows still say planned, e.g. {planned[0]}"
