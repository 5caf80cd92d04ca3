"""Show library code in a notebook, highlighted, without the parts a learner need not read.

A few episodes keep a model in the library (so that it is tested) but want
learners to read it: ``show_source(simulate_patrols)`` displays the function
with syntax highlighting and without its docstring, which the notebook's text
already replaces.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

__all__ = ["show_source"]


def show_source(obj, *, docstring=False):
    """Return the source of a function or class for display, syntax-highlighted in Jupyter.

    Parameters
    ----------
    obj : function, method or class
    docstring : bool, default False
        Keep the docstrings (of the object and of any function or class in it).

    Returns
    -------
    IPython.display.Code
        Renders highlighted in a notebook; ``.data`` holds the plain text.

    Examples
    --------
    >>> from trustml.simulations import simulate_patrols
    >>> code = show_source(simulate_patrols)
    >>> "for _ in range(days)" in code.data, "Examples" in code.data
    (True, False)
    """
    from IPython.display import Code

    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj)):
        raise TypeError(
            f"show_source shows functions, methods and classes, not {type(obj).__name__} objects: "
            "pass the function itself, e.g. show_source(simulate_patrols), not the result of calling it."
        )
    source = textwrap.dedent(inspect.getsource(obj))
    if not docstring:
        source = _without_docstrings(source)
    return Code(source, language="python")


def _without_docstrings(source: str) -> str:
    """Drop the docstring lines of every function and class defined in ``source``."""
    drop: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and len(node.body) > 1:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                drop.update(range(first.lineno, first.end_lineno + 1))
    return "".join(line for number, line in enumerate(source.splitlines(keepends=True), 1) if number not in drop)
