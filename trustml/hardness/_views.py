"""Pictures of a characterisation: data maps, how each method ranks the planted samples, top-k images.

Each function draws one static view and returns its matplotlib ``Figure``; the
widgets in :mod:`trustml.widgets.hardness` put controls in front of the same
functions.
"""

from __future__ import annotations

import numpy as np

from trustml.hardness._characterize import Characterization, evaluate
from trustml._checks import check_labels, to_numpy
from trustml.hardness._methods import METHODS, easy_ambiguous_hard

__all__ = ["plot_data_map", "plot_hardest", "plot_method_ranking"]

#: Colours of the data-map groups.
GROUP_COLOURS = {"easy": "#1a9850", "ambiguous": "#f39c12", "hard": "#d73027"}
_GROUPS = ("hard", "ambiguous", "easy")
_UNCERTAINTY = {
    # column of Characterization.data_map: (what the axis shows, whose map, axis limit)
    "variability": ("variability: std over epochs of p(label)", "Data Maps", 0.5),
    "aleatoric": ("aleatoric uncertainty: mean over epochs of p(1 - p)", "Data-IQ", 0.26),
}
_PERTURBED = "#b2182b"  # frame of truly perturbed samples


def plot_data_map(
    result: Characterization,
    X=None,
    *,
    uncertainty: str = "variability",
    confidence_threshold: float = 0.2,
    uncertainty_threshold: float = 0.15,
    group: str = "hard",
    class_name=None,
    class_names=None,
    mask=None,
    original_labels=None,
    n_images: int = 12,
):
    """A data map: confidence against uncertainty over training, coloured by group, with images of one region.

    Each dot is a training sample, placed by the probability ``p`` the model
    gave its observed label across epochs: up = confident (``mean p``), right
    = uncertain (Data Maps' variability ``std p``, or Data-IQ's aleatoric
    uncertainty ``mean p(1 - p)``). The thresholds split the map into the
    groups of :func:`easy_ambiguous_hard`: easy (confident, certain), hard
    (consistently *not* confident: often mislabeled) and ambiguous (the rest).
    Beside the map, the images of one group (optionally one class): *hard*
    from the lowest confidence up, *ambiguous* from the highest uncertainty
    down, *easy* from the highest confidence down.

    Parameters
    ----------
    result : Characterization
        What :func:`characterize` returned (its ``data_map``, labels and final predictions are used).
    X : torch.Tensor or numpy.ndarray, optional
        The training images ``(N, C, H, W)`` (C = 1 or 3) the result was computed on;
        without them only the map is drawn.
    uncertainty : {"variability", "aleatoric"}, default "variability"
        The horizontal axis: Data Maps' or Data-IQ's.
    confidence_threshold : float, default 0.2
        Hard: confidence <= this; easy: confidence >= 1 - this. In [0, 0.5].
    uncertainty_threshold : float, default 0.15
        Easy and hard need uncertainty <= this.
    group : {"hard", "ambiguous", "easy"}, default "hard"
        Whose images to show (and to outline in the map).
    class_name : str, optional
        Only samples whose observed label is this class (a name from
        ``class_names``); default every class.
    class_names : sequence of str, optional
        Name of each class index (e.g. ``ImageData.class_names``); default "0", "1", ...
    mask : array-like of bool, optional
        The truly perturbed samples (``perturb(...).mask``): ringed in the map, framed in red beside it.
    original_labels : array-like of int, optional
        The labels before perturbation: where they differ, a caption says "was ...".
    n_images : int, default 12

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.hardness import characterize, perturb, plot_data_map
    >>> from trustml.models import MLP
    >>> digits = load("digits").subset(200)
    >>> noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2)
    >>> result = characterize(MLP(784, 10), noisy.X, noisy.y, epochs=3, methods=["aum"])
    >>> fig = plot_data_map(result, noisy.X, mask=noisy.mask, class_name="7")
    >>> fig.axes[0].get_xlabel()
    'variability: std over epochs of p(label)'
    """
    import matplotlib.pyplot as plt

    _check_result(result)
    if uncertainty not in _UNCERTAINTY:
        raise ValueError(f"uncertainty must be 'variability' (Data Maps) or 'aleatoric' (Data-IQ), got {uncertainty!r}.")
    if group not in _GROUPS:
        raise ValueError(f"group must be one of {', '.join(_GROUPS)}, got {group!r}.")
    n_images = _check_count("n_images", n_images)
    n = len(result.labels)
    names = _class_names(class_names, result.final_logits.shape[1])
    images = None if X is None else _images(X, n)
    mask = None if mask is None else _mask(mask, n)
    original = None if original_labels is None else check_labels(original_labels, n, "original_labels")
    stats = result.data_map
    confidence = stats["confidence"].to_numpy()
    spread = stats[uncertainty].to_numpy()
    groups = easy_ambiguous_hard(
        confidence, spread, confidence_threshold=confidence_threshold, uncertainty_threshold=uncertainty_threshold
    )
    if class_name is None:
        in_class = np.ones(n, dtype=bool)
    elif class_name in names:
        in_class = result.labels == names.index(class_name)
    else:
        raise ValueError(f"Unknown class_name {class_name!r}; the classes are {names}.")
    chosen = np.flatnonzero(in_class & (groups == group))
    order = {"hard": confidence[chosen], "ambiguous": -spread[chosen], "easy": -confidence[chosen]}[group]
    shown = chosen[np.argsort(order, kind="stable")[:n_images]]

    # fixed margins rather than a constrained layout: a widget redraws this on every move, and
    # the layout engine would double the drawing time
    fig = plt.figure(figsize=(12, 5.2))
    panel = fig if images is None else fig.subfigures(1, 2, width_ratios=[1.1, 1])[0]
    panel.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.93)
    ax = panel.add_subplot()
    axis_label, whose, limit = _UNCERTAINTY[uncertainty]
    limit = max(limit, uncertainty_threshold * 1.1)
    for region, low, high in (("easy", 1 - confidence_threshold, 1.02), ("hard", -0.02, confidence_threshold)):
        ax.fill_between([0, uncertainty_threshold], low, high, color=GROUP_COLOURS[region], alpha=0.08, lw=0)
    ax.axhline(confidence_threshold, color="grey", lw=0.8, ls="--")
    ax.axhline(1 - confidence_threshold, color="grey", lw=0.8, ls="--")
    ax.axvline(uncertainty_threshold, color="grey", lw=0.8, ls="--")
    others = ~in_class
    if others.any():
        ax.scatter(spread[others], confidence[others], s=6, color="lightgrey", lw=0, label="other classes")
    for name in ("easy", "ambiguous", "hard"):
        members = in_class & (groups == name)
        ax.scatter(
            spread[members], confidence[members], s=10, color=GROUP_COLOURS[name], lw=0, alpha=0.8,
            label=f"{name} ({members.sum()})",
        )  # fmt: skip
    if mask is not None:
        planted = in_class & mask
        ax.scatter(
            spread[planted], confidence[planted], s=26, facecolors="none", edgecolors="black", lw=0.6,
            label=f"truly perturbed ({planted.sum()})",
        )  # fmt: skip
    if images is not None and len(shown):
        ax.scatter(
            spread[shown], confidence[shown], s=90, marker="s", facecolors="none", edgecolors="#2166ac", lw=1.4,
            label="shown on the right",
        )  # fmt: skip
    ax.set_xlim(0, limit)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(axis_label)
    ax.set_ylabel("confidence: mean over epochs of p(label)")
    which = "every class" if class_name is None else f"class {class_name}"
    ax.set_title(f"{whose} map, {which}", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    if images is not None:
        predicted = result.final_logits.argmax(1).numpy()
        captions = [_caption(i, result.labels, predicted, original, names) for i in shown]
        found = f"{len(chosen)} {group} samples" + ("" if class_name is None else f" of class {class_name}")
        if mask is not None and len(chosen):
            found += f", {mask[chosen].sum()} truly perturbed"
        order_text = {"hard": "lowest confidence", "ambiguous": "highest uncertainty", "easy": "highest confidence"}
        title = found + (f"\nshown: {len(shown)} with the {order_text[group]}" if len(shown) else "")
        right = fig.subfigs[1]
        _image_grid(right, images, shown, captions, None if mask is None else mask[shown], title=title, columns=4)
    return fig


def plot_method_ranking(
    result: Characterization,
    mask,
    X=None,
    *,
    method: str = "aum",
    k: int = 12,
    class_names=None,
    original_labels=None,
    title: str | None = None,
):
    """How well each method ranks the perturbed samples first (AUROC bars), and one method's top ``k``.

    Left: the AUROC of every method's scores for the truly perturbed
    samples (:func:`evaluate`; 0.5 = chance, 1 = every perturbed sample
    ranked above every clean one), the chosen method highlighted. Right: the
    ``k`` samples the chosen method scores hardest, hardest first, those truly
    perturbed framed in red.

    Parameters
    ----------
    result : Characterization
    mask : array-like of bool, shape (N,)
        The truly perturbed samples (``perturb(...).mask``).
    X : torch.Tensor or numpy.ndarray, optional
        The (perturbed) training images ``(N, C, H, W)``; without them only the bars are drawn.
    method : str, default "aum"
        One of the methods in ``result.scores``.
    k : int, default 12
    class_names : sequence of str, optional
    original_labels : array-like of int, optional
        The labels before perturbation: where they differ, a caption says "was ...".
    title : str, optional
        Figure title (e.g. the hardness type and proportion).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml.hardness import Characterization, plot_method_ranking
    >>> from trustml.hardness._methods import data_map
    >>> logits = torch.randn(2, 6, 3); labels = np.array([0, 1, 2, 0, 1, 2])
    >>> scores = {"aum": np.arange(6.0), "loss": np.arange(6.0)[::-1].copy()}
    >>> result = Characterization(scores, labels, logits, logits[-1], data_map(logits, labels), {}, None)
    >>> fig = plot_method_ranking(result, labels == 2, method="loss")
    >>> fig.axes[0].get_xlabel()
    'AUROC for the perturbed samples (0.5 = chance)'
    """
    import matplotlib.pyplot as plt

    _check_result(result)
    n = len(result.labels)
    if method not in result.scores:
        raise ValueError(f"No scores for method {method!r}; this result has: {', '.join(result.methods)}.")
    k = _check_count("k", k)
    mask = _mask(mask, n)
    names = _class_names(class_names, result.final_logits.shape[1])
    images = None if X is None else _images(X, n)
    original = None if original_labels is None else check_labels(original_labels, n, "original_labels")
    table = evaluate(result.scores, mask)
    methods = [m for m in METHODS if m in table.index] + [m for m in table.index if m not in METHODS]
    auroc = table.loc[methods, "auroc"].to_numpy()

    height = max(4.8, 0.3 * len(methods) + 1.8)
    fig = plt.figure(figsize=(12, height))
    panel = fig if images is None else fig.subfigures(1, 2, width_ratios=[0.8, 1])[0]
    title_lines = len(title.splitlines()) if title else 0
    panel.subplots_adjust(left=0.24, right=0.96, bottom=0.12, top=1 - (0.35 + 0.22 * title_lines) / height)
    ax = panel.add_subplot()
    colours = ["#2166ac" if m == method else "#9ecae1" for m in methods]
    positions = np.arange(len(methods))
    ax.barh(positions, auroc, color=colours)
    for y, value, name in zip(positions, auroc, methods):
        inside = value > 0.88  # no room right of the bar: write the value at its end, inside it
        ax.text(value - 0.01 if inside else value + 0.01, y, f"{value:.2f}", va="center", fontsize=8,
                ha="right" if inside else "left", color="white" if inside and name == method else "black")  # fmt: skip
    ax.axvline(0.5, color="grey", ls="--", lw=1)
    ax.set_yticks(positions, methods)
    ax.set_ylim(len(methods) - 0.5, -0.5)  # first method on top
    ax.set_xlim(0, 1)
    ax.set_xlabel("AUROC for the perturbed samples (0.5 = chance)")
    ax.set_ylabel("method")
    ax.set_title(f"{mask.sum()} of {n} samples perturbed", fontsize=10)
    if title:
        panel.suptitle(title, fontsize=11, y=0.985, va="top")
    if images is not None:
        top = result.hardest(method, min(k, n))
        predicted = result.final_logits.argmax(1).numpy()
        captions = [_caption(i, result.labels, predicted, original, names) for i in top]
        hits = int(mask[top].sum())
        subtitle = (
            f"{method}'s {len(top)} hardest: {hits} truly perturbed\n"
            f"(precision {hits / len(top):.2f}; chance {mask.mean():.2f})"
        )
        _image_grid(fig.subfigs[1], images, top, captions, mask[top], title=subtitle, columns=4 if k <= 16 else 6,
                    top=0.8 if title else 0.86)  # fmt: skip
    return fig


def plot_hardest(result: Characterization, X, *, methods=None, k: int = 8, mask=None, class_names=None,
                 original_labels=None):  # fmt: skip
    """The ``k`` samples each method scores hardest: one row per method, hardest on the left.

    Parameters
    ----------
    result : Characterization
    X : torch.Tensor or numpy.ndarray
        The training images ``(N, C, H, W)`` the result was computed on.
    methods : sequence of str, optional
        Default: every method in ``result.scores``, in :data:`METHODS` order.
    k : int, default 8
    mask : array-like of bool, optional
        The truly perturbed samples: framed in red, and counted in each row's name.
    class_names : sequence of str, optional
    original_labels : array-like of int, optional
        The labels before perturbation: where they differ, a caption says "was ...".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, torch
    >>> from trustml.hardness import Characterization, plot_hardest
    >>> from trustml.hardness._methods import data_map
    >>> logits = torch.randn(2, 6, 3); labels = np.array([0, 1, 2, 0, 1, 2])
    >>> result = Characterization({"aum": np.arange(6.0)}, labels, logits, logits[-1], data_map(logits, labels), {}, None)
    >>> fig = plot_hardest(result, torch.rand(6, 1, 8, 8), k=3)
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    _check_result(result)
    n = len(result.labels)
    methods = [m for m in METHODS if m in result.scores] if methods is None else list(methods)
    if not methods:
        raise ValueError("methods is empty: name at least one method of the result.")
    for name in methods:
        if name not in result.scores:
            raise ValueError(f"No scores for method {name!r}; this result has: {', '.join(result.methods)}.")
    k = min(_check_count("k", k), n)
    images = _images(X, n)
    mask = None if mask is None else _mask(mask, n)
    names = _class_names(class_names, result.final_logits.shape[1])
    original = None if original_labels is None else check_labels(original_labels, n, "original_labels")
    predicted = result.final_logits.argmax(1).numpy()
    width, height = 1.15 * k + 1.6, 1.45 * len(methods) + 0.5
    fig, axes = plt.subplots(len(methods), k, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(left=1.5 / width, right=0.99, bottom=0.1 / height, top=1 - 0.6 / height, wspace=0.08, hspace=0.3)
    for row, name in zip(axes, methods):
        top = result.hardest(name, k)
        for ax, i in zip(row, top):
            _show(ax, images[i], framed=mask is not None and mask[i])
            ax.set_title(_caption(i, result.labels, predicted, original, names, short=True), fontsize=7)
        label = name if mask is None else f"{name}\n{mask[top].sum()}/{k} perturbed"
        row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    what = "hardest first" + ("; red frame = truly perturbed" if mask is not None else "")
    fig.suptitle(f"The {k} samples each method scores hardest ({what})", fontsize=11)
    return fig


# --------------------------------------------------------------------------- helpers


def _check_result(result) -> None:
    if not isinstance(result, Characterization):
        raise TypeError(f"result must be what characterize() returned (a Characterization), got {type(result).__name__}.")


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _mask(mask, n: int) -> np.ndarray:
    mask = to_numpy(mask, "mask")
    if mask.dtype != bool:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("mask must be boolean (True = perturbed), e.g. perturb(...).mask.")
        mask = mask.astype(bool)
    if mask.shape != (n,):
        raise ValueError(f"mask has shape {mask.shape} but the result has {n} samples: they must match.")
    return mask


def _images(X, n: int) -> np.ndarray:
    """Images as (N, H, W) greyscale or (N, H, W, 3) colour floats in [0, 1]."""
    X = to_numpy(X, "X")
    if X.ndim != 4 or X.shape[1] not in (1, 3):
        raise ValueError(
            f"X must be images (N, C, H, W) with 1 or 3 channels, got shape {X.shape}; "
            "for tabular data leave X out (the views then draw no images)."
        )
    if len(X) != n:
        raise ValueError(f"X has {len(X)} images but the result has {n} samples: pass the data it was computed on.")
    X = np.clip(np.asarray(X, dtype=np.float32), 0, 1)
    return X[:, 0] if X.shape[1] == 1 else X.transpose(0, 2, 3, 1)


def _class_names(class_names, num_classes: int) -> list:
    if class_names is None:
        return [str(c) for c in range(num_classes)]
    names = [str(c) for c in class_names]
    if len(names) != num_classes:
        raise ValueError(f"class_names has {len(names)} names but the model has {num_classes} classes.")
    return names


def _caption(i, labels, predicted, original, names, *, short=False) -> str:
    text = f"label {names[labels[i]]}"
    if original is not None and original[i] != labels[i]:
        text += f" (was {names[original[i]]})"
    if not short:
        text += f"\npredicted {names[predicted[i]]}"
    return text


def _show(ax, image, *, framed: bool) -> None:
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(framed)
        spine.set_color(_PERTURBED)
        spine.set_linewidth(3)


def _image_grid(subfig, images, indices, captions, framed, *, title: str, columns: int, top: float = 0.86) -> None:
    """Images ``indices`` in a grid on ``subfig``; a message instead when there are none."""
    subfig.suptitle(title, fontsize=10, y=0.985, va="top")
    if len(indices) == 0:
        ax = subfig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, "no sample falls in this region:\nmove the thresholds or pick another group or class",
                ha="center", va="center", fontsize=10, color="grey", transform=ax.transAxes)  # fmt: skip
        return
    rows = -(-len(indices) // columns)
    axes = subfig.subplots(
        rows, columns, squeeze=False,
        gridspec_kw=dict(left=0.02, right=0.98, bottom=0.02, top=top, wspace=0.12, hspace=0.45),
    )  # fmt: skip
    for ax in axes.flat[len(indices) :]:
        ax.axis("off")
    for ax, i, caption, j in zip(axes.flat, indices, captions, range(len(indices))):
        _show(ax, images[i], framed=framed is not None and framed[j])
        ax.set_title(caption, fontsize=8)
