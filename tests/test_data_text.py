"""Text datasets: the generated sentiment corpus, TextData, and IMDB's loader and fetcher (offline)."""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest

from trustml.data import (
    DataNotice,
    DatasetNotAvailableError,
    DownloadError,
    TextData,
    fetch,
    is_cached,
    list_datasets,
    load,
    make_sentiment_sentences,
)

NEGATION = re.compile(r"\bnot\b|n't\b")


@pytest.fixture(scope="module")
def corpus():
    return make_sentiment_sentences()


def _all(data):
    """Texts, labels and meta of both splits together."""
    texts = data.texts_train + data.texts_test
    y = np.concatenate([data.y_train, data.y_test])
    meta = pd.concat([data.meta_train, data.meta_test], ignore_index=True)
    return texts, y, meta


# --------------------------------------------------------------------------- the generated corpus


def test_corpus_shape_and_types(corpus):
    assert isinstance(corpus, TextData)
    assert corpus.name == "synthetic_sentiment" and corpus.source == "embedded"
    assert corpus.class_names == ["negative", "positive"] and corpus.num_classes == 2
    assert (len(corpus.texts_train), len(corpus.texts_test)) == (1600, 400)
    assert corpus.y_train.dtype == np.int64 and corpus.y_test.dtype == np.int64
    assert all(isinstance(t, str) for t in corpus.texts_train + corpus.texts_test)
    assert list(corpus.meta_train.columns) == [
        "negated",
        "adjective",
        "adjective_polarity",
        "subject",
        "contrast",
        "length",
    ]
    assert len(corpus.meta_train) == 1600 and len(corpus.meta_test) == 400


def test_same_seed_same_corpus_other_seed_other_corpus(corpus):
    again = make_sentiment_sentences(seed=0)
    assert again.texts_train == corpus.texts_train and again.texts_test == corpus.texts_test
    assert np.array_equal(again.y_train, corpus.y_train)
    pd.testing.assert_frame_equal(again.meta_test, corpus.meta_test)
    other = make_sentiment_sentences(seed=1)
    assert other.texts_train != corpus.texts_train


def test_labels_follow_the_generating_rule(corpus):
    texts, y, meta = _all(corpus)
    # the deciding clause's adjective, flipped when negated, gives the label
    assert np.array_equal((meta["adjective_polarity"] ^ meta["negated"]).to_numpy(), y)
    for text, label, row in zip(texts, y, meta.itertuples()):
        deciding = text.split(", but ")[-1]
        assert row.adjective in re.findall(r"[a-z']+", deciding.lower()), text
        assert bool(NEGATION.search(text)) == row.negated, text  # only the deciding clause is ever negated
        assert (", but " in text) == row.contrast, text
        assert len(text.split()) == row.length, text
        assert row.subject in deciding.lower(), text


def test_single_clause_sentences_label_is_polarity_xor_negation(corpus):
    texts, y, meta = _all(corpus)
    plain = ~meta["contrast"].to_numpy()
    assert plain.sum() > 1000
    expected = meta["adjective_polarity"].to_numpy()[plain] ^ meta["negated"].to_numpy()[plain]
    assert np.array_equal(expected, y[plain])


def test_classes_balanced_and_shares_controlled(corpus):
    texts, y, meta = _all(corpus)
    assert np.bincount(y).tolist() == [1000, 1000]
    assert np.bincount(corpus.y_test).tolist() == [200, 200]  # stratified split
    for label in (0, 1):
        of_class = meta[y == label]
        assert of_class["negated"].mean() == pytest.approx(0.3, abs=0.01)
        assert of_class["contrast"].mean() == pytest.approx(0.2, abs=0.01)
    # negation does not give the label away, but the adjective mostly does
    assert abs(np.corrcoef(meta["negated"], y)[0, 1]) < 0.05
    assert (meta["adjective_polarity"].to_numpy() == y).mean() == pytest.approx(0.7, abs=0.01)


def test_shares_are_options():
    none = make_sentiment_sentences(200, negation_share=0.0, contrast_share=0.0)
    _, _, meta = _all(none)
    assert not meta["negated"].any() and not meta["contrast"].any()
    every = make_sentiment_sentences(200, negation_share=1.0, contrast_share=1.0)
    texts, _, meta = _all(every)
    assert meta["negated"].all() and meta["contrast"].all()
    assert all(", but " in t and NEGATION.search(t) for t in texts)


def test_no_sentence_occurs_twice(corpus):
    texts, _, _ = _all(corpus)
    assert len(set(texts)) == len(texts)
    assert not set(corpus.texts_train) & set(corpus.texts_test)


def test_smallest_corpus_has_both_classes_in_both_splits():
    data = make_sentiment_sentences(10, test_fraction=0.2)
    assert (len(data.texts_train), len(data.texts_test)) == (8, 2)
    assert set(data.y_train.tolist()) == set(data.y_test.tolist()) == {0, 1}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 9}, "n must be an integer of at least 10"),
        ({"n": 100.0}, "n must be an integer of at least 10"),
        ({"n": True}, "n must be an integer of at least 10"),
        ({"test_fraction": 0.0}, "test_fraction must lie strictly between 0 and 1"),
        ({"test_fraction": 1.0}, "test_fraction must lie strictly between 0 and 1"),
        ({"test_fraction": -0.2}, "test_fraction must lie strictly between 0 and 1"),
        ({"n": 10, "test_fraction": 0.05}, "each split needs at least 2"),
        ({"n": 10, "test_fraction": 0.95}, "each split needs at least 2"),
        ({"negation_share": 1.5}, "negation_share must lie between 0 and 1"),
        ({"contrast_share": -0.1}, "contrast_share must lie between 0 and 1"),
        ({"n": 1_000_000}, "ask for fewer sentences"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_sentiment_sentences(**kwargs)


# --------------------------------------------------------------------------- TextData


def test_subset_is_stratified_and_keeps_meta_aligned(corpus):
    small = corpus.subset(100, 40, seed=3)
    assert (len(small.texts_train), len(small.texts_test)) == (100, 40)
    assert np.bincount(small.y_train).tolist() == [50, 50]
    assert np.bincount(small.y_test).tolist() == [20, 20]
    assert len(small.meta_train) == 100 and small.meta_train.index.tolist() == list(range(100))
    rows = {t: row for t, row in zip(corpus.texts_train, corpus.meta_train.to_dict("records"))}
    labels = dict(zip(corpus.texts_train, corpus.y_train.tolist()))
    for text, label, row in zip(small.texts_train, small.y_train.tolist(), small.meta_train.to_dict("records")):
        assert rows[text] == row and labels[text] == label
    assert small.texts_train == corpus.subset(100, 40, seed=3).texts_train
    assert small.texts_train != corpus.subset(100, 40, seed=4).texts_train


def test_subset_of_none_or_more_than_there_is_keeps_everything(corpus):
    same = corpus.subset(n_test=10_000)
    assert same.texts_train == corpus.texts_train and same.texts_test == corpus.texts_test
    pd.testing.assert_frame_equal(same.meta_test, corpus.meta_test)


def test_subset_without_meta():
    data = TextData("toy", ["a", "b", "c", "d"], np.array([0, 1, 0, 1]), ["e", "f"], np.array([0, 1]), ["n", "p"])
    small = data.subset(2)
    assert sorted(small.y_train.tolist()) == [0, 1] and small.meta_train is None


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_subset_rejects_bad_sizes(corpus, bad):
    with pytest.raises(ValueError, match=r"n_train must be a positive integer or None"):
        corpus.subset(bad)
    with pytest.raises(ValueError, match=r"n_test must be a positive integer or None"):
        corpus.subset(10, bad)


def test_textdata_rejects_misaligned_parts():
    with pytest.raises(ValueError, match=r"3 texts_train but 2 labels in y_train"):
        TextData("toy", ["a", "b", "c"], np.array([0, 1]), ["d"], np.array([0]), ["n", "p"])
    with pytest.raises(ValueError, match=r"1 rows of meta_test"):
        TextData(
            "toy",
            ["a"],
            np.array([0]),
            ["d", "e"],
            np.array([0, 1]),
            ["n", "p"],
            meta_test=pd.DataFrame({"x": [1]}),
        )


def test_repr_is_short_and_informative(corpus):
    text = repr(corpus)
    assert text.startswith("TextData('synthetic_sentiment', embedded: 1600 train / 400 test texts")
    assert "['negative', 'positive']" in text and "negated" in text and "\n" not in text


# --------------------------------------------------------------------------- registry and IMDB


def _write_imdb(folder, n=6):
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        frame = pd.DataFrame(
            {
                "text": [f"{split} review {i}: {'great' if i % 2 else 'awful'} film" for i in range(n)],
                "label": [i % 2 for i in range(n)],
            }
        )
        frame.to_parquet(folder / f"{split}.parquet", index=False)


def _fake_imdb(n=8):
    def split(name):
        return datasets.Dataset.from_dict(
            {"text": [f"{name} review number {i}" for i in range(n)], "label": [i % 2 for i in range(n)]}
        )

    unsupervised = datasets.Dataset.from_dict({"text": ["no label"], "label": [-1]})
    return datasets.DatasetDict({"train": split("train"), "test": split("test"), "unsupervised": unsupervised})


def test_registry_lists_both_text_datasets():
    table = list_datasets().set_index("name")
    assert table.loc["imdb", "kind"] == "text" and table.loc["synthetic_sentiment", "kind"] == "text"
    assert table.loc["imdb", "stand_in"] == "synthetic_sentiment"
    assert table.loc["imdb", "source"] == "Hugging Face hub: stanfordnlp/imdb"
    assert "Maas" in table.loc["imdb", "licence"]
    assert bool(table.loc["synthetic_sentiment", "embedded"]) and not bool(table.loc["imdb", "cached"])


def test_load_embedded_by_name_is_the_default_corpus(corpus):
    data = load("synthetic_sentiment")
    assert data.texts_train == corpus.texts_train
    assert load("imdb", source="embedded").texts_test == corpus.texts_test


def test_imdb_loads_from_cached_parquet(data_dir):
    _write_imdb(data_dir / "imdb")
    assert is_cached("imdb")
    data = load("imdb", source="real")
    assert isinstance(data, TextData)
    assert data.name == "imdb" and data.source == "real" and data.class_names == ["negative", "positive"]
    assert data.texts_train[1] == "train review 1: great film" and data.texts_test[0] == "test review 0: awful film"
    assert data.y_train.dtype == np.int64 and data.y_train.tolist() == [0, 1, 0, 1, 0, 1]
    assert data.meta_train is None and data.meta_test is None
    assert load("imdb").texts_train == data.texts_train  # auto uses the cached real data, no notice


def test_imdb_with_only_one_split_is_not_cached(data_dir):
    _write_imdb(data_dir / "imdb")
    (data_dir / "imdb" / "test.parquet").unlink()
    assert not is_cached("imdb")


def test_imdb_corrupt_parquet_says_how_to_recover(data_dir):
    _write_imdb(data_dir / "imdb")
    pd.DataFrame({"text": ["x"], "label": [7]}).to_parquet(data_dir / "imdb" / "test.parquet")
    with pytest.raises(ValueError, match=r"trustml fetch imdb"):
        load("imdb", source="real")


def test_imdb_fetch_writes_parquet_and_removes_the_hf_cache(data_dir, monkeypatch):
    calls = []

    def fake_load_dataset(path, **kwargs):
        calls.append((path, kwargs))
        return _fake_imdb()

    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    folder = fetch("imdb")
    assert folder == data_dir / "imdb"
    assert calls[0][0] == "stanfordnlp/imdb"
    assert folder in Path(calls[0][1]["cache_dir"]).parents
    assert sorted(p.name for p in folder.iterdir()) == ["test.parquet", "train.parquet"]
    data = load("imdb", source="real")
    assert data.texts_test[3] == "test review number 3" and data.y_test.tolist() == [0, 1] * 4
    assert fetch("imdb") == folder and len(calls) == 1  # cached: no second download


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(ConnectionError("no route to huggingface.co"), id="network"),
        pytest.param(datasets.DatasetDict({"train": _fake_imdb()["train"]}), id="missing-test-split"),
    ],
)
def test_imdb_fetch_failure_leaves_nothing(data_dir, monkeypatch, failure):
    def fake_load_dataset(path, **kwargs):
        if isinstance(failure, Exception):
            raise failure
        return failure

    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    with pytest.raises(DownloadError, match=r"trustml fetch imdb"):
        fetch("imdb")
    assert list((data_dir / "imdb").iterdir()) == []
    assert not is_cached("imdb")


def test_imdb_fetch_failing_after_the_first_file_leaves_nothing(data_dir, monkeypatch):
    write = pd.DataFrame.to_parquet
    written = []

    def disk_full_on_second_file(frame, path, **kwargs):
        if written:
            raise OSError("No space left on device")
        written.append(path)
        return write(frame, path, **kwargs)

    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    monkeypatch.setattr(datasets, "load_dataset", lambda path, **kwargs: _fake_imdb())
    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full_on_second_file)
    with pytest.raises(DownloadError, match=r"No space left on device"):
        fetch("imdb")
    assert len(written) == 1
    assert list((data_dir / "imdb").iterdir()) == []


def test_imdb_offline_real_says_how_to_fetch():
    with pytest.raises(DatasetNotAvailableError, match=r"trustml fetch imdb"):
        load("imdb", source="real")


def test_imdb_offline_auto_stands_in_the_generated_corpus(corpus):
    with pytest.warns(DataNotice, match=r"synthetic_sentiment.*in place of 'imdb'"):
        data = load("imdb")
    assert data.name == "synthetic_sentiment" and data.source == "embedded"
    assert data.texts_train == corpus.texts_train
