"""Split an image dataset into in-distribution (ID) classes to train on and out-of-distribution (OOD) classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trustml.ood._checks import unknown_name

__all__ = ["IDOODSplit", "id_ood_split"]


@dataclass(frozen=True, repr=False)
class IDOODSplit:
    """A dataset split into ID classes (train and test) and OOD classes (never trained on).

    Attributes
    ----------
    X_train, y_train : torch.Tensor
        ID training images and labels, relabelled ``0..K-1`` in the order of
        ``id_classes``.
    X_test, y_test : torch.Tensor
        ID test images and labels (same relabelling).
    X_ood : torch.Tensor
        OOD images.
    ood_original : torch.Tensor
        Each OOD image's class index in the original dataset.
    id_names, ood_names : list of str
        Class names of the ID classes (``id_names[k]`` is label ``k``) and of the OOD classes.
    dataset : str
        Name of the dataset it was made from; ``source`` says ``"real"`` or ``"embedded"``.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    X_ood: torch.Tensor
    ood_original: torch.Tensor
    id_names: list
    ood_names: list
    dataset: str
    source: str

    @property
    def num_classes(self) -> int:
        """The number of ID classes (the model's outputs)."""
        return len(self.id_names)

    def evaluation_labels(self) -> np.ndarray:
        """True labels of the ID test images followed by the OOD images: ``0..K-1``, then ``-1``.

        The order of ``torch.cat([split.X_test, split.X_ood])``; OOD labels are
        negative, as in pytorch-ood.
        """
        return np.concatenate([self.y_test.numpy(), np.full(len(self.X_ood), -1)]).astype(np.int64)

    def __repr__(self) -> str:
        return (
            f"IDOODSplit({self.dataset!r}, {self.source}: ID {self.id_names} "
            f"({len(self.y_train)} train / {len(self.y_test)} test), OOD {self.ood_names} ({len(self.X_ood)}))"
        )


def id_ood_split(dataset, id_classes, ood_classes, *, ood_from: str = "all") -> IDOODSplit:
    """Split an image dataset by class: ID classes to train and test on, OOD classes held out.

    Parameters
    ----------
    dataset : trustml.data.ImageData
        E.g. ``trustml.data.load("fashion_mnist")`` (or a ``.subset`` of it).
    id_classes, ood_classes : sequence of str or int
        Class names (``dataset.class_names``) or indices; each class at most
        once, and no class in both.
    ood_from : {"all", "test"}, default "all"
        Where the OOD images come from: both splits (the model never trains on
        them, so all are fair to evaluate on), or the test split only (as the
        Carpentries lesson does).

    Returns
    -------
    IDOODSplit

    Raises
    ------
    ValueError
        For an unknown class name (with the closest names as a suggestion), an
        index out of range, an empty list, a class given twice, or a class in
        both lists.

    Examples
    --------
    >>> from trustml.data import load
    >>> from trustml.ood import id_ood_split
    >>> split = id_ood_split(load("digits"), id_classes=["0", "1"], ood_classes=["5"])
    >>> split.id_names, split.ood_names, len(split.X_ood)
    (['0', '1'], ['5'], 182)
    """
    from trustml.data import ImageData

    if not isinstance(dataset, ImageData):
        raise TypeError(
            f"dataset must be a trustml.data.ImageData (e.g. trustml.data.load('fashion_mnist')), "
            f"got {type(dataset).__name__}."
        )
    if ood_from not in ("all", "test"):
        raise ValueError(f"ood_from must be 'all' (both splits) or 'test', got {ood_from!r}.")
    id_indices = _class_indices(dataset, id_classes, "id_classes")
    ood_indices = _class_indices(dataset, ood_classes, "ood_classes")
    both = [dataset.class_names[i] for i in id_indices if i in ood_indices]
    if both:
        raise ValueError(
            f"{both} in both id_classes and ood_classes: a class is either trained on (ID) or held out (OOD); "
            "remove it from one of the lists."
        )
    relabel = torch.full((dataset.num_classes,), -1, dtype=torch.long)
    relabel[id_indices] = torch.arange(len(id_indices))

    def keep_id(X, y):
        mask = relabel[y] >= 0
        return X[mask], relabel[y[mask]]

    X_train, y_train = keep_id(dataset.X_train, dataset.y_train)
    X_test, y_test = keep_id(dataset.X_test, dataset.y_test)
    ood_parts = [(dataset.X_test, dataset.y_test)]
    if ood_from == "all":
        ood_parts.insert(0, (dataset.X_train, dataset.y_train))
    is_ood = [torch.isin(y, torch.tensor(ood_indices)) for _, y in ood_parts]
    X_ood = torch.cat([X[mask] for (X, _), mask in zip(ood_parts, is_ood)])
    ood_original = torch.cat([y[mask] for (_, y), mask in zip(ood_parts, is_ood)])
    names = dataset.class_names
    for what, count, where in [("ID training", len(y_train), "the training split"),
                               ("ID test", len(y_test), "the test split"), ("OOD", len(X_ood), "the dataset")]:
        if count == 0:
            raise ValueError(f"the split has no {what} images: {where} holds none of these classes; "
                             "use a larger subset of the dataset.")
    return IDOODSplit(
        X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test, X_ood=X_ood, ood_original=ood_original,
        id_names=[names[i] for i in id_indices], ood_names=[names[i] for i in ood_indices],
        dataset=dataset.name, source=dataset.source,
    )


def _class_indices(dataset, classes, what: str) -> list[int]:
    names = list(dataset.class_names)
    if isinstance(classes, (torch.Tensor, np.ndarray)):
        classes = classes.tolist()
    if isinstance(classes, (str, int, np.integer)):
        classes = [classes]
    try:
        classes = list(classes)
    except TypeError:
        raise TypeError(f"{what} must be a list of class names or indices, got {type(classes).__name__}.") from None
    if not classes:
        raise ValueError(f"{what} is empty: name at least one class (the classes are {names}).")
    indices = []
    for c in classes:
        if isinstance(c, str):
            if c not in names:
                raise unknown_name("class", c, names, what=what)
            c = names.index(c)
        elif isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)):
            raise TypeError(f"{what} must hold class names (str) or indices (int), got {c!r}; the classes are {names}.")
        elif not 0 <= int(c) < len(names):
            raise ValueError(
                f"class index {c} in {what} is out of range 0..{len(names) - 1} (the classes are {names})."
            )
        if int(c) in indices:
            raise ValueError(f"{what} names class {names[int(c)]!r} twice: give each class once.")
        indices.append(int(c))
    return indices
