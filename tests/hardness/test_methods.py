import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import softmax
from scipy.stats import entropy
from torch import nn

from trustml import set_seed
from trustml.hardness import (
    METHODS,
    allsh,
    aum,
    cleanlab,
    conf_agree,
    data_iq,
    data_map,
    data_maps,
    detector,
    easy_ambiguous_hard,
    el2n,
    forgetting,
    grand,
    hardness_methods,
    loss,
    prototypicality,
    vog,
)
from trustml.hardness._methods import input_gradients
from trustml.models import SimpleCNN

ROOT = Path(__file__).resolve().parents[2]


def dynamics(epochs=6, n=80, k=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    drift = np.linspace(0, 3, epochs)[:, None, None] * np.eye(k)[labels]  # the label's logit grows
    return (drift + rng.normal(size=(epochs, n, k))).astype(np.float32), labels


def test_every_method_is_listed_with_what_it_needs():
    table = hardness_methods()
    assert list(table.index) == list(METHODS) and len(METHODS) == 13
    assert table.notna().all().all()


def test_aum_is_minus_the_aum_package(tmp_path):
    from aum import AUMCalculator

    logits, labels = dynamics()
    calculator = AUMCalculator(str(tmp_path), compressed=True)
    for epoch in logits:
        records = calculator.update(torch.from_numpy(epoch), torch.from_numpy(labels), list(range(len(labels))))
    reference = np.array([records[i].aum for i in range(len(labels))])
    np.testing.assert_allclose(aum(logits, labels), -reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(aum(torch.from_numpy(logits), torch.from_numpy(labels)), -reference, atol=1e-5)


def test_cleanlab_is_one_minus_cleanlabs_label_quality_and_ranks_like_cleanlab():
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores, order_label_issues

    logits, labels = dynamics(n=300)
    final = logits[-1]
    labels = labels.copy()
    labels[:30] = (labels[:30] + 1) % 4
    probs = softmax(final.astype(np.float64), axis=1)
    scores = cleanlab(final, labels)
    np.testing.assert_allclose(scores, 1 - get_label_quality_scores(labels, probs), atol=1e-12)
    issues = find_label_issues(labels, probs)
    reference_order = order_label_issues(issues, labels, probs, rank_by="self_confidence")
    flagged = np.flatnonzero(issues)
    assert np.array_equal(flagged[np.argsort(-scores[flagged], kind="stable")], reference_order)
    assert scores[issues].mean() > 0.5 > scores[~issues].mean()


def test_loss_and_el2n_match_torch():
    logits, labels = dynamics()
    t_logits, t_labels = torch.from_numpy(logits).double(), torch.from_numpy(labels)
    expected = torch.stack([F.cross_entropy(e, t_labels, reduction="none") for e in t_logits]).mean(0)
    np.testing.assert_allclose(loss(logits, labels), expected.numpy(), rtol=1e-10)
    error = t_logits[-1].softmax(1) - F.one_hot(t_labels, 4)
    np.testing.assert_allclose(el2n(logits[-1], labels), error.norm(dim=1).numpy(), rtol=1e-10)


def test_forgetting_counts_transitions_and_ranks_never_learned_highest():
    right, wrong = [2.0, 0.0], [0.0, 2.0]
    sequences = {
        "stable": [right] * 4,
        "forgotten twice": [right, wrong, right, wrong],
        "learned late": [wrong, wrong, right, right],
        "never learned": [wrong] * 4,
    }
    logits = np.array(list(sequences.values())).transpose(1, 0, 2)
    scores = forgetting(logits, np.zeros(4, dtype=int))
    assert scores.tolist() == [0.0, 0.5, 0.0, 1.0]


def test_data_map_statistics_and_groups():
    logits, labels = dynamics()
    p = softmax(logits.astype(np.float64), axis=-1)[:, np.arange(len(labels)), labels]
    stats = data_map(logits, labels)
    np.testing.assert_allclose(stats["confidence"], p.mean(0))
    np.testing.assert_allclose(stats["variability"], p.std(0))
    np.testing.assert_allclose(stats["aleatoric"], (p * (1 - p)).mean(0))
    groups = easy_ambiguous_hard(stats["confidence"], stats["aleatoric"])
    assert set(groups) <= {"easy", "ambiguous", "hard"}
    assert easy_ambiguous_hard([0.1, 0.1, 0.9], [0.1, 0.2, 0.1], confidence_threshold=0.2).tolist() == [
        "hard",
        "ambiguous",
        "easy",
    ]


def test_data_iq_and_data_maps_order_groups_and_differ():
    probability_paths = {
        "easy": [0.9, 0.95, 0.97, 0.99],
        "ambiguous": [0.2, 0.6, 0.3, 0.7],
        "hard": [0.05, 0.05, 0.1, 0.05],
        # learned a little, then lost: low confidence and aleatoric, but high variability
        "lost": [0.6, 0.001, 0.001, 0.001],
    }
    p = np.array(list(probability_paths.values())).T
    logits = np.log(np.stack([p, 1 - p], axis=-1))
    labels = np.zeros(4, dtype=int)
    iq, maps = data_iq(logits, labels), data_maps(logits, labels)
    for scores in (iq, maps):
        assert scores[0] < scores[1] < scores[2]
    stats = data_map(logits, labels)
    assert stats["aleatoric"][3] < 0.15 < stats["variability"][3]
    # Data-IQ: hard (consistently low confidence, low aleatoric); Data Maps: ambiguous (it varied)
    assert iq[3] > 2 > maps[3] > 1
    np.testing.assert_allclose(iq[:3], maps[:3])


def test_detector_finds_flipped_labels_without_the_mask():
    logits, labels = dynamics(epochs=8, n=400, seed=3)
    noisy = labels.copy()
    noisy[:60] = (labels[:60] + 2) % 4
    scores = detector(logits, noisy)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(np.arange(400) < 60, scores) > 0.95
    np.testing.assert_array_equal(scores, detector(logits, noisy))  # seeded
    assert not np.array_equal(scores, detector(logits, noisy, seed=1))


def test_conf_agree_and_allsh_formulas():
    rng = np.random.default_rng(0)
    mc = softmax(rng.normal(size=(10, 30, 5)), axis=-1)
    np.testing.assert_allclose(conf_agree(mc), 1 - mc.mean(0).max(1))
    p, q = softmax(rng.normal(size=(30, 5)), axis=1), softmax(rng.normal(size=(30, 5)), axis=1)
    np.testing.assert_allclose(allsh(p, q), entropy(p, q, axis=1), rtol=1e-10)


def test_prototypicality_is_cosine_distance_to_the_class_mean():
    from sklearn.metrics.pairwise import cosine_similarity

    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(40, 6)), rng.integers(0, 3, 40)
    means = {c: features[labels == c].mean(0)[None] for c in range(3)}
    expected = [1 - cosine_similarity(f[None], means[c])[0, 0] for f, c in zip(features, labels)]
    np.testing.assert_allclose(prototypicality(features, labels), expected, rtol=1e-10)


def tiny_cnn():
    set_seed(0)
    model = SimpleCNN(1, 3, width=4, dropout=0.5)
    model(torch.rand(8, 1, 8, 8))
    with torch.no_grad():  # make batch norm's running statistics matter
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
    return model


def test_grand_matches_per_sample_autograd_in_eval_mode():
    model = tiny_cnn().train()
    X, y = torch.rand(20, 1, 8, 8), torch.randint(0, 3, (20,))
    scores = grand(model, X, y, batch_size=7)
    assert model.training  # mode restored
    model.eval()
    expected = []
    for x, t in zip(X, y):
        model.zero_grad()
        F.cross_entropy(model(x[None]), t[None]).backward()
        expected.append(torch.cat([p.grad.flatten() for p in model.parameters()]).norm())
    np.testing.assert_allclose(scores, torch.stack(expected).numpy(), rtol=1e-4)


def test_vog_input_gradients_and_formula():
    model = tiny_cnn()
    X, y = torch.rand(12, 1, 8, 8), torch.randint(0, 3, (12,))
    grads = input_gradients(model, X, y, batch_size=5)
    for i in (0, 11):
        x = X[i : i + 1].clone().requires_grad_(True)
        model.eval()
        model(x)[0, y[i]].backward()
        torch.testing.assert_close(grads[i], x.grad[0, 0])
    stack = np.stack([grads.numpy(), 2 * grads.numpy(), 4 * grads.numpy()]).astype(np.float64)
    expected = np.sqrt(((stack - stack.mean(0)) ** 2).mean(0)).reshape(12, -1).mean(1)
    labels = np.arange(12) % 2
    np.testing.assert_allclose(vog(stack, labels, normalize=False), expected, rtol=1e-6)
    rgb = np.repeat(stack[:, :, None], 3, axis=2)  # (K, N, C, H, W): channels averaged
    np.testing.assert_allclose(vog(rgb, labels, normalize=False), expected, rtol=1e-6)
    normalised = vog(stack, labels)
    for c in (0, 1):
        members = expected[labels == c]
        np.testing.assert_allclose(normalised[labels == c], (members - members.mean()) / members.std())


def test_grand_memory_stays_flat_in_n():
    """Peak memory of GraNd for 8,000 samples is that of 500: it never holds more than one chunk of gradients."""
    script = """
import threading, torch
torch.set_num_threads(1)
from trustml.hardness import grand
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(100, 1000), torch.nn.ReLU(), torch.nn.Linear(1000, 10))
X, y = torch.randn(8000, 100), torch.randint(0, 10, (8000,))

def anonymous_kb():   # resident anonymous memory (heap), without the shared libraries' pages
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("RssAnon")).split()[1])

def peak_growth_kb(n):
    before, peak, done = anonymous_kb(), [0], threading.Event()
    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], anonymous_kb())
    watcher = threading.Thread(target=watch)
    watcher.start()
    grand(model, X[:n], y[:n], batch_size=64)
    done.set()
    watcher.join()
    return max(peak[0], anonymous_kb()) - before

grand(model, X[:256], y[:256], batch_size=64)   # warm-up
print(peak_growth_kb(500), peak_growth_kb(8000))
"""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs Linux's /proc to read memory use")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    small, large = (int(kb) / 1024 for kb in out.stdout.split())
    per_sample_mb = 111_010 * 4 / 2**20  # one sample's gradient: 111,010 weights in float32
    # all 8,000 gradients at once would take 3.4 GB, 3.2 GB more than 500 of them
    assert large < 0.05 * 8000 * per_sample_mb, (small, large)
    assert large - small < 0.03 * 7500 * per_sample_mb, (small, large)


def test_bad_logits_and_labels_get_clear_errors():
    logits, labels = dynamics()
    with pytest.raises(ValueError, match=r"shape \(epochs, N, classes\), got shape \(80, 4\)"):
        aum(logits[0], labels)
    with pytest.raises(ValueError, match=r"shape \(N, classes\), got shape \(6, 80, 4\).*logits\[-1\]"):
        el2n(logits, labels)
    with pytest.raises(ValueError, match="labels has 79 entries but there are 80 samples"):
        loss(logits, labels[:-1])
    with pytest.raises(ValueError, match="class index 4 but there are only 4 classes"):
        forgetting(logits, np.where(labels == 0, 4, labels))
    with pytest.raises(ValueError, match="negative class index"):
        data_iq(logits, labels - 1)
    with pytest.raises(TypeError, match="integer class indices"):
        cleanlab(logits[-1], labels.astype(float))
    for bad in (np.nan, np.inf):
        broken = logits.copy()
        broken[2, 5, 1] = bad
        with pytest.raises(ValueError, match=r"NaN or infinite values for 1 sample\(s\) \(first: \[5\]\)"):
            data_maps(broken, labels)
    with pytest.raises(ValueError, match="at least 2 checkpoints"):
        vog(np.zeros((1, 5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="labels has 4 entries but there are 5 samples"):
        vog(np.zeros((2, 5, 3)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="softmax outputs"):
        conf_agree(np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        grand("model", torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))
