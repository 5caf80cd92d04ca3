"""Class activation maps through pytorch-grad-cam, behind one stable function.

pytorch-grad-cam's API has moved under its users (``target_layer`` became
``target_layers``, ``use_cuda`` was removed: grad-cam#174, #504). :func:`cam`
is the course's fixed surface over it: any of its methods by name, any class
by index or by name, a suggested target layer when none is given, checked
inputs, and the best device.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from trustml import get_device

__all__ = [
    "CAM_METHODS",
    "CAMNotice",
    "CAMResult",
    "cam",
    "class_index",
    "overlay",
    "suggest_target_layer",
]

# trustml's name -> pytorch-grad-cam's class. Names are matched ignoring case, spaces, "-" and "_".
_METHOD_CLASSES = {
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMPlusPlus",
    "hirescam": "HiResCAM",
    "xgradcam": "XGradCAM",
    "layercam": "LayerCAM",
    "gradcamelementwise": "GradCAMElementWise",
    "eigencam": "EigenCAM",
    "eigengradcam": "EigenGradCAM",
    "kpcacam": "KPCA_CAM",
    "scorecam": "ScoreCAM",
    "ablationcam": "AblationCAM",
    "fullgrad": "FullGrad",
    "shapleycam": "ShapleyCAM",
    "randomcam": "RandomCAM",
}
CAM_METHODS = tuple(_METHOD_CLASSES)
"""The methods :func:`cam` offers, by trustml's name (each is the pytorch-grad-cam class of that name)."""

_GRADIENT_FREE = {"eigencam", "kpcacam", "scorecam", "ablationcam"}
_WITH_PROGRESS_BARS = ("score_cam", "ablation_cam")  # pytorch-grad-cam modules that draw a tqdm bar per image


class CAMNotice(UserWarning):
    """Shown when :func:`cam` chooses something for you (the target layer) and says which."""


@dataclass(frozen=True, repr=False)
class CAMResult:
    """What :func:`cam` computed.

    Attributes
    ----------
    maps : numpy.ndarray
        ``(N, H, W)`` float32 maps in [0, 1], one per image, at the images' size
        (each scaled so that its largest value is 1, as pytorch-grad-cam does).
    classes : numpy.ndarray
        ``(N,)`` the class each map explains.
    predicted : numpy.ndarray
        ``(N,)`` the model's predicted class for each image.
    probabilities : numpy.ndarray
        ``(N,)`` the model's softmax probability of the explained class.
    method : str
        The method's name in :data:`CAM_METHODS`.
    target_layer : str or None
        Dotted name of the layer the maps were computed at (``None`` for
        FullGrad, which uses every layer with a bias).
    class_names : tuple of str or None
        The names of ``classes``, when class names were given.
    """

    maps: np.ndarray
    classes: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    method: str
    target_layer: str | None
    class_names: tuple | None = None

    def __len__(self) -> int:
        return len(self.maps)

    def __repr__(self) -> str:
        where = "every layer with a bias" if self.target_layer is None else f"layer {self.target_layer!r}"
        return f"CAMResult({self.method}, {len(self)} map(s) of {self.maps.shape[1]}x{self.maps.shape[2]}, {where})"


def _method_key(method) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a method's name (str), one of {list(CAM_METHODS)}; got {method!r}.")
    key = re.sub(r"[\s_\-]", "", method.lower()).replace("plusplus", "++")
    if key not in _METHOD_CLASSES:
        close = difflib.get_close_matches(key, CAM_METHODS, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"Unknown CAM method {method!r}.{hint} The methods are {list(CAM_METHODS)}.")
    return key


def class_index(name: str, class_names: Sequence[str]) -> int:
    """The index of the class called ``name``, ignoring case; an unknown name suggests close ones.

    Parameters
    ----------
    name : str
        A class name, e.g. ``"tabby"`` (ImageNet) or ``"7"`` (digits).
    class_names : sequence of str
        ``class_names[k]`` names class ``k``: for a torchvision model,
        ``weights.meta["categories"]``; for a trustml dataset, ``data.class_names``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        When no class has this name (the message lists close matches), or
        when several do (the message lists their indices).

    Examples
    --------
    >>> from trustml.explain import class_index
    >>> class_index("French Bulldog", ["beagle", "French bulldog", "tabby"])
    1
    >>> class_index("bulldog", ["beagle", "French bulldog", "tabby"])
    Traceback (most recent call last):
    ...
    ValueError: No class is called 'bulldog'. Close matches: 'French bulldog'.
    """
    if not isinstance(name, str):
        raise TypeError(f"A class name must be a str, got {name!r} ({type(name).__name__}).")
    names = [str(n) for n in class_names]
    exact = [k for k, n in enumerate(names) if n == name]
    if not exact:
        exact = [k for k, n in enumerate(names) if n.casefold() == name.casefold()]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise ValueError(
            f"{len(exact)} classes are called {name!r} (indices {exact}): pass the index of the one you mean."
        )
    query = name.casefold().strip()
    folded = [n.casefold() for n in names]
    close = [names[folded.index(c)] for c in difflib.get_close_matches(query, folded, n=5, cutoff=0.6)]
    query_words = {w for w in re.findall(r"\w+", query) if len(w) > 2}
    sharing = [n for n, f in zip(names, folded) if query_words & set(re.findall(r"\w+", f))]
    sharing.sort(key=lambda n: -difflib.SequenceMatcher(None, query, n.casefold()).ratio())
    suggestions = list(dict.fromkeys(close + sharing))[:8]
    hint = f" Close matches: {', '.join(map(repr, suggestions))}." if suggestions else (
        f" The classes are {names[:10]}{' ...' if len(names) > 10 else ''}."
    )
    raise ValueError(f"No class is called {name!r}.{hint}")


def _as_images(images, what: str = "images") -> torch.Tensor:
    """``images`` as a float tensor (N, C, H, W) with values in [0, 1]; one image (C, H, W) becomes N = 1."""
    if isinstance(images, np.ndarray):
        if images.dtype.kind not in "biuf":
            raise TypeError(f"{what} has dtype {images.dtype}: it must hold pixel values in [0, 1].")
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor or numpy array (N, C, H, W), got {type(images).__name__}.")
    if not images.is_floating_point():
        raise TypeError(
            f"{what} has dtype {images.dtype}: pass float pixel values in [0, 1] (for 0-255 images: {what} / 255)."
        )
    images = images.detach()
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4:
        raise ValueError(
            f"{what} must be a batch (N, C, H, W) or one image (C, H, W), got shape {tuple(images.shape)}."
        )
    if images.shape[1] not in (1, 3) and images.shape[-1] in (1, 3):
        raise ValueError(
            f"{what} has shape {tuple(images.shape)}, which looks channels-last (N, H, W, C): "
            f"trustml takes (N, C, H, W); use {what}.permute(0, 3, 1, 2)."
        )
    if len(images) == 0 or images.shape[2] < 2 or images.shape[3] < 2:
        raise ValueError(f"{what} is empty or too small (shape {tuple(images.shape)}): it needs at least one image.")
    if not bool(torch.isfinite(images).all()):
        raise ValueError(f"{what} has NaN or infinite values.")
    low, high = float(images.min()), float(images.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise ValueError(
            f"{what} must hold pixel values in [0, 1], got values from {low:.3g} to {high:.3g}. Pass the images "
            "before normalisation, and give the model's normalisation as preprocess= (e.g. weights.transforms())."
        )
    return images.float()


class _Preprocessed(nn.Module):
    """``model(preprocess(x))``: CAMs and ROAD work on [0, 1] images, the model sees what it expects."""

    def __init__(self, model: nn.Module, preprocess: Callable):
        super().__init__()
        self.model = model
        self.preprocess = preprocess

    def forward(self, x):
        return self.model(self.preprocess(x))


def _with_preprocess(model: nn.Module, preprocess) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if preprocess is None:
        return model
    if not callable(preprocess):
        raise TypeError(f"preprocess must be a function of a batch of images, got {type(preprocess).__name__}.")
    return _Preprocessed(model, preprocess)


def _resolve_layer(model: nn.Module, target_layer) -> tuple[str, nn.Module]:
    """(dotted name, module) of ``target_layer``: a module of ``model`` or the dotted name of one."""
    named = dict(model.named_modules())
    if isinstance(target_layer, str):
        if target_layer in named:
            return target_layer, named[target_layer]
        close = difflib.get_close_matches(target_layer, [n for n in named if n], n=4, cutoff=0.5)
        hint = f" Close matches: {', '.join(map(repr, close))}." if close else ""
        raise ValueError(
            f"target_layer={target_layer!r} is not the name of a module of the model.{hint} "
            "The names are those of model.named_modules(), e.g. 'layer4' for a torchvision ResNet."
        )
    if isinstance(target_layer, nn.Module):
        for name, module in named.items():
            if module is target_layer:
                return name, module
        raise ValueError(
            f"target_layer ({type(target_layer).__name__}) is not a module of the model: pass one of its own layers "
            "(e.g. model.layer4 for a torchvision ResNet, model.last_conv for trustml's SimpleCNN), or leave "
            "target_layer=None for the last convolutional layer. A layer of a copy of the model is not the "
            "model's own."
        )
    raise TypeError(
        f"target_layer must be a module of the model or its dotted name (str), got {type(target_layer).__name__}."
    )


def _record_outputs(model: nn.Module, x: torch.Tensor, modules: dict) -> tuple[torch.Tensor, list]:
    """Run ``model(x)`` without gradients; return its output and [(name, output shape)] in execution order."""
    calls = []
    handles = [
        module.register_forward_hook(
            lambda m, i, out, name=name: calls.append((name, tuple(out.shape) if torch.is_tensor(out) else None))
        )
        for name, module in modules.items()
    ]
    try:
        with torch.no_grad():
            out = model(x)
    except RuntimeError as err:
        raise ValueError(f"The model cannot take images of shape {tuple(x.shape[1:])}: {err}") from err
    finally:
        for handle in handles:
            handle.remove()
    if not torch.is_tensor(out) or out.ndim != 2:
        got = f"shape {tuple(out.shape)}" if torch.is_tensor(out) else type(out).__name__
        raise ValueError(f"The model must output (batch, classes) logits, got {got}.")
    return out, calls


def suggest_target_layer(model: nn.Module, images, *, preprocess=None) -> str:
    """The dotted name of the model's last convolutional layer: the usual target layer of Grad-CAM.

    "Last" means last to run in a forward pass on ``images`` (not last
    declared), among the ``torch.nn.Conv2d`` modules.

    Parameters
    ----------
    model : torch.nn.Module
    images : torch.Tensor
        Images the model takes, (N, C, H, W) or (C, H, W) in [0, 1] (one is enough).
    preprocess : callable, optional
        What to apply to the images before the model (e.g. its normalisation).

    Returns
    -------
    str
        A name of ``dict(model.named_modules())``.

    Examples
    --------
    >>> import torch
    >>> from trustml.explain import suggest_target_layer
    >>> from trustml.models import SimpleCNN
    >>> suggest_target_layer(SimpleCNN(), torch.zeros(1, 1, 28, 28))
    'body.4'
    """
    net = _with_preprocess(model, preprocess)
    x = _as_images(images)[:1].to(_device_of(net))
    prefix = "model." if net is not model else ""
    convs = {n: m for n, m in net.named_modules() if isinstance(m, nn.Conv2d)}
    was_training = net.training
    net.eval()
    try:
        _, calls = _record_outputs(net, x, convs)
    finally:
        net.train(was_training)
    ran = [name for name, shape in calls if shape is not None and len(shape) == 4]
    if not ran:
        raise ValueError(
            "The model has no 2-D convolution that runs on these images: give target_layer=, a layer whose output "
            "is a feature map (N, C, h, w)."
        )
    return ran[-1][len(prefix):]


def _device_of(model: nn.Module) -> torch.device:
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _resolve_targets(target, n: int, num_classes: int, class_names, predicted: np.ndarray) -> np.ndarray:
    if target is None:
        return predicted.copy()
    if isinstance(target, (str, int, np.integer)) and not isinstance(target, (bool, np.bool_)):
        targets = [target] * n
    elif isinstance(target, (Sequence, np.ndarray, torch.Tensor)) and not isinstance(target, str):
        targets = list(target.tolist() if isinstance(target, (np.ndarray, torch.Tensor)) else target)
        if len(targets) != n:
            raise ValueError(f"target has {len(targets)} entries for {n} images: give one class per image, or one.")
    else:
        raise TypeError(f"target must be a class index, a class name, a list of them or None; got {target!r}.")
    out = []
    for t in targets:
        if isinstance(t, str):
            if class_names is None:
                raise ValueError(
                    f"target={t!r} is a class name but class_names is not given: pass class_names= "
                    "(weights.meta['categories'] for a torchvision model, data.class_names for a trustml dataset)."
                )
            t = class_index(t, class_names)
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
            raise TypeError(f"target must hold class indices (int) or names (str), got {t!r}.")
        if not 0 <= int(t) < num_classes:
            raise ValueError(f"target class {int(t)} is out of range: the model has classes 0..{num_classes - 1}.")
        out.append(int(t))
    return np.asarray(out, dtype=np.int64)


@contextlib.contextmanager
def _quiet_pytorch_grad_cam():
    """Silence pytorch-grad-cam's progress bars (ScoreCAM, AblationCAM) and its prints (FullGrad)."""
    import importlib

    import tqdm

    def silent(*args, **kwargs):
        return tqdm.tqdm(*args, **{**kwargs, "disable": True})

    with contextlib.ExitStack() as stack:
        for name in _WITH_PROGRESS_BARS:
            module = importlib.import_module(f"pytorch_grad_cam.{name}")
            stack.enter_context(_patched(module, "tqdm", SimpleNamespace(tqdm=silent)))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        yield


@contextlib.contextmanager
def _patched(module, attribute, value):
    old = getattr(module, attribute)
    setattr(module, attribute, value)
    try:
        yield
    finally:
        setattr(module, attribute, old)


def cam(
    model: nn.Module,
    images,
    *,
    target=None,
    method: str = "gradcam",
    target_layer=None,
    class_names: Sequence[str] | None = None,
    preprocess: Callable | None = None,
    device=None,
    batch_size: int = 32,
    aug_smooth: bool = False,
    eigen_smooth: bool = False,
) -> CAMResult:
    """Class activation maps of ``model`` on ``images`` with one of pytorch-grad-cam's methods.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier that maps images to ``(N, K)`` pre-softmax logits. It is
        moved to ``device`` (as :func:`trustml.training.fit` does) and left in
        the training mode it was in.
    images : torch.Tensor or numpy.ndarray
        ``(N, C, H, W)``, or one image ``(C, H, W)``, with pixel values in [0, 1].
    target : int, str, sequence of them, or None
        The class to explain, by index or by name (then ``class_names`` is
        needed), one for all images or one per image. Default: each image's
        predicted class. The score explained is the class's logit, as in the
        Grad-CAM paper (pytorch-grad-cam's ``ClassifierOutputTarget``).
    method : str, default "gradcam"
        One of :data:`CAM_METHODS` (case, spaces, ``-`` and ``_`` ignored:
        ``"GradCAM++"``, ``"ScoreCAM"``, ``"EigenCAM"``, ...).
    target_layer : torch.nn.Module or str, optional
        The layer whose activations the map is built from: one of the model's
        modules, or its dotted name in ``model.named_modules()`` (e.g.
        ``"layer4"``). Default: the last convolutional layer
        (:func:`suggest_target_layer`), with a :class:`CAMNotice` naming it.
        FullGrad ignores it (it uses every layer with a bias).
    class_names : sequence of str, optional
        ``class_names[k]`` names class ``k`` (``weights.meta["categories"]``
        for a torchvision model, ``data.class_names`` for a trustml dataset).
    preprocess : callable, optional
        Applied to the [0, 1] images before the model, e.g. the weights'
        normalisation; the maps and overlays stay on the [0, 1] images.
    device : torch.device or str, optional
        Default :func:`trustml.get_device` (CUDA, then MPS, then CPU).
    batch_size : int, default 32
        Images per pytorch-grad-cam call.
    aug_smooth, eigen_smooth : bool, default False
        pytorch-grad-cam's smoothing options (test-time augmentation; first
        principal component of the weighted activations).

    Returns
    -------
    CAMResult
        ``maps`` (N, H, W) in [0, 1], the explained ``classes``, the model's
        ``predicted`` classes and ``probabilities``, the ``method`` and the
        ``target_layer`` used.

    Raises
    ------
    ValueError, TypeError
        For bad input, before pytorch-grad-cam is called: images of the wrong
        shape or outside [0, 1], an unknown method or class name (with close
        matches), a class out of range, a target layer that is not a module
        of the model or has no spatial output.

    Examples
    --------
    >>> import torch
    >>> from trustml import set_seed
    >>> from trustml.explain import cam
    >>> from trustml.models import SimpleCNN
    >>> set_seed(0)
    >>> model = SimpleCNN(num_classes=3)
    >>> result = cam(model, torch.rand(2, 1, 28, 28), target="b", class_names=["a", "b", "c"],
    ...              target_layer=model.last_conv, device="cpu")
    >>> result
    CAMResult(gradcam, 2 map(s) of 28x28, layer 'body.4')
    >>> result.classes.tolist(), float(result.maps.max()) <= 1.0
    ([1, 1], True)
    """
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from trustml.training import _as_device, _check_positive_int

    key = _method_key(method)
    images = _as_images(images)
    _check_positive_int("batch_size", batch_size)
    device = get_device() if device is None else _as_device(device)
    net = _with_preprocess(model, preprocess)
    if target_layer is None and key != "fullgrad":
        name = suggest_target_layer(model, images[:1].to(_device_of(model)), preprocess=preprocess)
        warnings.warn(
            f"target_layer not given: using the last convolutional layer, {name!r} "
            f"({dict(model.named_modules())[name]}). Pass target_layer= to choose another.",
            CAMNotice,
            stacklevel=2,
        )
        target_layer = name
    layer_name, layer = (None, None) if key == "fullgrad" else _resolve_layer(model, target_layer)

    was_training = model.training
    model.to(device)
    net.eval()
    try:
        x = images.to(device)
        probe = {"layer": layer} if layer is not None else {}
        logits, calls = _record_outputs(net, x[:1], probe)
        if layer is not None:
            shapes = [shape for _, shape in calls]
            if not shapes:
                raise ValueError(f"target_layer {layer_name!r} does not run in the model's forward pass.")
            if shapes[-1] is None or len(shapes[-1]) != 4 or shapes[-1][2] * shapes[-1][3] < 1:
                raise ValueError(
                    f"target_layer {layer_name!r} outputs {shapes[-1]}: CAMs need a layer whose output is a feature "
                    f"map (N, C, h, w), such as the last convolutional layer "
                    f"({suggest_target_layer(model, images[:1].to(device), preprocess=preprocess)!r})."
                )
        num_classes = logits.shape[1]
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"class_names has {len(class_names)} names but the model outputs {num_classes} logits: they must match."
            )
        with torch.no_grad():
            all_logits = torch.cat([net(batch) for batch in x.split(batch_size)]).float().cpu()
        predicted = all_logits.argmax(1).numpy()
        classes = _resolve_targets(target, len(x), num_classes, class_names, predicted)
        probabilities = all_logits.softmax(1)[torch.arange(len(x)), torch.from_numpy(classes)].numpy()

        cam_class = getattr(pytorch_grad_cam, _METHOD_CLASSES[key])
        maps = []
        with _quiet_pytorch_grad_cam(), torch.enable_grad():
            explainer = cam_class(net, [] if layer is None else [layer])
            if key not in _GRADIENT_FREE:
                explainer.compute_input_gradient = True  # gradients reach the layer even when weights are frozen
            try:
                for start in range(0, len(x), batch_size):
                    batch = x[start:start + batch_size]
                    targets = [ClassifierOutputTarget(int(k)) for k in classes[start:start + batch_size]]
                    maps.append(explainer(input_tensor=batch, targets=targets, aug_smooth=aug_smooth,
                                          eigen_smooth=eigen_smooth))
            finally:
                explainer.activations_and_grads.release()
    finally:
        model.train(was_training)
    names = None if class_names is None else tuple(str(class_names[k]) for k in classes)
    return CAMResult(
        maps=np.concatenate(maps).astype(np.float32),
        classes=classes,
        predicted=predicted,
        probabilities=probabilities.astype(np.float32),
        method=key,
        target_layer=layer_name,
        class_names=names,
    )


def overlay(image, cam_map, *, alpha: float = 0.5) -> np.ndarray:
    """The map drawn over the image as a heat map (pytorch-grad-cam's ``show_cam_on_image``, jet colours).

    Parameters
    ----------
    image : torch.Tensor or numpy.ndarray
        One image (C, H, W) with C = 1 or 3, or (H, W), with values in [0, 1].
    cam_map : numpy.ndarray
        (H, W) map in [0, 1], e.g. ``cam(...).maps[i]``.
    alpha : float, default 0.5
        Weight of the heat map (0: only the image, 1: only the heat map).

    Returns
    -------
    numpy.ndarray
        (H, W, 3) uint8 RGB image, for ``plt.imshow``.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import overlay
    >>> overlay(np.zeros((1, 8, 8)), np.eye(8)).shape
    (8, 8, 3)
    """
    from pytorch_grad_cam.utils.image import show_cam_on_image

    image = np.asarray(image.detach().cpu() if isinstance(image, torch.Tensor) else image)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"image must be one image (C, H, W) with 1 or 3 channels, or (H, W); got {image.shape}.")
    rgb = _as_images(torch.as_tensor(image, dtype=torch.float32), "image")[0].numpy().transpose(1, 2, 0)
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    cam_map = np.asarray(cam_map, dtype=np.float32)
    if cam_map.shape != rgb.shape[:2]:
        raise ValueError(f"cam_map has shape {cam_map.shape} but the image is {rgb.shape[:2]}: they must match.")
    if not np.isfinite(cam_map).all() or cam_map.min() < -1e-6 or cam_map.max() > 1 + 1e-6:
        raise ValueError("cam_map must hold values in [0, 1] (as cam(...).maps do).")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}.")
    return show_cam_on_image(rgb, np.clip(cam_map, 0, 1), use_rgb=True, image_weight=1 - float(alpha))
