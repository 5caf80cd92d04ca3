"""The real path of the GradCAM episode: a torchvision ImageNet classifier and a photo to explain.

Weights come from torch's own cache (``torch.hub.get_dir()/checkpoints``), where
torchvision puts them; they are downloaded (by torchvision, checking the hash in
the file's name) only when trustml is not offline. Class names come from the
weights' metadata, never from text fetched from the web. The photos are the two
that scikit-learn ships (CC BY 2.0), or any image file you give.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from torch import nn

__all__ = ["PretrainedClassifier", "WeightsNotAvailableError", "cached_weights", "imagenet_classifier", "load_image"]

SAMPLE_IMAGES = {
    "china": "a temple in China, with trees and sky (scikit-learn's china.jpg; CC BY 2.0, danielbuechele on Flickr)",
    "flower": "a flower in close-up (scikit-learn's flower.jpg; CC BY 2.0, from Flickr)",
}


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights were asked for and are neither cached nor allowed to be downloaded."""


@dataclass(frozen=True, repr=False)
class PretrainedClassifier:
    """A torchvision classifier with its weights, class names and input normalisation.

    Attributes
    ----------
    model : torch.nn.Module
        In eval mode, on the CPU.
    weights : torchvision.models.WeightsEnum
        The weights loaded, e.g. ``ResNet50_Weights.IMAGENET1K_V2``.
    class_names : list of str
        ``weights.meta["categories"]``.
    preprocess : torchvision.transforms.Normalize
        The normalisation the model expects of [0, 1] images (give it to
        :func:`trustml.explain.cam` as ``preprocess=``).
    """

    model: nn.Module
    weights: object
    class_names: list
    preprocess: nn.Module

    def __repr__(self) -> str:
        return f"PretrainedClassifier({self.weights}, {len(self.class_names)} classes)"


def _weights_enum(arch: str):
    import torchvision

    if not isinstance(arch, str):
        raise TypeError(f"arch must be a torchvision model name (str), e.g. 'resnet50'; got {arch!r}.")
    names = torchvision.models.list_models(module=torchvision.models)
    if arch not in names:
        close = difflib.get_close_matches(arch, names, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"{arch!r} is not a torchvision classification model.{hint}")
    return torchvision.models.get_model_weights(arch)


def _checkpoint(weights) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def cached_weights(arch: str = "resnet50") -> list[str]:
    """The names of ``arch``'s pretrained weights that are in torch's cache (default first).

    Examples
    --------
    >>> from trustml.explain import cached_weights
    >>> isinstance(cached_weights("resnet50"), list)
    True
    """
    enum = _weights_enum(arch)
    ordered = [enum.DEFAULT, *[w for w in enum if w is not enum.DEFAULT]]
    return [w.name for w in ordered if _checkpoint(w).is_file()]


def imagenet_classifier(arch: str = "resnet50", *, weights: str | None = None) -> PretrainedClassifier:
    """A torchvision ImageNet classifier with its weights, from torch's cache or downloaded when allowed.

    Parameters
    ----------
    arch : str, default "resnet50"
        A torchvision classification model (``torchvision.models.list_models()``).
    weights : str, optional
        Which weights (e.g. ``"IMAGENET1K_V1"``, the lesson's ``pretrained=True``).
        Default: cached ones (``DEFAULT`` first), else ``DEFAULT``.

    Returns
    -------
    PretrainedClassifier

    Raises
    ------
    WeightsNotAvailableError
        When the weights are not cached and trustml is offline
        (``TRUSTML_OFFLINE=1``): nothing is downloaded then.

    Examples
    --------
    >>> from trustml.explain import cached_weights, imagenet_classifier
    >>> if cached_weights("resnet50"):  # never downloads here
    ...     resnet = imagenet_classifier("resnet50")
    """
    import torchvision
    from torchvision.transforms import Normalize

    from trustml import settings

    enum = _weights_enum(arch)
    if weights is None:
        cached = cached_weights(arch)
        chosen = enum[cached[0]] if cached else enum.DEFAULT
    else:
        names = [w.name for w in enum]
        if weights not in names:
            raise ValueError(f"weights={weights!r} are not weights of {arch}: they are {names}.")
        chosen = enum[weights]
    path = _checkpoint(chosen)
    if not path.is_file() and settings().offline:
        raise WeightsNotAvailableError(
            f"The {arch} weights {chosen.name} are not in torch's cache ({path}) and trustml is offline "
            f"(TRUSTML_OFFLINE=1), so nothing is downloaded. Get them once where there is a network: "
            f"TRUSTML_OFFLINE=0 python -c \"from trustml.explain import imagenet_classifier; "
            f"imagenet_classifier('{arch}')\" (about {chosen.meta.get('_file_size', '?')} MB)."
        )
    model = torchvision.models.get_model(arch, weights=None)
    state = torch.hub.load_state_dict_from_url(
        chosen.url, model_dir=str(path.parent), progress=True, check_hash=True, map_location="cpu", weights_only=True
    )
    model.load_state_dict(state)
    model.eval()
    transform = chosen.transforms()
    return PretrainedClassifier(
        model=model,
        weights=chosen,
        class_names=list(chosen.meta["categories"]),
        preprocess=Normalize(mean=transform.mean, std=transform.std),
    )


def load_image(source: str | Path = "china", *, size: int = 224) -> torch.Tensor:
    """A photo as a (3, size, size) tensor in [0, 1]: centre-cropped to a square and resized.

    Parameters
    ----------
    source : str or path, default "china"
        ``"china"`` or ``"flower"``, the two photos that ship with scikit-learn
        (CC BY 2.0; see ``SAMPLE_IMAGES``), or the path of an image file
        (e.g. the lesson's ``both.png`` from pytorch-grad-cam's examples, once
        you have a copy).
    size : int, default 224
        Side of the result (ImageNet models take 224).

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> from trustml.explain import load_image
    >>> load_image("china").shape
    torch.Size([3, 224, 224])
    """
    from PIL import Image

    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an integer of at least 8 pixels, got {size!r}.")
    if isinstance(source, str) and source in SAMPLE_IMAGES:
        from sklearn.datasets import load_sample_image

        image = Image.fromarray(load_sample_image(f"{source}.jpg"))
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(
                f"No image file at {str(path)!r}: give the path of an image, or one of {list(SAMPLE_IMAGES)} "
                "(the photos that ship with scikit-learn)."
            )
        image = Image.open(path)
    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()
