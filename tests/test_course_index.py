"""`trustml run --output DIR` writes DIR/index.html: every episode run, its questions, run time and status."""

from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from trustml import cli
from trustml.episodes import EpisodeRun, episode_questions, write_index


def notebook(path, title, questions, code):
    nb = new_notebook(
        cells=[
            new_markdown_cell(f"# {title}\n\n*A tiny episode.*"),
            new_markdown_cell("> **Questions**\n>\n" + "".join(f"> - {q}\n" for q in questions) + ">\n> Read on."),
            new_markdown_cell("> **Objectives**\n>\n> - Not a question."),
            new_code_cell(code),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "episodes"
    folder.mkdir()
    notebook(folder / "01-first.ipynb", "First <steps>", ["Why *trust* a model?", "Who decides & how?"], "x = 1")
    notebook(folder / "02-second.ipynb", "Second", ["What breaks?"], "raise RuntimeError('broken on purpose')")
    return folder


class Page(HTMLParser):
    """Collects the table's rows (cell texts), the links and anything that would load from elsewhere."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self.remote, self.questions = [], [], [], []
        self._row = self._cell = None
        self._in_li = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = []
        elif tag == "td":
            self._cell = ""
        elif tag == "li":
            self._in_li = True
            self.questions.append("")
        elif tag == "a":
            self.links.append(attrs["href"])
        for name in ("src", "href"):
            if "//" in attrs.get(name, ""):
                self.remote.append((tag, attrs[name]))
        if tag in {"script", "link", "img", "iframe"}:
            self.remote.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "td":
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)
        elif tag == "li":
            self._in_li = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in_li:
            self.questions[-1] += data


def read_page(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_episode_questions_reads_the_questions_callout(course):
    assert episode_questions(course / "01-first.ipynb") == ["Why *trust* a model?", "Who decides & how?"]
    plain = new_notebook(cells=[new_markdown_cell("## Questions\n\n- One?\n* Two?\n\n## Next")])
    nbformat.write(plain, course / "plain.ipynb")
    assert episode_questions(course / "plain.ipynb") == ["One?", "Two?"]
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), course / "none.ipynb")
    assert episode_questions(course / "none.ipynb") == []


def test_run_writes_an_index_of_the_episodes(capsys, course, tmp_path):
    output = tmp_path / "build"
    code = cli.main(["run", "--episodes-dir", str(course), "--output", str(output), "--fast"])
    out, _ = capsys.readouterr()
    assert code == 1  # the second episode fails, and the index still lists it
    assert f"Index of the rendered episodes: {output / 'index.html'}" in out
    page = read_page(output / "index.html")
    assert page.remote == []  # plain HTML: nothing loads from the network
    (first, second) = page.rows
    assert first[:2] == ["01", "First <steps> (notebook)"] and first[4] == "ok"
    assert second[:2] == ["02", "Second (notebook)"] and second[4] == "failed"
    assert page.questions == ["Why *trust* a model?", "Who decides & how?", "What breaks?"]
    assert first[3].endswith(" s fast") and float(first[3].split()[0]) > 0
    assert set(page.links) == {"01-first.html", "01-first.ipynb", "02-second.html", "02-second.ipynb"}
    assert all((output / link).is_file() for link in page.links)
    text = (output / "index.html").read_text()
    assert "First &lt;steps&gt;" in text and "Who decides &amp; how?" in text  # escaped, not markup
    assert "2 episode(s) executed" in text and "1 failed" in text


def test_the_index_reports_the_measured_times_and_leaves_out_links_to_missing_files(course, tmp_path):
    runs = [
        EpisodeRun(course / "01-first.ipynb", 12.34, None, None, False),
        EpisodeRun(course / "02-second.ipynb", 3.0, None, "boom", True),
    ]
    page = read_page(write_index(runs, tmp_path / "out", title="Workshop"))
    assert [row[3] for row in page.rows] == ["12.3 s full", "3.0 s fast"]
    assert page.links == []  # nothing was rendered into that folder
    assert "<title>Workshop</title>" in (tmp_path / "out" / "index.html").read_text()
