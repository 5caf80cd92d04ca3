"""What episode 10's prose says holds for what its code computes, in fast and in full mode.

The episode's code cells run once in one namespace (the ResNet-50 cells skip themselves: the
weights are not cached in the tests); the solutions of its code exercises run after them. Each
test quotes the sentences it checks.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
import torch

from trustml.episodes import default_episodes_dir


@pytest.fixture(scope="module", params=["fast", "full"])
def ep10(request):
    """The episode's code cells, run in fast or full mode on one thread; its solutions' code is kept to run later."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    mp = pytest.MonkeyPatch()
    mp.setenv("TRUSTML_FAST", "1" if request.param == "fast" else "0")
    mp.setenv("TRUSTML_OFFLINE", "1")
    try:
        nb = nbformat.read(default_episodes_dir() / "10-gradcam.ipynb", as_version=4)
        namespace = {}
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.strip():
                exec(compile(cell.source, "<episode 10>", "exec"), namespace)
                plt.close("all")
        namespace["solutions"] = {}
        for cell in nb.cells:
            title = re.search(r"\*\*(Exercise \d+)", cell.source) if cell.cell_type == "markdown" else None
            for block in re.findall(r"```python\n(.*?)```", cell.source, flags=re.S):
                namespace["solutions"][title.group(1)] = block
        yield namespace
    finally:
        mp.undo()
        torch.set_num_threads(threads)
        plt.close("all")


def run_solution(ns, exercise):
    with pytest.MonkeyPatch.context() as mp:  # in the mode the cells ran in
        mp.setenv("TRUSTML_FAST", "1" if ns["fast_or_full"](full=False, fast=True) else "0")
        exec(compile(ns["solutions"][exercise], f"<{exercise}>", "exec"), ns)
    plt.close("all")


def test_the_data_set_has_the_planned_shortcut(ep10):
    """In the training images the marker's colour gives away the class; in the test images it is random."""
    assert ep10["train_shortcut"].marker_agreement == 1.0
    assert 0.05 < ep10["test"].marker_agreement < 0.16  # chance: 1 in 10
    assert (ep10["train_clean"].marker_classes == -1).all()
    assert (ep10["train_clean"].digit_boxes == ep10["train_shortcut"].digit_boxes).all()  # "in the same places"


def test_the_two_models(ep10):
    """The shortcut model is nearly perfect on its training data and scores about 10% on the test set ...
    its test predictions follow the marker's colour almost every time. The clean model is less accurate on its
    training data but far better on the test set."""
    scores = ep10["scores"]
    shortcut, clean = scores.loc["shortcut model"], scores.loc["clean model"]
    assert shortcut["training accuracy"] >= 0.97
    assert 0.05 <= shortcut["test accuracy"] <= 0.15
    assert shortcut["test predictions = marker colour"] >= 0.95
    assert clean["training accuracy"] < shortcut["training accuracy"]
    assert clean["test accuracy"] >= 0.5 and clean["test accuracy"] > 4 * shortcut["test accuracy"]
    assert clean["test predictions = marker colour"] < 0.2


def test_the_grad_cam_by_hand_solution_matches_pytorch_grad_cam(ep10):
    """Exercise 2: the learner's Grad-CAM equals pytorch-grad-cam's GradCAM on the same model and images
    ("the two agree to within rounding (about 1e-6)")."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    run_solution(ep10, "Exercise 2")
    model, images, classes = ep10["clean_model"].cpu(), ep10["test"].X[:8], ep10["test"].y[:8]
    theirs = GradCAM(model, [model.last_conv])(input_tensor=images.clone(),
                                               targets=[ClassifierOutputTarget(int(k)) for k in classes])
    mine = ep10["grad_cam_by_hand"](model, model.last_conv, images.clone(), classes)
    assert mine.shape == theirs.shape == (8, 28, 28)
    assert np.abs(mine - theirs).max() < 1e-5
    assert np.abs(ep10["mine"] - ep10["library"].maps).max() < 1e-5


def distance(maps, boxes):
    """How far each map's peak is from its box, in pixels (0 inside)."""
    rows, cols = np.unravel_index(maps.reshape(len(maps), -1).argmax(1), maps.shape[1:])
    x0, y0, x1, y1 = boxes.T
    dx = np.maximum(0, np.maximum(x0 - cols, cols - (x1 - 1)))
    dy = np.maximum(0, np.maximum(y0 - rows, rows - (y1 - 1)))
    return np.hypot(dx, dy)


def test_the_first_maps(ep10):
    """The shortcut model's maps light up the marker ... The clean model's maps mostly sit on the digit. Where
    one does not, the prediction is wrong far more often than where the map sits on the digit."""
    from trustml.explain import pointing_game

    test, show = ep10["test"], ep10["show"]
    shortcut, clean = ep10["shortcut_maps"], ep10["clean_maps"]
    near_marker = distance(shortcut.maps, test.marker_boxes[show]) < distance(shortcut.maps, test.digit_boxes[show])
    assert near_marker.sum() >= 7 and pointing_game(shortcut.maps, test.marker_boxes[show], tolerance=1).sum() >= 4
    assert pointing_game(clean.maps, test.digit_boxes[show], tolerance=1).sum() >= 5
    everywhere = ep10["cam"](ep10["clean_model"], test.X, target_layer=ep10["layer"])
    off_digit = ~pointing_game(everywhere.maps, test.digit_boxes, tolerance=1)
    right = everywhere.predicted == test.y.numpy()
    assert right[off_digit].mean() < right[~off_digit].mean() - 0.2  # "far more often" wrong
    # "The shortcut model's probability for the true class is low"
    assert ep10["shortcut_true"].probabilities.mean() < 0.2


def test_the_pointing_game(ep10):
    """The clean model's evidence for the true digit lies on that digit in nearly every test image, far above
    chance; the shortcut model's lands there hardly more often than a peak dropped at random would. The shortcut
    model's map for its own prediction peaks on the marker in most images, the clean model's hardly ever."""
    pointing, chance, test = ep10["pointing"], ep10["chance"], ep10["test"]
    digit, marker = "true class: peak on the digit", "prediction: peak on the marker"
    assert pointing.loc["clean model", digit] >= 0.9 > 3 * chance(test.digit_boxes)
    assert pointing.loc["shortcut model", digit] < 1.5 * chance(test.digit_boxes)
    assert pointing.loc["shortcut model", marker] >= 0.7
    assert pointing.loc["clean model", marker] <= 0.15
    assert len(test) == 360
    # "here 7x7 cells of 4x4 pixels"
    model = ep10["clean_model"].cpu()
    assert output_shape(model, ep10["layer"], test.X[:1])[-2:] == (7, 7)
    assert test.X.shape[-1] == 28


def test_a_weaker_shortcut(ep10):
    """Exercise 3: with marker_correlation=0.7 the colour still matches in 73% of the images; the model still
    follows the marker in most test images, its accuracy stays low, and its pointing-game score on the digit
    is still far below the clean model's."""
    from trustml.explain import pointing_game

    run_solution(ep10, "Exercise 3")
    assert abs(ep10["train_partial"].marker_agreement - 0.73) < 0.03
    test = ep10["test"]
    assert ep10["follows_marker"](ep10["partial_model"], test) > 0.5
    assert ep10["accuracy"](ep10["partial_model"], test) < 0.4
    partial = pointing_game(ep10["partial"].maps, test.digit_boxes, tolerance=1).mean()
    assert partial < ep10["pointing"].loc["clean model", "true class: peak on the digit"] - 0.3


def test_other_methods(ep10):
    """Every one of them puts the clean model's peak on the digit far more often than the shortcut model's ...
    EigenCAM scores lowest for the clean model."""
    table = ep10["method_scores"]
    test, show = ep10["test"], ep10["show"]
    # "on some images EigenCAM lights up the background instead of the digit (look at its row in the figure)"
    assert (~ep10["pointing_game"](ep10["by_method"]["eigencam"].maps, test.digit_boxes[show], tolerance=1)).any()
    assert (table["clean model"] > 3 * table["shortcut model"]).all()
    assert (table["clean model"] > table["shortcut model"] + 0.25).all()
    assert table["clean model"].idxmin() == "eigencam"


def test_which_methods_care_about_the_class(ep10, capsys):
    """Exercise 4: Grad-CAM's ten maps differ; EigenCAM's are identical."""
    run_solution(ep10, "Exercise 4")
    printed = dict(re.findall(r"(\w+): largest difference between two classes' maps ([\d.]+)", capsys.readouterr().out))
    assert float(printed["gradcam"]) > 0.2
    assert float(printed["eigencam"]) == 0.0


def test_the_randomisation_check(ep10):
    """Grad-CAM's maps change as soon as the output layer is randomised: the rank correlation drops far below 1.
    EigenCAM's maps do not change at all until the randomisation reaches the target layer, and the
    correlation stays exactly 1."""
    gradcam, eigencam = ep10["checks"]["gradcam"], ep10["checks"]["eigencam"]
    assert gradcam.steps[1] == "head.1" and gradcam.steps[2] == ep10["layer"]
    assert gradcam.summary["mean Spearman"].iloc[1] < 0.6
    assert (gradcam.summary["mean Spearman"].iloc[1:] < 0.6).all()
    assert np.array_equal(eigencam.maps[1], eigencam.maps[0])
    assert eigencam.summary["mean Spearman"].iloc[1] == pytest.approx(1.0)
    assert eigencam.summary["mean Spearman"].iloc[2] < 0.6


def test_road(ep10):
    """Removing the pixels Grad-CAM ranks highest lowers the probability more than removing the pixels it ranks
    lowest, so its combined ROAD score is positive and above the random map's; the upside-down map scores the
    opposite."""
    road = ep10["faithfulness"]
    gradcam = road.loc["Grad-CAM"]
    assert gradcam["most_relevant_first"] < gradcam["least_relevant_first"]
    assert gradcam["combined"] > 0 and gradcam["combined"] > road.loc["random map", "combined"]
    assert road.loc["Grad-CAM upside down", "combined"] < 0


def test_the_lesson_class_list(ep10):
    """Class 157 is a papillon, not a Siberian husky, and class 918 is a crossword puzzle, not a street sign;
    the lesson's other seven entries name the same classes."""
    categories, lesson = ep10["categories"], ep10["lesson_list"]
    assert categories[157] == "papillon" and categories[918] == "crossword puzzle"
    same = {162: "beagle", 245: "French bulldog", 281: "tabby", 285: "Egyptian cat", 360: "otter", 537: "dogsled",
            799: "sliding door"}
    assert {k: categories[k] for k in same} == same and set(lesson) == set(same) | {157, 918}
    assert ep10["class_index"]("Siberian husky", categories) == 250
    assert ep10["class_index"]("street sign", categories) == 919
    with pytest.raises(ValueError, match="'tabby'.*'tiger cat'"):
        ep10["class_index"]("tabby cat", categories)


def output_shape(model, layer_name, x):
    """The shape of a layer's output when the model runs on x."""
    shapes = []
    handle = dict(model.named_modules())[layer_name].register_forward_hook(lambda m, i, o: shapes.append(o.shape))
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        handle.remove()
    return tuple(shapes[-1])


def test_resnet50_facts():
    """About 100 MB of weights; layer4's output is a 7x7 grid of 2,048 channels for a 224x224 image."""
    import torchvision

    assert 90 < torchvision.models.ResNet50_Weights.DEFAULT.meta["_file_size"] < 110
    resnet = torchvision.models.resnet50(weights=None)
    assert output_shape(resnet, "layer4", torch.zeros(1, 3, 224, 224)) == (1, 2048, 7, 7)


def test_the_resnet_cells_skip_themselves_offline_without_weights(ep10):
    assert ep10["resnet"] is None
    assert ep10["explorer"].controls["target"].options[0][1] == ep10["explorer"].values["target"]


def test_the_resnet_cells_run_when_the_weights_are_there(ep10, monkeypatch):
    """The real path, with a randomly initialised ResNet-18 standing in for the cached ResNet-50."""
    import torchvision

    import trustml.explain
    from trustml.explain import PretrainedClassifier

    def stand_in(arch):
        assert arch == "resnet50"
        weights = torchvision.models.ResNet50_Weights.DEFAULT
        torch.manual_seed(0)
        return PretrainedClassifier(model=torchvision.models.resnet18(weights=None).eval(), weights=weights,
                                    class_names=list(weights.meta["categories"]),
                                    preprocess=torchvision.transforms.Normalize(mean=[0.485, 0.456, 0.406],
                                                                                std=[0.229, 0.224, 0.225]))

    monkeypatch.setattr(trustml.explain, "imagenet_classifier", stand_in)
    nb = nbformat.read(default_episodes_dir() / "10-gradcam.ipynb", as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    first = next(i for i, source in enumerate(cells) if "imagenet_classifier(" in source)
    namespace = dict(ep10)
    for source in cells[first:]:
        exec(compile(source, "<episode 10, real path>", "exec"), namespace)
        plt.close("all")
    assert namespace["resnet"] is not None and namespace["by_class"].maps.shape == (5, 224, 224)
    assert namespace["by_class"].class_names[3:] == ("street sign", "French bulldog")
    assert namespace["explorer"].controls["target"].options[0][0].split(" (")[0] in namespace["categories"]
