"""Interactive views of the course: core ipywidgets over pure drawing functions.

Every widget here is a :class:`ViewWidget`: a row of controls over a plain
function that draws the same view for given values. The function is public
too, so each view also renders statically (in HTML exports, in tests, and where
widgets do not render). Figures that a widget redraws on every move are
:class:`LiveFigure` s: built once, changed in place.
"""

from trustml._live import LiveFigure, figure_png
from trustml.widgets._view import ViewWidget
from trustml.widgets.cam import cam_explorer
from trustml.widgets.data_parameters import (
    category_grid_view,
    category_grid_widget,
    trajectory_view,
    trajectory_widget,
)
from trustml.widgets.fairness import threshold_explorer
from trustml.widgets.hardness import data_map_explorer, hardness_type_explorer
from trustml.widgets.ood import ood_class_picker, ood_threshold_explorer
from trustml.widgets.probes import LayerFigure, layer_explorer, layer_view

__all__ = [
    "LayerFigure",
    "LiveFigure",
    "ViewWidget",
    "cam_explorer",
    "category_grid_view",
    "category_grid_widget",
    "data_map_explorer",
    "figure_png",
    "hardness_type_explorer",
    "layer_explorer",
    "layer_view",
    "ood_class_picker",
    "ood_threshold_explorer",
    "threshold_explorer",
    "trajectory_view",
    "trajectory_widget",
]
