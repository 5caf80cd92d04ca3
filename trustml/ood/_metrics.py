"""Detection metrics of OOD scores, computed by pytorch-ood's ``OODMetrics``."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from trustml.ood._checks import check_scores

__all__ = ["metrics"]


def metrics(id_scores, ood_scores) -> dict:
    """How well OOD scores separate ID from OOD samples: AUROC, FPR at 95% TPR, AUPR.

    Scores follow pytorch-ood's direction, **higher = more OOD**, and OOD is the
    positive class. The numbers are pytorch-ood's ``OODMetrics`` on the same
    scores (ties count half in the AUROC).

    Parameters
    ----------
    id_scores, ood_scores : array-like of shape (n,)
        OOD scores of in-distribution and of out-of-distribution samples
        (numpy, torch or a list; no NaN; infinite scores are allowed).

    Returns
    -------
    dict
        ``auroc``: probability that a random OOD sample scores higher than a
        random ID sample (0.5 = chance, 1 = perfect).
        ``fpr95``: share of ID samples flagged as OOD at the threshold that
        catches 95% of the OOD samples (pytorch-ood's ``FPR95TPR``; lower is better).
        ``fpr95_in``: share of OOD samples let through as ID at the threshold
        that keeps 95% of the ID samples (ID as the positive class: the FPR95
        of Hendrycks et al. and Liu et al. 2020; lower is better).
        ``aupr_in``: area under the precision-recall curve with ID as the
        positive class (pytorch-ood's ``AUPR-IN``); ``aupr_out``: with OOD
        as the positive class (``AUPR-OUT``).

    Raises
    ------
    ValueError, TypeError
        For empty or NaN scores, or scores that are not 1-D numbers.

    Examples
    --------
    >>> from trustml.ood import metrics
    >>> result = metrics([0.1, 0.2, 0.3, 0.4], [0.35, 0.8, 0.9])
    >>> round(result["auroc"], 3), result["fpr95"]
    (0.917, 0.25)
    """
    from pytorch_ood.metrics import OODMetrics
    from pytorch_ood.metrics.functional import fpr_at_tpr

    id_scores = check_scores(id_scores, "id_scores")
    ood_scores = check_scores(ood_scores, "ood_scores")
    scores = torch.from_numpy(np.concatenate([id_scores, ood_scores]))
    labels = torch.cat([torch.zeros(len(id_scores), dtype=torch.long), torch.full((len(ood_scores),), -1)])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="AUTC is undefined")  # AUTC is not reported here
        computed = OODMetrics().update(scores, labels).compute()
    # ID as the positive class: flip the scores (higher = more ID) and mark the ID samples as pytorch-ood's positives
    fpr95_in = float(fpr_at_tpr(-scores, torch.where(labels < 0, 0, -1), tpr=0.95))
    return {
        "auroc": computed["AUROC"],
        "fpr95": computed["FPR95TPR"],
        "fpr95_in": fpr95_in,
        "aupr_in": computed["AUPR-IN"],
        "aupr_out": computed["AUPR-OUT"],
    }
