"""Data parameters: a learnable temperature per training sample (and per class).

Saxena, Tuzel & DeCoste, "Data Parameters: A New Family of Parameters for
Learning a Differentiable Curriculum", NeurIPS 2019; reference code:
github.com/apple/ml-data-parameters (``utils.py``, ``optimizer/sparse_sgd.py``,
``main_cifar.py``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from trustml._checks import check_bool, check_int, check_number
from trustml.training import Callback

__all__ = ["DataParameters"]

MOMENTUM = 0.9  # the reference code's SparseSGD momentum, for both kinds of parameter


class DataParameters(Callback):
    """Learn a temperature σ per training sample (and optionally per class) while a model trains.

    Each sample ``i`` gets a parameter ``s_i = log σ_i``, initialised at
    ``log(init_instance)``. The model's logits for sample ``i`` are divided by
    σ before the cross-entropy, so the loss the model sees is
    ``CE(logits_i / σ_i, y_i)``. A large σ flattens the softmax: the sample's
    gradient shrinks and the model is allowed to give up on it. The data
    parameters are learned by gradient descent on the same loss, so σ grows
    for samples the model cannot fit (mislabelled, ambiguous, atypical) and
    shrinks for samples it fits confidently. High σ = harder.

    Use one object as :func:`trustml.training.fit`'s ``criterion``: it computes
    the loss and, being a :class:`~trustml.training.Callback` too, updates its
    own parameters after each model step and records the instance temperatures
    after each epoch.

    What matches the reference code (apple/ml-data-parameters):

    - parameters live in log space, initialised at ``log(init)`` (default σ = 1);
    - σ = exp(s); with both kinds learned (the *joint curriculum*)
      σ_i = exp(s_class[y_i]) + exp(s_i), with one kind only, that kind's exp(s);
    - loss = mean over the batch of CE(logits / σ), plus weight decay on the
      *batch's* parameters only, in log space:
      ``0.5 * wd_instance * sum(s_i**2) + 0.5 * wd_class * sum(s_class[y_i]**2)``,
      summed over the batch's samples (so a class present k times is decayed k
      times), added only when the decay is positive;
    - each kind has its own SGD with momentum 0.9, no dampening, no Nesterov,
      applied after the model's optimiser step. It is *sparse*: an entry whose
      gradient is exactly zero in a step (a sample not in the batch) keeps both
      its value and its momentum buffer, as ``SparseSGD(skip_update_zero_grad=True)``
      does; a touched entry's buffer follows ``buf = 0.9 * buf + grad`` (the
      first time, ``buf = grad``) and ``s -= lr * buf``;
    - after each step every parameter is clamped to ``[log clamp[0], log clamp[1]]``,
      by default ``[log 1/20, log 20]``;
    - the model's validation loss (in :func:`~trustml.training.fit`) is plain
      cross-entropy, without temperatures.

    What differs: the reference saves the parameters to a checkpoint after every
    epoch; here the instance temperatures σ (not their logs) after every epoch
    are kept in memory, in :attr:`trajectories_`. :func:`~trustml.training.fit`
    records the criterion's value (cross-entropy of the scaled logits plus the
    decay) as the epoch's training loss, as the reference logs it.

    Parameters
    ----------
    n_samples : int
        Number of training samples ``N``; :func:`fit` must be given exactly
        that many, in the same order (sample ``i`` owns parameter ``i``).
    num_classes : int
        Number of classes ``K`` (the model's output width).
    learn_instance : bool, default True
        Learn a temperature per sample.
    learn_class : bool, default False
        Learn a temperature per class.
    lr_instance : float, default 0.2
        Learning rate of the instance parameters; 0.2 is the reference's setting
        for CIFAR-100 with 40% noisy labels (its default is 0.1; 0.8 on ImageNet).
    lr_class : float, default 0.1
        Learning rate of the class parameters (the reference's default).
    wd_instance, wd_class : float, default 0.0
        Weight decay in log space (the reference's defaults; 1e-8 on ImageNet).
    init_instance, init_class : float, default 1.0
        Initial temperature σ (not its log).
    clamp : (float, float), default (1/20, 20)
        Range of each temperature, applied in log space after every step.

    Attributes
    ----------
    instance_log_sigma : torch.Tensor
        ``(N,)`` current log σ per sample (a leaf tensor that requires grad
        when instance parameters are learned).
    class_log_sigma : torch.Tensor
        ``(K,)`` current log σ per class.
    trajectories_ : numpy.ndarray
        ``(epochs, N)`` instance temperatures σ at the end of every epoch of
        the last training run.
    class_trajectories_ : numpy.ndarray
        ``(epochs, K)`` class temperatures σ at the end of every epoch.

    Examples
    --------
    >>> import torch
    >>> from trustml import set_seed
    >>> from trustml.models import MLP
    >>> from trustml.training import fit
    >>> from trustml.hardness import DataParameters
    >>> set_seed(0)
    >>> X = torch.randn(200, 2); y = (X[:, 0] > 0).long()
    >>> y[:20] = 1 - y[:20]                                # 20 flipped labels
    >>> dp = DataParameters(len(X), 2, lr_instance=1.0)
    >>> _ = fit(MLP(2, 2), X, y, epochs=30, lr=1e-2, criterion=dp, progress=False)
    >>> dp.trajectories_.shape                             # (epochs, samples)
    (30, 200)
    >>> bool(dp.instance_sigma[:20].mean() > dp.instance_sigma[20:].mean())
    True
    """

    def __init__(
        self,
        n_samples: int,
        num_classes: int,
        *,
        learn_instance: bool = True,
        learn_class: bool = False,
        lr_instance: float = 0.2,
        lr_class: float = 0.1,
        wd_instance: float = 0.0,
        wd_class: float = 0.0,
        init_instance: float = 1.0,
        init_class: float = 1.0,
        clamp: tuple[float, float] = (1 / 20, 20.0),
    ):
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        num_classes = check_int(num_classes, "num_classes", minimum=2)
        learn_instance = check_bool(learn_instance, "learn_instance")
        learn_class = check_bool(learn_class, "learn_class")
        if not (learn_instance or learn_class):
            raise ValueError(
                "Nothing to learn: set learn_instance=True (a temperature per sample), learn_class=True, or both."
            )
        lr_instance = check_number(lr_instance, "lr_instance", low=0, low_open=True)
        lr_class = check_number(lr_class, "lr_class", low=0, low_open=True)
        off = " (0 turns weight decay off)"
        wd_instance = check_number(wd_instance, "wd_instance", low=0, hint=off)
        wd_class = check_number(wd_class, "wd_class", low=0, hint=off)
        low, high = _check_clamp(clamp)
        for name, value in (("init_instance", init_instance), ("init_class", init_class)):
            check_number(
                value, name, low=low, high=high, hint=" (a temperature inside clamp; the reference starts at 1.0)"
            )
        self.n_samples = int(n_samples)
        self.num_classes = int(num_classes)
        self.learn_instance = learn_instance
        self.learn_class = learn_class
        self.lr_instance = float(lr_instance)
        self.lr_class = float(lr_class)
        self.wd_instance = float(wd_instance)
        self.wd_class = float(wd_class)
        self.init_instance = float(init_instance)
        self.init_class = float(init_class)
        self.clamp = (low, high)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self, device=None) -> None:
        """(Re)initialise the parameters, their momentum and the trajectories.

        :func:`fit` calls it at the start of every run, on the model's device.
        """
        device = torch.device("cpu") if device is None else torch.device(device)
        self.instance_log_sigma = torch.full(
            (self.n_samples,), math.log(self.init_instance), device=device, requires_grad=self.learn_instance
        )
        self.class_log_sigma = torch.full(
            (self.num_classes,), math.log(self.init_class), device=device, requires_grad=self.learn_class
        )
        self._momentum = {}
        self._trajectory: list[torch.Tensor] = []
        self._class_trajectory: list[torch.Tensor] = []

    @property
    def instance_sigma(self) -> np.ndarray:
        """``(N,)`` current instance temperatures σ = exp(s); higher = harder."""
        return self.instance_log_sigma.detach().exp().cpu().numpy()

    @property
    def class_sigma(self) -> np.ndarray:
        """``(K,)`` current class temperatures σ = exp(s)."""
        return self.class_log_sigma.detach().exp().cpu().numpy()

    @property
    def trajectories_(self) -> np.ndarray:
        return self._stacked(self._trajectory, "trajectories_")

    @property
    def class_trajectories_(self) -> np.ndarray:
        return self._stacked(self._class_trajectory, "class_trajectories_")

    def _stacked(self, rows, name) -> np.ndarray:
        if not rows:
            raise AttributeError(
                f"{name} is recorded during training: pass this object to fit(..., criterion=...) first."
            )
        return torch.stack(rows).numpy()

    # ------------------------------------------------------------ the loss

    def sigma(self, targets: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """The effective temperature of each sample in a batch, ``(B,)``, differentiable.

        Instance only: exp(s_i); class only: exp(s_class[y_i]); both: their sum.
        """
        parts = []
        if self.learn_class:
            parts.append(self.class_log_sigma[targets].exp())
        if self.learn_instance:
            parts.append(self.instance_log_sigma[indices].exp())
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    def __call__(self, logits: torch.Tensor, targets: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """The loss of a batch: CE(logits / σ) plus the batch's weight decay (see the class docstring).

        Parameters
        ----------
        logits : torch.Tensor
            ``(B, K)`` model outputs.
        targets : torch.Tensor
            ``(B,)`` labels.
        indices : torch.Tensor
            ``(B,)`` the samples' positions in the training set (``0..N-1``).
        """
        for name, value in (("logits", logits), ("targets", targets), ("indices", indices)):
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"{name} must be a torch.Tensor (fit passes tensors to its criterion), got {type(value).__name__}."
                )
        if logits.ndim != 2 or logits.shape[1] != self.num_classes:
            raise ValueError(
                f"These data parameters were made for {self.num_classes} classes, but the logits have shape "
                f"{tuple(logits.shape)}: build DataParameters with num_classes={logits.shape[-1]}."
            )
        if indices.shape != targets.shape or len(indices) != len(logits):
            raise ValueError(
                f"Got {len(logits)} logits, {len(targets)} targets and {len(indices)} indices: one of each per sample."
            )
        out_of_range = (indices < 0) | (indices >= self.n_samples) | (targets < 0) | (targets >= self.num_classes)
        if bool(out_of_range.any()):  # one check (one device sync) per batch
            raise ValueError(
                f"indices must be sample positions 0..{self.n_samples - 1} and targets classes "
                f"0..{self.num_classes - 1}; got indices {int(indices.min())}..{int(indices.max())} and targets "
                f"{int(targets.min())}..{int(targets.max())}."
            )
        device = self.instance_log_sigma.device
        if indices.device != device:
            indices, targets = indices.to(device), targets.to(device)
        sigma = self.sigma(targets, indices).to(logits.dtype)
        loss = F.cross_entropy(logits / sigma.unsqueeze(1), targets.to(logits.device))
        if self.learn_instance and self.wd_instance > 0:
            loss = loss + 0.5 * self.wd_instance * (self.instance_log_sigma[indices] ** 2).sum()
        if self.learn_class and self.wd_class > 0:
            loss = loss + 0.5 * self.wd_class * (self.class_log_sigma[targets] ** 2).sum()
        return loss

    # ------------------------------------------------------------ the optimiser

    @torch.no_grad()
    def step(self) -> None:
        """One sparse SGD step with momentum on each learned kind of parameter, then the clamp.

        Uses the gradients that ``loss.backward()`` left on the parameters and
        clears them afterwards. :func:`fit` calls it after the model's step.
        """
        low, high = math.log(self.clamp[0]), math.log(self.clamp[1])
        for name, param, lr in (
            ("instance", self.instance_log_sigma, self.lr_instance),
            ("class", self.class_log_sigma, self.lr_class),
        ):
            if param.grad is None:
                continue
            grad = param.grad
            touched = grad != 0
            if name in self._momentum:
                buf = self._momentum[name]
                buf.copy_(torch.where(touched, MOMENTUM * buf + grad, buf))
            else:
                buf = self._momentum[name] = grad.clone()  # zero where untouched
            param.sub_(torch.where(touched, lr * buf, torch.zeros_like(buf)))
            param.clamp_(low, high)
            param.grad = None

    # ------------------------------------------------------------ callback hooks

    def on_train_begin(self, model, *, n_samples, epochs, num_classes):
        if n_samples != self.n_samples:
            raise ValueError(
                f"These data parameters were made for {self.n_samples} samples but fit was given {n_samples}: "
                f"build DataParameters({n_samples}, ...) for this training set (one parameter per sample, in order)."
            )
        if num_classes != self.num_classes:
            raise ValueError(
                f"These data parameters were made for {self.num_classes} classes but the model outputs "
                f"{num_classes} logits: build DataParameters(..., num_classes={num_classes})."
            )
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self.reset(device)

    def on_batch_end(self, epoch, indices, logits, targets):
        self.step()

    def on_epoch_end(self, epoch, model, logs):
        self._trajectory.append(self.instance_log_sigma.detach().exp().cpu())
        self._class_trajectory.append(self.class_log_sigma.detach().exp().cpu())

    def __repr__(self) -> str:
        kinds = [k for k, on in (("instance", self.learn_instance), ("class", self.learn_class)) if on]
        return (
            f"DataParameters({self.n_samples} samples, {self.num_classes} classes, learning {' + '.join(kinds)}, "
            f"lr_instance={self.lr_instance:g}, lr_class={self.lr_class:g}, clamp={self.clamp})"
        )


def _check_clamp(clamp) -> tuple[float, float]:
    try:
        low, high = clamp
    except (TypeError, ValueError):
        raise TypeError(f"clamp must be a pair (lowest σ, highest σ), e.g. (1/20, 20); got {clamp!r}.") from None
    for i, value in enumerate((low, high)):
        check_number(value, f"clamp[{i}]", low=0, low_open=True, hint=" (a temperature σ, not log σ)")
    if low >= high:
        raise ValueError(
            f"clamp=({low}, {high}) is inverted or empty: give (lowest σ, highest σ) with lowest < highest."
        )
    return float(low), float(high)
