"""Helpers for the table-driven bad-input tests: the error is trustml's own, raised before any dependency."""

from __future__ import annotations

import re
import traceback
import warnings
from pathlib import Path

import matplotlib
import pytest

import trustml

matplotlib.use("Agg")
PACKAGE = Path(trustml.__file__).parent


def assert_refused(call, error: type, phrase: str) -> BaseException:
    """``call()`` raises ``error`` whose message matches ``phrase`` (a regex), from a ``raise`` in trustml.

    The innermost frame must be a ``raise`` statement in trustml's code: the message is trustml's, not a
    traceback from inside numpy, torch, scikit-learn, fairlearn or AIF360 (nor a Python error in trustml);
    and no figure was left drawn (a view checks its arguments before it draws).
    """
    import matplotlib.pyplot as plt

    figures = set(plt.get_fignums())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a bad input warns nothing on its way to the error
        with pytest.raises(error) as info:
            call()
    left = set(plt.get_fignums()) - figures
    plt.close("all")
    assert not left, "a figure was drawn before the input was refused"
    message = str(info.value)
    assert re.search(phrase, message), f"message {message!r} does not match {phrase!r}"
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert Path(frame.filename).is_relative_to(PACKAGE), f"raised in {frame.filename}:{frame.lineno}: {message}"
    assert frame.line.lstrip().startswith("raise"), f"not a trustml message ({frame.filename}:{frame.lineno})"
    return info.value


def assert_warns(call, phrase: str):
    """``call()`` emits exactly one UserWarning matching ``phrase`` and returns a result; it is returned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    messages = [str(w.message) for w in caught]
    assert len(caught) == 1 and issubclass(caught[0].category, UserWarning), messages
    assert re.search(phrase, messages[0]), f"warning {messages[0]!r} does not match {phrase!r}"
    return result
