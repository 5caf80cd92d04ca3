"""Calibration: does a confidence of 80% mean right 80% of the time? ECE, NLL and temperature scaling."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from trustml.uncertainty._checks import check_labels, check_logits, check_positive_int, check_probabilities

__all__ = ["TemperatureScaling", "expected_calibration_error", "negative_log_likelihood", "reliability_table"]


def _confidence_and_correct(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs = check_probabilities(probs, samples=False)
    labels = check_labels(labels, len(probs), probs.shape[1])
    return probs.max(1), probs.argmax(1) == labels


def reliability_table(probs, labels, *, bins: int = 15) -> pd.DataFrame:
    """Confidence against accuracy in equal-width confidence bins (the numbers of a reliability diagram).

    A prediction's *confidence* is its largest probability and it is
    *correct* when that class is the label. Bin ``b`` of ``bins`` holds the
    predictions whose confidence lies in ``(b / bins, (b + 1) / bins]``
    (the first bin also takes a confidence of exactly 0), as in Guo et al.
    (2017) and scikit-learn's ``calibration_curve(strategy="uniform")``.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(N, K)`` predicted probabilities (for MC dropout or an ensemble, the mean of the samples).
    labels : torch.Tensor or numpy.ndarray
        ``(N,)`` true classes.
    bins : int, default 15

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lower``, ``upper``, ``count``, ``confidence``
        (mean in the bin), ``accuracy`` and ``gap`` (accuracy - confidence;
        negative = overconfident). Empty bins have count 0 and NaN means.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> reliability_table(probs, np.array([0, 1, 1, 0]), bins=2)[["count", "confidence", "accuracy"]]
       count  confidence  accuracy
    0      0         NaN       NaN
    1      4        0.75      0.75
    """
    confidence, correct = _confidence_and_correct(probs, labels)
    bins = check_positive_int("bins", bins, " (the number of equal-width confidence bins, e.g. 15)")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        accuracy = np.bincount(which, weights=correct.astype(np.float64), minlength=bins) / count
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count,
            "confidence": mean_confidence,
            "accuracy": accuracy,
            "gap": accuracy - mean_confidence,
        }
    )


def expected_calibration_error(probs, labels, *, bins: int = 15) -> float:
    """Expected calibration error (ECE) with equal-width bins (Naeini et al., 2015; Guo et al., 2017).

    ``ECE = Σ_b (n_b / N) |accuracy_b - confidence_b|`` over the bins of
    :func:`reliability_table`: the average gap between how sure the model is
    and how often it is right, weighted by how many predictions fall in each
    bin. 0 is perfectly calibrated. The value depends on the number of bins
    (15 is Guo et al.'s choice). torchmetrics' ``calibration_error`` gives the
    same number, except that it puts a confidence lying exactly on a bin edge
    into the bin above (and a confidence of exactly 1.0 into a bin of its own).

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(N, K)`` predicted probabilities (for MC dropout or an ensemble, the mean of the samples).
    labels : torch.Tensor or numpy.ndarray
        ``(N,)`` true classes.
    bins : int, default 15

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.25, 0.75], [0.35, 0.65]])
    >>> # (0.9, 1]: 0.95 twice, right once, gap 0.45; (0.7, 0.8]: 0.75, right, 0.25; (0.6, 0.7]: 0.65, wrong, 0.65
    >>> round(expected_calibration_error(probs, np.array([0, 1, 1, 0]), bins=10), 4)  # (2 x 0.45 + 0.25 + 0.65) / 4
    0.45
    """
    table = reliability_table(probs, labels, bins=bins)
    filled = table[table["count"] > 0]
    return float((filled["count"] * filled["gap"].abs()).sum() / filled["count"].sum())


def negative_log_likelihood(probs, labels) -> float:
    """Mean negative log-likelihood of the true classes, ``-(1/N) Σ_i log p_i(y_i)``, in nats.

    A proper scoring rule: it rewards confidence only where it is deserved, and
    punishes a confident mistake hard. Probabilities are clipped to
    ``[eps, 1 - eps]`` (float64's machine epsilon) first, as scikit-learn's
    ``log_loss`` does, so a certain mistake costs about 36 nats rather than infinity.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(N, K)`` predicted probabilities (for MC dropout or an ensemble, the mean of the samples).
    labels : torch.Tensor or numpy.ndarray
        ``(N,)`` true classes.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> round(negative_log_likelihood(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([0, 0])), 4)  # (log 2 - log 0.9) / 2
    0.3993
    """
    probs = check_probabilities(probs, samples=False)
    labels = check_labels(labels, len(probs), probs.shape[1])
    eps = np.finfo(np.float64).eps
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], eps, 1 - eps)).mean())


class TemperatureScaling:
    """Temperature scaling (Guo et al., 2017): divide the logits by one number ``T`` fitted on held-out data.

    ``T`` minimises the negative log-likelihood of the validation labels
    under ``softmax(logits / T)``, found with L-BFGS (strong Wolfe line
    search) on ``log T``, so ``T`` stays positive. ``T > 1`` softens an
    overconfident model, ``T < 1`` sharpens an underconfident one. Dividing by
    a positive number never changes which class is largest: accuracy stays
    exactly the same, only the confidences move.

    Parameters
    ----------
    max_iter : int, default 100
        L-BFGS iterations (a one-parameter problem: it converges in a handful).

    Attributes
    ----------
    temperature_ : float
        The fitted ``T``.
    nll_before_, nll_after_ : float
        Validation NLL at ``T = 1`` and at the fitted ``T``.

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> labels = torch.randint(0, 3, (500,))
    >>> logits = 2 * torch.randn(500, 3) + 4 * torch.nn.functional.one_hot(labels, 3)  # right, but sure
    >>> logits[:100] = logits[:100].roll(1, dims=1)  # and a fifth wrong, just as sure: overconfident
    >>> scaler = TemperatureScaling().fit(logits, labels)
    >>> scaler.temperature_ > 1, scaler.nll_after_ < scaler.nll_before_
    (True, True)
    >>> probs = scaler.predict_proba(logits)  # calibrated probabilities, same argmax
    >>> bool((probs.argmax(1) == logits.argmax(1)).all())
    True
    """

    def __init__(self, *, max_iter: int = 100):
        self.max_iter = check_positive_int("max_iter", max_iter)

    def fit(self, logits, labels) -> TemperatureScaling:
        """Fit ``T`` on validation logits ``(N, K)`` (pre-softmax outputs) and their labels ``(N,)``.

        Returns
        -------
        TemperatureScaling
            ``self``, with ``temperature_``, ``nll_before_`` and ``nll_after_`` set.
        """
        logits = check_logits(logits)
        labels = torch.from_numpy(check_labels(labels, len(logits), logits.shape[1]))
        log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [log_t], lr=1.0, max_iter=self.max_iter, tolerance_grad=1e-10, tolerance_change=1e-14,
            line_search_fn="strong_wolfe",
        )  # fmt: skip

        def closure():
            optimizer.zero_grad()
            loss = F.cross_entropy(logits / log_t.exp(), labels)
            loss.backward()
            return loss

        with torch.enable_grad():
            optimizer.step(closure)
        temperature = float(log_t.detach().exp())
        if not math.isfinite(temperature):
            raise ValueError(
                "Temperature scaling did not converge (T became infinite or NaN): the validation logits may "
                "carry no information about the labels (a model at chance); check the model and the labels."
            )
        self.temperature_ = temperature
        self.nll_before_ = float(F.cross_entropy(logits, labels))
        self.nll_after_ = float(F.cross_entropy(logits / temperature, labels))
        return self

    def _check_fitted(self):
        if not hasattr(self, "temperature_"):
            raise RuntimeError("This TemperatureScaling is not fitted yet: call fit(val_logits, val_labels) first.")

    def transform(self, logits) -> torch.Tensor:
        """The logits divided by the fitted temperature, ``(N, K)`` float32."""
        self._check_fitted()
        return (check_logits(logits) / self.temperature_).float()

    def predict_proba(self, logits) -> torch.Tensor:
        """Calibrated probabilities ``softmax(logits / T)``, ``(N, K)`` float32."""
        return self.transform(logits).softmax(-1)

    def __repr__(self) -> str:
        fitted = f"temperature_={self.temperature_:.3f}" if hasattr(self, "temperature_") else "not fitted"
        return f"TemperatureScaling({fitted})"
