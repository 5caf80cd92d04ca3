"""Properties that hold on any input (hypothesis; reproducible draws, see tests/conftest.py).

``perturb``'s mask is exactly the set of samples it changed, on any data (constant, saturated, black,
binary...); ``evaluate`` gives chance-level numbers to a constant score; precision at k counts ties as
their expected value over every order of the tied samples.
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from refusals import assert_refused

from trustml.hardness import evaluate, hardness_types, perturb
from trustml.hardness._characterize import precision_at_k

IMAGE_KINDS = [k for k, applies in hardness_types()["applies_to"].items() if applies in ("both", "images")]
ROW_KINDS = [k for k, applies in hardness_types()["applies_to"].items() if applies in ("both", "tabular")]
# pixel values with many ties at the ends of [0, 1]: black, white and flat images are common
PIXELS = st.sampled_from([0.0, 0.0, 1.0, 0.5, 0.25]) | st.floats(0, 1, width=32)
IMAGE_STYLES = st.sampled_from(["random", "black", "white", "flat"])


@st.composite
def images(draw):
    n = draw(st.integers(2, 10))
    shape = (draw(st.sampled_from([1, 3])), draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    X = np.empty((n, *shape), np.float32)
    for i in range(n):
        style = draw(IMAGE_STYLES)
        if style == "random":
            X[i] = draw(arrays(np.float32, shape, elements=PIXELS))
        else:
            X[i] = {"black": 0.0, "white": 1.0, "flat": draw(PIXELS)}[style]
    return X


@st.composite
def rows(draw):
    n, d = draw(st.integers(2, 30)), draw(st.integers(1, 4))
    columns = []
    for _ in range(d):
        style = draw(st.sampled_from(["normal", "constant", "binary", "few values"]))
        if style == "constant":
            column = np.full(n, draw(st.floats(-5, 5, width=32)))
        else:
            values = {"binary": st.sampled_from([0.0, 1.0]), "few values": st.sampled_from([-1.0, 0.0, 2.0])}
            column = draw(arrays(np.float64, n, elements=values.get(style, st.floats(-10, 10, width=32))))
        columns.append(column)
    return np.stack(columns, axis=1).astype(np.float32)


@st.composite
def perturbations(draw):
    X = draw(images() | rows())
    kind = draw(st.sampled_from(IMAGE_KINDS if X.ndim == 4 else ROW_KINDS))
    k = draw(st.integers(2, 5))
    y = draw(arrays(np.int64, len(X), elements=st.integers(0, k - 1)))
    y[draw(st.integers(0, len(X) - 1))] = k - 1  # at least two classes (one class is refused, see test_bad_input)
    rule = None
    if kind == "instance":  # a confusion rule for some of the classes (perhaps none present)
        sources = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True))
        rule = {c: (c + draw(st.integers(1, k - 1))) % k for c in sources}
    count = draw(st.integers(1, len(X) - 1))  # a proportion that asks for 1..N-1 samples
    return X, y, kind, count / len(X), draw(st.integers(0, 2**16)), rule


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perturbations())
def test_the_mask_is_exactly_the_set_of_changed_samples(case):
    X, y, kind, proportion, seed, rule = case
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = perturb(X, y, kind=kind, proportion=proportion, seed=seed, rule=rule)
    except ValueError:  # nothing could be changed, one class, too small images...: trustml says so
        assert_refused(lambda: perturb(X, y, kind=kind, proportion=proportion, seed=seed, rule=rule), ValueError, ".")
        return
    changed_X = (np.asarray(result.X) != X).reshape(len(X), -1).any(axis=1)
    changed_y = np.asarray(result.y) != y
    assert np.array_equal(result.mask, changed_X | changed_y)
    assert not (changed_X & changed_y).any()  # a kind changes inputs or labels, never both
    assert result.requested == round(proportion * len(X)) and 0 < result.mask.sum() <= result.requested
    short = result.mask.sum() < result.requested
    assert len(caught) == short and (not short or "could change only" in str(caught[0].message))
    assert (np.asarray(result.X)[~result.mask] == X[~result.mask]).all()
    if X.ndim == 4 and kind != "far_ood" and kind not in ("uniform", "asymmetric", "adjacent", "instance"):
        assert 0 <= np.asarray(result.X).min() and np.asarray(result.X).max() <= 1  # images stay in range


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.booleans(), min_size=2, max_size=60).filter(lambda m: 0 < sum(m) < len(m)),
    st.floats(-1e6, 1e6),
)
def test_a_constant_score_is_at_chance_level(mask, value):
    mask = np.array(mask)
    table = evaluate({"constant": np.full(len(mask), value)}, mask)
    assert table.loc["constant", "precision_at_k"] == pytest.approx(mask.mean())
    assert table.loc["constant", "auroc"] == 0.5
    assert table.loc["constant", "auprc"] == pytest.approx(mask.mean())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 1.0, 2.0])), min_size=2, max_size=6))
def test_precision_at_k_is_its_expected_value_over_every_order_of_ties(samples):
    mask = np.array([m for m, _ in samples])
    scores = np.array([s for _, s in samples])
    if mask.all() or not mask.any():
        return
    k = int(mask.sum())
    precisions = []
    for order in itertools.permutations(range(len(mask))):  # every order of the samples, ties included
        order = np.array(order)
        top = order[np.argsort(-scores[order], kind="stable")[:k]]
        precisions.append(mask[top].mean())
    assert precision_at_k(mask, scores, k) == pytest.approx(np.mean(precisions))
    assert evaluate({"s": scores}, mask).loc["s", "precision_at_k"] == pytest.approx(np.mean(precisions))
