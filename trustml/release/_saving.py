"""Save a trustml model as safetensors weights plus a JSON config that rebuilds it, and load it back."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import torch

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "load_config", "load_model", "save_model"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
FORMAT = "trustml-model/1"


def _model_classes() -> dict:
    """The classes a config may name: trustml's own models, never a class imported from a name in a file."""
    from trustml import models

    return {name: getattr(models, name) for name in models.__all__}


def _write_atomically(path: Path, write) -> None:
    """Call ``write(temporary path)``, then move the file into place: an interrupted save leaves no half file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_model(model, directory, *, metadata=None, card=None) -> Path:
    """Save one of trustml's models: ``model.safetensors`` (the weights) and ``config.json`` (how to rebuild it).

    The config names the model's class and the arguments it was built with
    (``model.init_args``), so that :func:`load_model` rebuilds the same
    architecture before it loads the weights. Safetensors holds tensors only:
    unlike a pickled ``.pth`` file, loading it cannot run code.

    Parameters
    ----------
    model : trustml.models.MLP, LeNet or SimpleCNN
    directory : str or pathlib.Path
        Created if needed; the files written there are replaced, other files are left alone.
    metadata : mapping, optional
        Anything else that must travel with the weights and fits in JSON (e.g. the
        preprocessing's means and standard deviations); :func:`load_config` reads it back.
    card : huggingface_hub.ModelCard or str, optional
        A model card (see :func:`model_card`), written as ``README.md``: the folder
        is then ready for the Hugging Face Hub (:func:`push_to_hub`).

    Returns
    -------
    pathlib.Path
        The directory.

    Examples
    --------
    >>> import tempfile
    >>> from trustml.models import MLP
    >>> from trustml.release import save_model
    >>> folder = save_model(MLP(4, 2, hidden=(8,)), tempfile.mkdtemp(), metadata={"features": ["a", "b", "c", "d"]})
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors']
    """
    from safetensors.torch import save_file

    import trustml

    classes = _model_classes()
    name = type(model).__name__
    if type(model) not in classes.values():
        parents = [base.__name__ for base in type(model).__mro__ if base in classes.values()]
        what = f"a {name} (a subclass of {parents[0]})" if parents else f"a {name}"
        raise TypeError(
            f"model must be one of trustml's models ({', '.join(sorted(classes))}), whose config rebuilds it; "
            f"got {what}. For a class of your own, add huggingface_hub.PyTorchModelHubMixin to its bases "
            f"and use its save_pretrained and from_pretrained."
        )
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"directory {directory} is a file: name a folder for the model's files.")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping (a dict) of JSON values, got {type(metadata).__name__}.")
    try:
        metadata_json = json.loads(json.dumps(dict(metadata or {}), allow_nan=False))
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"metadata must hold only JSON values (str, numbers, bools, None, lists, dicts; no NaN): {err}. "
            f"Convert arrays with .tolist()."
        ) from None
    if card is not None and not isinstance(card, str) and not hasattr(card, "save"):
        raise TypeError(f"card must be a huggingface_hub.ModelCard or a Markdown string, got {type(card).__name__}.")
    tensors = {key: value.detach().to("cpu").contiguous() for key, value in model.state_dict().items()}
    for key, value in tensors.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise ValueError(
                f"model's tensor {key!r} holds NaN or infinite values (training diverged?): "
                f"retrain the model before saving it."
            )
    config = {
        "format": FORMAT,
        "model_class": name,
        "init_args": model.init_args,
        "metadata": metadata_json,
        "trustml_version": trustml.__version__,
        "torch_version": torch.__version__.split("+")[0],
    }
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(directory / WEIGHTS_FILE, lambda path: save_file(tensors, str(path), metadata={"format": "pt"}))
    text = json.dumps(config, indent=2) + "\n"
    _write_atomically(directory / CONFIG_FILE, lambda path: path.write_text(text, encoding="utf-8"))
    if card is not None:
        card_text = str(card)
        _write_atomically(directory / CARD_FILE, lambda path: path.write_text(card_text, encoding="utf-8"))
    return directory


def _folder(directory) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        what = "is a file" if directory.exists() else "does not exist"
        raise FileNotFoundError(f"directory {directory} {what}: name the folder that save_model wrote.")
    return directory


def load_config(directory) -> dict:
    """Read and check the ``config.json`` that :func:`save_model` wrote.

    Parameters
    ----------
    directory : str or pathlib.Path

    Returns
    -------
    dict
        ``model_class``, ``init_args``, ``metadata`` (what ``save_model`` was given),
        ``trustml_version``, ``torch_version`` and ``format``.

    Examples
    --------
    >>> import tempfile
    >>> from trustml.models import MLP
    >>> from trustml.release import load_config, save_model
    >>> folder = save_model(MLP(4, 2, hidden=(8,)), tempfile.mkdtemp(), metadata={"mean": [0.5, 1.0]})
    >>> config = load_config(folder)
    >>> config["model_class"], config["init_args"], config["metadata"]
    ('MLP', {'in_features': 4, 'num_classes': 2, 'hidden': [8], 'dropout': 0.0}, {'mean': [0.5, 1.0]})
    """
    path = _folder(directory) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent} has no {CONFIG_FILE}: is it a folder that save_model wrote?")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}): save the model again.") from None
    if not isinstance(config, dict) or "format" not in config:
        raise ValueError(
            f"{path} was not written by trustml.release.save_model (it has no 'format' entry). A folder "
            f"written by a PyTorchModelHubMixin class's save_pretrained loads with that class's from_pretrained."
        )
    if config["format"] != FORMAT:
        raise ValueError(
            f"{path} is in format {config['format']!r}; this trustml reads {FORMAT!r}: "
            f"load it with the trustml version that saved it ({config.get('trustml_version', 'unknown')})."
        )
    classes = _model_classes()
    if config.get("model_class") not in classes:
        raise ValueError(
            f"{path} names model_class {config.get('model_class')!r}, which is not one of trustml's models "
            f"({', '.join(sorted(classes))}); trustml builds only those (it never imports a class named in a file)."
        )
    if not isinstance(config.get("init_args"), dict):
        raise ValueError(
            f"{path}: init_args must be a JSON object of constructor arguments, got {config.get('init_args')!r}."
        )
    config.setdefault("metadata", {})
    return config


def _shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def load_model(directory, *, device="cpu"):
    """Rebuild a model that :func:`save_model` saved: its class from the config, then its weights.

    The weights' names and shapes are checked against the rebuilt model before
    any is loaded, so weights that do not belong to the config fail with the
    name of the first tensor that does not fit.

    Parameters
    ----------
    directory : str or pathlib.Path
    device : torch.device or str, default "cpu"
        Where the weights go (e.g. ``trustml.get_device()``).

    Returns
    -------
    torch.nn.Module
        The model, in evaluation mode.

    Examples
    --------
    >>> import tempfile, torch
    >>> from trustml.models import MLP
    >>> from trustml.release import load_model, save_model
    >>> model = MLP(4, 2, hidden=(8,))
    >>> twin = load_model(save_model(model, tempfile.mkdtemp()))
    >>> x = torch.randn(3, 4)
    >>> bool(torch.equal(model.eval()(x), twin(x)))
    True
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    config = load_config(directory)
    folder = Path(directory)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise FileNotFoundError(f"{folder} has {CONFIG_FILE} but no {WEIGHTS_FILE}: save the model again.")
    cls = _model_classes()[config["model_class"]]
    try:
        model = cls(**config["init_args"])
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{folder / CONFIG_FILE}: init_args {config['init_args']} do not build a {cls.__name__}: {err}"
        ) from None
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    try:
        with safe_open(str(weights), framework="pt") as f:
            found = {key: tuple(f.get_slice(key).get_shape()) for key in f.keys()}
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{weights} is not a readable safetensors file ({err}): save the model again.") from None
    built = f"the {cls.__name__} that {CONFIG_FILE} describes"
    for key, shape in expected.items():
        if key not in found:
            raise ValueError(
                f"{weights} has no tensor {key!r}, which {built} needs: the weights belong to another model."
            )
        if found[key] != shape:
            raise ValueError(
                f"{weights}: tensor {key!r} has shape {_shape(found[key])}, but {built} expects {_shape(shape)}: "
                f"the weights and the config do not belong together (saved from another model, or config edited?)."
            )
    extra = sorted(set(found) - set(expected))
    if extra:
        raise ValueError(
            f"{weights} has tensor {extra[0]!r}, which {built} does not have: the weights belong to another model."
        )
    model.load_state_dict(load_file(str(weights), device="cpu"), strict=True)
    return model.to(device).eval()

