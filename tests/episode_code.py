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
