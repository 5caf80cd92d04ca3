"""Every docstring example in trustml runs and prints what it claims (offline, in the tests' own data dir)."""

import doctest
import importlib
import pkgutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

import trustml

MODULES = sorted(m.name for m in pkgutil.walk_packages(trustml.__path__, "trustml."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.filterwarnings("ignore::trustml.data.DataNotice")  # offline, load("mnist") says it uses digits
@pytest.mark.parametrize("name", ["trustml", *MODULES])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    plt.close("all")
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see above)"


def test_the_public_api_has_examples():
    finder = doctest.DocTestFinder()
    examples = sum(
        len(test.examples) for name in ["trustml", *MODULES] for test in finder.find(importlib.import_module(name))
    )
    assert examples > 200
