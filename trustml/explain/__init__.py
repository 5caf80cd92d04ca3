"""Explaining models: class activation maps (through pytorch-grad-cam) and the checks they need.

:func:`cam` computes a map with any of pytorch-grad-cam's methods for any class
(by index or name), :func:`overlay` draws it over the image.
:func:`make_cluttered_digits` makes digits on a canvas with known boxes and a
spurious marker, and :func:`pointing_game` scores maps against the boxes.
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
