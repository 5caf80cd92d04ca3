import pytest

from trustml.simulations import simulate_patrols
from trustml.source import show_source


class Example:
    """Class docstring."""

    def method(self):
        """Method docstring."""
        return 1


def test_shows_the_code_without_the_docstring():
    code = show_source(simulate_patrols)
    assert code.data.startswith("def simulate_patrols(")
    assert "for _ in range(days):" in code.data
    assert "Returns" not in code.data and '"""' not in code.data
    assert 'class="highlight' in code._repr_html_()  # syntax-highlighted in a notebook


def test_keeps_docstrings_when_asked():
    assert "Returns" in show_source(simulate_patrols, docstring=True).data


def test_strips_nested_docstrings_of_classes():
    text = show_source(Example).data
    assert "docstring" not in text and "return 1" in text


def test_refuses_things_without_source():
    with pytest.raises(TypeError, match="not the result of calling it"):
        show_source(simulate_patrols(days=2))
