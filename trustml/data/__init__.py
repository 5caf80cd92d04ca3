"""Datasets by name: each has a real source and an embedded default that needs no network.

>>> from trustml.data import list_datasets, load
>>> digits = load("digits")            # embedded: ships with scikit-learn
>>> mnist = load("mnist")              # real when cached or downloadable, else digits (with a notice)

``load(name, source="real")`` never substitutes: it fails, saying how to fetch
(``trustml fetch NAME``). Downloads go to ``trustml.settings().data_dir`` and
are checksummed and atomic.
"""

from trustml.data._registry import (
    DataNotice,
    DatasetNotAvailableError,
    DownloadError,
    cache_folder,
    fetch,
    is_cached,
    list_datasets,
    load,
)
from trustml.data.images import ImageData, load_digits
from trustml.data.tabular import load_german_credit
from trustml.data.text import TextData, make_sentiment_sentences

__all__ = [
    "DataNotice",
    "DatasetNotAvailableError",
    "DownloadError",
    "ImageData",
    "TextData",
    "cache_folder",
    "fetch",
    "is_cached",
    "list_datasets",
    "load",
    "load_digits",
    "load_german_credit",
    "make_sentiment_sentences",
]
