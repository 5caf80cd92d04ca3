"""The course's small model zoo.

Every model maps inputs to pre-softmax logits and has ``features(x)``, the
penultimate activations (what distance-based OOD detectors, prototypicality and
linear probes look at); ``forward(x)`` is ``head(features(x))``. Every model
remembers the arguments it was built with (``init_args``), so that
:mod:`trustml.release` can save it with a config that rebuilds it.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MLP", "LeNet", "SimpleCNN"]


def _recording_init_args(init):
    """Wrap a model's ``__init__`` so that it records its bound arguments (the outermost call's) first."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording_init(self, *args, **kwargs):
        if "_init_args" not in self.__dict__:  # a subclass's own __init__ recorded its arguments already
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            self.__dict__["_init_args"] = copy.deepcopy(dict(list(bound.arguments.items())[1:]))
        init(self, *args, **kwargs)

    return recording_init


def _check_positive(**values):
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _check_dropout(dropout):
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")


class _FeatureModel(nn.Module):
    """``forward(x) = head(features(x))``; subclasses set ``body`` and ``head``."""

    body: nn.Module
    head: nn.Module

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_init_args(cls.__init__)

    @property
    def init_args(self) -> dict:
        """The constructor's arguments, defaults filled in: ``type(model)(**model.init_args)`` builds a twin.

        Examples
        --------
        >>> MLP(20, 2, hidden=(16,)).init_args
        {'in_features': 20, 'num_classes': 2, 'hidden': (16,), 'dropout': 0.0}
        """
        return copy.deepcopy(self.__dict__["_init_args"])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations, shape ``(N, feature_dim)``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @property
    def feature_dim(self) -> int:
        """Width of :meth:`features`."""
        return self.head.in_features


class LeNet(_FeatureModel):
    """LeNet-5 style CNN (two conv + pool stages, two hidden dense layers).

    As in H-CAT's MNIST experiments, optional dropout follows each conv stage.

    Parameters
    ----------
    in_channels : int, default 1
    num_classes : int, default 10
    image_size : int, default 28
        Side of the square input images (divisible by 4).
    dropout : float, default 0.0

    Examples
    --------
    >>> import torch
    >>> LeNet()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, *, image_size: int = 28, dropout: float = 0.0):
        super().__init__()
        _check_positive(in_channels=in_channels, num_classes=num_classes, image_size=image_size)
        _check_dropout(dropout)
        if image_size % 4:
            raise ValueError(f"image_size must be divisible by 4 (two 2x2 poolings), got {image_size}.")
        side = image_size // 4
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(dropout),
            nn.Conv2d(6, 16, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(dropout),
            nn.Flatten(),
            nn.Linear(16 * side * side, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
        )
        self.head = nn.Linear(84, num_classes)


class SimpleCNN(_FeatureModel):
    """A small CNN: ``depth`` conv-BN-ReLU-pool stages, global average pooling, dropout, linear head.

    Parameters
    ----------
    in_channels : int, default 1
    num_classes : int, default 10
    width : int, default 32
        Channels of the first stage; each later stage doubles them.
    depth : int, default 2
    dropout : float, default 0.0
        Dropout before the head (kept active by MC dropout).

    Examples
    --------
    >>> import torch
    >>> model = SimpleCNN(in_channels=3, num_classes=2)
    >>> model.features(torch.zeros(4, 3, 32, 32)).shape
    torch.Size([4, 64])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        *,
        width: int = 32,
        depth: int = 2,
        dropout: float = 0.0,
    ):
        super().__init__()
        _check_positive(in_channels=in_channels, num_classes=num_classes, width=width, depth=depth)
        _check_dropout(dropout)
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(depth):
            out = width * 2**stage
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))

    @property
    def feature_dim(self) -> int:
        return self.head[-1].in_features

    @property
    def last_conv(self) -> nn.Conv2d:
        """The last convolution (the usual target layer of GradCAM)."""
        return [m for m in self.body if isinstance(m, nn.Conv2d)][-1]


class MLP(_FeatureModel):
    """A multi-layer perceptron for tabular data or flattened images.

    Parameters
    ----------
    in_features : int
        Input width (inputs with more dimensions are flattened).
    num_classes : int
    hidden : sequence of int, default (64, 64)
        Widths of the hidden layers; the last one is the feature width.
    dropout : float, default 0.0
        Dropout after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> MLP(20, 2, hidden=(16,))(torch.zeros(5, 20)).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_features: int, num_classes: int, *, hidden: Sequence[int] = (64, 64), dropout: float = 0.0):
        super().__init__()
        hidden = tuple(hidden)
        _check_positive(in_features=in_features, num_classes=num_classes)
        if not hidden:
            raise ValueError("hidden must name at least one layer width, e.g. hidden=(64,).")
        for width in hidden:
            _check_positive(hidden_width=width)
        _check_dropout(dropout)
        layers: list[nn.Module] = [nn.Flatten()]
        previous = in_features
        for width in hidden:
            layers += [nn.Linear(previous, width), nn.ReLU(), nn.Dropout(dropout)]
            previous = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(previous, num_classes)
