"""Every widget episode works in a real browser: JupyterLab in headless Chromium, each control moved once.

``tools/browser_check.py`` runs the episode (fast, offline) in JupyterLab, moves every control of every
widget and checks that what is displayed changes; screenshots land in ``build/browser/<episode>/``. It
needs Playwright's Python package (a dev dependency) and a Chromium (Debian's ``chromium``; no browser is
ever downloaded). Without them the tests skip, saying why; ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from trustml.episodes import find_episodes

ROOT = Path(__file__).resolve().parents[1]


def widget_episodes():
    """The episodes that show a widget: a code cell that imports from trustml.widgets."""
    found = []
    for notebook in find_episodes():
        cells = nbformat.read(notebook, as_version=4).cells
        if any(c.cell_type == "code" and "trustml.widgets" in c.source for c in cells):
            found.append(notebook)
    return found


def browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install playwright)"
    if shutil.which("chromium") is None:
        return "no Chromium on the PATH (Debian: apt-get install chromium; .ci/run installs it)"
    return None


def test_the_course_has_widget_episodes():
    names = [nb.stem[:2] for nb in widget_episodes()]
    assert {"03", "04", "06"} <= set(names)


@pytest.mark.browser
@pytest.mark.parametrize("notebook", widget_episodes(), ids=[nb.stem for nb in widget_episodes()])
def test_every_control_of_every_widget_redraws_in_chromium(notebook):
    missing = browser_missing()
    if missing:
        pytest.skip(f"browser test not run: {missing}")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import browser_check
    finally:
        sys.path.pop(0)
    out = ROOT / "build" / "browser" / notebook.stem
    report = browser_check.check(notebook, out, fast=True, timeout=900, log=print)
    assert not report.errors, "\n".join(report.errors)
    assert report.widgets >= 1 and report.controls, f"no widget found in {notebook.name} (screenshots in {out})"
    still = [f"widget {c.widget} {c.kind} {c.label!r}" for c in report.controls if not c.changed]
    assert not still, f"controls that did not change the view: {still} (screenshots in {out})"
