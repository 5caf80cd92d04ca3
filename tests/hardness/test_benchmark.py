import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from trustml.data import load  # noqa: E402
from trustml.hardness import benchmark, plot_benchmark  # noqa: E402
from trustml.models import MLP  # noqa: E402

GRID = dict(kinds=["uniform", "zoom_shift"], proportions=[0.2, 0.4], seeds=[0], methods=["aum", "loss"], epochs=2)


def tiny_mlp():
    return MLP(784, 10, hidden=(16,))


@pytest.fixture(scope="module")
def digits():
    data = load("digits").subset(150)
    return data.X_train, data.y_train


@pytest.fixture(scope="module")
def table(digits):
    return benchmark(*digits, model=tiny_mlp, **GRID)


def test_grid_is_a_tidy_table_with_every_cell(table):
    assert list(table.columns) == ["kind", "proportion", "seed", "method", "auroc", "auprc", "precision_at_k"]
    assert len(table) == 2 * 2 * 1 * 2
    cells = table.groupby(["kind", "proportion", "seed"]).size()
    assert (cells == 2).all() and len(cells) == 4
    assert table[["auroc", "auprc", "precision_at_k"]].apply(lambda c: c.between(0, 1)).all().all()


def test_parallel_workers_give_the_same_table(digits, table):
    parallel = benchmark(*digits, model=tiny_mlp, n_jobs=2, backend="loky", **GRID)
    pd.testing.assert_frame_equal(parallel, table)


def test_default_kinds_are_those_that_apply_to_the_data():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)).astype(np.float32), rng.integers(0, 2, 60)
    rows = benchmark(X, y, model=lambda: MLP(4, 2, hidden=(8,)), proportions=[0.3], methods="loss", epochs=2)
    assert set(rows["kind"]) == {"uniform", "asymmetric", "adjacent", "ood_covariate", "atypical"}


def test_on_a_local_dask_cluster_of_two_workers(digits, table):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            on_dask = benchmark(*digits, model=tiny_mlp, backend="dask", **GRID)
        assert len(client.scheduler_info()["workers"]) == 2
        workers = {task["worker"] for task in stream.data}
    assert len(workers) == 2  # both workers ran cells
    # threads share torch's random state, so compare the grid, not the digits
    cells = ["kind", "proportion", "seed", "method"]
    pd.testing.assert_frame_equal(on_dask[cells], table[cells])
    assert on_dask["auroc"].between(0, 1).all()


def test_heatmap(table):
    ax = plot_benchmark(table)
    assert ax.get_xlabel() == "hardness type" and ax.get_ylabel() == "method"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["uniform", "zoom_shift"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["aum", "loss"]
    expected = table[(table.kind == "uniform") & (table.method == "aum")]["auroc"].mean()
    assert f"{expected:.2f}" in [t.get_text() for t in ax.texts]
    ax = plot_benchmark(table, metric="auprc")
    assert "auprc" in ax.get_title()
    with pytest.raises(ValueError, match="Unknown metric 'f1'"):
        plot_benchmark(table, metric="f1")


def test_bad_grid_arguments(digits):
    X, y = digits
    with pytest.raises(TypeError, match="not a model instance"):
        benchmark(X, y, model=tiny_mlp(), **GRID)
    with pytest.raises(ValueError, match="'atypical' perturbs tabular data"):
        benchmark(X, y, model=tiny_mlp, kinds=["atypical"])
    with pytest.raises(ValueError, match="Unknown hardness type 'blur'"):
        benchmark(X, y, model=tiny_mlp, kinds=["blur"])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        benchmark(X, y, model=tiny_mlp, proportions=[0.0])
    with pytest.raises(ValueError, match="Unknown method"):
        benchmark(X, y, model=tiny_mlp, methods=["aum", "margin"])
    with pytest.raises(ValueError, match="needs a running Dask client"):
        benchmark(X, y, model=tiny_mlp, backend="dask", **GRID)
