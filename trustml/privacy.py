"""What a trained model gives away about its training data: a membership-inference attack.

A model that fits its training records much better than new ones has, in
effect, remembered them. An attacker who can query the model can then guess
whether a given person's record was in the training set: the loss on
training records is lower. This is the loss-threshold attack of Yeom et al.
(2018), "Privacy risk in machine learning: analyzing the connection to
overfitting", CSF; Shokri et al. (2017) introduced membership inference.

:func:`membership_inference` runs the attack on a fitted scikit-learn
classifier; :func:`plot_membership_losses` draws the two loss distributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MembershipInference", "membership_inference", "per_sample_loss", "plot_membership_losses"]


def per_sample_loss(y_true, proba, *, classes=None):
    """Cross-entropy of each sample: minus the log of the probability given to its true class.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True labels.
    proba : array-like of shape (n, n_classes)
        Predicted class probabilities (rows sum to 1), e.g. ``model.predict_proba(X)``.
    classes : array-like of shape (n_classes,), optional
        The label of each column of ``proba`` (``model.classes_``); default
        ``0, 1, ..., n_classes - 1``.

    Returns
    -------
    numpy.ndarray of shape (n,)
        Non-negative losses; a probability of 0 for the true class is clipped
        to 1e-15 (as scikit-learn's ``log_loss`` does), so losses stay finite.

    Examples
    --------
    >>> per_sample_loss([1, 0], [[0.2, 0.8], [0.5, 0.5]]).round(3)
    array([0.223, 0.693])
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2:
        raise ValueError(f"proba must be a 2-D array (samples x classes), got shape {proba.shape}.")
    if y_true.shape != (proba.shape[0],):
        raise ValueError(
            f"y_true has shape {y_true.shape} but proba has {proba.shape[0]} rows: pass one label per row of proba."
        )
    if np.isnan(proba).any() or (proba < 0).any() or not np.allclose(proba.sum(axis=1), 1, atol=1e-6):
        raise ValueError("proba must hold probabilities: non-negative, no NaN, each row summing to 1 (use predict_proba).")
    classes = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
    if classes.shape != (proba.shape[1],):
        raise ValueError(f"classes has {classes.size} entries but proba has {proba.shape[1]} columns.")
    column = {label: j for j, label in enumerate(classes.tolist())}
    unknown = sorted({label for label in y_true.tolist() if label not in column})
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {classes.tolist()}: pass classes=model.classes_.")
    index = np.array([column[label] for label in y_true.tolist()], dtype=int)
    return -np.log(np.clip(proba[np.arange(len(index)), index], 1e-15, None))


@dataclass(frozen=True)
class MembershipInference:
    """The outcome of a loss-threshold membership-inference attack.

    Attributes
    ----------
    member_loss, non_member_loss : numpy.ndarray
        Per-sample losses on the training records and on records the model never saw.
    member_accuracy, non_member_accuracy : float
        The model's accuracy on each.
    auroc : float
        The attack's AUROC: the probability that a random training record has a
        lower loss than a random unseen one (0.5: the attack learns nothing).
    advantage : float
        The best true-positive rate minus false-positive rate over all loss
        thresholds: Yeom et al.'s membership advantage (0: nothing, 1: perfect).
    """

    member_loss: np.ndarray
    non_member_loss: np.ndarray
    member_accuracy: float
    non_member_accuracy: float
    auroc: float
    advantage: float

    def __str__(self) -> str:
        return (
            f"accuracy: {self.member_accuracy:.3f} on training records, {self.non_member_accuracy:.3f} on unseen ones\n"
            f"mean loss: {self.member_loss.mean():.3f} on training records, {self.non_member_loss.mean():.3f} on unseen ones\n"
            f"attack AUROC {self.auroc:.3f}, membership advantage {self.advantage:.3f} (both 0.5 and 0 mean no leak)"
        )


def membership_inference(model, members, non_members):
    """Guess which records a fitted classifier was trained on, from its loss on each.

    The attacker scores every record by its loss (lower loss: more likely a
    training record). The score needs only the model's predicted probabilities
    and the record's true label, which is what anyone who can query the model
    and knows a person's data has.

    Parameters
    ----------
    model : fitted classifier with ``predict_proba`` and ``classes_``
    members : tuple (X, y)
        Records the model was trained on.
    non_members : tuple (X, y)
        Records from the same population that it never saw.

    Returns
    -------
    MembershipInference

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_classification(n_samples=400, flip_y=0.2, random_state=0)
    >>> tree = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])  # grown until it fits every record
    >>> attack = membership_inference(tree, (X[:200], y[:200]), (X[200:], y[200:]))
    >>> attack.member_accuracy, attack.auroc > 0.6
    (1.0, True)
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise TypeError(
            f"{type(model).__name__} has no predict_proba/classes_: pass a fitted scikit-learn classifier "
            "that predicts probabilities."
        )
    losses, accuracies = [], []
    for name, records in (("members", members), ("non_members", non_members)):
        if not (isinstance(records, (tuple, list)) and len(records) == 2):
            raise ValueError(f"{name} must be a pair (X, y), got {type(records).__name__}.")
        X, y = records
        y = np.asarray(y).ravel()
        if len(y) == 0:
            raise ValueError(f"{name} is empty: the attack needs records of both kinds.")
        proba = model.predict_proba(X)
        losses.append(per_sample_loss(y, proba, classes=model.classes_))
        accuracies.append(float(np.mean(model.classes_[proba.argmax(axis=1)] == y)))
    is_member = np.r_[np.ones(len(losses[0])), np.zeros(len(losses[1]))]
    score = -np.concatenate(losses)  # lower loss: more likely a member
    fpr, tpr, _ = roc_curve(is_member, score)
    return MembershipInference(
        member_loss=losses[0],
        non_member_loss=losses[1],
        member_accuracy=accuracies[0],
        non_member_accuracy=accuracies[1],
        auroc=float(roc_auc_score(is_member, score)),
        advantage=float(np.max(tpr - fpr)),
    )


def plot_membership_losses(attack, *, title="", ax=None):
    """Draw the loss distributions of training and unseen records (the attack's evidence).

    Parameters
    ----------
    attack : MembershipInference
    title : str
    ax : matplotlib.axes.Axes, optional
        Draw into this axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not isinstance(attack, MembershipInference):
        raise TypeError(f"plot_membership_losses draws a MembershipInference (from membership_inference), not {type(attack).__name__}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    # log-spaced bins: the losses of remembered records pile up near zero
    losses = np.concatenate([attack.member_loss, attack.non_member_loss])
    bins = np.logspace(np.log10(max(losses.min(), 1e-4)), np.log10(max(losses.max(), 1e-3)), 30)
    clipped = [np.clip(loss, bins[0], None) for loss in (attack.member_loss, attack.non_member_loss)]
    ax.hist(clipped[0], bins=bins, alpha=0.6, color="tab:red", label="training records")
    ax.hist(clipped[1], bins=bins, alpha=0.6, color="tab:blue", label="unseen records")
    ax.set_xscale("log")
    ax.set_xlabel("loss on the record (cross-entropy, log scale)")
    ax.set_ylabel("records")
    ax.set_title(title or f"attack AUROC {attack.auroc:.2f}")
    ax.legend()
    return ax
