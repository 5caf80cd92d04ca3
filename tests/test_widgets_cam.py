"""The CAM figures and the CAM explorer: the views draw what cam() computes; every control changes the drawing."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import ipywidgets as widgets
from matplotlib.patches import Rectangle
from PIL import Image as PILImage

from trustml import set_seed
from trustml.explain import cam, cam_view, overlay, plot_cams, plot_randomization_check, randomization_check
from trustml.models import SimpleCNN
from trustml.widgets import ViewWidget, cam_explorer, figure_png

NAMES = ["cat", "dog", "car", "tree"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def model():
    set_seed(0)
    net = SimpleCNN(in_channels=3, num_classes=4, width=4, depth=2)
    x, y = torch.rand(32, 3, 16, 16), torch.randint(0, 4, (32,))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net.eval()


@pytest.fixture
def image():
    return torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(3))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def test_plot_cams_draws_overlays_peaks_boxes_and_labels(model, image):
    images = torch.stack([image, image.flip(-1)])
    result = cam(model, images, target=["dog", "car"], class_names=NAMES, target_layer="body.4", device="cpu")
    boxes = np.array([[1, 2, 5, 6], [0, 0, 4, 4]])
    fig = plot_cams(images, {"gradcam": result, "plain maps": result.maps}, boxes=boxes, marker_boxes=boxes,
                    titles=["a", "b"])
    axes = np.asarray(fig.axes).reshape(3, 2)
    assert [ax.get_title() for ax in axes[0]] == ["a", "b"]
    assert axes[1, 0].get_title().startswith("dog (") and axes[2, 0].get_title() == ""
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["image", "gradcam", "plain maps"]
    np.testing.assert_array_equal(axes[1, 1].images[0].get_array(), overlay(images[1], result.maps[1]))
    row, col = np.unravel_index(result.maps[0].argmax(), result.maps[0].shape)
    assert axes[1, 0].lines[0].get_xydata().tolist() == [[col, row]]
    assert all(sum(isinstance(p, Rectangle) for p in ax.patches) == 2 for ax in axes.flat)
    with pytest.raises(ValueError, match=r"rows\['bad'\] has maps of shape"):
        plot_cams(images, {"bad": np.zeros((2, 8, 8))})


def test_plot_randomization_check_has_one_curve_per_method(model, image):
    images = image[None].repeat(2, 1, 1, 1)
    checks = {m: randomization_check(model, images, method=m, target_layer="body.4", device="cpu")
              for m in ["gradcam", "eigencam"]}
    fig = plot_randomization_check(checks, images)
    (curve,) = [ax for ax in fig.axes if ax.get_ylabel() == "rank correlation with the original"]
    assert [line.get_label() for line in curve.lines if not line.get_label().startswith("_")] == list(checks)
    np.testing.assert_allclose(curve.lines[0].get_ydata(), checks["gradcam"].summary["mean Spearman"])
    with pytest.raises(ValueError, match="index must be in 0..1"):
        plot_randomization_check(checks, images, index=2)


def test_cam_view_is_the_image_beside_its_overlay(model, image):
    fig = cam_view(model, image, target="car", class_names=NAMES, method="eigencam", target_layer="body.4",
                   device="cpu")
    result = cam(model, image, target="car", class_names=NAMES, method="eigencam", target_layer="body.4",
                 device="cpu")
    left, right = fig.axes
    np.testing.assert_array_equal(right.images[0].get_array(), overlay(image, result.maps[0]))
    assert right.get_title().startswith("eigencam for car (") and right.get_title().endswith("at body.4")
    with pytest.raises(ValueError, match="cam_view draws one image"):
        cam_view(model, torch.rand(2, 3, 16, 16), target_layer="body.4", device="cpu")


@pytest.fixture
def explorer(model, image):
    return cam_explorer(model, image, class_names=NAMES, target_layer="body.4", device="cpu")


def frame(explorer) -> bytes:
    """The PNG the explorer shows."""
    return explorer.frame.children[0].value


def shown_map(explorer):
    return explorer.figure.artist.get_array().copy()


def test_the_explorer_starts_on_the_prediction_with_classes_ordered_by_probability(explorer, model, image):
    assert isinstance(explorer, ViewWidget) and set(explorer.controls) == {"target", "method"}
    probabilities = torch.softmax(model(image[None]), 1)[0].detach()
    order = probabilities.argsort(descending=True).tolist()
    options = explorer.controls["target"].options
    assert [k for _, k in options] == order
    assert options[0][0] == f"{NAMES[order[0]]} ({probabilities[order[0]]:.1%})"
    assert explorer.values == {"target": order[0], "method": "gradcam"}
    assert explorer.result is explorer.figure and isinstance(explorer.frame.children[0], widgets.Image)
    expected = cam(model, image, target_layer="body.4", device="cpu")
    np.testing.assert_array_equal(shown_map(explorer), overlay(image, expected.maps[0]))


@pytest.mark.parametrize("control, value", [("target", "other class"), ("method", "eigencam")])
def test_moving_each_control_changes_what_is_drawn(explorer, model, image, control, value):
    before_png, before_map, redraws = frame(explorer), shown_map(explorer), explorer.redraws
    if value == "other class":
        value = explorer.controls["target"].options[-1][1]
    explorer.controls[control].value = value
    assert explorer.redraws == redraws + 1
    assert frame(explorer) != before_png and not np.array_equal(shown_map(explorer), before_map)
    expected = cam(model, image, target=explorer.values["target"], method=explorer.values["method"],
                   target_layer="body.4", device="cpu")
    np.testing.assert_array_equal(shown_map(explorer), overlay(image, expected.maps[0]))
    assert not np.array_equal(pixels(frame(explorer)), pixels(before_png))
    # the frame is the picture the static view draws for these values
    static = cam_view(model, image, target=explorer.values["target"], method=explorer.values["method"],
                      class_names=NAMES, target_layer="body.4", device="cpu")
    assert (pixels(frame(explorer)) == pixels(figure_png(static))).all()


def test_find_narrows_the_classes_and_going_back_reuses_the_maps(explorer):
    explorer.find.value = "ca"
    assert sorted(k for _, k in explorer.controls["target"].options) == [0, 2]  # cat, car
    explorer.controls["target"].value = 2
    assert "car" in explorer.figure.title.get_text()
    explorer.find.value = "zebra"
    assert explorer.controls["target"].options == () and "no class matches" in explorer.figure.title.get_text()
    explorer.find.value = ""
    assert len(explorer.controls["target"].options) == 4
    computed = len(explorer.computed)
    explorer.controls["target"].value = 2
    assert len(explorer.computed) == computed  # already computed: drawn again without a new CAM


def test_the_explorer_refuses_bad_input(model, image):
    with pytest.raises(ValueError, match="class_names has 3 names but the model outputs 4"):
        cam_explorer(model, image, class_names=NAMES[:3], target_layer="body.4")
    with pytest.raises(ValueError, match="method='scorecam' is not among"):
        cam_explorer(model, image, class_names=NAMES, methods=["gradcam"], method="scorecam")
    with pytest.raises(ValueError, match="Unknown CAM method"):
        cam_explorer(model, image, class_names=NAMES, methods=["gradcam", "nope"])
    with pytest.raises(ValueError, match="cam_explorer shows one image"):
        cam_explorer(model, torch.rand(2, 3, 16, 16), class_names=NAMES)
    with pytest.raises(ValueError, match="No class is called 'cow'"):
        cam_explorer(model, image, class_names=NAMES, target="cow", target_layer="body.4")
