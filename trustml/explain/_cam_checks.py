"""Sanity checks for saliency maps: model-parameter randomisation and ROAD.

Adebayo et al. (2018) ask whether a map depends on what the model learned:
re-initialise the weights layer by layer from the output down ("cascading") and
measure how similar each new map is to the original. A map that stays the same
explains the image, not the model. ROAD (Rong et al. 2022; pytorch-grad-cam's
``metrics.road``) asks whether the map is faithful: removing the pixels it
ranks most relevant should hurt the model's confidence more than removing those
it ranks least relevant.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from trustml.explain._cam import _as_images, _device_of, _record_outputs, _resolve_layer, _with_preprocess, cam

__all__ = ["RandomizationCheck", "randomization_check", "road"]

ROAD_PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


@dataclass(frozen=True, repr=False)
class RandomizationCheck:
    """The maps of a model whose layers were randomised one after another, and their similarity to the original.

    Attributes
    ----------
    steps : list of str
        ``"original"``, then the layer randomised at each step (cumulative:
        step ``k`` has the top ``k`` layers randomised).
    maps : numpy.ndarray
        ``(steps, N, H, W)`` the maps at each step.
    spearman : numpy.ndarray
        ``(steps, N)`` Spearman rank correlation of each map with the
        original one (NaN where a map is constant, so has no ranking).
    classes : numpy.ndarray
        ``(N,)`` the class explained at every step (the original model's
        prediction by default).
    method : str
    target_layer : str or None
    """

    steps: list
    maps: np.ndarray
    spearman: np.ndarray
    classes: np.ndarray
    method: str
    target_layer: str | None

    @property
    def summary(self) -> pd.DataFrame:
        """Mean and spread of the rank correlation per step, and how many maps were constant."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a step whose maps are all constant has no mean
            frame = pd.DataFrame(
                {
                    "layers randomised": np.arange(len(self.steps)),
                    "mean Spearman": np.nanmean(self.spearman, axis=1),
                    "sd": np.nanstd(self.spearman, axis=1),
                    "constant maps": np.isnan(self.spearman).sum(axis=1),
                },
                index=pd.Index(self.steps, name="randomised down to"),
            )
        return frame

    def __repr__(self) -> str:
        return f"RandomizationCheck({self.method}, {self.maps.shape[1]} image(s), {len(self.steps) - 1} layers)"


def _weighted_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Names of the convolution and linear layers of ``model``, from the output back to the input."""
    layers = {
        name: m for name, m in model.named_modules()
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)) and hasattr(m, "reset_parameters")
    }
    was_training = model.training
    model.eval()
    try:
        _, calls = _record_outputs(model, x, layers)
    finally:
        model.train(was_training)
    order = list(dict.fromkeys(name for name, _ in calls))
    return order[::-1]


def _spearman(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    from scipy.stats import spearmanr

    out = np.full(len(reference), np.nan)
    for i, (a, b) in enumerate(zip(reference, other)):
        a, b = a.ravel(), b.ravel()
        if np.ptp(a) > 0 and np.ptp(b) > 0:
            out[i] = spearmanr(a, b).statistic
    return out


def randomization_check(
    model: nn.Module,
    images,
    *,
    target=None,
    method: str = "gradcam",
    target_layer=None,
    class_names: Sequence[str] | None = None,
    preprocess: Callable | None = None,
    device=None,
    seed: int = 0,
) -> RandomizationCheck:
    """Adebayo et al.'s cascading model-parameter randomisation test for a CAM method.

    A copy of the model is randomised layer by layer, from the output layer
    down to the input (every convolution and linear layer, re-initialised with
    PyTorch's default initialisation; normalisation layers are kept), and the
    maps for the same classes are computed after each step with :func:`cam`.
    A map that depends on the learned weights changes (its rank correlation
    with the original falls); one that stays similar explains the image, not
    the model. The model itself is not changed.

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor
        ``(N, C, H, W)`` in [0, 1].
    target, method, target_layer, class_names, preprocess, device
        As for :func:`cam`. ``target`` defaults to the original model's
        predicted classes, which stay the explained classes at every step.
    seed : int, default 0
        Seeds the re-initialisation.

    Returns
    -------
    RandomizationCheck
        ``summary`` is a table of the mean rank correlation per step.

    Examples
    --------
    >>> import torch
    >>> from trustml import set_seed
    >>> from trustml.explain import randomization_check
    >>> from trustml.models import SimpleCNN
    >>> set_seed(0)
    >>> model = SimpleCNN(num_classes=3)
    >>> check = randomization_check(model, torch.rand(2, 1, 28, 28), target_layer="body.4", device="cpu")
    >>> check.steps
    ['original', 'head.1', 'body.4', 'body.0']
    >>> round(float(check.summary["mean Spearman"].iloc[0]), 6)  # the original against itself
    1.0
    """
    from trustml.training import _as_device

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    images = _as_images(images)
    device = None if device is None else _as_device(device)
    options = dict(method=method, class_names=class_names, preprocess=preprocess, device=device)
    if target_layer is not None and not isinstance(target_layer, str):
        target_layer = _resolve_layer(model, target_layer)[0]  # a name: it names the same layer in each copy
    original = cam(model, images, target=target, target_layer=target_layer, **options)
    layer = original.target_layer
    randomised = copy.deepcopy(model)
    net = _with_preprocess(randomised, preprocess)
    offset = len("model.") if net is not randomised else 0
    layers = [name[offset:] for name in _weighted_layers(net, images[:1].to(_device_of(net)))]
    modules = dict(randomised.named_modules())
    steps, maps = ["original"], [original.maps]
    with torch.random.fork_rng(devices=[]):
        for k, name in enumerate(layers):
            torch.manual_seed(seed + k)
            modules[name].reset_parameters()
            maps.append(cam(randomised, images, target=original.classes, target_layer=layer, **options).maps)
            steps.append(name)
    maps = np.stack(maps)
    spearman = np.stack([_spearman(original.maps, m) for m in maps])
    return RandomizationCheck(
        steps=steps, maps=maps, spearman=spearman, classes=original.classes, method=original.method,
        target_layer=layer,
    )


def road(
    model: nn.Module,
    images,
    maps,
    *,
    target,
    class_names: Sequence[str] | None = None,
    preprocess: Callable | None = None,
    percentiles: Sequence[int] = ROAD_PERCENTILES,
    device=None,
    seed: int = 0,
) -> pd.DataFrame:
    """ROAD faithfulness of maps (Rong et al. 2022), with pytorch-grad-cam's ``metrics.road``.

    For each percentile p, the pixels the map ranks in its top (100 - p)%
    (*most relevant first*, MoRF) or bottom p% (*least relevant first*,
    LeRF) are replaced by a noisy linear imputation of their neighbours, and
    the change of the model's softmax probability for ``target`` is measured;
    each is averaged over ``percentiles``. A faithful map makes MoRF drop the
    probability and LeRF keep it: ``combined = (LeRF - MoRF) / 2`` is higher
    for a more faithful map (pytorch-grad-cam's ``ROADCombined``).

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor
        ``(N, C, H, W)`` in [0, 1] (imputed in this space, before ``preprocess``).
    maps : numpy.ndarray
        ``(N, H, W)`` maps, e.g. ``cam(...).maps``.
    target : int, str or sequence of them
        The class whose probability is measured, e.g. ``cam(...).classes``.
    class_names, preprocess, device
        As for :func:`cam`.
    percentiles : sequence of int, default 10, 20, ..., 90
    seed : int, default 0
        Seeds the imputation's noise.

    Returns
    -------
    pandas.DataFrame
        One row per image: ``most_relevant_first``, ``least_relevant_first``
        (mean changes of the probability) and ``combined``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml import set_seed
    >>> from trustml.explain import road
    >>> from trustml.models import SimpleCNN
    >>> set_seed(0)
    >>> scores = road(SimpleCNN(num_classes=3), torch.rand(2, 1, 16, 16), np.random.rand(2, 16, 16),
    ...               target=0, percentiles=[50], device="cpu")
    >>> list(scores.columns)
    ['most_relevant_first', 'least_relevant_first', 'combined']
    """
    from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirstAverage, ROADMostRelevantFirstAverage
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    from trustml import get_device
    from trustml.explain._cam import _resolve_targets
    from trustml.training import _as_device

    if target is None:
        raise ValueError("target is needed: the classes whose probability ROAD measures, e.g. cam(...).classes.")
    images = _as_images(images)
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape != (images.shape[0], *images.shape[2:]):
        raise ValueError(
            f"maps has shape {maps.shape} but the images need (N, H, W) = "
            f"{(images.shape[0], *images.shape[2:])}: one map per image, at the image's size."
        )
    if not np.isfinite(maps).all():
        raise ValueError("maps has NaN or infinite values.")
    percentiles = list(percentiles)
    if not percentiles or any(
        isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 0 < p < 100 for p in percentiles
    ):
        raise ValueError(f"percentiles must be integers strictly between 0 and 100, got {percentiles!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    device = get_device() if device is None else _as_device(device)
    net = _with_preprocess(model, preprocess)
    was_training = model.training
    model.to(device)
    net.eval()
    try:
        x = images.to(device)
        with torch.no_grad():
            num_classes = net(x[:1]).shape[1]
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f"class_names has {len(class_names)} names but the model outputs {num_classes} logits.")
        classes = _resolve_targets(target, len(x), num_classes, class_names, np.zeros(len(x), dtype=np.int64))
        targets = [ClassifierOutputSoftmaxTarget(int(k)) for k in classes]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            lerf = ROADLeastRelevantFirstAverage(percentiles)(x, maps, targets, net)
            morf = ROADMostRelevantFirstAverage(percentiles)(x, maps, targets, net)
    finally:
        model.train(was_training)
    lerf, morf = np.asarray(lerf, dtype=float).ravel(), np.asarray(morf, dtype=float).ravel()
    return pd.DataFrame(
        {"most_relevant_first": morf, "least_relevant_first": lerf, "combined": (lerf - morf) / 2}
    )
