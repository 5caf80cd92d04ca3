"""Pictures of uncertainty: reliability diagrams and uncertainty maps over a 2-D input plane."""

from __future__ import annotations

import math

import numpy as np
import torch

from trustml.uncertainty._calibration import expected_calibration_error, reliability_table
from trustml.uncertainty._checks import check_positive_int, check_probabilities, to_numpy
from trustml.uncertainty._measures import _entropy

__all__ = ["grid_points", "plot_reliability_diagram", "plot_uncertainty_maps"]


def plot_reliability_diagram(probs, labels, *, bins: int = 15, ax=None, title: str | None = None):
    """Draw a reliability diagram: accuracy against confidence per bin, the gap to the diagonal shaded.

    Bars show each bin's accuracy; the red band between a bar's top and the
    bin's mean confidence is the gap (below the diagonal: overconfident). The
    share of predictions in each bin is drawn as a thin histogram along the
    bottom, and the title gives the ECE (:func:`expected_calibration_error`).

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(N, K)`` predicted probabilities.
    labels : torch.Tensor or numpy.ndarray
        ``(N,)`` true classes.
    bins : int, default 15
    ax : matplotlib Axes, optional
    title : str, optional
        Prefixed to the ECE in the title.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet([0.3] * 3, size=200)
    >>> ax = plot_reliability_diagram(probs, rng.integers(0, 3, 200), title="random")
    >>> ax.get_title()[:14]
    'random: ECE = '
    """
    import matplotlib.pyplot as plt

    table = reliability_table(probs, labels, bins=bins)
    ece = expected_calibration_error(probs, labels, bins=bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    width = 1.0 / len(table)
    filled = table[table["count"] > 0]
    ax.bar(filled["lower"], filled["accuracy"], width=width, align="edge", color="tab:blue",
           edgecolor="black", linewidth=0.6, label="accuracy")  # fmt: skip
    ax.bar(filled["lower"], filled["confidence"] - filled["accuracy"], bottom=filled["accuracy"], width=width,
           align="edge", color="tab:red", alpha=0.35, edgecolor="tab:red", hatch="//", label="gap to confidence")
    share = table["count"] / table["count"].sum()
    ax.bar(table["lower"], 0.25 * share, width=width, align="edge", color="grey", alpha=0.6,
           label="share of predictions (x 1/4)")  # fmt: skip
    ax.plot([0, 1], [0, 1], color="black", ls="--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title + ': ' if title else ''}ECE = {ece:.3f}", fontsize=10)
    ax.legend(loc="upper left", fontsize=7)
    return ax


def grid_points(extent, *, resolution: int = 100) -> torch.Tensor:
    """Points of a regular grid over a rectangle of the plane, in the order :func:`plot_uncertainty_maps` reads.

    Parameters
    ----------
    extent : (x_min, x_max, y_min, y_max)
    resolution : int, default 100
        Points per side.

    Returns
    -------
    torch.Tensor
        ``(resolution ** 2, 2)`` float32, row by row from ``y_min`` up.

    Examples
    --------
    >>> grid_points((0, 1, 0, 2), resolution=3)[:4]
    tensor([[0.0000, 0.0000],
            [0.5000, 0.0000],
            [1.0000, 0.0000],
            [0.0000, 1.0000]])
    """
    resolution = check_positive_int("resolution", resolution)
    x_min, x_max, y_min, y_max = _check_extent(extent)
    xs = torch.linspace(x_min, x_max, resolution)
    ys = torch.linspace(y_min, y_max, resolution)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)


def _check_extent(extent) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in extent)
    except (TypeError, ValueError) as err:
        raise TypeError(f"extent must be four numbers (x_min, x_max, y_min, y_max), got {extent!r}.") from err
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"extent must be four finite numbers (x_min, x_max, y_min, y_max), got {extent!r}.")
    if not (values[0] < values[1] and values[2] < values[3]):
        raise ValueError(f"extent must have x_min < x_max and y_min < y_max, got {extent!r}.")
    return values


MAP_TITLES = {
    "predictive_entropy": "total: predictive entropy",
    "expected_entropy": "aleatoric: expected entropy",
    "mutual_information": "epistemic: mutual information",
}


def plot_uncertainty_maps(samples, *, extent, X=None, y=None, axes=None, label: str | None = None, mi_max=None):
    """Three maps over the plane: total, aleatoric and epistemic uncertainty of sampled predictions.

    Parameters
    ----------
    samples : torch.Tensor or numpy.ndarray
        ``(S, G, K)`` probabilities on the ``G = resolution ** 2`` points of
        ``grid_points(extent, resolution=...)`` (``(G, K)`` for one model).
    extent : (x_min, x_max, y_min, y_max)
        The rectangle the grid covers.
    X, y : optional
        Training points ``(N, 2)`` and their classes, drawn on every map.
    axes : three matplotlib Axes, optional
        Default: a new row of three.
    label : str, optional
        Written before each map's title (e.g. "ensemble, M = 5").
    mi_max : float, optional
        Top of the mutual information colour scale (default ``log 2``, like
        the entropies' ``log K`` for two classes: give the same value to maps
        you want to compare).

    Returns
    -------
    dict
        ``{"axes": the three Axes, "maps": {name: (resolution, resolution) array}}``.

    Examples
    --------
    >>> import numpy as np
    >>> points = grid_points((-1, 1, -1, 1), resolution=20)
    >>> p = 1 / (1 + np.exp(-4 * points[:, 0].numpy()))  # a soft boundary at x = 0
    >>> out = plot_uncertainty_maps(np.stack([p, 1 - p], axis=1)[None], extent=(-1, 1, -1, 1))
    >>> sorted(out["maps"]), float(out["maps"]["mutual_information"].max())
    (['expected_entropy', 'mutual_information', 'predictive_entropy'], 0.0)
    """
    import matplotlib.pyplot as plt

    extent = _check_extent(extent)
    samples = check_probabilities(samples, "samples", samples=True)
    side = math.isqrt(samples.shape[1])
    if side * side != samples.shape[1]:
        raise ValueError(
            f"samples has {samples.shape[1]} points, not a square grid: "
            "compute it on the points of grid_points(extent, resolution=...)."
        )
    mean = samples.mean(0)
    total, aleatoric = _entropy(mean), _entropy(samples).mean(0)
    maps = {
        "predictive_entropy": total.reshape(side, side),
        "expected_entropy": aleatoric.reshape(side, side),
        "mutual_information": np.maximum(total - aleatoric, 0).reshape(side, side),
    }
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(11, 3.3), sharex=True, sharey=True, layout="constrained")
    axes = np.asarray(axes).ravel()
    if len(axes) != 3:
        raise ValueError(f"axes must be three Axes (one per map), got {len(axes)}.")
    top = math.log(samples.shape[-1])
    scales = {"predictive_entropy": top, "expected_entropy": top, "mutual_information": mi_max or math.log(2)}
    points = None if X is None else to_numpy(X, "X")
    labels = None if y is None else to_numpy(y, "y")
    for ax, (name, values) in zip(axes, maps.items()):
        image = ax.imshow(values, origin="lower", extent=extent, aspect="auto", cmap="magma", vmin=0,
                          vmax=scales[name], interpolation="bilinear")  # fmt: skip
        if points is not None:
            ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="coolwarm", s=6, edgecolors="white",
                       linewidths=0.3, alpha=0.8)  # fmt: skip
        ax.set_title(f"{label + ': ' if label else ''}{MAP_TITLES[name]}", fontsize=9)
        ax.figure.colorbar(image, ax=ax, shrink=0.9, pad=0.01, label="nats")
    return {"axes": axes, "maps": maps}
