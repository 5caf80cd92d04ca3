"""Interactive views of the course: core ipywidgets over pure drawing functions.

Every widget here is a :class:`ViewWidget`: a row of controls over a plain
function that draws the same view for given values. The function is public
too, so each view also renders statically (in HTML exports, in tests, and where
widgets do not render).
"""

from trustml.widgets._view import ViewWidget
from trustml.widgets.hardness import HardnessGrid, data_map_explorer, hardness_type_explorer

__all__ = ["HardnessGrid", "ViewWidget", "data_map_explorer", "hardness_type_explorer"]
