"""Views of OOD scores: densities of ID and OOD scores, PCA and t-SNE maps, threshold sweeps, confusion matrices."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trustml._live import LiveFigure
from trustml.ood._checks import (
    as_array,
    check_ood_labels,
    check_positive_int,
    check_predictions,
    check_scores,
    check_threshold,
)
from trustml.ood._thresholds import best_thresholds, ood_confusion_matrix, threshold_sweep

__all__ = [
    "ThresholdFigure",
    "plot_ood_confusion_matrix",
    "plot_pca",
    "plot_score_densities",
    "plot_threshold_sweep",
    "plot_tsne",
    "rates_at",
    "split_view",
    "threshold_view",
]

_METRIC_COLOURS = {"precision": "tab:green", "recall": "tab:blue", "f1": "tab:red"}
_ID_COLOURS = ["tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:pink"]
_OOD_COLOURS = ["tab:red", "black", "darkorange", "tab:gray", "salmon"]


def _colours(names) -> dict:
    """ID groups in blues, greens, ...; groups whose name starts with "OOD" in reds (the course's convention)."""
    ood = [n for n in names if n.lower().startswith("ood")]
    ids = [n for n in names if n not in ood]
    colours = {n: _ID_COLOURS[i % len(_ID_COLOURS)] for i, n in enumerate(ids)}
    colours.update({n: _OOD_COLOURS[i % len(_OOD_COLOURS)] for i, n in enumerate(ood)})
    return colours
_GRID = 400


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _groups(groups, what: str, *, check) -> dict:
    if not isinstance(groups, Mapping) or not groups:
        raise TypeError(
            f"{what} must be a non-empty mapping {{label: values}}, e.g. {{'ID': id_scores, 'OOD': ood_scores}}, "
            f"got {type(groups).__name__}."
        )
    return {str(name): check(values, f"{what}[{name!r}]") for name, values in groups.items()}


def _density_curve(values: np.ndarray, grid: np.ndarray) -> np.ndarray | None:
    """A Gaussian KDE of ``values`` on ``grid``; None when it is undefined (one point, or all equal)."""
    from scipy.stats import gaussian_kde

    finite = values[np.isfinite(values)]
    if len(finite) < 2 or np.ptp(finite) == 0:
        return None
    try:
        return gaussian_kde(finite)(grid)
    except np.linalg.LinAlgError:  # degenerate spread
        return None


def _score_grid(groups: dict) -> np.ndarray:
    values = np.concatenate([v[np.isfinite(v)] for v in groups.values()])
    if not len(values):
        return np.linspace(-1, 1, _GRID)
    low, high = values.min(), values.max()
    pad = 0.05 * (high - low) if high > low else 0.5
    return np.linspace(low - pad, high + pad, _GRID)


def plot_score_densities(scores, *, threshold=None, xlabel="OOD score (higher = more OOD)", title=None, ax=None):
    """Density of the OOD scores of each group (e.g. ID test and OOD), with an optional threshold line.

    Densities (Gaussian kernel estimates, as the lesson's ``gaussian_kde``)
    compare groups of very different sizes on one scale; a group whose scores
    are all equal is drawn as a spike.

    Parameters
    ----------
    scores : mapping of str to array-like
        ``{label: scores}``, e.g. ``{"ID (test)": id_scores, "OOD": ood_scores}``.
    threshold : float, optional
        Draws a vertical line: samples to its right are flagged as OOD.
    xlabel, title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.ood import plot_score_densities
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_score_densities({"ID": rng.normal(0, 1, 200), "OOD": rng.normal(3, 1, 50)}, threshold=1.5)
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['ID (200)', 'OOD (50)']
    """
    groups = _groups(scores, "scores", check=check_scores)
    ax = _axes(ax, (7, 3.5))
    grid = _score_grid(groups)
    colours = _colours(groups)
    for name, values in groups.items():
        density = _density_curve(values, grid)
        label = f"{name} ({len(values)})"
        if density is None:
            ax.axvline(values[0], lw=2, ls=":", color=colours[name], label=label)
            continue
        ax.plot(grid, density, lw=2, label=label, color=colours[name])
        ax.fill_between(grid, density, alpha=0.2, color=colours[name])
    if threshold is not None:
        ax.axvline(float(threshold), color="black", ls="--", lw=1.5, label=f"threshold {float(threshold):.3g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _flatten(values, what: str) -> np.ndarray:
    array = as_array(values, what)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"{what} must hold samples (images or feature rows), one per row, got shape {array.shape}.")
    array = array.reshape(len(array), -1).astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} has NaN or infinite values.")
    return array


def _scatter(ax, points_by_group: dict, *, alpha=0.4):
    colours = _colours(points_by_group)
    for name, points in sorted(points_by_group.items(), key=lambda item: item[0].lower().startswith("ood")):
        ood = name.lower().startswith("ood")  # drawn last, on top
        ax.scatter(points[:, 0], points[:, 1], s=14 if ood else 10, alpha=0.8 if ood else alpha, label=name,
                   color=colours[name], edgecolors="white" if ood else "none", linewidths=0.4)
    ax.legend(fontsize="small", markerscale=1.5, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def _sample(array: np.ndarray, limit, rng) -> np.ndarray:
    if limit is None or len(array) <= limit:
        return array
    return array[np.sort(rng.choice(len(array), size=limit, replace=False))]


def plot_pca(data, *, fit_on=None, max_points=None, seed=0, title=None, ax=None):
    """The groups in the plane of the first two principal components (fitted on one group).

    PCA is linear, like a logistic regression on pixels: what overlaps here
    overlaps for such a model too. Groups whose name starts with ``"OOD"`` are
    drawn on top, in red (then black, orange, ...); ID groups in blue, green, ...

    Parameters
    ----------
    data : mapping of str to array-like
        ``{label: samples}`` (images or feature rows, flattened).
    fit_on : str or array-like, optional
        What the PCA is fitted on: a group's name, or samples of their own
        (default: the first group; usually the ID training data). Every group
        is then projected.
    max_points : int, optional
        Draw at most this many points per group (a random sample).
    seed : int, default 0
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.ood import plot_pca
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_pca({"ID": rng.normal(size=(50, 5)), "OOD": rng.normal(3, 1, (20, 5))})
    >>> ax.get_xlabel()
    'first principal component'
    """
    from sklearn.decomposition import PCA

    groups = _groups(data, "data", check=_flatten)
    if fit_on is None or isinstance(fit_on, str):
        name = next(iter(groups)) if fit_on is None else fit_on
        if name not in groups:
            raise ValueError(f"fit_on={name!r} is not one of the groups {list(groups)}.")
        fit_data = groups[name]
        fit_on = name
    else:
        fit_data = _flatten(fit_on, "fit_on")
        fit_on = f"{len(fit_data)} samples"
    widths = {g.shape[1] for g in groups.values()} | {fit_data.shape[1]}
    if len(widths) > 1:
        raise ValueError(f"every group must have the same number of features, got {sorted(widths)}.")
    pca = PCA(n_components=2, random_state=seed).fit(fit_data)
    rng = np.random.default_rng(seed)
    points = {name: pca.transform(_sample(values, max_points, rng)) for name, values in groups.items()}
    ax = _axes(ax, (7.5, 4.5))
    _scatter(ax, points)
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(title or f"PCA (fitted on {fit_on})")
    return ax


def plot_tsne(data, *, perplexity=30.0, max_points=400, seed=0, title=None, ax=None):
    """A t-SNE map of the groups together (scikit-learn's ``TSNE``), e.g. of a CNN's penultimate features.

    t-SNE is non-linear and keeps neighbourhoods, not distances: clusters and
    what lies in between are meaningful, the sizes of and gaps between
    clusters much less so. It fits all groups at once (it cannot project new
    points), at most ``max_points`` per group.

    Parameters
    ----------
    data : mapping of str to array-like
        ``{label: samples}`` (feature rows or images, flattened).
    perplexity : float, default 30
        Roughly the number of neighbours each point keeps (lowered for tiny groups).
    max_points : int, default 400
    seed : int, default 0
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.ood import plot_tsne
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_tsne({"ID": rng.normal(size=(40, 5)), "OOD": rng.normal(3, 1, (20, 5))}, perplexity=10)
    >>> len(ax.collections)
    2
    """
    from sklearn.manifold import TSNE

    groups = _groups(data, "data", check=_flatten)
    widths = {g.shape[1] for g in groups.values()}
    if len(widths) > 1:
        raise ValueError(f"every group must have the same number of features, got {sorted(widths)}.")
    rng = np.random.default_rng(seed)
    sampled = {name: _sample(values, max_points, rng) for name, values in groups.items()}
    stacked = np.concatenate(list(sampled.values()))
    perplexity = float(min(perplexity, max(1.0, (len(stacked) - 1) / 3)))
    embedded = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(stacked)
    bounds = np.cumsum([0, *(len(v) for v in sampled.values())])
    points = {name: embedded[a:b] for name, a, b in zip(sampled, bounds[:-1], bounds[1:])}
    ax = _axes(ax, (7.5, 5))
    _scatter(ax, points)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_title(title or "t-SNE")
    return ax


def plot_threshold_sweep(sweep: pd.DataFrame, *, xlabel="threshold on the OOD score", title=None, ax=None):
    """Precision, recall and F1 against the threshold, the best threshold of each marked (dashed lines).

    Parameters
    ----------
    sweep : pandas.DataFrame
        What :func:`threshold_sweep` returns.
    xlabel, title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from trustml.ood import plot_threshold_sweep, threshold_sweep
    >>> ax = plot_threshold_sweep(threshold_sweep([0, 1, -1, -1], [0.1, 0.3, 0.6, 0.9], [0, 1, 1, 0]))
    >>> ax.get_ylabel()
    'macro average over the ID classes'
    """
    best = best_thresholds(sweep)
    ax = _axes(ax, (7, 4))
    x = sweep.index.to_numpy(dtype=float)
    for metric, colour in _METRIC_COLOURS.items():
        ax.plot(x, sweep[metric], color=colour, lw=2, label=metric)
    for metric, colour in _METRIC_COLOURS.items():
        t, value = best.loc[metric, "threshold"], best.loc[metric, "value"]
        ax.axvline(t, color=colour, ls="--", lw=1.2, label=f"best {metric}: {value:.3f} at {t:.3g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("macro average over the ID classes")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="small", loc="lower left")
    ax.set_title(title or "Precision, recall and F1 against the threshold")
    return ax


class _ConfusionArtist:
    """A confusion-matrix heatmap whose counts can be changed in place."""

    def __init__(self, ax, matrix: pd.DataFrame, *, title="Confusion matrix at the threshold"):
        values = matrix.to_numpy()
        self.image = ax.imshow(values, cmap="Blues", vmin=0)
        n = len(matrix)
        ax.set_xticks(range(n), matrix.columns, rotation=30, ha="right")
        ax.set_yticks(range(n), matrix.index)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title(title, fontsize="medium")
        self.texts = [[ax.text(j, i, "", ha="center", va="center", fontsize="small") for j in range(n)]
                      for i in range(n)]
        self.update(matrix)

    def update(self, matrix: pd.DataFrame):
        values = matrix.to_numpy()
        top = max(int(values.max()), 1)
        self.image.set_data(values)
        self.image.set_clim(0, top)
        for i, row in enumerate(values):
            for j, count in enumerate(row):
                text = self.texts[i][j]
                text.set_text(str(int(count)))
                text.set_color("white" if count > top / 2 else "black")

    def artists(self):
        return [self.image, *(t for row in self.texts for t in row)]


def plot_ood_confusion_matrix(matrix: pd.DataFrame, *, title="Confusion matrix at the threshold", ax=None):
    """Draw a confusion matrix of the ID classes and OOD (:func:`ood_confusion_matrix`) as a heatmap.

    Examples
    --------
    >>> from trustml.ood import ood_confusion_matrix, plot_ood_confusion_matrix
    >>> cm = ood_confusion_matrix([0, 1, -1], [0.1, 0.2, 0.9], [0, 1, 1], threshold=0.5)
    >>> plot_ood_confusion_matrix(cm).get_ylabel()
    'actual'
    """
    if not isinstance(matrix, pd.DataFrame) or matrix.shape[0] != matrix.shape[1]:
        raise TypeError("matrix must be the square DataFrame that ood_confusion_matrix returns.")
    ax = _axes(ax, (4, 3.5))
    _ConfusionArtist(ax, matrix, title=title)
    return ax


def rates_at(matrix: pd.DataFrame) -> dict:
    """Precision, recall, F1 (macro over the ID classes), ID flagged and OOD accepted, from an OOD confusion matrix.

    The numbers :func:`threshold_sweep` gives at the same threshold.

    Examples
    --------
    >>> from trustml.ood import ood_confusion_matrix, rates_at
    >>> cm = ood_confusion_matrix([0, 1, -1, -1], [0.1, 0.2, 0.9, 0.3], [0, 1, 1, 1], threshold=0.5)
    >>> {k: round(v, 3) for k, v in rates_at(cm).items()}
    {'precision': 0.75, 'recall': 1.0, 'f1': 0.833, 'id_flagged': 0.0, 'ood_accepted': 0.5}
    """
    counts = matrix.to_numpy(dtype=np.float64)
    k = len(counts) - 1
    diagonal = np.diag(counts)[:k]
    predicted, actual = counts[:, :k].sum(axis=0), counts[:k].sum(axis=1)
    precision = np.divide(diagonal, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(diagonal, actual, out=np.zeros(k), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(k), where=total > 0)
    n_id, n_ood = counts[:k].sum(), counts[k].sum()
    return {
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(f1.mean()),
        "id_flagged": float(counts[:k, k].sum() / n_id) if n_id else float("nan"),
        "ood_accepted": float(counts[k, :k].sum() / n_ood) if n_ood else float("nan"),
    }


class ThresholdFigure(LiveFigure):
    """Confusion matrix, score densities and the precision/recall/F1 sweep at one threshold, updated in place.

    A :class:`~trustml.widgets.LiveFigure`, built once for a set of scores:
    :meth:`update` moves the threshold (the counts, the two threshold lines and
    the metrics line change; nothing is rebuilt), so a slider redraws it
    quickly. :func:`threshold_view` is the static view (build, then update).

    Parameters
    ----------
    labels, scores, predictions
        As in :func:`ood_confusion_matrix` (ID classes 0..K-1, OOD -1).
    class_names : sequence of str, optional
    score_name : str, default "OOD score"
        How the x axes name the score (e.g. "energy").
    threshold : float, optional
        Where to start (default: the best-F1 threshold).
    thresholds : array-like, optional
        The grid of the sweep (default: :func:`threshold_sweep`'s).
    pyplot : bool, default False
        Register the figure with pyplot (see :class:`~trustml.widgets.LiveFigure`).

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    sweep : pandas.DataFrame
        The :func:`threshold_sweep` drawn on the right.
    matrix : pandas.DataFrame
        The confusion matrix at the current threshold.
    rates : dict
        :func:`rates_at` of it.
    threshold : float
    """

    def __init__(self, labels, scores, predictions, *, class_names=None, score_name="OOD score", threshold=None,
                 thresholds=None, pyplot: bool = False):
        from matplotlib.transforms import Bbox, TransformedBbox

        self.scores = check_scores(scores, "scores")
        self.sweep = threshold_sweep(labels, self.scores, predictions, thresholds=thresholds)
        self.labels = check_ood_labels(labels, len(self.scores))
        self.predictions = check_predictions(predictions, len(self.scores))
        self.class_names = class_names
        start = best_thresholds(self.sweep).loc["f1", "threshold"] if threshold is None else check_threshold(threshold)
        matrix = ood_confusion_matrix(self.labels, self.scores, self.predictions, threshold=start,
                                      class_names=class_names)

        super().__init__(figsize=(13, 3.8), pyplot=pyplot)
        confusion_ax, density_ax, sweep_ax = self.figure.subplots(1, 3, gridspec_kw={"width_ratios": [0.8, 1.2, 1.2]})
        self.figure.subplots_adjust(left=0.06, right=0.99, bottom=0.2, top=0.84, wspace=0.35)
        self.confusion = _ConfusionArtist(confusion_ax, matrix)
        is_ood = self.labels < 0
        plot_score_densities({"ID": self.scores[~is_ood], "OOD": self.scores[is_ood]}, xlabel=score_name,
                             ax=density_ax)
        density_ax.set_title("Scores: right of the line is flagged OOD", fontsize="medium")
        self.density_line = density_ax.axvline(start, color="black", ls="--", lw=1.5)
        x = self.sweep.index.to_numpy(dtype=float)
        for metric, colour in _METRIC_COLOURS.items():
            sweep_ax.plot(x, self.sweep[metric], color=colour, lw=2, label=metric)
        sweep_ax.set_ylim(-0.02, 1.02)
        sweep_ax.set_xlabel(f"threshold on the {score_name}")
        sweep_ax.set_ylabel("macro average over the ID classes")
        sweep_ax.legend(fontsize="small", loc="lower left")
        self.sweep_line = sweep_ax.axvline(start, color="black", ls="--", lw=1.5)
        self.note = self.figure.text(0.5, 0.955, "", ha="center", fontsize="medium")
        # panels, in drawing order: the whole confusion axes (counts over the image, spines over both, as a full
        # draw has them) in the left part of the figure with its labels; each threshold line with the legend drawn
        # over it; the metrics line above the axes
        split = (confusion_ax.get_position().x1 + density_ax.get_position().x0) / 2
        left = TransformedBbox(Bbox([[0, 0], [split, 0.925]]), self.figure.transFigure)
        self.add_panel(left, [confusion_ax])
        self.add_panel(density_ax, [self.density_line, density_ax.get_legend()])
        self.add_panel(sweep_ax, [self.sweep_line, sweep_ax.get_legend()])
        self.add_panel(TransformedBbox(Bbox([[0, 0.925], [1, 1]]), self.figure.transFigure), [self.note])
        self.update(threshold=start)

    def update(self, *, threshold) -> ThresholdFigure:
        """Move the threshold: recount the confusion matrix, move the lines, rewrite the metrics; returns ``self``."""
        threshold = check_threshold(threshold)
        self.threshold = threshold
        self.matrix = ood_confusion_matrix(self.labels, self.scores, self.predictions, threshold=threshold,
                                           class_names=self.class_names)
        self.rates = rates_at(self.matrix)
        self.confusion.update(self.matrix)
        self.density_line.set_xdata([threshold, threshold])
        self.sweep_line.set_xdata([threshold, threshold])
        r = self.rates
        self.note.set_text(
            f"threshold {threshold:.4g}:  precision {r['precision']:.3f}   recall {r['recall']:.3f}   "
            f"F1 {r['f1']:.3f}   ID flagged as OOD {r['id_flagged']:.1%}   OOD let through {r['ood_accepted']:.1%}"
        )
        return self


def threshold_view(labels, scores, predictions, *, threshold=None, class_names=None, score_name="OOD score",
                   thresholds=None):
    """The threshold explorer's view drawn once: confusion matrix, densities with the threshold, the sweep.

    Parameters
    ----------
    As :class:`ThresholdFigure`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from trustml.ood import threshold_view
    >>> figure = threshold_view([0, 1, -1, -1], [0.1, 0.3, 0.6, 0.9], [0, 1, 1, 0], threshold=0.5)
    >>> len(figure.axes)
    3
    """
    return ThresholdFigure(labels, scores, predictions, class_names=class_names, score_name=score_name,
                           threshold=threshold, thresholds=thresholds, pyplot=True).figure


def split_view(split, *, max_iter: int = 200, max_points: int = 300, max_train: int = 1000, seed: int = 0):
    """How separable an ID/OOD split is for a linear model: PCA of the pixels and a logistic regression's softmax.

    Fits scikit-learn's ``LogisticRegression`` on the first 50 principal
    components of the ID training images' pixels (a linear model of the
    pixels, fitted in a fraction of the time all 784 take) and draws, left,
    the PCA of the ID training images (by class) and the OOD images and,
    right, the densities of the max-softmax OOD score (minus the top
    probability) of the ID test and the OOD images, with the AUROC and FPR95
    in the title. This is the view of ``trustml.widgets.ood_class_picker``.

    Parameters
    ----------
    split : IDOODSplit
    max_iter : int, default 200
        Iterations of the logistic regression's solver.
    max_points : int, default 300
        At most this many points per group in the PCA.
    max_train : int, default 1000
        Fit on at most this many ID training images (a random sample), so
        that a change of classes in the widget redraws quickly even on the
        full Fashion-MNIST.
    seed : int, default 0

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.ood import id_ood_split, split_view
    >>> figure = split_view(id_ood_split(load("digits"), ["0", "1"], ["5"]))
    >>> len(figure.axes)
    2
    """
    import matplotlib.pyplot as plt

    from trustml.ood._metrics import metrics

    fitted = linear_split_scores(split, max_iter=max_iter, max_train=max_train, seed=seed)
    result = metrics(fitted["id_scores"], fitted["ood_scores"])
    figure, (pca_ax, density_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.9, wspace=0.22)  # no layout engine: faster
    X_train, y_train = fitted["X_train"], fitted["y_train"]
    groups = {f"ID: {name}": X_train[y_train == k] for k, name in enumerate(split.id_names)}
    groups[f"OOD: {', '.join(split.ood_names)}"] = _flat(split.X_ood)
    plot_pca(groups, fit_on=X_train, max_points=max_points, seed=seed, ax=pca_ax)
    pca_ax.set_title("PCA of the pixels (fitted on the ID training images)", fontsize="medium")
    plot_score_densities({"ID test": fitted["id_scores"], "OOD": fitted["ood_scores"]},
                         xlabel="- max softmax probability", ax=density_ax)  # fmt: skip
    density_ax.set_title(
        f"Logistic regression: AUROC {result['auroc']:.3f}, FPR95 {result['fpr95']:.3f} "
        f"(ID test accuracy {fitted['accuracy']:.3f})", fontsize="medium",
    )  # fmt: skip
    return figure


def linear_split_scores(split, *, max_iter: int = 200, max_train: int = 1000, seed: int = 0) -> dict:
    """The max-softmax OOD scores of :func:`split_view`'s model: logistic regression on 50 principal components.

    Returns
    -------
    dict
        ``id_scores`` and ``ood_scores`` (minus the top probability: higher =
        more OOD), ``accuracy`` on the ID test images, and the ``X_train`` /
        ``y_train`` (flattened pixels) the model was fitted on.
    """
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from trustml.ood._split import IDOODSplit

    if not isinstance(split, IDOODSplit):
        raise TypeError(f"split must be what id_ood_split returns, got {type(split).__name__}.")
    if split.num_classes < 2:
        raise ValueError(f"a classifier needs at least two ID classes, got {split.id_names}: add one to id_classes.")
    check_positive_int(max_train, "max_train")
    rng = np.random.default_rng(seed)
    keep = np.arange(len(split.y_train))
    if len(keep) > max_train:
        keep = np.sort(rng.choice(keep, size=max_train, replace=False))
    X_train, y_train = _flat(split.X_train[keep]), split.y_train.numpy()[keep]
    if len(np.unique(y_train)) < split.num_classes:
        raise ValueError(f"max_train={max_train} leaves an ID class without images: raise it.")
    components = min(50, X_train.shape[1], len(X_train) - 1)
    model = make_pipeline(PCA(components, random_state=seed), LogisticRegression(max_iter=max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a capped solver is fine for a look
        model.fit(X_train, y_train)
    return {
        "id_scores": -model.predict_proba(_flat(split.X_test)).max(axis=1),
        "ood_scores": -model.predict_proba(_flat(split.X_ood)).max(axis=1),
        "accuracy": float(model.score(_flat(split.X_test), split.y_test.numpy())),
        "X_train": X_train,
        "y_train": y_train,
    }


def _flat(X) -> np.ndarray:
    return X.reshape(len(X), -1).numpy()
