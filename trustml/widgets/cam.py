"""The CAM explorer: pick a class by name (searchable) and a method, see where the model looks.

A thin layer of core ipywidgets over :func:`trustml.explain.cam_view`, which
draws the same view for a given class and method (and renders statically).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch

from trustml.explain._cam import _as_images, _device_of, _method_key, _with_preprocess, cam, suggest_target_layer
from trustml.explain._cam_views import CAMFigure, _cam_title
from trustml.widgets._view import ViewWidget

__all__ = ["cam_explorer"]

DEFAULT_METHODS = ("gradcam", "gradcam++", "xgradcam", "layercam", "eigencam", "scorecam")


def cam_explorer(
    model,
    image,
    *,
    class_names,
    target_layer=None,
    preprocess=None,
    methods=DEFAULT_METHODS,
    method: str = "gradcam",
    target=None,
    device=None,
    alpha: float = 0.5,
) -> ViewWidget:
    """Explore one image's CAMs: a class picker by name, with a search box, and a method picker.

    The class list is ordered by the model's probability for the image (its
    prediction first) and shows each probability; typing in *find* keeps
    only the classes whose name contains the text. Maps already computed are
    kept, so going back to a class or method redraws at once.

    Parameters
    ----------
    model : torch.nn.Module
    image : torch.Tensor
        One image (C, H, W) in [0, 1].
    class_names : sequence of str
        ``class_names[k]`` names class ``k`` (``weights.meta["categories"]``,
        ``data.class_names``).
    target_layer : torch.nn.Module or str, optional
        Default: the last convolutional layer (:func:`trustml.explain.suggest_target_layer`).
    preprocess : callable, optional
        The model's normalisation of [0, 1] images.
    methods : sequence of str
        The methods offered (names of :data:`trustml.explain.CAM_METHODS`).
    method : str, default "gradcam"
        The method shown first.
    target : int or str, optional
        The class shown first (default: the predicted class).
    device : torch.device or str, optional
    alpha : float, default 0.5

    Returns
    -------
    trustml.widgets.ViewWidget
        Controls ``target`` (a class index) and ``method``; ``.find`` is the
        search box; ``.figure`` the :class:`~trustml.explain.CAMFigure` it
        updates (``.result`` is the same figure, after the last redraw);
        ``.computed`` the maps computed so far, by (class, method).

    Examples
    --------
    >>> import torch
    >>> from trustml.models import SimpleCNN
    >>> from trustml.widgets import cam_explorer
    >>> explorer = cam_explorer(SimpleCNN(num_classes=3), torch.rand(1, 16, 16), class_names=["cat", "dog", "car"],
    ...                         device="cpu")
    >>> explorer.find.value = "ca"
    >>> sorted(label.split(" (")[0] for label, _ in explorer.controls["target"].options)
    ['car', 'cat']
    """
    from trustml.explain import class_index
    from trustml.training import _as_device

    image = _as_images(image, "image")
    if len(image) != 1:
        raise ValueError(f"cam_explorer shows one image; got a batch of {len(image)}: pass images[i].")
    names = [str(n) for n in class_names]
    keys = [_method_key(m) for m in methods]
    if not keys:
        raise ValueError("methods must name at least one CAM method.")
    start_method = _method_key(method)
    if start_method not in keys:
        raise ValueError(f"method={method!r} is not among methods={list(methods)}.")
    device = None if device is None else _as_device(device)
    if target_layer is None:
        target_layer = suggest_target_layer(model, image, preprocess=preprocess)
    net = _with_preprocess(model, preprocess)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            logits = net(image.to(_device_of(net)))
    finally:
        net.train(was_training)
    if logits.shape[1] != len(names):
        raise ValueError(f"class_names has {len(names)} names but the model outputs {logits.shape[1]} logits.")
    probabilities = logits.softmax(1)[0].float().cpu().numpy()
    order = np.argsort(-probabilities, kind="stable")
    labels = {int(k): f"{names[k]} ({probabilities[k]:.1%})" for k in order}
    start = int(order[0]) if target is None else (class_index(target, names) if isinstance(target, str) else target)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < len(names):
        raise ValueError(f"target must be a class name or an index in 0..{len(names) - 1}, got {target!r}.")

    figure = CAMFigure(image, alpha=alpha)
    computed: dict = {}  # (class, method) -> CAMResult

    def view(target, method):
        if target is None:  # the search matched no class
            figure.title.set_text("no class matches the search")
        else:
            key = (int(target), method)
            if key not in computed:
                computed[key] = cam(model, image, target=int(target), method=method, target_layer=target_layer,
                                    class_names=names, preprocess=preprocess, device=device)
            figure.update(cam_map=computed[key].maps[0], title=_cam_title(computed[key]))
        return figure

    controls = {
        "target": widgets.Dropdown(options=[(labels[int(k)], int(k)) for k in order], value=int(start),
                                   description="class"),
        "method": widgets.Dropdown(options=keys, value=start_method, description="method"),
    }
    find = widgets.Text(value="", placeholder="type part of a class name", description="find",
                        continuous_update=True)
    explorer = ViewWidget(view, controls, extra=[find])
    explorer.find = find
    explorer.figure = figure
    explorer.computed = computed

    def on_find(change):
        query = change["new"].strip().casefold()
        matching = [(labels[int(k)], int(k)) for k in order if query in names[k].casefold()]
        dropdown = controls["target"]
        current = dropdown.value
        with explorer.hold(redraw=False):
            dropdown.options = matching
            if any(k == current for _, k in matching):
                dropdown.value = current
        if dropdown.value != current:
            explorer.redraw()

    find.observe(on_find, names="value")
    return explorer
