"""H-CAT's benchmark: every method on every hardness type, proportion and seed, in parallel."""

from __future__ import annotations

import itertools
import time
from numbers import Integral

import numpy as np
import pandas as pd
import torch
from torch import nn

from trustml._checks import (
    check_int,
    check_labels,
    check_number,
    check_proportion,
    check_seed,
    check_values,
    to_numpy,
    unknown_name,
)
from trustml.hardness._characterize import characterize, check_setup
from trustml.hardness._methods import METHODS, resolve_methods
from trustml.hardness._perturb import check_kind, hardness_types, perturb

__all__ = ["HardnessGrid", "benchmark", "plot_benchmark"]

_COLUMNS = ["kind", "proportion", "seed", "method", "auroc", "auprc", "precision_at_k"]


def benchmark(
    X,
    y,
    *,
    model,
    kinds=None,
    proportions=(0.1, 0.2, 0.3, 0.4, 0.5),
    seeds=(0,),
    methods="all",
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    n_jobs: int = 1,
    backend: str | None = None,
    device=None,
) -> pd.DataFrame:
    """Run H-CAT's grid: hardness type x proportion x seed, every method in each cell.

    Each cell perturbs the data (:func:`perturb`, seeded), builds a fresh
    model after ``trustml.set_seed(seed)``, trains it once with
    :func:`characterize` and scores the chosen methods against the perturbed
    mask (:func:`evaluate`). Cells run in parallel with joblib; to spread them
    over a Dask cluster, start a ``dask.distributed.Client`` and pass
    ``backend="dask"`` (or call ``benchmark`` inside
    ``joblib.parallel_config(backend="dask")``); the ``dask`` extra installs
    what that needs (``pip install trustml[dask]``). Process-based workers
    (joblib's default ``loky``, Dask's default workers) reproduce a
    sequential run exactly; threads share torch's global random state, so
    thread-based workers give valid but not bit-identical numbers.

    Parameters
    ----------
    X, y : torch.Tensor or numpy.ndarray
        Clean training data: images ``(N, C, H, W)`` in [0, 1] or rows ``(N, D)``.
    model : callable
        Builds a fresh, untrained model: a class or function such as
        ``lambda: LeNet(dropout=0.2)`` (not a model instance: each cell trains its own).
    kinds : sequence of str, optional
        Hardness types (default: every type that applies to the data;
        ``instance`` only for 10 classes, where its default rule, the digits', applies).
    proportions : float or sequence of float, default (0.1, 0.2, 0.3, 0.4, 0.5)
    seeds : int or sequence of int, default (0,)
    methods : "all" or list of str, default "all"
    epochs, batch_size, lr :
        Training, as in :func:`characterize` (H-CAT: 10, 64, 1e-3).
    n_jobs : int, default 1
        Parallel cells (joblib; -1: one per core).
    backend : str, optional
        joblib backend (``"loky"``, ``"threading"``, ``"dask"``, ...); default:
        joblib's, or the one set by an enclosing ``joblib.parallel_config``.
    device : torch.device or str, optional

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per kind, proportion, seed and method, with ``auroc``,
        ``auprc`` and ``precision_at_k``.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import benchmark
    >>> from trustml.models import MLP
    >>> digits = load("digits").subset(200)
    >>> table = benchmark(digits.X_train, digits.y_train, model=lambda: MLP(784, 10), kinds=["uniform"],
    ...                   proportions=[0.2], methods=["aum", "loss"], epochs=3)
    >>> list(table.columns)
    ['kind', 'proportion', 'seed', 'method', 'auroc', 'auprc', 'precision_at_k']
    """
    import joblib

    X_np, y_np, kinds, built = _check_grid(X, y, model, kinds)
    proportions = check_values(proportions, "proportions", check_proportion)
    seeds = check_values(seeds, "seeds", check_seed, one=Integral)
    methods = resolve_methods(methods)
    _check_training(built, methods, epochs, batch_size, lr, device)
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer (1: no parallelism, -1: one per core), got {n_jobs!r}.")
    _check_backend(backend)

    cells = list(itertools.product(kinds, proportions, seeds))
    task = joblib.delayed(_cell)
    with _parallel_config(backend):
        results = joblib.Parallel(n_jobs=n_jobs)(
            task(X_np, y_np, model, kind, p, seed, methods, epochs, batch_size, lr, device) for kind, p, seed in cells
        )
    return pd.concat(results, ignore_index=True)[_COLUMNS]


def _parallel_config(backend):
    import contextlib

    import joblib

    if backend is None:
        return contextlib.nullcontext()
    if backend == "dask":
        try:
            from distributed import get_client
        except ImportError:
            raise ImportError(
                "backend='dask' needs dask.distributed: pip install 'trustml[dask]' (or distributed)."
            ) from None
        try:
            get_client()
        except ValueError:
            raise ValueError(
                "backend='dask' needs a running Dask client: from dask.distributed import Client; "
                "client = Client() (local) or Client('scheduler-address:8786')."
            ) from None
    return joblib.parallel_config(backend=backend)


def _check_backend(backend) -> None:
    from joblib.parallel import BACKENDS, EXTERNAL_BACKENDS

    known = sorted({*BACKENDS, *EXTERNAL_BACKENDS})
    if backend is not None and (not isinstance(backend, str) or backend not in known):
        raise unknown_name("joblib backend", backend, known)


def _check_grid(X, y, model, kinds):
    """The data, the hardness types (checked against it) and a model built once by the factory, checked on X."""
    from trustml.training import _as_inputs, _model_device, _output_width

    if isinstance(model, nn.Module) or not callable(model):
        raise TypeError(
            "model must build a fresh model for each cell of the grid: pass a class or a function, "
            "e.g. model=lambda: LeNet(dropout=0.2), not a model instance."
        )
    X_np = np.ascontiguousarray(to_numpy(X, "X"))
    y_np = check_labels(y, len(X_np), "y")
    kinds = _kinds(kinds, X_np, y_np)
    # built once to check it here, not in a worker; torch's random state is left as it was
    with torch.random.fork_rng(devices=[]):
        try:
            built = model()
        except Exception as err:
            raise TypeError(
                f"model() failed ({type(err).__name__}: {err}): model must build a model when called with no "
                "arguments, e.g. model=lambda: MLP(784, 10)."
            ) from err
    if not isinstance(built, nn.Module):
        raise TypeError(f"model() must return a torch.nn.Module, got {type(built).__name__}.")
    sample = _as_inputs(X_np[:2], "X")
    width = _output_width(built, sample.to(_model_device(built)), "X")
    if width <= int(y_np.max()):
        raise ValueError(
            f"y has class index {int(y_np.max())} but model() builds a model with {width} outputs: "
            f"build it with at least {int(y_np.max()) + 1} classes."
        )
    return X_np, y_np, kinds, built


def _check_training(built, methods, epochs, batch_size, lr, device) -> None:
    """Training settings checked where they enter, as characterize would check them in each cell."""
    from trustml.training import _as_device

    check_setup(built, methods, epochs)
    check_int(batch_size, "batch_size", minimum=1)
    check_number(lr, "lr", low=0, low_open=True)
    if device is not None:
        _as_device(device)


def _kinds(kinds, X: np.ndarray, y: np.ndarray) -> list:
    """The hardness types asked for, checked against the data; by default every type that applies to it.

    ``instance`` applies by default only to 10 classes, where its default rule (the digits') makes sense.
    """
    if kinds is None:
        applies = ("both", "images" if X.ndim == 4 else "tabular")
        table = hardness_types()
        kinds = [
            kind for kind in table.index
            if table.loc[kind, "applies_to"] in applies and (kind != "instance" or y.max() == 9)
        ]  # fmt: skip
    return check_values(kinds, "kinds", lambda kind: check_kind(kind, X.shape), one=str)


def _run_cell(X, y, model, kind, proportion, seed, methods, settings):
    """One cell of the grid: plant the hardness (seeded), build a fresh model after ``set_seed``, train once."""
    from trustml import set_seed

    planted = perturb(X, y, kind=kind, proportion=proportion, seed=seed)
    set_seed(seed)
    result = characterize(
        model(), torch.from_numpy(np.ascontiguousarray(planted.X)), torch.from_numpy(planted.y),
        seed=seed, methods=methods, **settings,
    )  # fmt: skip
    return planted, result


def _cell_table(planted, result, kind, proportion, seed) -> pd.DataFrame:
    table = result.evaluate(planted.mask).reset_index()
    table.insert(0, "seed", seed)
    table.insert(0, "proportion", proportion)
    table.insert(0, "kind", kind)
    return table


def _cell(X, y, model, kind, proportion, seed, methods, epochs, batch_size, lr, device) -> pd.DataFrame:
    settings = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "device": device}
    planted, result = _run_cell(X, y, model, kind, proportion, seed, methods, settings)
    return _cell_table(planted, result, kind, proportion, seed)


class HardnessGrid:
    """Perturb and characterise a dataset once per (hardness type, proportion), on demand, and keep the results.

    Each cell follows :func:`benchmark`'s protocol (the same code runs it):
    plant the hardness with :func:`perturb` (seeded), build a fresh model
    after ``trustml.set_seed(seed)`` and train it once with
    :func:`characterize`. :meth:`table` gives the numbers ``benchmark`` gives
    for the same cells, and the cells' perturbed data and scores stay
    available for pictures (:func:`trustml.widgets.hardness_type_explorer`).

    Parameters
    ----------
    X, y : torch.Tensor or numpy.ndarray
        Clean training data: images ``(N, C, H, W)`` in [0, 1] or rows ``(N, D)``, and labels.
    model : callable
        Builds a fresh, untrained model, e.g. ``lambda: LeNet(dropout=0.2)``.
    kinds : sequence of str, optional
        Hardness types; default every type of :func:`hardness_types` that
        applies to the data (``instance`` only for 10 classes).
    proportions : float or sequence of float, default (0.1, 0.3, 0.5)
    epochs, batch_size, lr, seed, methods, device :
        As in :func:`characterize`.

    Attributes
    ----------
    kinds : list of str
    proportions : list of float
    methods : list of str
    seconds : dict
        ``(kind, proportion)`` -> seconds its perturbation and training took, for every cell run so far.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import HardnessGrid
    >>> from trustml.models import MLP
    >>> digits = load("digits").subset(200)
    >>> grid = HardnessGrid(digits.X_train, digits.y_train, model=lambda: MLP(784, 10), kinds=["uniform"],
    ...                     proportions=[0.2], epochs=3, methods=["aum", "loss"])
    >>> noisy, result = grid.cell("uniform", 0.2)      # trains once; asking again returns the same objects
    >>> grid.cell("uniform", 0.2)[1] is result
    True
    >>> list(grid.table()["method"])
    ['aum', 'loss']
    """

    def __init__(
        self,
        X,
        y,
        *,
        model,
        kinds=None,
        proportions=(0.1, 0.3, 0.5),
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        seed: int = 0,
        methods="all",
        device=None,
    ):
        self.X, self.y, self.kinds, built = _check_grid(X, y, model, kinds)
        self.proportions = check_values(proportions, "proportions", check_proportion)
        self.model = model
        self.methods = resolve_methods(methods)
        self.seed = check_seed(seed)
        _check_training(built, self.methods, epochs, batch_size, lr, device)
        self.settings = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "device": device}
        self.seconds = {}
        self._cells = {}

    def __repr__(self) -> str:
        return (
            f"HardnessGrid({len(self.kinds)} hardness types x {len(self.proportions)} proportions, "
            f"{len(self._cells)} cells run)"
        )

    def cell(self, kind: str, proportion: float):
        """The perturbed data and its characterisation for one cell; trained on the first call only.

        Returns
        -------
        tuple of (Perturbation, Characterization)
        """
        if kind not in self.kinds:
            raise ValueError(f"Unknown hardness type {kind!r} for this grid; it has: {', '.join(self.kinds)}.")
        proportion = check_proportion(proportion)
        matches = [p for p in self.proportions if np.isclose(p, proportion)]
        if not matches:
            raise ValueError(f"proportion {proportion} is not in this grid; it has: {self.proportions}.")
        key = (kind, matches[0])
        if key not in self._cells:
            start = time.perf_counter()
            self._cells[key] = _run_cell(self.X, self.y, self.model, kind, key[1], self.seed, self.methods, self.settings)
            self.seconds[key] = time.perf_counter() - start
        return self._cells[key]

    def run(self) -> HardnessGrid:
        """Run every cell not run yet (kinds x proportions); returns ``self``."""
        for kind in self.kinds:
            for proportion in self.proportions:
                self.cell(kind, proportion)
        return self

    def table(self) -> pd.DataFrame:
        """Every cell's :func:`evaluate` table, tidy as :func:`benchmark`'s; runs the cells not run yet.

        Columns: kind, proportion, seed, method, auroc, auprc, precision_at_k.
        """
        frames = [
            _cell_table(*self.cell(kind, proportion), kind, proportion, self.seed)
            for kind in self.kinds
            for proportion in self.proportions
        ]
        return pd.concat(frames, ignore_index=True)[_COLUMNS]


def plot_benchmark(table: pd.DataFrame, *, metric: str = "auroc", ax=None):
    """Heatmap of a :func:`benchmark` table: methods x hardness types, averaged over proportions and seeds.

    Parameters
    ----------
    table : pandas.DataFrame
        What :func:`benchmark` returned.
    metric : {"auroc", "auprc", "precision_at_k"}, default "auroc"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    metrics = _COLUMNS[4:]
    if metric not in metrics:
        raise unknown_name("metric", metric, metrics)
    if not isinstance(table, pd.DataFrame) or not set(_COLUMNS) <= set(table.columns):
        raise ValueError(f"table must be what benchmark() returns, with columns {_COLUMNS}.")
    if table.empty:
        raise ValueError("table has no rows: run benchmark() (or HardnessGrid.table()) on at least one cell.")
    grid = table.pivot_table(index="method", columns="kind", values=metric, aggfunc="mean")
    grid = grid.reindex(index=[m for m in METHODS if m in grid.index])
    grid = grid[[k for k in hardness_types().index if k in grid.columns]]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 * grid.shape[1] + 3, 0.42 * grid.shape[0] + 1.5))
    # AUROC: white at chance (0.5), blue above, red below; the others run from 0 to 1
    image = ax.imshow(grid.to_numpy(), cmap="RdBu" if metric == "auroc" else "viridis", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=40, ha="right")
    ax.set_yticks(range(grid.shape[0]), grid.index)
    ax.set_xlabel("hardness type")
    ax.set_ylabel("method")
    proportions = ", ".join(f"{p:g}" for p in sorted(table["proportion"].unique()))
    ax.set_title(f"{metric} (mean over proportions {proportions})", fontsize=10)
    ax.figure.colorbar(image, ax=ax, label=metric + (" (0.5 = chance)" if metric == "auroc" else ""))
    return ax
