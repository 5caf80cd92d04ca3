"""Text datasets: IMDB movie reviews, with a generated sentiment corpus as the stand-in.

Every text dataset comes as :class:`TextData`: lists of strings, int64 label
arrays, class names and a train/test split. The generated corpus
(:func:`make_sentiment_sentences`) also says, for every sentence, how it was
built (negated or not, which adjective, ...), so a probe can be trained on a
property other than the label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from trustml.data._download import install, staging
from trustml.data._errors import DataIntegrityError
from trustml.data._registry import DatasetSpec, register
from trustml.data._split import stratified_indices

__all__ = ["TextData", "make_sentiment_sentences"]

SENTIMENT_CLASSES = ["negative", "positive"]


@dataclass(frozen=True, repr=False)
class TextData:
    """A text classification dataset with a train/test split.

    Attributes
    ----------
    name : str
        The dataset's name.
    texts_train, texts_test : list of str
        The texts.
    y_train, y_test : numpy.ndarray
        int64 class indices ``(N,)``.
    class_names : list of str
        ``class_names[k]`` names class ``k``.
    source : {"real", "embedded"}
        Whether this is the real dataset or an embedded stand-in.
    meta_train, meta_test : pandas.DataFrame or None
        Per-text attributes, one row per text in the same order (the generated
        corpus has them; real datasets have None).
    """

    name: str
    texts_train: list
    y_train: np.ndarray
    texts_test: list
    y_test: np.ndarray
    class_names: list = field(default_factory=list)
    source: str = "real"
    meta_train: pd.DataFrame | None = None
    meta_test: pd.DataFrame | None = None

    def __post_init__(self):
        for split in ("train", "test"):
            n_texts = len(getattr(self, f"texts_{split}"))
            n_labels = len(getattr(self, f"y_{split}"))
            meta = getattr(self, f"meta_{split}")
            if n_labels != n_texts or (meta is not None and len(meta) != n_texts):
                rows = "" if meta is None else f", {len(meta)} rows of meta_{split}"
                raise ValueError(
                    f"TextData {self.name!r}: {n_texts} texts_{split} but {n_labels} labels in y_{split}{rows}; "
                    "give one label (and one meta row) per text."
                )

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return len(self.class_names)

    def __repr__(self) -> str:
        words = np.median([len(t.split()) for t in self.texts_train]) if self.texts_train else 0
        meta = "" if self.meta_train is None else f"; meta: {', '.join(map(str, self.meta_train.columns))}"
        return (
            f"TextData({self.name!r}, {self.source}: {len(self.y_train)} train / {len(self.y_test)} test texts "
            f"(median {words:g} words), classes {self.class_names}{meta})"
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None, *, seed: int = 0):
        """Return a smaller dataset: a random sample of each split.

        Parameters
        ----------
        n_train, n_test : int, optional
            How many texts to keep in each split (all when None or at least the
            split's length). The sample is stratified by class, so small subsets
            keep every class (below one text per class it is a plain random
            draw, with a :class:`~trustml.data.DataNotice`); ``meta_*`` rows
            follow their texts.
        seed : int, default 0
            Seed of the random sample.

        Examples
        --------
        >>> from trustml.data import make_sentiment_sentences
        >>> small = make_sentiment_sentences(200).subset(50, 20)
        >>> len(small.texts_train), len(small.meta_train), sorted(set(small.y_test.tolist()))
        (50, 50, [0, 1])
        """
        generator = np.random.default_rng(seed)
        train = stratified_indices(self.y_train, n_train, generator, "n_train")
        test = stratified_indices(self.y_test, n_test, generator, "n_test")
        return replace(
            self,
            texts_train=[self.texts_train[i] for i in train],
            y_train=self.y_train[train],
            texts_test=[self.texts_test[i] for i in test],
            y_test=self.y_test[test],
            meta_train=None if self.meta_train is None else self.meta_train.iloc[train].reset_index(drop=True),
            meta_test=None if self.meta_test is None else self.meta_test.iloc[test].reset_index(drop=True),
        )


# --------------------------------------------------------------------------- embedded: generated sentences

_OPENERS = ("", "Honestly,", "Overall,", "I think", "In my opinion,", "Frankly,")
_SUBJECTS = (
    "the film",
    "this movie",
    "the acting",
    "the plot",
    "the script",
    "the ending",
    "the soundtrack",
    "the dialogue",
    "the cast",
    "the story",
    "the direction",
    "the pacing",
)
_VERBS = {
    False: ("was", "is", "felt", "seemed"),
    True: ("was not", "wasn't", "is not", "isn't", "did not feel", "didn't feel", "did not seem", "didn't seem"),
}
_ADJECTIVES = {
    1: ("good", "great", "excellent", "wonderful", "brilliant", "superb")
    + ("enjoyable", "delightful", "charming", "clever", "moving", "fantastic"),
    0: ("bad", "terrible", "awful", "boring", "dull", "poor")
    + ("dreadful", "weak", "tedious", "disappointing", "clumsy", "mediocre"),
}
# An affirmative clause may take an intensifier before its adjective ("was really good"); a negated
# one may end in "at all" ("was not bad at all"), which strengthens the negation without blurring
# it, as "not very bad" would.
_INTENSIFIERS = {False: ("really", "truly", "simply", "quite"), True: ("at all",)}
_P_OPENER = 0.3
_P_INTENSIFIER = 0.4
_MAX_FILL = 0.9  # draw at most this share of any kind of sentence, so redraws of duplicates stay few


def _clause_variants(negated: bool, subjects: int = len(_SUBJECTS)) -> int:
    """How many distinct clauses of one adjective polarity the vocabulary makes."""
    adjectives = min(len(words) for words in _ADJECTIVES.values())
    return subjects * len(_VERBS[negated]) * adjectives * (1 + len(_INTENSIFIERS[negated]))


def _sentence_variants(negated: bool, contrast: bool) -> int:
    """How many distinct sentences of one sentiment, negated or not, with a "but" clause or not."""
    if not contrast:
        return len(_OPENERS) * _clause_variants(negated)
    return len(_OPENERS) * _clause_variants(False) * _clause_variants(negated, subjects=len(_SUBJECTS) - 1)


def _clause(rng, polarity: int, negated: bool, *, avoid_subject: str | None = None) -> tuple[str, str, str]:
    """One clause "subject verb [intensifier] adjective": returns (clause, subject, adjective)."""
    subjects = [s for s in _SUBJECTS if s != avoid_subject]
    subject = subjects[rng.integers(len(subjects))]
    verbs, adjectives, intensifiers = _VERBS[negated], _ADJECTIVES[polarity], _INTENSIFIERS[negated]
    verb = verbs[rng.integers(len(verbs))]
    adjective = adjectives[rng.integers(len(adjectives))]
    words = [subject, verb, adjective]
    if rng.random() < _P_INTENSIFIER:
        intensifier = intensifiers[rng.integers(len(intensifiers))]
        if negated:
            words.append(intensifier)
        else:
            words.insert(2, intensifier)
    return " ".join(words), subject, adjective


def _sentence(rng, label: int, negated: bool, contrast: bool) -> tuple[str, str, str, int]:
    """One sentence of sentiment ``label``: returns (text, subject, adjective, adjective_polarity)."""
    polarity = label ^ int(negated)
    clause, subject, adjective = _clause(rng, polarity, negated)
    if contrast:  # an affirmative clause of the opposite sentiment, overruled by the one after "but"
        first, _, _ = _clause(rng, 1 - label, False, avoid_subject=subject)
        clause = f"{first}, but {clause}"
    opener = _OPENERS[rng.integers(len(_OPENERS))] if rng.random() < _P_OPENER else ""
    text = f"{opener} {clause}".strip() + "."
    return text[0].upper() + text[1:], subject, adjective, polarity


def make_sentiment_sentences(
    n: int = 2000,
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    negation_share: float = 0.3,
    contrast_share: float = 0.2,
) -> TextData:
    """Generate short English film reviews whose sentiment follows a known rule.

    Each sentence says that a part of a film (``the plot``, ``the acting``, ...)
    was, is, felt or seemed positive or negative (``"The plot was really
    clever."``). A share of them negates the verb (``"The acting wasn't bad at
    all."``), which flips the sentiment; another share puts an affirmative clause
    of the opposite sentiment before a ``but`` clause that decides (``"The cast
    was dull, but the ending was brilliant."``). The sentiment is therefore
    ``adjective_polarity XOR negated`` of the deciding clause, and the other
    attributes in ``meta_*`` let a probe look for negation or for the adjective
    rather than for the label.

    Classes are balanced (to within one sentence), the negated and the ``but``
    shares are the same in both classes, no sentence occurs twice (so train and
    test share none), and the test split is stratified.

    Parameters
    ----------
    n : int, default 2000
        Number of sentences, at least 10.
    seed : int, default 0
        The same seed always gives the same corpus.
    test_fraction : float, default 0.2
        Share of the sentences held out as the test split, in (0, 1).
    negation_share : float, default 0.3
        Share of sentences whose deciding clause is negated, in [0, 1].
    contrast_share : float, default 0.2
        Share of sentences with a first clause overruled by a ``but`` clause, in [0, 1].

    Returns
    -------
    TextData
        ``synthetic_sentiment``, classes ``["negative", "positive"]``, with
        ``meta_train`` / ``meta_test`` columns ``negated`` (bool: the deciding
        clause is negated; only it can be), ``adjective`` (its adjective),
        ``adjective_polarity`` (the adjective's own sentiment before negation,
        0 negative / 1 positive), ``subject`` (what the deciding clause is
        about), ``contrast`` (bool: a ``but`` sentence) and ``length`` (words).

    Raises
    ------
    ValueError
        For n below 10, shares outside their range, a split left with fewer
        than two sentences, or more sentences of one kind than the vocabulary
        makes without repeating itself.

    Examples
    --------
    >>> from trustml.data import make_sentiment_sentences
    >>> data = make_sentiment_sentences(100, seed=1)
    >>> len(data.texts_train), len(data.texts_test)
    (80, 20)
    >>> data.texts_train[0], data.class_names[data.y_train[0]]
    ('The cast is enjoyable, but the direction is boring.', 'negative')
    >>> meta = data.meta_train
    >>> bool(((meta.adjective_polarity ^ meta.negated) == data.y_train).all())
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 10:
        raise ValueError(f"n must be an integer of at least 10 (a few sentences per class and split), got {n!r}.")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}.")
    for what, share in (("negation_share", negation_share), ("contrast_share", contrast_share)):
        if not 0 <= share <= 1:
            raise ValueError(f"{what} must lie between 0 and 1, got {share!r}.")
    n = int(n)
    n_test = math.ceil(n * test_fraction)
    if min(n_test, n - n_test) < 2:
        raise ValueError(
            f"test_fraction={test_fraction} of n={n} leaves {n - n_test} training and {n_test} test sentences; "
            "each split needs at least 2 (one per class): move test_fraction towards 0.5 or raise n."
        )

    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 2)
    negated = np.zeros(n, dtype=bool)
    contrast = np.zeros(n, dtype=bool)
    for label in (0, 1):
        members = np.flatnonzero(labels == label)
        negated[rng.permutation(members)[: round(len(members) * negation_share)]] = True
        contrast[rng.permutation(members)[: round(len(members) * contrast_share)]] = True
    for neg in (False, True):
        for con in (False, True):
            wanted = int(np.bincount(labels[(negated == neg) & (contrast == con)], minlength=2).max())
            limit = int(_MAX_FILL * _sentence_variants(neg, con))
            if wanted > limit:
                kind = f"{'negated' if neg else 'affirmative'} {'but-' if con else 'single-clause '}sentences"
                raise ValueError(
                    f"n={n} needs {wanted:,} distinct {kind} of one sentiment, but the vocabulary makes at most "
                    f"{limit:,} without repeats; ask for fewer sentences or change negation_share / contrast_share."
                )

    seen, rows = set(), []
    for label, neg, con in zip(labels.tolist(), negated.tolist(), contrast.tolist()):
        text, subject, adjective, polarity = _sentence(rng, label, neg, con)
        while text in seen:
            text, subject, adjective, polarity = _sentence(rng, label, neg, con)
        seen.add(text)
        rows.append((text, neg, adjective, polarity, subject, con, len(text.split())))
    meta = pd.DataFrame(
        rows, columns=["text", "negated", "adjective", "adjective_polarity", "subject", "contrast", "length"]
    )
    meta["adjective_polarity"] = meta["adjective_polarity"].astype(np.int64)
    meta["length"] = meta["length"].astype(np.int64)
    texts = meta.pop("text").tolist()

    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(n), test_size=n_test, stratify=labels, random_state=seed)
    train, test = np.sort(train), np.sort(test)
    return TextData(
        "synthetic_sentiment",
        texts_train=[texts[i] for i in train],
        y_train=labels[train].astype(np.int64),
        texts_test=[texts[i] for i in test],
        y_test=labels[test].astype(np.int64),
        class_names=list(SENTIMENT_CLASSES),
        source="embedded",
        meta_train=meta.iloc[train].reset_index(drop=True),
        meta_test=meta.iloc[test].reset_index(drop=True),
    )


# --------------------------------------------------------------------------- real: IMDB

_IMDB_REPO = "stanfordnlp/imdb"
_IMDB_REVISION = "e6281661ce1c48d982bc483cf8a173c1bbeb5d31"  # the hub commit trustml downloads (pinned)
_IMDB_SPLITS = ("train", "test")
_IMDB_FILES = {f"{split}.parquet": split for split in _IMDB_SPLITS}


def _imdb_files() -> dict:
    # The hub gives no checksum of the parquet files trustml writes: their hash is recorded at download.
    return dict.fromkeys(_IMDB_FILES)


def _fetch_imdb(folder: Path, wanted: list) -> None:
    """Download IMDB with Hugging Face ``datasets`` and keep the ``wanted`` splits as ``<split>.parquet``.

    The Hugging Face cache and the parquet files are written in a staging
    folder inside ``folder``; the files are moved into place only when all of
    them are complete, and the staging folder is removed whatever happens.
    """
    with staging(folder) as staged:
        frames = _download_imdb_frames(staged / "hf-cache")
        for filename in wanted:
            frames[_IMDB_FILES[filename]].to_parquet(staged / filename, index=False)
        for filename in wanted:
            install(staged / filename, folder / filename)


def _download_imdb_frames(hf_cache: Path) -> dict:
    """The train and test splits as DataFrames (text, label), copied out of the Hugging Face cache."""
    import datasets

    splits = datasets.load_dataset(_IMDB_REPO, revision=_IMDB_REVISION, cache_dir=str(hf_cache))
    missing = [s for s in _IMDB_SPLITS if s not in splits]
    if missing:
        raise ValueError(f"{_IMDB_REPO} came without the split(s) {missing}; it has {list(splits)}.")
    return {split: splits[split].to_pandas()[["text", "label"]] for split in _IMDB_SPLITS}


def _read_parquet(path: Path, columns=None) -> pd.DataFrame:
    """``pd.read_parquet`` with every failure to read as a :class:`DataIntegrityError` naming the file."""
    import pyarrow

    try:
        return pd.read_parquet(path, columns=columns)
    except (pyarrow.ArrowException, OSError, ValueError, KeyError) as err:
        raise DataIntegrityError(path, f"is not a readable parquet file ({type(err).__name__}: {err})") from err


def _check_imdb_file(path: Path) -> None:
    """A parquet file with ``text`` and ``label`` columns (the structure; the content is checked on loading)."""
    import pyarrow
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(path).names)
    except (pyarrow.ArrowException, OSError, ValueError) as err:
        raise DataIntegrityError(path, f"is not a readable parquet file ({type(err).__name__}: {err})") from err
    if not {"text", "label"} <= names:
        raise DataIntegrityError(path, f"is not an IMDB split (it lacks the columns text and label: {sorted(names)})")


def _read_imdb_split(path: Path) -> tuple[list, np.ndarray]:
    _check_imdb_file(path)
    frame = _read_parquet(path, columns=["text", "label"])
    labels = frame["label"]
    if not pd.api.types.is_integer_dtype(labels) or not labels.isin([0, 1]).all():
        bad = labels[~labels.isin([0, 1])]
        example = f"e.g. {bad.tolist()[0]!r} in row {bad.index[0]}" if len(bad) else f"dtype {labels.dtype}"
        raise DataIntegrityError(path, f"is not an IMDB split: its labels must be 0 or 1 ({example})")
    texts = frame["text"].tolist()
    empty = [i for i, text in enumerate(texts) if not isinstance(text, str) or not text.strip()]
    if empty:
        raise DataIntegrityError(
            path, f"is not an IMDB split: {len(empty)} review(s) have no text (the first in row {empty[0]})"
        )
    return texts, labels.to_numpy(dtype=np.int64)


def _load_imdb(folder: Path) -> TextData:
    parts = {split: _read_imdb_split(folder / filename) for filename, split in _IMDB_FILES.items()}
    return TextData(
        "imdb",
        texts_train=parts["train"][0],
        y_train=parts["train"][1],
        texts_test=parts["test"][0],
        y_test=parts["test"][1],
        class_names=list(SENTIMENT_CLASSES),
        source="real",
    )


def _register_all():
    register(
        DatasetSpec(
            name="synthetic_sentiment",
            kind="text",
            description="2,000 generated one-line film reviews with known sentiment, negation and adjective",
            source="generated by trustml.data.make_sentiment_sentences",
            licence="MIT (generated by trustml)",
            load_embedded=make_sentiment_sentences,
        )
    )
    register(
        DatasetSpec(
            name="imdb",
            kind="text",
            description="IMDB movie reviews (Maas et al. 2011): 25,000 train / 25,000 test, positive or negative",
            source=f"Hugging Face hub: {_IMDB_REPO}",
            licence=(
                "no licence stated; IMDb user reviews released for research by Maas et al. (2011), "
                "cite the paper (ACL 2011)"
            ),
            files=_imdb_files,
            fetch=_fetch_imdb,
            load_real=_load_imdb,
            check_file=_check_imdb_file,
            embedded_default="synthetic_sentiment",
        )
    )


_register_all()
