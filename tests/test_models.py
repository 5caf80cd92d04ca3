import pytest
import torch

from trustml.models import MLP, LeNet, SimpleCNN


@pytest.mark.parametrize(
    "model, x",
    [
        (LeNet(), torch.zeros(3, 1, 28, 28)),
        (LeNet(3, 4, image_size=32, dropout=0.2), torch.zeros(3, 3, 32, 32)),
        (SimpleCNN(), torch.zeros(3, 1, 28, 28)),
        (SimpleCNN(3, 5, width=8, depth=3, dropout=0.5), torch.zeros(3, 3, 32, 32)),
        (MLP(12, 2), torch.zeros(3, 12)),
        (MLP(784, 10, hidden=(32,)), torch.zeros(3, 1, 28, 28)),
    ],
)
def test_forward_is_head_of_features(model, x):
    model.eval()
    features = model.features(x)
    assert features.shape == (3, model.feature_dim)
    logits = model(x)
    assert torch.allclose(logits, model.head(features))


def test_simple_cnn_exposes_its_last_conv_for_gradcam():
    model = SimpleCNN(width=4, depth=3)
    assert isinstance(model.last_conv, torch.nn.Conv2d)
    assert model.last_conv.out_channels == 16


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: LeNet(num_classes=0), "num_classes must be a positive integer"),
        (lambda: LeNet(image_size=30), "divisible by 4"),
        (lambda: SimpleCNN(dropout=1.0), r"dropout must be in \[0, 1\)"),
        (lambda: MLP(10, 2, hidden=()), "at least one layer"),
    ],
)
def test_bad_arguments_say_what_is_wrong(build, message):
    with pytest.raises(ValueError, match=message):
        build()
