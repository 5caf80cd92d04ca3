"""Splitting, group definitions, wording from the dataset's metadata, and a weighted model fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from trustml._checks import check_bool, check_number, check_seed, check_weights
from trustml.fairness._metrics import check_dataset

__all__ = [
    "DatasetDescription",
    "describe_dataset",
    "favourable_scores",
    "fit_model",
    "protected_groups",
    "protected_values",
    "split_train_val_test",
]


def split_train_val_test(dataset, *, fractions=(0.5, 0.3, 0.2), seed=1):
    """Shuffle and split an AIF360 dataset into training, validation and test parts.

    The lesson's (and AIF360's MEPS tutorial's) split: 50% / 30% / 20% with
    ``dataset.split([0.5, 0.8], shuffle=True, seed=1)``; the same seed gives the
    same rows as that tutorial.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
    fractions : tuple of three floats, default (0.5, 0.3, 0.2)
        Positive shares of the rows for training, validation and test; they sum to 1.
    seed : int, default 1
        Seed of the shuffle (AIF360 seeds NumPy's global generator with it).

    Returns
    -------
    tuple of three aif360 datasets
        ``(train, validation, test)``.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import split_train_val_test
    >>> train, val, test = split_train_val_test(load_german_credit())
    >>> [len(part.labels) for part in (train, val, test)]
    [500, 300, 200]
    """
    check_dataset(dataset)
    allowed = f"fractions must be three positive shares that sum to 1, e.g. (0.5, 0.3, 0.2); got {fractions!r}."
    if isinstance(fractions, (str, bytes)) or np.ndim(fractions) != 1 or len(fractions) != 3:
        raise ValueError(allowed)
    shares = [check_number(share, "each of fractions", low=0, low_open=True) for share in fractions]
    if not np.isclose(sum(shares), 1.0):
        raise ValueError(allowed)
    seed = check_seed(seed, maximum=2**32 - 1)  # AIF360 seeds NumPy's global generator
    cuts = [shares[0], shares[0] + shares[1]]
    n = dataset.features.shape[0]
    sizes = np.diff([0, *(int(cut * n) for cut in cuts), n])  # where AIF360 cuts
    if (sizes == 0).any():
        raise ValueError(
            f"fractions {tuple(fractions)} of {n} rows leave a part empty (sizes {sizes.tolist()}): "
            "give each part a larger share."
        )
    return tuple(dataset.split(cuts, shuffle=True, seed=seed))


def _attribute_index(dataset, attribute) -> int:
    names = dataset.protected_attribute_names
    if attribute is None:
        return 0
    if attribute not in names:
        raise ValueError(f"attribute {attribute!r} is not a protected attribute of this dataset; it has {names}.")
    return names.index(attribute)


def protected_groups(dataset, *, attribute=None) -> dict:
    """The privileged and unprivileged groups of one protected attribute, in AIF360's format.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
    attribute : str, optional
        A protected attribute's name; default the first one.

    Returns
    -------
    dict
        ``{"privileged_groups": [...], "unprivileged_groups": [...]}``, the keyword
        arguments that AIF360's metrics and ``Reweighing`` and trustml's
        functions take: pass them with ``**``.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import protected_groups
    >>> protected_groups(load_german_credit())
    {'privileged_groups': [{'sex': 1.0}], 'unprivileged_groups': [{'sex': 0.0}]}
    """
    check_dataset(dataset)
    i = _attribute_index(dataset, attribute)
    name = dataset.protected_attribute_names[i]
    return {
        "privileged_groups": [{name: float(v)} for v in dataset.privileged_protected_attributes[i]],
        "unprivileged_groups": [{name: float(v)} for v in dataset.unprivileged_protected_attributes[i]],
    }


@dataclass(frozen=True)
class DatasetDescription:
    """How to talk about a fairness dataset, read from its metadata.

    Attributes
    ----------
    label : str
        The label column's name.
    favourable, unfavourable : str
        What the favourable and unfavourable labels mean.
    attribute : str
        The protected attribute's name.
    privileged, unprivileged : str
        The names of the privileged and unprivileged groups.
    rows : int
        Number of rows.
    weighted : bool
        True when the rows carry unequal instance weights (e.g. survey weights).
    """

    label: str
    favourable: str
    unfavourable: str
    attribute: str
    privileged: str
    unprivileged: str
    rows: int
    weighted: bool


def _value_names(dataset, i) -> dict:
    maps = dataset.metadata.get("protected_attribute_maps") or []
    return dict(maps[i]) if i < len(maps) else {}


def _label_names(dataset) -> dict:
    maps = dataset.metadata.get("label_maps") or []
    return dict(maps[0]) if maps else {}


def describe_dataset(dataset, *, attribute=None) -> DatasetDescription:
    """Names of the label, the outcomes and the groups, from the dataset's metadata.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
    attribute : str, optional
        A protected attribute's name; default the first one.

    Returns
    -------
    DatasetDescription

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import describe_dataset
    >>> about = describe_dataset(load_german_credit())
    >>> about.favourable, about.privileged, about.unprivileged
    ('good credit', 'male', 'female')
    """
    check_dataset(dataset)
    i = _attribute_index(dataset, attribute)
    name = dataset.protected_attribute_names[i]
    values = _value_names(dataset, i)
    labels = _label_names(dataset)

    def group_name(group_values):
        return " or ".join(str(values.get(float(v), f"{name} = {v:g}")) for v in group_values)

    weights = np.asarray(dataset.instance_weights, dtype=float)
    return DatasetDescription(
        label=dataset.label_names[0],
        favourable=str(labels.get(float(dataset.favorable_label), f"label {dataset.favorable_label:g}")),
        unfavourable=str(labels.get(float(dataset.unfavorable_label), f"label {dataset.unfavorable_label:g}")),
        attribute=name,
        privileged=group_name(dataset.privileged_protected_attributes[i]),
        unprivileged=group_name(dataset.unprivileged_protected_attributes[i]),
        rows=int(dataset.features.shape[0]),
        weighted=bool(weights.size and not np.allclose(weights, weights[0])),
    )


def group_label(dataset, groups) -> str:
    """A readable name for groups in AIF360's format, e.g. ``[{"sex": 0}]`` -> ``"female"``."""
    names = dataset.protected_attribute_names

    def one(attribute, value):
        lookup = _value_names(dataset, names.index(attribute)) if attribute in names else {}
        if float(value) in lookup:
            return str(lookup[float(value)])
        return f"{attribute} = {value:g}" if isinstance(value, (int, float)) else f"{attribute} = {value}"

    return " or ".join(" and ".join(one(a, v) for a, v in group.items()) for group in groups)


def protected_values(dataset, *, attribute=None, names=True) -> pd.Series:
    """Each row's protected attribute, as group names (for fairlearn's ``sensitive_features``) or values.

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
    attribute : str, optional
        A protected attribute's name; default the first one.
    names : bool, default True
        Give each value's name from the metadata (e.g. ``"female"``) instead of its number.

    Returns
    -------
    pandas.Series
        One entry per row, named after the attribute.

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import protected_values
    >>> protected_values(load_german_credit()).value_counts().to_dict()
    {'male': 690, 'female': 310}
    """
    check_dataset(dataset)
    check_bool(names, "names")
    i = _attribute_index(dataset, attribute)
    column = pd.Series(dataset.protected_attributes[:, i], name=dataset.protected_attribute_names[i])
    if not names:
        return column
    lookup = _value_names(dataset, i)
    return column.map(lambda v: str(lookup.get(float(v), f"{column.name} = {v:g}"))).astype(object)


def fit_model(dataset, *, estimator=None):
    """Fit a classifier on an AIF360 dataset, passing its instance weights as sample weights.

    This is how reweighing reaches a model: ``aif360.algorithms.preprocessing.Reweighing``
    changes a dataset's ``instance_weights``, and the model's loss counts each
    row that many times. (MEPS rows carry survey weights, which are used the same way.)

    Parameters
    ----------
    dataset : aif360.datasets.BinaryLabelDataset
        Training data.
    estimator : scikit-learn classifier or Pipeline, optional
        Default: standardisation then logistic regression (``liblinear``,
        ``random_state=1``), the lesson's model. It is cloned, not changed. Its
        ``fit`` (or its last step's, for a Pipeline) must accept ``sample_weight``.
        The dataset needs rows of both labels and non-negative instance weights.

    Returns
    -------
    fitted estimator

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import fit_model
    >>> model = fit_model(load_german_credit())
    >>> model.classes_.tolist()
    [0.0, 1.0]
    """
    check_dataset(dataset)
    weights = check_weights(dataset.instance_weights, dataset.features.shape[0], "dataset.instance_weights")
    check_both_labels(dataset, "fit_model")
    model = clone(check_estimator(estimator)) if estimator is not None else _default_estimator()
    if isinstance(model, Pipeline):
        params = {f"{model.steps[-1][0]}__sample_weight": weights}
    else:
        params = {"sample_weight": weights}
    return model.fit(dataset.features, dataset.labels.ravel(), **params)


def _default_estimator():
    return make_pipeline(StandardScaler(), LogisticRegression(solver="liblinear", random_state=1))


def check_estimator(estimator, what: str = "estimator"):
    """An unfitted-or-fitted scikit-learn classifier (or Pipeline) instance whose fit takes ``sample_weight``."""
    from sklearn.utils.validation import has_fit_parameter

    if isinstance(estimator, type):
        raise TypeError(f"{what} must be an estimator instance, e.g. {estimator.__name__}(), not the class itself.")
    if not (callable(getattr(estimator, "fit", None)) and callable(getattr(estimator, "get_params", None))):
        raise TypeError(
            f"{what} must be a scikit-learn classifier or Pipeline (with fit and get_params), "
            f"got {type(estimator).__name__}."
        )
    last = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not has_fit_parameter(last, "sample_weight"):
        raise TypeError(
            f"{what} {type(last).__name__}'s fit takes no sample_weight, and trustml passes row weights to it "
            "(instance weights, reweighing, the reduction's weights): use a classifier that accepts them, e.g. "
            "LogisticRegression, or fit it yourself on dataset.features."
        )
    return estimator


def check_both_labels(dataset, what: str) -> None:
    """The dataset has rows with the favourable and with the unfavourable label (a classifier needs both)."""
    labels = dataset.labels.ravel()
    for label in (dataset.favorable_label, dataset.unfavorable_label):
        if not (labels == label).any():
            raise ValueError(
                f"{what} needs rows of both labels, but the dataset has none with label {label:g} "
                f"(all {len(labels)} rows have {labels[0]:g}): a classifier cannot learn from one class."
            )


def check_fitted_classifier(model, dataset, what: str = "model") -> np.ndarray:
    """A fitted probabilistic classifier for the dataset's columns and labels; returns its classes as floats."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not callable(getattr(model, "predict_proba", None)):
        raise TypeError(f"{what} must have predict_proba (a probabilistic classifier), got {type(model).__name__}.")
    try:
        check_is_fitted(model)
    except (NotFittedError, TypeError):
        raise ValueError(
            f"{what} ({type(model).__name__}) is not fitted: fit it first, e.g. trustml.fairness.fit_model(train)."
        ) from None
    expected, width = getattr(model, "n_features_in_", None), dataset.features.shape[1]
    if expected is not None and expected != width:
        raise ValueError(
            f"{what} was fitted on {expected} features but the dataset has {width}: fit it on this kind of "
            "dataset (the same columns, in the same order)."
        )
    try:
        classes = np.asarray(getattr(model, "classes_", []), dtype=float)
    except (TypeError, ValueError):
        classes = None
    if classes is None or float(dataset.favorable_label) not in classes.tolist():
        raise ValueError(
            f"the {what}'s classes {np.asarray(getattr(model, 'classes_', [])).tolist()} do not include the "
            f"dataset's favourable label {dataset.favorable_label:g}: fit it on the dataset's labels (dataset.labels)."
        )
    return classes


def favourable_scores(model, dataset) -> np.ndarray:
    """The model's probability of the favourable label for every row of ``dataset``.

    Parameters
    ----------
    model : fitted classifier with ``predict_proba``
    dataset : aif360.datasets.BinaryLabelDataset

    Returns
    -------
    numpy.ndarray of shape (n_rows,)

    Examples
    --------
    >>> from trustml.data import load_german_credit
    >>> from trustml.fairness import favourable_scores, fit_model
    >>> credit = load_german_credit()
    >>> scores = favourable_scores(fit_model(credit), credit)
    >>> scores.shape, bool(((scores >= 0) & (scores <= 1)).all())
    ((1000,), True)
    """
    check_dataset(dataset)
    classes = check_fitted_classifier(model, dataset)
    return model.predict_proba(dataset.features)[:, np.flatnonzero(classes == float(dataset.favorable_label))[0]]
