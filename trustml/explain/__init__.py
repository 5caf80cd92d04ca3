"""Explaining models: class activation maps through pytorch-grad-cam, and the checks they need.

Compute: :func:`cam` (any of pytorch-grad-cam's methods, :data:`CAM_METHODS`,
for any class by index or by name; :func:`suggest_target_layer` names the last
convolutional layer, :func:`class_index` finds a class by name). Look:
:func:`overlay`, :func:`plot_cams`, :func:`cam_view` (the view behind
``trustml.widgets.cam_explorer``). Measure: :func:`make_cluttered_digits` makes
digits with known boxes and a spurious marker, :func:`pointing_game` scores maps
against boxes. Check: :func:`randomization_check` (Adebayo et al. 2018) and
:func:`road` (ROAD, through pytorch-grad-cam). The real path:
:func:`imagenet_classifier` (torchvision weights from torch's cache) and
:func:`load_image`.

>>> import torch
>>> from trustml.explain import cam
>>> from trustml.models import SimpleCNN
>>> result = cam(SimpleCNN(), torch.rand(2, 1, 28, 28), method="gradcam++", target_layer="body.4", device="cpu")
>>> result.maps.shape
(2, 28, 28)
"""

from trustml.explain._cam import (
    CAM_METHODS,
    CAMNotice,
    CAMResult,
    cam,
    class_index,
    overlay,
    suggest_target_layer,
)
from trustml.explain._cam_checks import RandomizationCheck, randomization_check, road
from trustml.explain._cam_views import CAMFigure, cam_view, plot_cams, plot_randomization_check
from trustml.explain._cluttered import MARKER_COLOURS, ClutteredDigits, make_cluttered_digits, pointing_game
from trustml.explain._pretrained import (
    SAMPLE_IMAGES,
    PretrainedClassifier,
    WeightsNotAvailableError,
    cached_weights,
    imagenet_classifier,
    load_image,
)

__all__ = [
    "CAM_METHODS",
    "CAMNotice",
    "CAMFigure",
    "CAMResult",
    "MARKER_COLOURS",
    "ClutteredDigits",
    "PretrainedClassifier",
    "RandomizationCheck",
    "SAMPLE_IMAGES",
    "WeightsNotAvailableError",
    "cached_weights",
    "cam",
    "cam_view",
    "class_index",
    "imagenet_classifier",
    "load_image",
    "make_cluttered_digits",
    "overlay",
    "plot_cams",
    "plot_randomization_check",
    "pointing_game",
    "randomization_check",
    "road",
    "suggest_target_layer",
]
