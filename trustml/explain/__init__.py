"""Explaining models: interpretable baselines, model-agnostic methods, probes of a network's layers, and CAMs.

Probes: :func:`load_encoder` and :func:`sentence_embeddings` embed sentences at
any layer of a Hugging Face encoder; :func:`probe_layers` fits a probe per layer
with the controls the probing literature requires.

>>> from trustml.explain import load_encoder, sentence_embeddings
>>> encoder = load_encoder("embedded")    # all-MiniLM-L6-v2, shipped in a pip package

Class activation maps: :func:`cam` computes a map with any of pytorch-grad-cam's
methods (:data:`CAM_METHODS`) for any class by index or by name
(:func:`class_index`), at the last convolutional layer unless told otherwise
(:func:`suggest_target_layer`); :func:`overlay`, :func:`plot_cams` and
:func:`cam_view` draw them. :func:`make_cluttered_digits` makes digits with
known boxes and a spurious marker, :func:`pointing_game` scores maps against
boxes; :func:`randomization_check` (Adebayo et al. 2018) and :func:`road` are
the sanity checks; :func:`imagenet_classifier` (torchvision weights from torch's
cache) and :func:`load_image` are the real path.

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
from trustml.explain._probes import (
    EMBEDDED_ENCODER,
    REAL_ENCODER,
    Encoder,
    control_task,
    load_encoder,
    make_probe,
    plot_probe_layers,
    plot_projection,
    probe_layers,
    project_embeddings,
    randomly_initialised,
    sentence_embeddings,
)
from trustml.explain._tabular import complexity_sweep, count_parameters, plot_complexity

__all__ = [
    "CAMFigure",
    "CAMNotice",
    "CAMResult",
    "CAM_METHODS",
    "ClutteredDigits",
    "EMBEDDED_ENCODER",
    "Encoder",
    "MARKER_COLOURS",
    "PretrainedClassifier",
    "REAL_ENCODER",
    "RandomizationCheck",
    "SAMPLE_IMAGES",
    "WeightsNotAvailableError",
    "cached_weights",
    "cam",
    "cam_view",
    "class_index",
    "complexity_sweep",
    "control_task",
    "count_parameters",
    "imagenet_classifier",
    "load_encoder",
    "load_image",
    "make_cluttered_digits",
    "make_probe",
    "overlay",
    "plot_cams",
    "plot_complexity",
    "plot_probe_layers",
    "plot_projection",
    "plot_randomization_check",
    "pointing_game",
    "probe_layers",
    "project_embeddings",
    "randomization_check",
    "randomly_initialised",
    "road",
    "sentence_embeddings",
    "suggest_target_layer",
]
