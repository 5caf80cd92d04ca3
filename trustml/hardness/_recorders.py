"""Callbacks for :func:`trustml.training.fit` that record what the gradient methods need.

``RecordLogits`` (in :mod:`trustml.training`) already records the training
dynamics. VoG also needs input gradients at a few checkpoints and GraNd the
per-sample weight gradients of the final model: these callbacks take them
during the same run, so no method needs a second training run.
"""

from __future__ import annotations

import time
from numbers import Integral

import numpy as np
import torch

from trustml._checks import check_int, check_values
from trustml.hardness._methods import as_inputs_and_labels, check_model_takes, grand, input_gradients
from trustml.training import Callback, _model_device

__all__ = ["RecordGradNorms", "RecordInputGradients"]


class RecordInputGradients(Callback):
    """Record every sample's input gradient at a few epochs (for :func:`vog`).

    At the end of each chosen epoch the gradient of each sample's label logit
    with respect to its input is computed in eval mode, one batched backward
    pass per ``batch_size`` samples; colour channels are averaged.

    Parameters
    ----------
    X, y : torch.Tensor or numpy.ndarray
        The training inputs and labels given to ``fit``.
    epochs : int or sequence of int, optional
        0-based epochs after which to record. Default: three checkpoints
        spread over training, the first, middle and last epoch (H-CAT records
        after epochs 0, 2 and 4 of 10).
    batch_size : int, default 256

    Attributes
    ----------
    gradients : torch.Tensor
        ``(checkpoints, N, H, W)`` for images, ``(checkpoints, N, D)`` for rows.
    epochs : tuple of int
        The epochs recorded.
    seconds : float
        Time spent recording.

    Examples
    --------
    >>> import torch
    >>> from trustml.models import MLP
    >>> from trustml.training import fit
    >>> X, y = torch.randn(40, 3), torch.randint(0, 2, (40,))
    >>> recorder = RecordInputGradients(X, y)
    >>> _ = fit(MLP(3, 2), X, y, epochs=5, callbacks=[recorder], progress=False)
    >>> recorder.epochs, tuple(recorder.gradients.shape)
    ((0, 2, 4), (3, 40, 3))
    """

    def __init__(self, X, y, *, epochs=None, batch_size: int = 256):
        self.X, self.y = as_inputs_and_labels(X, y)
        if epochs is not None:
            epochs = tuple(check_values(epochs, "epochs", lambda e: check_int(e, "an epoch", minimum=0), one=Integral))
        self.requested = epochs
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.epochs: tuple = ()
        self.gradients: torch.Tensor | None = None
        self.seconds = 0.0
        self._recorded: list = []

    def on_train_begin(self, model, *, n_samples, epochs, num_classes):
        if len(self.y) != n_samples:
            raise ValueError(
                f"RecordInputGradients was given {len(self.y)} samples but fit trains on {n_samples}: "
                "pass it the same X and y as fit."
            )
        check_model_takes(model, self.X, self.y, _model_device(model))
        if self.requested is None:
            self.epochs = tuple(sorted({round(e) for e in np.linspace(0, epochs - 1, 3)}))
        else:
            bad = [e for e in self.requested if not 0 <= e < epochs]
            if bad:
                raise ValueError(f"epochs to record must be in 0..{epochs - 1}, got {list(self.requested)}.")
            self.epochs = tuple(sorted(self.requested))
        self._recorded = []

    def on_epoch_end(self, epoch, model, logs):
        if epoch in self.epochs:
            start = time.perf_counter()
            self._recorded.append(input_gradients(model, self.X, self.y, batch_size=self.batch_size))
            self.seconds += time.perf_counter() - start

    def on_train_end(self, model):
        self.gradients = torch.stack(self._recorded)
        self._recorded = []


class RecordGradNorms(Callback):
    """Record every sample's weight-gradient norm of the final model (for :func:`grand`).

    Runs :func:`grand` once, after the last epoch (``torch.func`` per-sample
    gradients, ``batch_size`` at a time: memory stays flat in N).

    Parameters
    ----------
    X, y : torch.Tensor or numpy.ndarray
        The training inputs and labels given to ``fit``.
    batch_size : int, default 64

    Attributes
    ----------
    norms : numpy.ndarray
        ``(N,)`` gradient norms.
    seconds : float
        Time spent recording.
    """

    def __init__(self, X, y, *, batch_size: int = 64):
        self.X, self.y = as_inputs_and_labels(X, y)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.norms: np.ndarray | None = None
        self.seconds = 0.0

    def on_train_begin(self, model, *, n_samples, epochs, num_classes):
        if len(self.y) != n_samples:
            raise ValueError(
                f"RecordGradNorms was given {len(self.y)} samples but fit trains on {n_samples}: "
                "pass it the same X and y as fit."
            )
        check_model_takes(model, self.X, self.y, _model_device(model))

    def on_train_end(self, model):
        start = time.perf_counter()
        self.norms = grand(model, self.X, self.y, batch_size=self.batch_size)
        self.seconds = time.perf_counter() - start
