"""How unsure a prediction is, and why: total, aleatoric and epistemic uncertainty from sampled predictions.

Given ``S`` sampled predictive distributions ``p_1 .. p_S`` for an input (MC
dropout passes or ensemble members), with mean ``p̄``:

- predictive entropy (total uncertainty) ``H[p̄] = -Σ_k p̄_k log p̄_k``;
- expected entropy (aleatoric part) ``(1/S) Σ_s H[p_s]``: how unsure each
  sample is on its own;
- mutual information (epistemic part) ``H[p̄] - (1/S) Σ_s H[p_s]``: how much
  the samples disagree (BALD; Houlsby et al., 2011; Depeweg et al., 2018).

All in nats (natural logarithm): between 0 and ``log K`` for ``K`` classes.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from trustml.uncertainty._checks import check_probabilities

__all__ = ["expected_entropy", "mutual_information", "predictive_entropy"]


def _entropy(probs: np.ndarray) -> np.ndarray:
    return entr(probs).sum(-1)  # entr(p) = -p log p, 0 at p = 0


def predictive_entropy(probs) -> np.ndarray:
    """Entropy of the mean prediction: the total uncertainty, in nats.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(S, N, K)`` sampled probabilities (MC dropout passes or ensemble
        members), or ``(N, K)`` for a single model.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` float64, from 0 (one class certain) to ``log K`` (uniform).

    Examples
    --------
    >>> import numpy as np
    >>> predictive_entropy(np.array([[1.0, 0.0], [0.5, 0.5]])).round(4)
    array([0.    , 0.6931])
    """
    samples = check_probabilities(probs, samples=True)
    return _entropy(samples.mean(0))


def expected_entropy(probs) -> np.ndarray:
    """Mean entropy of the sampled predictions: the aleatoric part of the uncertainty, in nats.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(S, N, K)`` sampled probabilities, or ``(N, K)`` (then it equals the predictive entropy).

    Returns
    -------
    numpy.ndarray
        ``(N,)`` float64.

    Examples
    --------
    >>> import numpy as np
    >>> disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two members, each certain, of different classes
    >>> expected_entropy(disagree), predictive_entropy(disagree).round(4)
    (array([0.]), array([0.6931]))
    """
    samples = check_probabilities(probs, samples=True)
    return _entropy(samples).mean(0)


def mutual_information(probs) -> np.ndarray:
    """Mutual information between the prediction and the model: the epistemic part, in nats.

    ``predictive_entropy(probs) - expected_entropy(probs)``: zero when all
    samples agree, large when each is confident about a different class.
    Rounding can make the difference a hair below zero; it is clipped at 0.

    Parameters
    ----------
    probs : torch.Tensor or numpy.ndarray
        ``(S, N, K)`` sampled probabilities (``(N, K)`` gives zeros: one model cannot disagree with itself).

    Returns
    -------
    numpy.ndarray
        ``(N,)`` float64, between 0 and ``min(log S, log K)``.

    Examples
    --------
    >>> import numpy as np
    >>> agree = np.array([[[0.5, 0.5]], [[0.5, 0.5]]])  # both members unsure in the same way: aleatoric
    >>> disagree = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # each sure, of another class: epistemic
    >>> mutual_information(agree), mutual_information(disagree).round(4)
    (array([0.]), array([0.6931]))
    """
    samples = check_probabilities(probs, samples=True)
    return np.maximum(_entropy(samples.mean(0)) - _entropy(samples).mean(0), 0.0)
