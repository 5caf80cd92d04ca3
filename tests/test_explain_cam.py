"""trustml.explain's CAMs against pytorch-grad-cam, and the inputs they refuse."""

import contextlib
import io
import warnings

import numpy as np
import pytest
import pytorch_grad_cam
import torch
from pytorch_grad_cam.utils.image import show_cam_on_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from trustml import set_seed
from trustml.explain import CAM_METHODS, CAMNotice, cam, class_index, overlay, suggest_target_layer
from trustml.explain._cam import _METHOD_CLASSES
from trustml.models import SimpleCNN


@pytest.fixture
def model():
    set_seed(0)
    net = SimpleCNN(in_channels=3, num_classes=4, width=4, depth=2)
    # a few steps of training make the maps less trivial than at initialisation
    x, y = torch.rand(32, 3, 16, 16), torch.randint(0, 4, (32,))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(5):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net.eval()


@pytest.fixture
def images():
    return torch.rand(5, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def reference(model, layer, images, classes, name):
    """pytorch-grad-cam called directly, as its README shows."""
    cls = getattr(pytorch_grad_cam, _METHOD_CLASSES[name])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        explainer = cls(model, [] if name == "fullgrad" else [layer])
        return explainer(input_tensor=images, targets=[ClassifierOutputTarget(int(k)) for k in classes])


@pytest.mark.parametrize("name", CAM_METHODS)
def test_every_method_equals_pytorch_grad_cam(model, images, name):
    classes = [0, 1, 2, 3, 1]
    set_seed(3)  # RandomCAM draws its weights from numpy
    ours = cam(model, images, target=classes, method=name, target_layer=model.last_conv, device="cpu")
    set_seed(3)
    theirs = reference(model, model.last_conv, images, classes, name)
    assert ours.maps.shape == (5, 16, 16) and ours.maps.dtype == np.float32
    np.testing.assert_allclose(ours.maps, theirs, atol=1e-6)
    assert ours.method == name and ours.classes.tolist() == classes
    assert ours.target_layer == (None if name == "fullgrad" else "body.4")


def test_names_of_methods_are_forgiving(model, images):
    a = cam(model, images, method="GradCAM++", target_layer="body.4", device="cpu")
    b = cam(model, images, method="grad_cam_plus_plus", target_layer="body.4", device="cpu")
    c = cam(model, images, method="gradcam++", target_layer="body.4", device="cpu")
    assert a.method == b.method == c.method == "gradcam++"
    np.testing.assert_array_equal(a.maps, b.maps)


def test_batches_give_the_same_maps(model, images):
    whole = cam(model, images, target_layer="body.4", device="cpu", batch_size=32)
    pieces = cam(model, images, target_layer="body.4", device="cpu", batch_size=2)
    np.testing.assert_allclose(whole.maps, pieces.maps, atol=1e-6)


def test_default_target_is_the_prediction_and_probabilities_match(model, images):
    result = cam(model, images, target_layer="body.4", device="cpu")
    probabilities = torch.softmax(model(images), 1).detach()
    assert result.classes.tolist() == probabilities.argmax(1).tolist() == result.predicted.tolist()
    np.testing.assert_allclose(result.probabilities, probabilities.max(1).values.numpy(), rtol=1e-5)


def test_targets_by_name_one_for_all_or_one_per_image(model, images):
    names = ["cat", "dog", "car", "tree"]
    one = cam(model, images, target="car", class_names=names, target_layer="body.4", device="cpu")
    each = cam(model, images, target=["Cat", "dog", 2, "tree", np.int64(1)], class_names=names,
               target_layer="body.4", device="cpu")
    assert one.classes.tolist() == [2] * 5 and one.class_names == ("car",) * 5
    assert each.classes.tolist() == [0, 1, 2, 3, 1]
    np.testing.assert_allclose(each.maps[2], one.maps[2])


def test_preprocess_is_applied_before_the_model_and_the_maps_stay_on_the_images(model, images):
    mean, std = torch.tensor([0.4, 0.5, 0.6])[:, None, None], torch.tensor([0.2, 0.3, 0.25])[:, None, None]

    def normalise(x):
        return (x - mean) / std

    ours = cam(model, images, target=1, target_layer=model.last_conv, preprocess=normalise, device="cpu")
    theirs = reference(model, model.last_conv, normalise(images), [1] * 5, "gradcam")
    np.testing.assert_allclose(ours.maps, theirs, atol=1e-6)


def test_suggested_layer_is_the_last_conv_to_run_and_is_announced(model, images):
    assert suggest_target_layer(model, images) == "body.4"

    class Backwards(nn.Module):  # declares its convolutions in the opposite order from the one they run in
        def __init__(self):
            super().__init__()
            self.late = nn.Conv2d(4, 6, 3, padding=1)
            self.early = nn.Conv2d(3, 4, 3, padding=1)
            self.head = nn.Linear(6, 2)

        def forward(self, x):
            return self.head(self.late(self.early(x)).mean((2, 3)))

    assert suggest_target_layer(Backwards(), images) == "late"
    with pytest.warns(CAMNotice, match=r"last convolutional layer, 'body\.4'"):
        result = cam(model, images, device="cpu")
    assert result.target_layer == "body.4"


def test_the_model_keeps_its_mode_and_frozen_weights_still_give_maps(model, images):
    model.train()
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():  # even inside no_grad, as a learner may call it
        result = cam(model, images, target_layer="body.4", device="cpu")
    assert model.training
    assert np.isfinite(result.maps).all() and result.maps.max() == pytest.approx(1.0, abs=1e-4)


def test_class_index_names_and_suggestions():
    from torchvision.models import ResNet50_Weights

    categories = ResNet50_Weights.DEFAULT.meta["categories"]
    assert class_index("tabby", categories) == 281
    assert class_index("FRENCH BULLDOG", categories) == 245
    assert class_index("Cardigan", categories) == 264 and class_index("cardigan", categories) == 474  # dog, sweater
    with pytest.raises(ValueError, match=r"2 classes are called 'CARDIGAN' \(indices \[264, 474\]\)"):
        class_index("CARDIGAN", categories)
    with pytest.raises(ValueError, match="Close matches: .*'Siberian husky'"):
        class_index("siberian huskey", categories)
    with pytest.raises(ValueError, match="'tiger cat'"):
        class_index("cat", categories)
    with pytest.raises(ValueError, match=r"The classes are \['a', 'b'\]"):
        class_index("zzz", ["a", "b"])


class NotCalled(Exception):
    pass


@pytest.fixture
def refuse_pytorch_grad_cam(monkeypatch):
    """Any call into pytorch-grad-cam fails: an error must come before it."""

    def refuse(*args, **kwargs):
        raise NotCalled("pytorch-grad-cam was called")

    for name in _METHOD_CLASSES.values():
        monkeypatch.setattr(pytorch_grad_cam, name, refuse)


def other_model():
    return SimpleCNN(in_channels=3, num_classes=4, width=4, depth=2)


BAD_INPUTS = [
    ("a 2-D image", dict(images=torch.rand(16, 16)), ValueError, r"images must be a batch \(N, C, H, W\)"),
    ("a 5-D batch", dict(images=torch.rand(1, 2, 3, 16, 16)), ValueError, r"\(N, C, H, W\)"),
    ("channels last", dict(images=torch.rand(2, 16, 16, 3)), ValueError, "looks channels-last"),
    ("0-255 pixels", dict(images=torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8)), TypeError, "/ 255"),
    ("normalised pixels", dict(images=torch.randn(2, 3, 16, 16)), ValueError, r"\[0, 1\].*preprocess="),
    ("NaN pixels", dict(images=torch.full((2, 3, 16, 16), float("nan"))), ValueError, "NaN"),
    ("no images", dict(images=torch.rand(0, 3, 16, 16)), ValueError, "at least one image"),
    ("a list", dict(images=[[0.0]]), TypeError, "torch.Tensor or numpy array"),
    ("unknown method", dict(method="gradcamm"), ValueError, r"Unknown CAM method 'gradcamm'\. Did you mean 'gradcam'"),
    ("a method that is not a name", dict(method=pytorch_grad_cam), TypeError, "method must be a method's name"),
    ("a layer of another model", dict(target_layer=other_model().last_conv), ValueError,
     "is not a module of the model"),
    ("a misspelt layer name", dict(target_layer="body.44"), ValueError,
     r"'body\.44' is not the name of a module of the model\. Close matches: 'body\.4'"),
    ("a layer without a spatial output", dict(target_layer="head.1"), ValueError, r"outputs \(1, 4\).*'body\.4'"),
    ("a layer that is a number", dict(target_layer=3), TypeError, "target_layer must be a module"),
    ("a class out of range", dict(target=7), ValueError, r"class 7 is out of range.*0\.\.3"),
    ("a negative class", dict(target=-1), ValueError, "out of range"),
    ("a name without class names", dict(target="cat"), ValueError, "class_names is not given"),
    ("an unknown class name", dict(target="kat", class_names=["cat", "dog", "car", "tree"]), ValueError,
     "No class is called 'kat'. Close matches: 'cat'"),
    ("too few targets", dict(target=[0, 1]), ValueError, "target has 2 entries for 3 images"),
    ("a bool target", dict(target=True), TypeError, "target must be"),
    ("class names of the wrong length", dict(class_names=["a", "b"]), ValueError, "class_names has 2 names"),
    ("batch_size 0", dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    ("an absent GPU", dict(device="cuda:7"), ValueError, "not available here"),
    ("preprocess that is not callable", dict(preprocess=3), TypeError, "preprocess must be a function"),
]


@pytest.mark.skipif(torch.cuda.device_count() > 7, reason="device cuda:7 exists here")
@pytest.mark.parametrize("case, kwargs, error, message", BAD_INPUTS, ids=[case for case, *_ in BAD_INPUTS])
def test_bad_input_is_refused_before_pytorch_grad_cam_runs(model, refuse_pytorch_grad_cam, case, kwargs, error,
                                                           message):
    arguments = {"images": torch.rand(3, 3, 16, 16), "target_layer": "body.4", "device": "cpu", **kwargs}
    images = arguments.pop("images")
    with pytest.raises(error, match=message):
        cam(model, images, **arguments)


def test_a_model_that_does_not_take_the_images_is_refused(model):
    with pytest.raises(ValueError, match=r"cannot take images of shape \(1, 16, 16\)"):
        cam(model, torch.rand(2, 1, 16, 16), target_layer="body.4", device="cpu")


def test_overlay_is_pytorch_grad_cams_heat_map(images):
    cam_map = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    expected = show_cam_on_image(images[0].permute(1, 2, 0).numpy(), cam_map, use_rgb=True, image_weight=0.6)
    np.testing.assert_array_equal(overlay(images[0], cam_map, alpha=0.4), expected)
    grey = overlay(images[0, :1], cam_map)
    assert grey.shape == (16, 16, 3) and grey.dtype == np.uint8
    np.testing.assert_array_equal(overlay(images[0, 0], cam_map), grey)


@pytest.mark.parametrize(
    "image, cam_map, alpha, message",
    [
        (torch.rand(2, 3, 8, 8), np.zeros((8, 8)), 0.5, r"one image \(C, H, W\)"),
        (torch.rand(3, 8, 8), np.zeros((9, 8)), 0.5, r"cam_map has shape \(9, 8\) but the image is \(8, 8\)"),
        (torch.rand(3, 8, 8) * 3, np.zeros((8, 8)), 0.5, r"image must hold pixel values in \[0, 1\]"),
        (torch.rand(3, 8, 8), np.full((8, 8), 2.0), 0.5, r"cam_map must hold values in \[0, 1\]"),
        (torch.rand(3, 8, 8), np.zeros((8, 8)), 1.5, r"alpha must be a number in \[0, 1\]"),
    ],
)
def test_overlay_refuses_bad_input(image, cam_map, alpha, message):
    with pytest.raises(ValueError, match=message):
        overlay(image, cam_map, alpha=alpha)


def test_a_model_without_convolutions_needs_a_target_layer(images):
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2))
    with pytest.raises(ValueError, match="has no 2-D convolution"), warnings.catch_warnings():
        warnings.simplefilter("ignore", CAMNotice)
        cam(mlp, images, device="cpu")
