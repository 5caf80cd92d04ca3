"""The one training loop of the course, with hooks that record per-sample quantities.

>>> import torch
>>> from trustml.models import MLP
>>> from trustml.training import fit, RecordLogits
>>> X, y = torch.randn(64, 5), torch.randint(0, 2, (64,))
>>> recorder = RecordLogits()
>>> history = fit(MLP(5, 2), X, y, epochs=2, callbacks=[recorder], progress=False)
>>> tuple(recorder.logits.shape)    # (epochs, samples, classes), in sample-index order
(2, 64, 2)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trustml import get_device

__all__ = ["Callback", "History", "RecordLogits", "fit", "predict_logits"]

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class Callback:
    """Base class of the hooks :func:`fit` calls; override the methods you need.

    ``on_batch_end`` sees every training batch as the model saw it during the
    training pass: ``indices`` are the batch's positions in ``X`` (so a callback
    can file per-sample values in sample-index order), ``logits`` the model's
    pre-softmax outputs (detached) and ``targets`` the labels.
    """

    def on_train_begin(self, model: nn.Module, *, n_samples: int, epochs: int, num_classes: int) -> None:
        """Called once before the first epoch."""

    def on_batch_end(self, epoch: int, indices: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Called after each optimisation step."""

    def on_epoch_end(self, epoch: int, model: nn.Module, logs: dict) -> None:
        """Called after each epoch with that epoch's ``logs`` (loss, accuracy, ...)."""

    def on_train_end(self, model: nn.Module) -> None:
        """Called once after the last epoch."""


class RecordLogits(Callback):
    """Record every sample's training-pass logits at every epoch.

    After :func:`fit`, ``logits`` is a float tensor ``(epochs, N, K)`` on the CPU
    whose ``[e, i]`` entry holds sample ``i``'s logits as computed in epoch
    ``e``'s training pass (before that batch's update). Training dynamics
    methods (AUM, Data Maps, Data-IQ, forgetting, ...) are computed from it.
    """

    def __init__(self):
        self.logits: torch.Tensor | None = None

    def on_train_begin(self, model, *, n_samples, epochs, num_classes):
        self.logits = torch.full((epochs, n_samples, num_classes), float("nan"))

    def on_batch_end(self, epoch, indices, logits, targets):
        self.logits[epoch, indices] = logits.float().cpu()


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch.

    ``loss`` and ``accuracy`` are means over the epoch's training batches (as
    the model was during that epoch); ``val_loss`` and ``val_accuracy`` are
    measured after the epoch when validation data is given.
    """

    loss: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def to_frame(self):
        """The history as a pandas DataFrame indexed by epoch (1-based)."""
        import pandas as pd

        columns = {k: v for k, v in vars(self).items() if v}
        frame = pd.DataFrame(columns)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
        return frame

    def plot(self, axes=None):
        """Draw loss and accuracy curves (train, and validation when measured).

        Returns
        -------
        numpy.ndarray of matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        epochs = range(1, len(self.loss) + 1)
        for ax, key in zip(axes, ("loss", "accuracy")):
            ax.plot(epochs, getattr(self, key), marker="o", label="train")
            if getattr(self, f"val_{key}"):
                ax.plot(epochs, getattr(self, f"val_{key}"), marker="o", label="validation")
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.legend()
        return np.asarray(axes)


def _as_inputs(X, what: str) -> torch.Tensor:
    if isinstance(X, np.ndarray):
        X = torch.from_numpy(X)
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array, got {type(X).__name__}.")
    if not X.is_floating_point():
        X = X.float()
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"{what} is empty: it needs at least one sample along its first axis.")
    if not torch.isfinite(X).all():
        bad = int((~torch.isfinite(X)).flatten(1).any(1).sum()) if X.ndim > 1 else int((~torch.isfinite(X)).sum())
        raise ValueError(f"{what} has NaN or infinite values in {bad} sample(s): clean or impute them before training.")
    return X


def _as_labels(y, n: int, what: str) -> torch.Tensor:
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array of class indices, got {type(y).__name__}.")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{what} must hold integer class indices 0..K-1, got dtype {y.dtype}: use y.long().")
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one class index per sample), got shape {tuple(y.shape)}.")
    if len(y) != n:
        raise ValueError(f"X has {n} samples but {what} has {len(y)} labels: they must match.")
    if (y < 0).any():
        raise ValueError(f"{what} has negative labels ({int(y.min())}): classes must be numbered 0..K-1.")
    return y.long()


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


@torch.no_grad()
def predict_logits(model: nn.Module, X, *, batch_size: int = 512, device=None) -> torch.Tensor:
    """Pre-softmax outputs of ``model`` on ``X`` in eval mode, batched, returned on the CPU.

    Parameters
    ----------
    model : torch.nn.Module
    X : torch.Tensor or numpy.ndarray
        Inputs, one sample per row.
    batch_size : int, default 512
    device : torch.device or str, optional
        Where to compute (default: the model's device).

    Returns
    -------
    torch.Tensor
        ``(N, K)`` logits.
    """
    X = _as_inputs(X, "X")
    _check_positive_int("batch_size", batch_size)
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        outputs = [model(batch.to(device)).float().cpu() for batch in X.split(batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outputs)


def fit(
    model: nn.Module,
    X,
    y,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device=None,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    X_val=None,
    y_val=None,
    callbacks: Sequence[Callback] = (),
    criterion=None,
    progress: bool = True,
) -> History:
    """Train a classifier with cross-entropy: the one training loop of the course.

    Each epoch visits every sample once, in an order shuffled by ``seed``, in
    batches of at most ``batch_size`` (batches are split evenly, so none is
    left with a single sample). The model is trained in place on ``device``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of inputs to ``(batch, K)`` logits. Build it after
        :func:`trustml.set_seed` for a fully reproducible run.
    X : torch.Tensor or numpy.ndarray
        Inputs, one sample per row (e.g. images ``(N, C, H, W)``).
    y : torch.Tensor or numpy.ndarray
        Integer class indices ``0..K-1``, shape ``(N,)``.
    epochs : int
        Number of passes over the data.
    batch_size : int, default 64
    lr : float, default 1e-3
        Learning rate.
    seed : int, default 0
        Seeds the shuffling and dropout; same seed and model, same numbers.
    device : torch.device or str, optional
        Default :func:`trustml.get_device` (CUDA, then MPS, then CPU).
    optimizer : {"adam", "sgd"}, default "adam"
        SGD uses momentum 0.9.
    weight_decay : float, default 0.0
    X_val, y_val : optional
        Validation data, measured after every epoch.
    callbacks : sequence of Callback
        Hooks called during training, e.g. :class:`RecordLogits`.
    criterion : callable, optional
        The training loss, ``criterion(logits, targets, indices)`` -> scalar
        tensor, where ``indices`` are the batch's positions in ``X`` (on
        ``device``). Default: mean cross-entropy. A criterion that is also a
        :class:`Callback` (such as :class:`trustml.hardness.DataParameters`,
        which learns a temperature per sample) is called as one too, before
        the other callbacks. Validation loss stays plain cross-entropy.
    progress : bool, default True
        Show a progress bar (in notebooks and terminals).

    Returns
    -------
    History
        Loss and accuracy per epoch.

    Examples
    --------
    >>> import torch
    >>> from trustml.models import MLP
    >>> X = torch.randn(200, 2); y = (X[:, 0] > 0).long()
    >>> history = fit(MLP(2, 2), X, y, epochs=20, lr=1e-2, progress=False)
    >>> history.accuracy[-1] > 0.9
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    X = _as_inputs(X, "X")
    y = _as_labels(y, len(X), "y")
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}.")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a non-negative number, got {weight_decay!r}.")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}.")
    if (X_val is None) != (y_val is None):
        raise ValueError("Give both X_val and y_val, or neither.")
    if criterion is None:
        criterion = _cross_entropy
    elif not callable(criterion):
        raise TypeError(
            f"criterion must be a function (logits, targets, indices) -> loss, got {type(criterion).__name__}."
        )
    if isinstance(criterion, Callback) and criterion not in callbacks:
        callbacks = [criterion, *callbacks]
    validate = X_val is not None
    if validate:
        X_val = _as_inputs(X_val, "X_val")
        y_val = _as_labels(y_val, len(X_val), "y_val")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")

    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    num_classes = _output_width(model, X[:2].to(device))
    for labels, what in ((y, "y"), (y_val, "y_val")):
        if labels is not None and int(labels.max()) >= num_classes:
            raise ValueError(
                f"{what} has label {int(labels.max())} but the model outputs only {num_classes} logits: "
                f"labels must be 0..{num_classes - 1}, or build the model with more classes."
            )

    torch.manual_seed(seed)  # dropout and other randomness inside the model
    order = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    extra = {"momentum": 0.9} if optimizer == "sgd" else {}
    opt = OPTIMIZERS[optimizer](params, lr=lr, weight_decay=weight_decay, **extra)
    X_dev, y_dev = X.to(device), y.to(device)
    n = len(X)
    n_batches = math.ceil(n / batch_size)
    history = History()
    for cb in callbacks:
        cb.on_train_begin(model, n_samples=n, epochs=epochs, num_classes=num_classes)

    bar = _progress_bar(epochs, progress)
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        for indices in torch.randperm(n, generator=order).tensor_split(n_batches):
            on_device = indices.to(device)
            targets = y_dev[on_device]
            logits = model(X_dev[on_device])
            loss = criterion(logits, targets, on_device)
            if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
                raise ValueError(f"criterion must return a scalar tensor (the batch's loss), got {_describe(loss)}.")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            logits = logits.detach()
            loss_sum += loss.detach() * len(indices)
            correct += (logits.argmax(1) == targets).sum()
            for cb in callbacks:
                cb.on_batch_end(epoch, indices, logits, targets)
        history.loss.append(float(loss_sum) / n)
        history.accuracy.append(int(correct) / n)
        logs = {"loss": history.loss[-1], "accuracy": history.accuracy[-1]}
        if validate:
            val_logits = predict_logits(model, X_val, device=device)
            history.val_loss.append(float(F.cross_entropy(val_logits, y_val)))
            history.val_accuracy.append(float((val_logits.argmax(1) == y_val).float().mean()))
            logs.update(val_loss=history.val_loss[-1], val_accuracy=history.val_accuracy[-1])
        history.seconds.append(time.perf_counter() - start)
        for cb in callbacks:
            cb.on_epoch_end(epoch, model, logs)
        bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()})
        bar.update()
    bar.close()
    model.eval()
    for cb in callbacks:
        cb.on_train_end(model)
    return history


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, targets)


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


@torch.no_grad()
def _output_width(model: nn.Module, sample: torch.Tensor) -> int:
    was_training = model.training
    model.eval()
    try:
        out = model(sample)
    except RuntimeError as err:
        raise ValueError(
            f"The model cannot take inputs of shape {tuple(sample.shape[1:])} (per sample): {err}"
        ) from err
    finally:
        model.train(was_training)
    if out.ndim != 2:
        raise ValueError(f"The model must output (batch, classes) logits, got shape {tuple(out.shape)}.")
    return out.shape[1]


def _progress_bar(epochs: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=epochs, desc="training", unit="epoch", disable=not enabled, leave=True)
