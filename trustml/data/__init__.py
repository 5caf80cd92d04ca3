"""Datasets by name: each has a real source and an embedded default that needs no network.

>>> from trustml.data import list_datasets, load
>>> digits = load("digits")            # embedded: ships with scikit-learn
>>> mnist = load("mnist")              # real when cached or downloadable, else digits (with a notice)

``load(name, source="real")`` never substitutes: it fails, saying how to fetch
(``trustml fetch NAME``). Downloads go to ``trustml.settings().data_dir`` and
are checksummed and atomic; a cached file counts only while it passes its
checksum (``cache_status``), and ``fetch`` downloads again only what fails.
Every problem found in a file is a :class:`DataIntegrityError` naming the
file, the problem and the command that repairs it.
"""

from trustml.data._registry import (
    CacheStatus,
    DataIntegrityError,
    DataNotice,
    DatasetNotAvailableError,
    DownloadError,
    cache_folder,
    cache_status,
    fetch,
    is_cached,
    list_datasets,
    load,
)
from trustml.data.images import ImageData, load_digits
from trustml.data.tabular import load_german_credit
from trustml.data.text import TextData, make_sentiment_sentences

__all__ = [
    "CacheStatus",
    "DataIntegrityError",
    "DataNotice",
    "DatasetNotAvailableError",
    "DownloadError",
    "ImageData",
    "TextData",
    "cache_folder",
    "cache_status",
    "fetch",
    "is_cached",
    "list_datasets",
    "load",
    "load_digits",
    "load_german_credit",
    "make_sentiment_sentences",
]
