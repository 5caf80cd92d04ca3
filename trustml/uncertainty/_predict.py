"""Predictions that come with a spread: MC dropout (one model, many passes) and deep ensembles (many models)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import torch
from torch import nn

from trustml import set_seed
from trustml.training import _as_device, _as_inputs, _model_device, _model_dtype, _output_width, fit, predict_logits
from trustml.uncertainty._checks import check_positive_int, check_seed

__all__ = ["DROPOUT_LAYERS", "ensemble_predict", "mc_dropout_predict", "train_ensemble"]

#: The layers MC dropout switches on (every other layer, batch norm included, stays in eval mode).
DROPOUT_LAYERS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


@contextlib.contextmanager
def _modes_restored(model: nn.Module):
    """Put every module back into the train/eval mode it had, whatever happens inside."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        yield
    finally:
        for module, training in modes:
            module.train(training)


def _active_dropout(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, DROPOUT_LAYERS) and m.p > 0]


@torch.no_grad()
def mc_dropout_predict(model: nn.Module, X, *, passes: int = 30, seed: int = 0, batch_size: int = 512, device=None):
    """Softmax outputs of ``passes`` stochastic forward passes with dropout on (Gal & Ghahramani, 2016).

    Only the dropout layers (:data:`DROPOUT_LAYERS` with ``p > 0``) are put
    into training mode; every other layer stays in eval mode, so batch norm
    uses its running statistics and never updates them. Every module's mode is
    restored afterwards. Each pass goes over ``X`` in batches of
    ``batch_size``, without gradients; the random masks are seeded by
    ``seed`` without touching the global random state.

    Parameters
    ----------
    model : torch.nn.Module
        A trained classifier with at least one dropout layer of ``p > 0``
        (e.g. ``LeNet(dropout=0.2)``, ``MLP(..., dropout=0.2)``).
    X : torch.Tensor or numpy.ndarray
        Inputs, one sample per row.
    passes : int, default 30
        Number of stochastic passes ``T`` (the cost is ``T`` forward passes per input).
    seed : int, default 0
        Seeds the dropout masks: same seed, same samples.
    batch_size : int, default 512
    device : torch.device or str, optional
        Where to compute; default where the model's weights are (``fit``
        leaves them on :func:`trustml.get_device`).

    Returns
    -------
    torch.Tensor
        ``(passes, N, K)`` float32 probabilities on the CPU: ``[t, i]`` is
        pass ``t``'s softmax for sample ``i``.

    Raises
    ------
    ValueError
        If the model has no dropout layer with ``p > 0`` (every pass would
        return the same prediction, and the spread would be zero however
        unsure the model is), or for bad arguments.

    Examples
    --------
    >>> import torch
    >>> from trustml.models import MLP
    >>> model = MLP(2, 3, hidden=(16,), dropout=0.5)
    >>> samples = mc_dropout_predict(model, torch.randn(5, 2), passes=4)
    >>> tuple(samples.shape), bool(torch.allclose(samples.sum(-1), torch.ones(4, 5)))
    ((4, 5, 3), True)
    >>> mc_dropout_predict(MLP(2, 3), torch.randn(5, 2))  # dropout=0.0: no dropout to switch on
    Traceback (most recent call last):
    ...
    ValueError: MC dropout needs dropout layers, but MLP has none with p > 0 (it has 2 with p = 0): ...
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    passes = check_positive_int("passes", passes, " (the number T of stochastic forward passes, e.g. 30)")
    seed = check_seed(seed)
    check_positive_int("batch_size", batch_size)
    dropout = _active_dropout(model)
    if not dropout:
        inactive = [m for m in model.modules() if isinstance(m, DROPOUT_LAYERS)]
        have = f" (it has {len(inactive)} with p = 0)" if inactive else ""
        raise ValueError(
            f"MC dropout needs dropout layers, but {type(model).__name__} has none with p > 0{have}: every pass "
            "would give the same prediction and no spread. Train a model built with dropout, e.g. "
            "LeNet(dropout=0.2) or MLP(..., dropout=0.2), or use an ensemble (train_ensemble, ensemble_predict)."
        )
    X = _as_inputs(X, "X", _model_dtype(model))
    device = _model_device(model) if device is None else _as_device(device)
    return _dropout_passes(model, X, dropout, passes=passes, seed=seed, batch_size=batch_size, device=device)


def _dropout_passes(model, X: torch.Tensor, dropout, *, passes: int, seed: int, batch_size: int, device):
    """``(passes, N, K)`` softmax outputs with the ``dropout`` layers on and every other module in eval mode.

    Modes and the global random state are restored afterwards; ``seed`` seeds the masks.
    """
    forked = [device] if device.type == "cuda" else []
    with torch.no_grad(), _modes_restored(model), torch.random.fork_rng(devices=forked):
        num_classes = _output_width(model, X[:2].to(device), "X")
        out = torch.empty(passes, len(X), num_classes)
        torch.manual_seed(seed)
        model.eval()
        for layer in dropout:
            layer.train()
        batches = X.split(batch_size)
        for t in range(passes):
            start = 0
            for batch in batches:
                out[t, start : start + len(batch)] = model(batch.to(device)).float().softmax(-1).cpu()
                start += len(batch)
    return out


def _check_models(models) -> list[nn.Module]:
    if isinstance(models, nn.Module):
        raise TypeError(
            "models must be a list of models (the ensemble's members), got a single "
            f"{type(models).__name__}: pass [model], or train several with train_ensemble."
        )
    if not isinstance(models, Sequence):
        raise TypeError(f"models must be a list of torch.nn.Module, got {type(models).__name__}.")
    if len(models) == 0:
        raise ValueError("models is empty: an ensemble needs at least one member (train them with train_ensemble).")
    for i, member in enumerate(models):
        if not isinstance(member, nn.Module):
            raise TypeError(f"models[{i}] is a {type(member).__name__}, not a torch.nn.Module.")
    return list(models)


@torch.no_grad()
def ensemble_predict(models: Sequence[nn.Module], X, *, batch_size: int = 512, device=None) -> torch.Tensor:
    """Softmax outputs of every member of a deep ensemble (Lakshminarayanan et al., 2017), in eval mode.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        The members, e.g. from :func:`train_ensemble`; all must output the same number of classes.
    X : torch.Tensor or numpy.ndarray
        Inputs, one sample per row.
    batch_size : int, default 512
    device : torch.device or str, optional
        Where to compute; default where each member's weights are.

    Returns
    -------
    torch.Tensor
        ``(members, N, K)`` float32 probabilities on the CPU (the cost is one
        forward pass per member and input).

    Examples
    --------
    >>> import torch
    >>> from trustml.models import MLP
    >>> members = [MLP(2, 3, hidden=(8,)) for _ in range(4)]
    >>> ensemble_predict(members, torch.randn(5, 2)).shape
    torch.Size([4, 5, 3])
    """
    models = _check_models(models)
    check_positive_int("batch_size", batch_size)
    outputs = []
    for i, member in enumerate(models):
        probs = predict_logits(member, X, batch_size=batch_size, device=device).softmax(-1)
        if outputs and probs.shape[1] != outputs[0].shape[1]:
            raise ValueError(
                f"models[{i}] outputs {probs.shape[1]} classes but models[0] outputs {outputs[0].shape[1]}: "
                "every member of an ensemble must predict the same classes."
            )
        outputs.append(probs)
    return torch.stack(outputs)


def train_ensemble(
    build: Callable[[], nn.Module], X, y, *, members: int = 5, seed: int = 0, **fit_options
) -> list[nn.Module]:
    """Train ``members`` models of the same kind on the same data, each from its own seed.

    Member ``m`` is built after ``trustml.set_seed(seed + m)`` (its own random
    initial weights) and trained with ``trustml.training.fit(..., seed=seed + m)``
    (its own shuffling and dropout masks): the only differences between members
    are random, as in a deep ensemble (Lakshminarayanan et al., 2017).

    Parameters
    ----------
    build : callable
        Builds a fresh, untrained model, e.g. ``lambda: MLP(2, 2)`` (a function, not a model).
    X, y : torch.Tensor or numpy.ndarray
        Training data, as for :func:`trustml.training.fit`.
    members : int, default 5
        Ensemble size ``M`` (training costs ``M`` runs, prediction ``M`` forward passes per input).
    seed : int, default 0
        Member ``m`` uses ``seed + m``.
    **fit_options
        Passed to :func:`trustml.training.fit` (``epochs`` is required;
        ``progress`` defaults to False).

    Returns
    -------
    list of torch.nn.Module
        The trained members, in eval mode.

    Examples
    --------
    >>> import torch
    >>> from trustml.models import MLP
    >>> X = torch.randn(100, 2); y = (X[:, 0] > 0).long()
    >>> members = train_ensemble(lambda: MLP(2, 2, hidden=(8,)), X, y, members=3, epochs=2)
    >>> len(members), members[0] is members[1]
    (3, False)
    """
    if isinstance(build, nn.Module) or not callable(build):
        raise TypeError(
            f"build must be a function that returns a fresh model, e.g. lambda: MLP(2, 2), got "
            f"{type(build).__name__}: each member needs its own weights."
        )
    members = check_positive_int("members", members, " (the ensemble size M)")
    seed = check_seed(seed)
    if "seed" in fit_options:
        raise TypeError("train_ensemble sets fit's seed itself (seed + m for member m): pass seed=, not a fit seed.")
    if "epochs" not in fit_options:
        raise TypeError("train_ensemble needs epochs=..., passed on to trustml.training.fit.")
    fit_options.setdefault("progress", False)
    trained: list[nn.Module] = []
    for m in range(members):
        set_seed(seed + m)
        model = build()
        if not isinstance(model, nn.Module):
            raise TypeError(f"build() must return a torch.nn.Module, got {type(model).__name__}.")
        if any(model is other for other in trained):
            raise ValueError(
                "build() returned the same model object twice: it must build a new model on each call, "
                "e.g. lambda: MLP(2, 2), not lambda: model."
            )
        fit(model, X, y, seed=seed + m, **fit_options)
        trained.append(model)
    return trained
