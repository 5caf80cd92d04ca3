"""Sanity checks: cascading randomisation (maps against pytorch-grad-cam's, rank correlation against scipy's) and ROAD
(against pytorch-grad-cam's ROADCombined)."""

import copy

import numpy as np
import pytest
import torch
from pytorch_grad_cam import EigenCAM, GradCAM
from pytorch_grad_cam.metrics.road import ROADCombined
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget, ClassifierOutputTarget
from scipy.stats import spearmanr
from torch import nn

from trustml import set_seed
from trustml.explain import cam, randomization_check, road
from trustml.models import SimpleCNN


@pytest.fixture
def model():
    set_seed(0)
    return SimpleCNN(in_channels=3, num_classes=3, width=4, depth=2).eval()


@pytest.fixture
def images():
    return torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2))


def test_cascading_randomisation_matches_randomising_by_hand(model, images):
    before = copy.deepcopy(model.state_dict())
    check = randomization_check(model, images, target=[0, 1, 2, 0], target_layer=model.last_conv, device="cpu",
                                seed=4)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the model is left alone
    assert check.steps == ["original", "head.1", "body.4", "body.0"]  # from the output down
    assert check.maps.shape == (4, 4, 16, 16) and check.classes.tolist() == [0, 1, 2, 0]

    by_hand = copy.deepcopy(model)
    modules = dict(by_hand.named_modules())
    targets = [ClassifierOutputTarget(k) for k in [0, 1, 2, 0]]
    expected = [GradCAM(by_hand, [by_hand.last_conv])(input_tensor=images, targets=targets)]
    for k, name in enumerate(check.steps[1:]):
        torch.manual_seed(4 + k)
        modules[name].reset_parameters()
        expected.append(GradCAM(by_hand, [by_hand.last_conv])(input_tensor=images, targets=targets))
    np.testing.assert_allclose(check.maps, np.stack(expected), atol=1e-6)

    for s in range(len(check.steps)):
        for i in range(len(images)):
            a, b = check.maps[0, i].ravel(), check.maps[s, i].ravel()
            if np.ptp(a) == 0 or np.ptp(b) == 0:
                assert np.isnan(check.spearman[s, i])
            else:
                assert check.spearman[s, i] == pytest.approx(spearmanr(a, b).statistic)
    summary = check.summary
    assert summary["mean Spearman"].iloc[0] == pytest.approx(1.0)
    assert summary["constant maps"].tolist() == np.isnan(check.spearman).sum(axis=1).tolist()
    assert summary.index.tolist() == check.steps


def test_eigencam_ignores_the_layers_above_its_target_layer(model, images):
    check = randomization_check(model, images, method="eigencam", target_layer="body.4", device="cpu")
    np.testing.assert_array_equal(check.maps[1], check.maps[0])  # the head was randomised: nothing changes
    assert not np.allclose(check.maps[2], check.maps[0])  # the target layer was randomised
    theirs = EigenCAM(model, [model.last_conv])(input_tensor=images, targets=None)
    np.testing.assert_allclose(check.maps[0], theirs, atol=1e-6)


def test_randomisation_leaves_the_global_random_state_alone(model, images):
    torch.manual_seed(11)
    randomization_check(model, images, target_layer="body.4", device="cpu")
    after = torch.rand(3)
    torch.manual_seed(11)
    assert torch.equal(after, torch.rand(3))


def test_road_is_pytorch_grad_cams_road_combined(model, images):
    maps = cam(model, images, target_layer="body.4", device="cpu")
    percentiles = [20, 50, 80]
    ours = road(model, images, maps.maps, target=maps.classes, percentiles=percentiles, device="cpu", seed=7)
    torch.manual_seed(7)
    theirs = ROADCombined(percentiles=percentiles)(
        images, maps.maps, [ClassifierOutputSoftmaxTarget(int(k)) for k in maps.classes], model
    )
    np.testing.assert_allclose(ours["combined"].to_numpy(), theirs, atol=1e-6)
    assert list(ours.columns) == ["most_relevant_first", "least_relevant_first", "combined"]
    again = road(model, images, maps.maps, target=maps.classes, percentiles=percentiles, device="cpu", seed=7)
    assert again.equals(ours)


class TopLeft(nn.Module):
    """A classifier whose class-1 logit is the brightness of the top-left quadrant, and nothing else."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(8.0))

    def forward(self, x):
        score = x[:, :, :8, :8].mean((1, 2, 3)) - 0.5
        return torch.stack([-score, score], 1) * self.scale


def test_road_prefers_the_map_of_what_the_model_uses():
    images = torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 0.5
    images[:, :, :8, :8] += 0.5  # bright where the model looks
    used = np.zeros((6, 16, 16), dtype=np.float32)
    used[:, :8, :8] = 1.0
    used += np.random.default_rng(0).random(used.shape).astype(np.float32) * 0.01  # rank ties apart
    faithful = road(TopLeft(), images, used, target=1, percentiles=[25, 50, 75], device="cpu")
    inverted = road(TopLeft(), images, 1 - used, target=1, percentiles=[25, 50, 75], device="cpu")
    assert (faithful["most_relevant_first"] < faithful["least_relevant_first"]).all()
    assert (faithful["combined"] > inverted["combined"]).all()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(maps=np.zeros((4, 8, 8))), ValueError, r"maps has shape \(4, 8, 8\) but the images need"),
        (dict(maps=np.full((4, 16, 16), np.nan)), ValueError, "NaN"),
        (dict(percentiles=[0, 50]), ValueError, "strictly between 0 and 100"),
        (dict(percentiles=[]), ValueError, "strictly between 0 and 100"),
        (dict(target=None), ValueError, "target is needed"),
        (dict(target=5), ValueError, "out of range"),
        (dict(seed=-2), ValueError, "seed must be a non-negative integer"),
        (dict(images=torch.rand(4, 3, 16, 16) + 1), ValueError, r"\[0, 1\]"),
    ],
)
def test_road_refuses_bad_input(model, kwargs, error, message):
    arguments = {"images": torch.rand(4, 3, 16, 16), "maps": np.zeros((4, 16, 16)), "target": 0, "device": "cpu",
                 **kwargs}
    with pytest.raises(error, match=message):
        road(model, arguments.pop("images"), arguments.pop("maps"), **arguments)


def test_randomization_check_refuses_bad_input(model, images):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        randomization_check(model, images, target_layer="body.4", seed=-1, device="cpu")
    with pytest.raises(ValueError, match="is not a module of the model"):
        randomization_check(model, images, target_layer=nn.Conv2d(1, 1, 1), device="cpu")
