"""OOD scores from a trained classifier through pytorch-ood's detectors, one surface for all of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from trustml._checks import check_number
from trustml.ood._checks import as_array, check_positive_int, unknown_name

__all__ = ["OODDetector", "ood_methods"]

# name: (what it scores, pytorch-ood class, score, paper)
_METHODS = {
    "softmax": (
        "logits",
        "MaxSoftmax",
        "-max_k softmax(z / T)_k: minus the highest class probability",
        "Hendrycks & Gimpel (ICLR 2017)",
    ),
    "energy": (
        "logits",
        "EnergyBased",
        "-T logsumexp(z / T): the free energy of the logits",
        "Liu, Wang, Owens & Li (NeurIPS 2020)",
    ),
    "mahalanobis": (
        "features",
        "Mahalanobis",
        "1/2 min_k (f - mu_k)^T Sigma^-1 (f - mu_k): class means, one shared covariance",
        "Lee, Lee, Lee & Shin (NeurIPS 2018)",
    ),
    "knn": (
        "features",
        "KNN",
        "distance of the L2-normalised features to their k-th nearest training neighbour",
        "Sun, Ming, Zhu & Li (ICML 2022)",
    ),
    "vim": (
        "features and the last layer",
        "ViM",
        "alpha ||residual of f outside the principal subspace|| - logsumexp(z): a virtual logit",
        "Wang, Li, Feng & Zhang (CVPR 2022)",
    ),
}
_OPTIONS = {"temperature": ("softmax", "energy"), "k": ("knn",), "shrinkage": ("mahalanobis",),
            "subspace_dim": ("vim",)}
_SHRINKAGE = ("ledoit-wolf", "empirical")


def ood_methods() -> pd.DataFrame:
    """The OOD detectors :class:`OODDetector` runs, what each scores and where it comes from.

    Returns
    -------
    pandas.DataFrame
        Indexed by method; columns ``scores`` (logits or penultimate features),
        ``pytorch_ood`` (the detector class), ``score`` (the formula, higher =
        more OOD) and ``paper``.

    Examples
    --------
    >>> from trustml.ood import ood_methods
    >>> ood_methods().loc["energy", "pytorch_ood"]
    'EnergyBased'
    """
    frame = pd.DataFrame.from_dict(_METHODS, orient="index", columns=["scores", "pytorch_ood", "score", "paper"])
    frame.index.name = "method"
    return frame


class OODDetector:
    """OOD scores of a trained classifier by one of pytorch-ood's detectors; **higher = more OOD**.

    The logit methods (``softmax``, ``energy``) need nothing but the model. The
    feature methods (``mahalanobis``, ``knn``, ``vim``) look at the model's
    penultimate features, ``model.features(x)`` (every trustml model has it),
    and must first be fitted on the ID training data. Inputs go through the
    model in batches, in eval mode, on ``device``; a detector can also score
    logits or features computed elsewhere (``scores(logits=...)``,
    ``scores(features=...)``).

    Parameters
    ----------
    method : {"softmax", "energy", "mahalanobis", "knn", "vim"}
        See :func:`ood_methods`.
    model : torch.nn.Module, optional
        The trained classifier (pre-softmax logits out). Needed to score inputs
        ``X``, and always for ``vim`` (it reads the last linear layer).
    temperature : float, optional
        ``softmax`` and ``energy``: the temperature T (default 1).
    k : int, optional
        ``knn``: which neighbour's distance is the score (default 50, as Sun et
        al. for CIFAR-10).
    shrinkage : {"ledoit-wolf", "empirical"}, optional
        ``mahalanobis``: how the shared covariance is estimated from the
        class-centred features: Ledoit-Wolf shrinkage (default; scikit-learn's
        ``LedoitWolf``, well conditioned when features outnumber what the
        samples can pin down) or the plain maximum-likelihood estimate.
    subspace_dim : int, optional
        ``vim``: dimension of the principal subspace (default half the feature width).
    batch_size : int, default 512
    device : torch.device or str, optional
        Where to run the model (default :func:`trustml.get_device`); the model is moved there.

    Attributes
    ----------
    detector_ : pytorch_ood.api.Detector
        The pytorch-ood detector doing the work.
    fitted_ : bool
        Whether the detector can score (logit methods always can).

    Examples
    --------
    >>> import torch
    >>> from trustml.models import MLP
    >>> from trustml.ood import OODDetector
    >>> model = MLP(2, 2, hidden=(8,))
    >>> X, y = torch.randn(100, 2), torch.randint(0, 2, (100,))
    >>> OODDetector("energy", model, device="cpu").scores(X).shape
    (100,)
    >>> distance = OODDetector("mahalanobis", model, device="cpu").fit(X, y)
    >>> bool((distance.scores(X + 100) > distance.scores(X).max()).all())  # far away is more OOD
    True
    """

    def __init__(self, method: str, model: nn.Module | None = None, *, temperature=None, k=None, shrinkage=None,
                 subspace_dim=None, batch_size: int = 512, device=None):
        if not isinstance(method, str) or method not in _METHODS:
            raise unknown_name("OOD method", method, _METHODS, what="method")
        options = {"temperature": temperature, "k": k, "shrinkage": shrinkage, "subspace_dim": subspace_dim}
        for name, value in options.items():
            if value is not None and method not in _OPTIONS[name]:
                raise ValueError(
                    f"{name} is an option of {' and '.join(_OPTIONS[name])}, not of {method!r}: leave it out."
                )
        if model is not None and not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module (the trained classifier), got {type(model).__name__}.")
        self.method = method
        self.model = model
        self.needs = _METHODS[method][0]
        if self.needs != "logits" and model is not None and not callable(getattr(model, "features", None)):
            raise ValueError(
                f"{method!r} scores the model's penultimate features, but the model ({type(model).__name__}) has "
                "no features() method. Use a trustml model (trustml.models: LeNet, SimpleCNN, MLP), give yours a "
                "features(x) method that returns the (N, D) activations before the last layer, or pass "
                "features= to fit() and scores()."
            )
        if method == "vim" and model is None:
            raise ValueError("'vim' needs the model: it reads the weights of the model's last linear layer.")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        from trustml import get_device
        from trustml.training import _as_device

        self.device = get_device() if device is None else _as_device(device)
        self.temperature = check_number(1.0 if temperature is None else temperature, "temperature", low=0,
                                        low_open=True)
        self.k = check_positive_int(50 if k is None else k, "k")
        self.shrinkage = "ledoit-wolf" if shrinkage is None else shrinkage
        if self.shrinkage not in _SHRINKAGE:
            raise unknown_name("shrinkage", self.shrinkage, _SHRINKAGE, what="shrinkage", plural="choices")
        self.subspace_dim = None if subspace_dim is None else check_positive_int(subspace_dim, "subspace_dim")
        self.detector_ = self._build_logit_detector() if self.needs == "logits" else None
        self.fitted_ = self.needs == "logits"
        self.feature_dim_ = None

    def __repr__(self) -> str:
        state = "fitted" if self.fitted_ else "not fitted"
        return f"OODDetector({self.method!r}, {state}, higher = more OOD)"

    # ------------------------------------------------------------------ public

    def fit(self, X=None, y=None, *, features=None) -> OODDetector:
        """Fit a feature method on the ID training data (the logit methods need nothing: returns self).

        Parameters
        ----------
        X : torch.Tensor or numpy.ndarray, optional
            ID training inputs, passed through ``model.features``.
        y : array-like of int
            Their class labels ``0..K-1`` (every class present).
        features : array-like of shape (N, D), optional
            Penultimate features computed elsewhere, instead of ``X``.

        Returns
        -------
        OODDetector
            ``self``, fitted.
        """
        if self.needs == "logits":
            return self
        z = self._features(X, features, "fit")
        labels = _check_fit_labels(y, len(z))
        from pytorch_ood.detector import KNN, Mahalanobis, ViM

        if self.method == "mahalanobis":
            detector = Mahalanobis(None).fit_features(z, torch.from_numpy(labels))
            self._set_covariance(detector, z.numpy().astype(np.float64), labels)
        elif self.method == "knn":
            if self.k > len(z):
                raise ValueError(
                    f"k={self.k} is more than the {len(z)} training samples: knn needs at least k of them; "
                    f"lower k (e.g. k={max(1, len(z) // 10)})."
                )
            detector = KNN(None, k=self.k).fit_features(z, torch.from_numpy(labels))
        else:  # vim
            weight, bias = _last_linear(self.model)
            if weight.shape[1] != z.shape[1]:
                raise ValueError(
                    f"the model's last linear layer takes {weight.shape[1]} features, but the features have "
                    f"{z.shape[1]}: vim needs the features that layer reads (model.features)."
                )
            dim = self.subspace_dim if self.subspace_dim is not None else max(1, z.shape[1] // 2)
            if dim >= z.shape[1]:
                raise ValueError(
                    f"subspace_dim={dim} must be smaller than the feature width {z.shape[1]}: "
                    "vim scores what lies outside the principal subspace."
                )
            if dim >= len(z):
                raise ValueError(
                    f"subspace_dim={dim} must be smaller than the {len(z)} fitting samples: with fewer samples "
                    "than dimensions the principal subspace is not determined; fit on more samples or lower it."
                )
            detector = ViM(None, d=dim, w=weight, b=bias).fit_features(z, torch.from_numpy(labels))
        self.detector_ = detector
        self.feature_dim_ = z.shape[1]
        self.fitted_ = True
        return self

    def scores(self, X=None, *, logits=None, features=None) -> np.ndarray:
        """OOD scores of a batch of inputs (or of their logits or features): higher = more OOD.

        Give exactly one of ``X`` (inputs, passed through the model),
        ``logits`` (logit methods) or ``features`` (feature methods).

        Returns
        -------
        numpy.ndarray
            ``(N,)`` float64 scores.
        """
        given = [name for name, value in (("X", X), ("logits", logits), ("features", features)) if value is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of X (inputs), logits= or features= to score, got {given or 'none'}."
            )
        if not self.fitted_:
            raise ValueError(
                f"{self.method!r} must be fitted first: call .fit(X_train, y_train) on the ID training data."
            )
        if self.needs == "logits":
            if features is not None:
                raise ValueError(f"{self.method!r} scores logits, not features: pass logits= or the inputs X.")
            z = self._logits(X) if X is not None else _check_matrix(logits, "logits", allow_neg_inf=True)
            return self.detector_.predict_logits(z).double().cpu().numpy()
        if logits is not None:
            raise ValueError(
                f"{self.method!r} scores penultimate features, not logits: pass features= or the inputs X."
            )
        z = self._features(X, features, "scores")
        if z.shape[1] != self.feature_dim_:
            raise ValueError(
                f"features have {z.shape[1]} columns but the detector was fitted on {self.feature_dim_}: "
                "score the features of the same model."
            )
        if self.method == "mahalanobis":
            z = z.to(self.detector_.mu.device)
        return self.detector_.predict_features(z).double().cpu().numpy()

    # ------------------------------------------------------------------ internals

    def _build_logit_detector(self):
        from pytorch_ood.detector import EnergyBased, MaxSoftmax

        cls = MaxSoftmax if self.method == "softmax" else EnergyBased
        return cls(None, t=self.temperature)

    def _set_covariance(self, detector, z: np.ndarray, labels: np.ndarray) -> None:
        """Replace pytorch-ood's covariance (a scatter matrix plus 1e-6 I) by an estimate from scikit-learn."""
        from sklearn.covariance import EmpiricalCovariance, LedoitWolf

        means = detector.mu.double().cpu().numpy()
        centred = z - means[labels]
        estimator = LedoitWolf if self.shrinkage == "ledoit-wolf" else EmpiricalCovariance
        fitted = estimator(assume_centered=True).fit(centred)
        device = detector.mu.device
        detector.cov = torch.as_tensor(fitted.covariance_, dtype=torch.float32, device=device)
        detector.precision = torch.as_tensor(fitted.get_precision(), dtype=torch.float32, device=device)
        self.covariance_ = fitted

    def _require_model(self, what: str):
        if self.model is None:
            raise ValueError(
                f"this detector has no model to pass X through: build it with OODDetector({self.method!r}, model), "
                f"or pass {what}= instead of X."
            )

    @torch.no_grad()
    def _run(self, X, forward) -> torch.Tensor:
        from trustml.training import _as_inputs, _model_dtype

        X = _as_inputs(X, "X", _model_dtype(self.model))
        model = self.model.to(self.device)
        was_training = model.training
        model.eval()
        try:
            out = [forward(model, batch.to(self.device)).float().cpu() for batch in X.split(self.batch_size)]
        finally:
            model.train(was_training)
        return torch.cat(out)

    def _logits(self, X) -> torch.Tensor:
        self._require_model("logits")
        logits = self._run(X, lambda model, batch: model(batch))
        return _check_matrix(logits, "the model's logits", allow_neg_inf=False)

    def _features(self, X, features, step: str) -> torch.Tensor:
        if X is not None and features is not None:
            raise ValueError(f"give the inputs X or features= to {step}(), not both.")
        if X is None and features is None:
            raise ValueError(f"{step}() needs the inputs X (passed through model.features) or features=.")
        if features is not None:
            return _check_matrix(features, "features", allow_neg_inf=False)
        self._require_model("features")
        return _check_matrix(self._run(X, lambda model, batch: model.features(batch)), "model.features(X)",
                             allow_neg_inf=False)


def _check_matrix(values, what: str, *, allow_neg_inf: bool) -> torch.Tensor:
    """A (N, D) float32 CPU tensor of numbers: no NaN, no +inf (and no -inf unless allowed)."""
    array = as_array(values, what)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{what} must hold real numbers, got dtype {array.dtype}.")
    if array.ndim != 2:
        raise ValueError(f"{what} must be 2-D, one row per sample, got shape {array.shape}.")
    if len(array) == 0:
        raise ValueError(f"{what} is empty: give at least one sample.")
    array = array.astype(np.float64, copy=False)
    bad = np.isnan(array) | (array == np.inf)
    if not allow_neg_inf:
        bad |= array == -np.inf
    else:
        bad |= ~np.isfinite(array).any(axis=1, keepdims=True)  # a row of -inf has no class at all
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{what} has NaN or infinite values in {len(rows)} row(s) (first: {rows[:5].tolist()}): "
            "check the inputs of those samples and the model."
        )
    if what == "logits" and array.shape[1] < 2:
        raise ValueError(f"logits need one column per class (at least 2), got shape {array.shape}.")
    return torch.from_numpy(array.astype(np.float32))


def _check_fit_labels(y, n: int) -> np.ndarray:
    if y is None:
        raise ValueError("fit() needs y, the class labels of the ID training samples (0..K-1).")
    labels = as_array(y, "y")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels 0..K-1, got dtype {labels.dtype}.")
    if labels.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per training sample, got {labels.shape}.")
    if labels.min() < 0:
        raise ValueError(
            "y has negative labels: fit the detector on ID training data only (labels 0..K-1), not on OOD samples."
        )
    missing = sorted(set(range(int(labels.max()) + 1)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"y has no sample of class(es) {missing}: every class 0..{int(labels.max())} must occur.")
    return labels.astype(np.int64)


def _last_linear(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of the model's last linear layer (the one that maps features to logits)."""
    head = getattr(model, "head", model)
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if not linears or linears[-1].bias is None:
        raise ValueError(
            f"vim needs the model's last layer to be an nn.Linear with a bias (features -> logits); "
            f"{type(model).__name__} has none."
        )
    layer = linears[-1]
    return layer.weight.detach().float().cpu(), layer.bias.detach().float().cpu()
