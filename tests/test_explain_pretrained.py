"""The real path of episode 10: which ImageNet weights are used, from a fake torch cache; never the network."""

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from trustml.explain import (
    SAMPLE_IMAGES,
    WeightsNotAvailableError,
    cached_weights,
    cam,
    imagenet_classifier,
    load_image,
)
from trustml.explain._pretrained import _checkpoint


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache of the test's own."""
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    return tmp_path / "hub" / "checkpoints"


@pytest.fixture
def no_network(monkeypatch):
    """Any download fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("tried to download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


def test_nothing_cached_offline_is_a_clear_error_and_no_download(hub, no_network):
    assert cached_weights("resnet50") == []
    with pytest.raises(WeightsNotAvailableError, match=r"IMAGENET1K_V2 are not in torch's cache .*resnet50-11ad3fa6"
                                                       r"\.pth.*TRUSTML_OFFLINE=1"):
        imagenet_classifier("resnet50")


def test_cached_weights_lists_the_default_first(hub):
    weights = torchvision.models.ResNet50_Weights
    _checkpoint(weights.IMAGENET1K_V1).touch()
    assert cached_weights("resnet50") == ["IMAGENET1K_V1"]
    _checkpoint(weights.IMAGENET1K_V2).touch()
    assert cached_weights("resnet50") == ["IMAGENET1K_V2", "IMAGENET1K_V1"]


def test_cached_weights_are_loaded_offline_without_the_network(hub, no_network):
    weights = torchvision.models.SqueezeNet1_1_Weights.IMAGENET1K_V1
    torch.manual_seed(0)
    saved = torchvision.models.squeezenet1_1(weights=None).state_dict()
    torch.save(saved, _checkpoint(weights))
    assert cached_weights("squeezenet1_1") == ["IMAGENET1K_V1"]
    loaded = imagenet_classifier("squeezenet1_1")
    assert loaded.weights is weights and not loaded.model.training
    assert all(torch.equal(saved[k], v) for k, v in loaded.model.state_dict().items())
    assert loaded.class_names == weights.meta["categories"] and len(loaded.class_names) == 1000
    transform = weights.transforms()
    x = torch.rand(1, 3, 8, 8)
    expected = (x - torch.tensor(transform.mean)[:, None, None]) / torch.tensor(transform.std)[:, None, None]
    torch.testing.assert_close(loaded.preprocess(x), expected)
    result = cam(loaded.model, torch.rand(3, 64, 64), target="tabby", class_names=loaded.class_names,
                 preprocess=loaded.preprocess, target_layer="features.12", device="cpu")
    assert result.class_names == ("tabby",) and result.maps.shape == (1, 64, 64)


def test_online_it_asks_torch_for_the_default_weights_with_their_hash_checked(hub, monkeypatch):
    monkeypatch.setenv("TRUSTML_OFFLINE", "0")
    asked = []

    def fake_download(url, **kwargs):
        asked.append((url, kwargs))
        return torchvision.models.squeezenet1_1(weights=None).state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    imagenet_classifier("squeezenet1_1")
    url, kwargs = asked[0]
    assert url == torchvision.models.SqueezeNet1_1_Weights.DEFAULT.url
    assert kwargs["check_hash"] and kwargs["weights_only"] and kwargs["model_dir"] == str(hub)


def test_bad_names_are_refused(hub):
    with pytest.raises(ValueError, match="'resnet05' is not a torchvision classification model. Did you mean"):
        imagenet_classifier("resnet05")
    with pytest.raises(ValueError, match=r"weights='V3' are not weights of resnet50: they are \['IMAGENET1K_V1'"):
        imagenet_classifier("resnet50", weights="V3")
    with pytest.raises(TypeError, match="arch must be a torchvision model name"):
        cached_weights(50)


@pytest.mark.parametrize("name", list(SAMPLE_IMAGES))
def test_the_sample_photos(name):
    photo = load_image(name, size=96)
    assert photo.shape == (3, 96, 96) and photo.dtype == torch.float32
    assert 0 <= float(photo.min()) and float(photo.max()) <= 1 and float(photo.std()) > 0.05


def test_an_image_file_is_centre_cropped_and_resized(tmp_path):
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, 10:30] = 255  # the central square is white, the sides black
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    photo = load_image(tmp_path / "wide.png", size=10)
    assert photo.shape == (3, 10, 10) and torch.allclose(photo, torch.ones_like(photo))
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((8, 8), 128, dtype=np.uint8)).save(grey)
    assert load_image(str(grey), size=8).shape == (3, 8, 8)


def test_bad_images_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image file at .*nothing.png.*'china', 'flower'"):
        load_image(tmp_path / "nothing.png")
    with pytest.raises(ValueError, match="size must be an integer of at least 8"):
        load_image("china", size=4)
