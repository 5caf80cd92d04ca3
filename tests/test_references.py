"""Every work an episode lists under "References" is cited in the episode's text."""

import re

import nbformat
import pytest

from trustml.episodes import find_episodes


def references_and_text(path):
    """The entries of the episode's "## References" list, and the rest of its Markdown."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    listed = [c for c in cells if c.startswith("## References")]
    text = "\n".join(c for c in cells if not c.startswith("## References"))
    entries = [line[2:] for c in listed for line in c.splitlines() if line.startswith("- ")]
    return entries, text


def ways_to_cite(entry: str) -> list[str]:
    """How the text may name a work: its first author's surname; for a document without
    authors, its italic title or the acronym in brackets after the organisation's name; the
    Carpentries lesson, and what it recommends, as "the lesson"."""
    if "The Carpentries" in entry or "the lesson recommends" in entry:
        return ["the lesson", "The lesson"]
    ways = [re.split(r"[,:(.]", entry, maxsplit=1)[0].strip()]
    ways += re.findall(r"\*([^*]+)\*", entry) + re.findall(r"\(([A-Z0-9]{2,})\)", entry)
    return ways


@pytest.mark.parametrize("path", find_episodes(), ids=lambda p: p.stem[:2])
def test_every_listed_reference_is_cited(path):
    entries, text = references_and_text(path)
    uncited = [entry for entry in entries if not any(way in text for way in ways_to_cite(entry))]
    assert not uncited, f"{path.name} lists works its text never cites: {uncited}"
