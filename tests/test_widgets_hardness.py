"""The hardness widgets: every control changes what is drawn; the grid trains each cell once."""


import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from trustml import set_seed
from trustml.data import load
from trustml.hardness import HardnessGrid, benchmark, characterize, perturb, plot_data_map, plot_method_ranking
from trustml.models import MLP, LeNet
from trustml.widgets import data_map_explorer, hardness_type_explorer
from widget_checks import assert_each_move_redraws

METHODS = ["aum", "loss", "conf_agree"]


@pytest.fixture(scope="module")
def digits():
    return load("digits").subset(150, classes=[0, 1, 7])


@pytest.fixture(scope="module")
def noisy_run(digits):
    noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2, seed=0)
    set_seed(0)
    result = characterize(LeNet(num_classes=3), noisy.X, noisy.y, epochs=4, lr=5e-3, batch_size=16, methods=METHODS)
    return noisy, result


def _drawn(fig):
    """Everything a learner sees as text or points in a figure, to compare two drawings."""
    texts = []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.texts]
        if ax.get_legend():
            texts += [t.get_text() for t in ax.get_legend().get_texts()]
        texts += [tuple(np.round(c.get_offsets(), 6).ravel()) for c in ax.collections]
        texts += [tuple(np.asarray(image.get_array()).ravel()[:50]) for image in ax.images]
        texts += [round(p.get_width(), 6) for p in ax.patches]
    texts += [sub.get_suptitle() for sub in fig.subfigs]
    return texts


def test_data_map_explorer_every_control_changes_the_drawing(digits, noisy_run):
    noisy, result = noisy_run
    w = data_map_explorer(result, noisy.X, mask=noisy.mask, class_names=digits.class_names)
    assert w.redraws == 1
    assert list(w.controls["class_name"].options) == ["all classes", "0", "1", "7"]
    moves = [
        ("uncertainty", "aleatoric"),
        ("confidence_threshold", 0.35),
        ("uncertainty_threshold", 0.05),
        ("class_name", "7"),
        ("group", "ambiguous"),
    ]
    for key, value in moves:
        before = _drawn(w.result.figure)
        w.controls[key].value = value
        assert _drawn(w.result.figure) != before, f"moving {key} changed nothing"
    assert w.redraws == 1 + len(moves)
    assert w.result.figure.axes[0].get_title() == "Data-IQ map, class 7"


def test_data_map_explorer_draws_what_plot_data_map_draws(digits, noisy_run):
    noisy, result = noisy_run
    w = data_map_explorer(result, noisy.X, mask=noisy.mask, class_names=digits.class_names, original_labels=noisy.y)

    def static(class_name, **values):
        return plot_data_map(result, noisy.X, mask=noisy.mask, class_names=digits.class_names,
                             original_labels=noisy.y, class_name=None if class_name == "all classes" else class_name,
                             **values)  # fmt: skip

    moves = [("confidence_threshold", 0.3), ("class_name", "7"), ("uncertainty", "aleatoric"), ("group", "easy"),
             ("uncertainty_threshold", 0.4), ("confidence_threshold", 0.0), ("group", "ambiguous"),
             ("class_name", "all classes"), ("uncertainty", "variability")]  # fmt: skip
    assert_each_move_redraws(w, moves, static=static)


def test_data_map_explorer_needs_a_characterization(noisy_run):
    noisy, result = noisy_run
    with pytest.raises(TypeError, match="Characterization"):
        data_map_explorer(result.scores, noisy.X)
    with pytest.raises(ValueError, match="class_names has 2 names"):
        data_map_explorer(result, noisy.X, class_names=["a", "b"])


@pytest.fixture(scope="module")
def grid(digits):
    return HardnessGrid(
        digits.X_train, digits.y_train, model=lambda: MLP(784, 3, dropout=0.2), kinds=["uniform", "zoom_shift"],
        proportions=[0.1, 0.3], epochs=3, lr=5e-3, batch_size=16, methods=METHODS,
    )  # fmt: skip


def test_grid_trains_each_cell_once(grid, monkeypatch):
    calls = []
    import trustml.hardness._benchmark as benchmark_module

    original = benchmark_module.characterize

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(benchmark_module, "characterize", counting)
    already = len(grid.seconds)
    planted, result = grid.cell("uniform", 0.3)
    assert grid.cell("uniform", 0.3)[1] is result and grid.cell("uniform", 0.30000000001)[1] is result
    assert planted.kind == "uniform" and planted.mask.sum() == round(0.3 * 150)
    grid.run()
    grid.table()
    assert len(calls) == 4 - already
    assert set(grid.seconds) == {(k, p) for k in ("uniform", "zoom_shift") for p in (0.1, 0.3)}
    assert all(s > 0 for s in grid.seconds.values())
    assert "4 cells run" in repr(grid)


def test_grid_table_equals_benchmark(grid, digits):
    table = grid.table()
    reference = benchmark(
        digits.X_train, digits.y_train, model=lambda: MLP(784, 3, dropout=0.2), kinds=["uniform", "zoom_shift"],
        proportions=[0.1, 0.3], epochs=3, lr=5e-3, batch_size=16, methods=METHODS,
    )  # fmt: skip
    assert list(table.columns) == list(reference.columns)
    np.testing.assert_allclose(table[["auroc", "auprc", "precision_at_k"]], reference[["auroc", "auprc", "precision_at_k"]])
    assert (table[["kind", "method"]] == reference[["kind", "method"]]).all().all()


def test_hardness_type_explorer_every_control_changes_the_drawing(grid, monkeypatch):
    grid.run()
    import trustml.hardness._benchmark as benchmark_module

    monkeypatch.setattr(benchmark_module, "characterize", lambda *a, **k: pytest.fail("a cached cell trained again"))
    w = hardness_type_explorer(grid, method="aum", k=6)
    assert list(w.controls["kind"].options) == ["uniform", "zoom_shift"]
    assert [label for label, _ in w.controls["proportion"].options] == ["10%", "30%"]
    assert w.result.figure.subfigs[0].get_suptitle().startswith("uniform, 10% perturbed")
    for key, value in [("kind", "zoom_shift"), ("proportion", 0.3), ("method", "conf_agree")]:
        before = _drawn(w.result.figure)
        w.controls[key].value = value
        assert _drawn(w.result.figure) != before, f"moving {key} changed nothing"
    assert w.redraws == 4
    assert "conf_agree's 6 hardest" in w.result.figure.subfigs[1].get_suptitle()


def test_hardness_type_explorer_draws_what_plot_method_ranking_draws(grid):
    w = hardness_type_explorer(grid.run(), method="aum", k=6)

    def static(kind, proportion, method):
        planted, result = grid.cell(kind, proportion)
        return plot_method_ranking(result, planted.mask, planted.X, method=method, k=6, original_labels=grid.y,
                                   title=w.result.title.get_text())  # fmt: skip

    moves = [("kind", "zoom_shift"), ("method", "loss"), ("proportion", 0.3), ("kind", "uniform")]
    assert_each_move_redraws(w, moves, static=static)


def test_grid_and_explorer_bad_input(digits, grid):
    X, y = digits.X_train, digits.y_train
    with pytest.raises(TypeError, match="not a model instance"):
        HardnessGrid(X, y, model=MLP(784, 3))
    with pytest.raises(ValueError, match="'atypical' perturbs tabular data"):
        HardnessGrid(X, y, model=MLP, kinds=["atypical"])
    with pytest.raises(ValueError, match="Unknown hardness type 'noise'"):
        HardnessGrid(X, y, model=MLP, kinds=["noise"])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        HardnessGrid(X, y, model=lambda: MLP(784, 3), proportions=[0.0])
    with pytest.raises(ValueError, match="proportions is empty"):
        HardnessGrid(X, y, model=lambda: MLP(784, 3), proportions=[])
    with pytest.raises(ValueError, match="Unknown hardness type 'far_ood' for this grid; it has: uniform, zoom_shift"):
        grid.cell("far_ood", 0.1)
    with pytest.raises(ValueError, match=r"proportion 0.2 is not in this grid; it has: \[0.1, 0.3\]"):
        grid.cell("uniform", 0.2)
    with pytest.raises(TypeError, match="grid must be a HardnessGrid"):
        hardness_type_explorer({"uniform": None})
    with pytest.raises(ValueError, match="Unknown method 'vog' for this grid"):
        hardness_type_explorer(grid, method="vog")


def test_default_kinds_are_the_ones_that_apply(digits):
    images = HardnessGrid(digits.X_train, digits.y_train, model=lambda: MLP(784, 3))
    assert "atypical" not in images.kinds and "instance" not in images.kinds  # 3 classes: no digit rule
    rows = torch.rand(30, 4)
    tabular = HardnessGrid(rows, torch.arange(30) % 10, model=lambda: MLP(4, 10))
    assert tabular.kinds == ["uniform", "asymmetric", "adjacent", "instance", "ood_covariate", "atypical"]
