"""The docstring examples of trustml.hardness run and print what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import trustml.hardness

MODULES = sorted(m.name for m in pkgutil.iter_modules(trustml.hardness.__path__, "trustml.hardness."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
