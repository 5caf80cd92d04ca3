"""Run an episode's code in the test process: the claims tests check what that code computes.

Every claims test reads its episode with :func:`episode`, runs its code cells with
:func:`run_code_cells` in one namespace, and the code of its collapsed solutions with
:func:`solutions` and :func:`run_solution`; the ``one_torch_thread`` fixture (in conftest.py)
keeps training on one thread.
"""

from __future__ import annotations

import re

import nbformat

from trustml.episodes import default_episodes_dir


def episode(stem: str):
    """The notebook ``episodes/<stem>.ipynb``."""
    return nbformat.read(default_episodes_dir() / f"{stem}.ipynb", as_version=4)


def run_code_cells(nb, namespace: dict, name: str) -> None:
    """Run the notebook's non-empty code cells, in order, in ``namespace``."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip():
            exec(compile(cell.source, f"<{name}>", "exec"), namespace)


def solutions(nb) -> list[str]:
    """The Python code blocks inside the collapsed solutions, in order."""
    blocks = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "<summary>Solution</summary>" in cell.source:
            blocks += re.findall(r"```python\n(.*?)```", cell.source, flags=re.S)
    return blocks


def run_solution(code: str, namespace: dict):
    """Run a solution block in ``namespace``; return the value of its last line (an expression)."""
    *body, last = code.strip().splitlines()
    exec(compile("\n".join(body), "<solution>", "exec"), namespace)
    return eval(compile(last, "<solution>", "eval"), namespace)


def markdown(nb) -> str:
    """All the notebook's Markdown, one string."""
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def run_offline(nb, name: str, data_dir, *, fast: bool) -> dict:
    """Run the notebook's code cells as a learner offline would, in fast or full mode; return the namespace.

    Data go to ``data_dir`` (nothing cached), and a ``DataNotice`` that escapes the episode is an error:
    episodes catch their own notices and print what they got instead.
    """
    import warnings

    import matplotlib.pyplot as plt
    import pytest

    from trustml.data import DataNotice

    namespace = {}
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        patch.setenv("TRUSTML_DATA", str(data_dir))
        patch.setenv("TRUSTML_OFFLINE", "1")
        if fast:
            patch.setenv("TRUSTML_FAST", "1")
        else:
            patch.delenv("TRUSTML_FAST", raising=False)
        run_code_cells(nb, namespace, name)
    plt.close("all")
    return namespace


def says(text: str, quote: str, name: str) -> None:
    """Assert that the Markdown ``text`` of episode ``name`` says ``quote`` (line breaks, indentation
    and block-quote marks count as one space)."""
    flat = re.sub(r"\s+", " ", text.replace(">", " "))
    assert re.sub(r"\s+", " ", quote) in flat, f"{name} no longer says {quote!r}: update this test"
