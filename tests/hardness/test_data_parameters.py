"""Data parameters (Saxena et al. 2019): the loss, the sparse optimiser, the clamp and what they detect."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from trustml import set_seed
from trustml.hardness import DataParameters
from trustml.models import MLP
from trustml.training import Callback, RecordLogits, fit


def grad_log_sigma(z, label, sigma=1.0):
    """d CE(z / σ, label) / d log σ by hand: z'[label] - E_softmax(z')[z'] with z' = z / σ."""
    scaled = [v / sigma for v in z]
    e = [math.exp(v) for v in scaled]
    p = [v / sum(e) for v in e]
    return scaled[label] - sum(pk * zk for pk, zk in zip(p, scaled))


def batch_step(dp, logits, targets, indices):
    loss = dp(torch.tensor(logits), torch.tensor(targets), torch.tensor(indices))
    loss.backward()
    dp.step()
    return loss


def test_one_step_by_hand_with_weight_decay_on_the_batch_only():
    dp = DataParameters(4, 2, lr_instance=0.5, wd_instance=0.1)
    assert torch.equal(dp.instance_log_sigma.detach(), torch.zeros(4))  # init log(1.0)
    loss = batch_step(dp, [[2.0, 0.0], [1.0, 0.0]], [0, 1], [0, 2])
    ce = (math.log(1 + math.exp(-2.0)) + math.log(1 + math.exp(1.0))) / 2
    assert loss.item() == pytest.approx(ce, rel=1e-6)  # σ = 1 and s = 0: no decay yet
    # the loss is the batch *mean* of CE, so each sample's gradient carries 1 / B;
    # the decay's gradient wd * s is 0 at s = 0; first step: buffer = gradient
    g0 = grad_log_sigma([2.0, 0.0], 0) / 2
    g2 = grad_log_sigma([1.0, 0.0], 1) / 2
    expected = [-0.5 * g0, 0.0, -0.5 * g2, 0.0]
    np.testing.assert_allclose(dp.instance_log_sigma.detach().numpy(), expected, rtol=1e-5)
    assert expected[0] < 0 < expected[2]  # label agreed with: σ falls; label disagreed with: σ rises
    assert dp.instance_log_sigma.grad is None  # cleared for the next batch


def test_momentum_is_sparse_untouched_samples_keep_value_and_buffer():
    lr, wd = 0.5, 0.1
    dp = DataParameters(3, 2, lr_instance=lr, wd_instance=wd)
    z_a, z_b = [2.0, 0.0], [0.5, 1.5]
    batch_step(dp, [z_a], [0], [0])  # step 1: sample 0
    s0 = dp.instance_log_sigma[0].item()
    buf0 = grad_log_sigma(z_a, 0)
    assert s0 == pytest.approx(-lr * buf0, rel=1e-5)
    batch_step(dp, [z_b], [0], [1])  # step 2: sample 1 only
    assert dp.instance_log_sigma[0].item() == s0  # untouched: value kept
    # step 3: sample 0 again; its buffer is 0.9 * buf + g, not decayed by step 2
    batch_step(dp, [z_a], [0], [0])
    grad = grad_log_sigma(z_a, 0, sigma=math.exp(s0)) + wd * s0
    expected = s0 - lr * (0.9 * buf0 + grad)
    assert dp.instance_log_sigma[0].item() == pytest.approx(expected, rel=1e-5)
    assert dp.instance_log_sigma[2].item() == 0.0  # never in a batch


def test_parameters_are_clamped_to_the_range_in_log_space():
    dp = DataParameters(2, 2, lr_instance=1000.0)
    batch_step(dp, [[5.0, 0.0], [5.0, 0.0]], [0, 1], [0, 1])
    np.testing.assert_allclose(dp.instance_sigma, [1 / 20, 20], rtol=1e-5)
    narrow = DataParameters(2, 2, lr_instance=1000.0, clamp=(0.5, 2.0))
    batch_step(narrow, [[5.0, 0.0], [5.0, 0.0]], [0, 1], [0, 1])
    np.testing.assert_allclose(narrow.instance_sigma, [0.5, 2.0], rtol=1e-5)


def test_joint_curriculum_adds_class_and_instance_temperatures():
    lr, wd = 0.3, 0.2
    dp = DataParameters(3, 2, learn_class=True, lr_class=lr, wd_class=wd, init_class=2.0)
    targets, indices = [1, 1, 0], [0, 1, 2]
    np.testing.assert_allclose(dp.sigma(torch.tensor(targets), torch.tensor(indices)).detach(), [3.0] * 3)
    logits = [[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
    batch_step(dp, logits, targets, indices)
    # class 1's parameter: through σ = e^{s_c} + e^{s_i} of both its samples (dσ/ds_c = e^{s_c} = 2),
    # plus the decay counted once per sample of that class in the batch, as the reference does
    s_c = math.log(2.0)
    grad = sum(grad_log_sigma(logits[i], 1, sigma=3.0) * (2.0 / 3.0) for i in (0, 1)) / 3
    grad += wd * s_c * 2
    assert dp.class_log_sigma[1].item() == pytest.approx(s_c - lr * grad, rel=1e-5)
    # instance parameters: dσ/ds_i = e^{s_i} = 1
    expected_0 = -0.2 * grad_log_sigma(logits[0], 1, sigma=3.0) * (1.0 / 3.0) / 3
    assert dp.instance_log_sigma[0].item() == pytest.approx(expected_0, rel=1e-5)


def test_fit_calls_the_criterion_and_records_a_trajectory_per_epoch():
    X = torch.randn(90, 2, generator=torch.Generator().manual_seed(0))
    y = (X[:, 0] > 0).long()
    dp = DataParameters(90, 2, lr_instance=1.0, learn_class=True)
    recorder = RecordLogits()
    set_seed(0)
    fit(MLP(2, 2), X, y, epochs=4, lr=1e-2, criterion=dp, callbacks=[recorder], progress=False)
    assert dp.trajectories_.shape == (4, 90) and dp.class_trajectories_.shape == (4, 2)
    np.testing.assert_allclose(dp.trajectories_[-1], dp.instance_sigma)
    assert (dp.trajectories_ != 1.0).all()  # every sample was in a batch of every epoch
    assert recorder.logits.shape == (4, 90, 2)
    # passing it as a callback as well does not step it twice
    set_seed(0)
    twice = DataParameters(90, 2, lr_instance=1.0, learn_class=True)
    fit(MLP(2, 2), X, y, epochs=4, lr=1e-2, criterion=twice, callbacks=[twice], progress=False)
    np.testing.assert_allclose(twice.trajectories_, dp.trajectories_)


def test_a_new_training_run_starts_from_fresh_parameters():
    X = torch.randn(40, 2)
    y = (X[:, 0] > 0).long()
    dp = DataParameters(40, 2, lr_instance=1.0)
    runs = []
    for _ in range(2):
        set_seed(0)
        fit(MLP(2, 2), X, y, epochs=2, criterion=dp, progress=False)
        runs.append(dp.trajectories_)
    np.testing.assert_allclose(runs[0], runs[1])


def test_flipped_labels_get_high_temperatures():
    set_seed(0)
    generator = torch.Generator().manual_seed(0)
    n = 400
    y_true = torch.arange(n) % 4
    centres = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    X = centres[y_true] + torch.randn(n, 2, generator=generator)
    flipped = torch.zeros(n, dtype=torch.bool)
    flipped[torch.randperm(n, generator=generator)[: n // 5]] = True
    y = torch.where(flipped, (y_true + 1 + torch.randint(0, 3, (n,), generator=generator)) % 4, y_true)
    dp = DataParameters(n, 4, lr_instance=1.0)
    fit(MLP(2, 4, hidden=(32,)), X, y, epochs=20, lr=1e-2, criterion=dp, progress=False)
    auroc = roc_auc_score(flipped.numpy(), dp.instance_sigma)
    assert auroc > 0.95
    assert np.median(dp.instance_sigma[flipped.numpy()]) > 1 > np.median(dp.instance_sigma[~flipped.numpy()])


def test_the_default_criterion_is_cross_entropy_and_a_custom_one_sees_sample_indices():
    X = torch.randn(30, 2)
    y = (X[:, 0] > 0).long()
    seen = []

    def recorded_ce(logits, targets, indices):
        seen.append(indices.clone())
        return torch.nn.functional.cross_entropy(logits, targets)

    set_seed(0)
    default = fit(MLP(2, 2), X, y, epochs=2, progress=False)
    set_seed(0)
    custom = fit(MLP(2, 2), X, y, epochs=2, criterion=recorded_ce, progress=False)
    assert default.loss == custom.loss
    first_epoch = torch.cat(seen[: len(seen) // 2])
    assert sorted(first_epoch.tolist()) == list(range(30))


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples must be a positive integer"),
        ({"num_classes": 1}, ValueError, "num_classes must be an integer >= 2"),
        ({"learn_instance": False}, ValueError, "Nothing to learn"),
        ({"learn_class": "yes"}, TypeError, "learn_class must be True or False"),
        ({"lr_instance": 0.0}, ValueError, "lr_instance must be a positive number"),
        ({"lr_class": float("nan")}, ValueError, "lr_class must be a positive number"),
        ({"wd_instance": -1e-4}, ValueError, "wd_instance must be a non-negative number"),
        ({"wd_class": float("inf")}, ValueError, "wd_class must be a non-negative number"),
        ({"clamp": (20, 1 / 20)}, ValueError, "inverted"),
        ({"clamp": (-3.0, 3.0)}, ValueError, r"clamp\[0\] must be a positive number \(a temperature σ, not log σ\)"),
        ({"clamp": 20}, TypeError, "clamp must be a pair"),
        ({"init_instance": 50.0}, ValueError, r"init_instance must be a number in \[0.05, 20\] \(a temperature inside"),
        ({"init_class": 0.0}, ValueError, r"init_class must be a number in \[0.05, 20\] \(a temperature inside"),
    ],
)
def test_bad_settings_are_named(kwargs, error, match):
    arguments = {"n_samples": 10, "num_classes": 3, **kwargs}
    with pytest.raises(error, match=match):
        DataParameters(**arguments)


def test_parameters_for_another_training_set_are_refused():
    X = torch.randn(50, 2)
    y = (X[:, 0] > 0).long()
    with pytest.raises(ValueError, match=r"made for 40 samples but fit was given 50.*DataParameters\(50"):
        fit(MLP(2, 2), X, y, epochs=1, criterion=DataParameters(40, 2), progress=False)
    with pytest.raises(ValueError, match="made for 3 classes but the model outputs 2"):
        fit(MLP(2, 2), X, y, epochs=1, criterion=DataParameters(50, 3), progress=False)
    dp = DataParameters(50, 3)
    with pytest.raises(ValueError, match="made for 3 classes"):
        dp(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.arange(4))
    with pytest.raises(ValueError, match="one of each per sample"):
        dp(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.arange(3))


def test_trajectories_before_training_say_how_to_get_them():
    with pytest.raises(AttributeError, match="pass this object to fit"):
        DataParameters(5, 2).trajectories_


def test_fit_names_a_bad_criterion():
    X = torch.randn(20, 2)
    y = (X[:, 0] > 0).long()
    with pytest.raises(TypeError, match="criterion must be a function"):
        fit(MLP(2, 2), X, y, epochs=1, criterion="cross_entropy", progress=False)
    with pytest.raises(ValueError, match=r"criterion must return a scalar tensor.*shape \(10,\)"):
        fit(
            MLP(2, 2), X, y, epochs=1, batch_size=10, progress=False,
            criterion=lambda logits, targets, indices: torch.nn.functional.cross_entropy(
                logits, targets, reduction="none"
            ),
        )


def test_a_criterion_that_is_a_callback_is_called_as_one():
    calls = []

    class Counting(Callback):
        def __call__(self, logits, targets, indices):
            return torch.nn.functional.cross_entropy(logits, targets)

        def on_epoch_end(self, epoch, model, logs):
            calls.append(epoch)

    X = torch.randn(20, 2)
    fit(MLP(2, 2), X, (X[:, 0] > 0).long(), epochs=3, criterion=Counting(), progress=False)
    assert calls == [0, 1, 2]


def test_the_worked_example_of_episode_04():
    """The claims episode 04 makes about its temperature table and exercise 1."""
    logits = torch.tensor([4.0, 1.0, 0.0])
    assert (logits.softmax(0) * logits).sum().item() == pytest.approx(3.79, abs=0.005)
    assert grad_log_sigma(logits.tolist(), 0) > 0 > grad_log_sigma(logits.tolist(), 1) > grad_log_sigma(
        logits.tolist(), 2
    )
    sigmas = [0.5, 1.0, 2.0, 5.0, 20.0]

    def loss_and_grad(sigma, label):
        z = logits[None].clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(z / sigma, torch.tensor([label]))
        loss.backward()
        return loss.item(), z.grad.norm().item()

    agreed = [loss_and_grad(s, 0)[0] for s in sigmas]
    contradicted = [loss_and_grad(s, 2) for s in sigmas]
    assert agreed == sorted(agreed)  # label 0: the loss falls as σ falls
    assert [c[0] for c in contradicted] == sorted((c[0] for c in contradicted), reverse=True)
    assert contradicted[-1][0] == pytest.approx(math.log(3), abs=0.2)  # towards a flat guess
    assert [c[1] for c in contradicted] == sorted((c[1] for c in contradicted), reverse=True)  # gradient shrinks
