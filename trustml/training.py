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
import numbers
import time
import warnings
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


def _model_dtype(model: nn.Module) -> torch.dtype:
    """The floating dtype of the model's weights (float32 for a model without any)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _model_device(model: nn.Module) -> torch.device:
    """Where the model's weights are (the CPU for a model without any)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _as_inputs(X, what: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``X`` as a tensor of the model's dtype: numpy or torch, of any real dtype (float, int, bool)."""
    if isinstance(X, np.ndarray):
        if X.dtype.kind == "c":
            raise TypeError(
                f"{what} is complex ({X.dtype}): models take real numbers; pass {what}.real or np.abs({what})."
            )
        if X.dtype.kind not in "biuf":
            raise TypeError(
                f"{what} has dtype {X.dtype}: it must hold numbers (float, int or bool), one sample per row."
            )
        if X.dtype.kind in "biu":
            X = X.astype(np.float64 if dtype == torch.float64 else np.float32)
        elif X.dtype.itemsize > 8:  # long double: torch has none
            X = X.astype(np.float64)
        X = _from_numpy(X)  # to the model's dtype below, checked for overflow
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array, got {type(X).__name__}.")
    if X.is_complex():
        raise TypeError(f"{what} is complex ({X.dtype}): models take real numbers; pass {what}.real or {what}.abs().")
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"{what} is empty: it needs at least one sample along its first axis.")
    _check_finite(X, what, "has NaN or infinite values", "clean or impute them before training")
    if X.dtype != dtype:
        narrower = X.is_floating_point() and torch.finfo(X.dtype).max > torch.finfo(dtype).max
        X = X.to(dtype)
        if narrower:
            _check_finite(X, what, f"has values too large for {dtype} (the model's dtype)", "rescale it")
    return X


def _from_numpy(a: np.ndarray) -> torch.Tensor:
    """A tensor of a NumPy array of any byte order and strides (torch takes neither big-endian nor reversed)."""
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return torch.from_numpy(np.ascontiguousarray(a))


def _check_finite(X: torch.Tensor, what: str, problem: str, fix: str) -> None:
    if not X.is_floating_point() or bool(torch.isfinite(X).all()):
        return
    bad = int((~torch.isfinite(X)).flatten(1).any(1).sum()) if X.ndim > 1 else int((~torch.isfinite(X)).sum())
    raise ValueError(f"{what} {problem} in {bad} sample(s): {fix}.")


def _as_labels(y, n: int, what: str, inputs: str) -> torch.Tensor:
    if isinstance(y, np.ndarray):
        if y.dtype.kind not in "biufc":
            raise TypeError(f"{what} has dtype {y.dtype}: it must hold integer class indices 0..K-1.")
        y = _from_numpy(y)
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array of class indices, got {type(y).__name__}.")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError(f"{what} must hold integer class indices 0..K-1, got dtype {y.dtype}: use {what}.long().")
    if y.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one class index per sample), got shape {tuple(y.shape)}.")
    if len(y) != n:
        raise ValueError(f"{inputs} has {n} samples but {what} has {len(y)} labels: they must match.")
    if (y < 0).any():
        raise ValueError(f"{what} has negative labels ({int(y.min())}): classes must be numbered 0..K-1.")
    return y.long()


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _as_number(name: str, value, *, positive: bool) -> float:
    """A real number (Python or NumPy scalar), finite and positive (or non-negative)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        ok = False
    else:
        value = float(value)
        ok = math.isfinite(value) and (value > 0 if positive else value >= 0)
    if not ok:
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a {kind} number, got {value!r}.")
    return value


def _as_device(device) -> torch.device:
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be a torch.device or a name such as 'cpu' or 'cuda', got {device!r}.") from err
    mps = getattr(torch.backends, "mps", None)
    if (device.type == "cuda" and not torch.cuda.is_available()) or (
        device.type == "mps" and not (mps is not None and mps.is_available())
    ):
        raise ValueError(
            f"device={str(device)!r} is not available here: leave device=None to use trustml.get_device() "
            f"(here: {get_device()})."
        )
    return device


@torch.no_grad()
def predict_logits(model: nn.Module, X, *, batch_size: int = 512, device=None) -> torch.Tensor:
    """Pre-softmax outputs of ``model`` on ``X`` in eval mode, batched, returned on the CPU.

    Parameters
    ----------
    model : torch.nn.Module
    X : torch.Tensor or numpy.ndarray
        Inputs, one sample per row (any real dtype: converted to the model's).
    batch_size : int, default 512
    device : torch.device or str, optional
        Where to compute (default: the model's device; the CPU for a model
        without weights).

    Returns
    -------
    torch.Tensor
        ``(N, K)`` logits.

    Examples
    --------
    >>> import numpy as np
    >>> from torch import nn
    >>> predict_logits(nn.Linear(3, 2), np.zeros((4, 3))).shape
    torch.Size([4, 2])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    X = _as_inputs(X, "X", _model_dtype(model))
    _check_positive_int("batch_size", batch_size)
    device = _model_device(model) if device is None else _as_device(device)
    _output_width(model, X[:2].to(device), "X")
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
    on_divergence: str = "raise",
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
        Inputs, one sample per row (e.g. images ``(N, C, H, W)``), of any
        real dtype (converted to the model's, float32 for trustml's models).
    y : torch.Tensor or numpy.ndarray
        Integer class indices ``0..K-1``, shape ``(N,)``.
    epochs : int
        Number of passes over the data.
    batch_size : int, default 64
    lr : float, default 1e-3
        Learning rate (a Python or NumPy number).
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
    on_divergence : {"raise", "warn"}, default "raise"
        What to do when the training loss becomes NaN or infinite (the
        learning rate is too large, mostly): stop with a ValueError naming
        the epoch and batch, or warn once and go on.

    Returns
    -------
    History
        Loss and accuracy per epoch.

    Raises
    ------
    ValueError
        For bad arguments (each message names the argument), and when
        training diverges (see ``on_divergence``).

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
    dtype = _model_dtype(model)
    X = _as_inputs(X, "X", dtype)
    y = _as_labels(y, len(X), "y", "X")
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    lr = _as_number("lr", lr, positive=True)
    weight_decay = _as_number("weight_decay", weight_decay, positive=False)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}.")
    if on_divergence not in ("raise", "warn"):
        raise ValueError(f"on_divergence must be 'raise' or 'warn', got {on_divergence!r}.")
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
        X_val = _as_inputs(X_val, "X_val", dtype)
        y_val = _as_labels(y_val, len(X_val), "y_val", "X_val")
        if X_val.shape[1:] != X.shape[1:]:
            raise ValueError(
                f"X_val's samples have shape {tuple(X_val.shape[1:])} but X's have {tuple(X.shape[1:])}: "
                "validation data must be shaped like the training data."
            )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(
            f"The model ({type(model).__name__}) has no trainable parameters: there is nothing for fit to train."
        )

    device = _as_device(device) if device is not None else get_device()
    model.to(device)
    num_classes = _output_width(model, X[:2].to(device), "X")
    for labels, what in ((y, "y"), (y_val, "y_val")):
        if labels is not None and int(labels.max()) >= num_classes:
            raise ValueError(
                f"{what} has label {int(labels.max())} but the model outputs only {num_classes} logits: "
                f"labels must be 0..{num_classes - 1}, or build the model with more classes."
            )

    torch.manual_seed(seed)  # dropout and other randomness inside the model
    order = torch.Generator().manual_seed(seed)
    extra = {"momentum": 0.9} if optimizer == "sgd" else {}
    opt = OPTIMIZERS[optimizer](params, lr=lr, weight_decay=weight_decay, **extra)
    X_dev, y_dev = X.to(device), y.to(device)
    n = len(X)
    n_batches = math.ceil(n / batch_size)
    history = History()
    for cb in callbacks:
        cb.on_train_begin(model, n_samples=n, epochs=epochs, num_classes=num_classes)

    bar = _ProgressBar(epochs, progress)
    diverged = False
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        first_bad = torch.full((), -1, dtype=torch.long, device=device)  # checked once per epoch: no per-batch sync
        for batch, indices in enumerate(torch.randperm(n, generator=order).tensor_split(n_batches)):
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
            first_bad = torch.where((first_bad < 0) & ~torch.isfinite(loss.detach()), batch, first_bad)
            correct += (logits.argmax(1) == targets).sum()
            for cb in callbacks:
                cb.on_batch_end(epoch, indices, logits, targets)
        if int(first_bad) >= 0 and not diverged:
            diverged = True
            message = (
                f"Training diverged: the loss became NaN or infinite in epoch {epoch + 1} of {epochs}, "
                f"batch {int(first_bad) + 1} of {n_batches} (lr={lr:g}, optimizer={optimizer!r}). "
                f"Try a smaller learning rate, e.g. lr={lr / 10:g}"
            )
            if on_divergence == "raise":
                bar.close()
                raise ValueError(f"{message}, with a freshly built model (this one's weights are spoiled).")
            warnings.warn(f"{message}; training goes on (on_divergence='warn').", RuntimeWarning, stacklevel=2)
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
        bar.update(logs)
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
def _output_width(model: nn.Module, sample: torch.Tensor, what: str) -> int:
    was_training = model.training
    model.eval()
    try:
        out = model(sample)
    except RuntimeError as err:
        raise ValueError(
            f"The model cannot take inputs of shape {tuple(sample.shape[1:])} per sample "
            f"(the samples of {what}, {sample.dtype}): {err}"
        ) from err
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        got = f"shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"The model must output (batch, classes) logits, got {got}.")
    return out.shape[1]


class _ProgressBar:
    """tqdm's bar over the epochs, whose saved notebook output shows how training ended.

    In a notebook, ``tqdm.auto`` draws a widget. A saved notebook, and any page that
    does not run widgets, shows the widget's plain-text fallback instead, and that
    text is the bar as it was when it was displayed: ``0/10``, training not yet
    begun. So the bar is displayed under a display id, and shown again under the
    same id when it closes: the saved text becomes the finished bar (``10/10`` with
    the last epoch's loss and accuracy). Outside notebooks this is tqdm's plain bar.
    """

    def __init__(self, epochs: int, enabled: bool):
        from tqdm.auto import tqdm

        options = {"total": epochs, "desc": "training", "unit": "epoch", "disable": not enabled, "leave": True}
        self._display = None
        if enabled and _is_notebook_bar(tqdm):
            from IPython.display import display

            self._bar = tqdm(**options, display=False)
            self._display = display(self._bar.container, display_id=True)
        else:
            self._bar = tqdm(**options)

    def update(self, logs: dict) -> None:
        """Count one epoch, showing its ``logs`` beside the bar."""
        self._bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()})
        self._bar.update()

    def close(self) -> None:
        """Close the bar; in a notebook, make its saved text the final state."""
        self._bar.close()
        if self._display is not None:
            self._display.update(self._bar.container)


def _is_notebook_bar(tqdm_class) -> bool:
    """Whether ``tqdm.auto`` chose the notebook widget bar."""
    try:
        from tqdm.notebook import tqdm_notebook
    except ImportError:
        return False
    return issubclass(tqdm_class, tqdm_notebook)
