"""What does characterising every sample cost, and how well do the methods find planted hardness?

H-CAT's MNIST protocol at this machine's scale: the digits at 28x28 (``load("digits")``,
1,437 training images), LeNet with dropout 0.2, Adam 1e-3, batch 64, 10 epochs,
20% uniform label noise. In one run it measures

1. time: plain ``fit`` vs ``characterize`` with the logit-based methods (goal <= 1.1x)
   and with all 13 (goal <= 2.0x), best of ``--repeats`` alternating runs, as CPU time
   of the process (steady on a shared machine; torch on one thread by default) and wall time;
2. detection AUROC of the noise mask per method (goals: >= 0.95 aum, loss, el2n,
   data_maps, data_iq, cleanlab; >= 0.90 grand, prototypicality, detector);
3. Datagnosis 0.0.3 (the PyPI packaging of H-CAT's methods, which trains once per
   method) on the same data and model (goal: trustml >= 10x faster). Datagnosis is
   never a trustml dependency: install it in a separate environment and point
   ``--datagnosis-python`` at that environment's python, e.g.
   ``python3 -m venv venv-dg && venv-dg/bin/pip install datagnosis==0.0.3``
   (it needs torch and scikit-learn there too). The part is skipped, saying so,
   when Datagnosis cannot be imported;
4. memory of the recorded dynamics for MNIST and CIFAR-10 at full size;
5. with ``--grid``: every method on every hardness type at proportions 0.1-0.5
   (``trustml.hardness.benchmark``), printed as method x type tables.

Usage: ``.venv/bin/python benchmarks/bench_hardness.py [--grid] [--seeds 0 1] [--n-jobs 2]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LOGIT_METHODS = ["aum", "loss", "el2n", "data_maps", "data_iq", "forgetting", "cleanlab"]
AUROC_GOALS = {m: 0.95 for m in ("aum", "loss", "el2n", "data_maps", "data_iq", "cleanlab")}
AUROC_GOALS.update({m: 0.90 for m in ("grand", "prototypicality", "detector")})
# trustml name -> Datagnosis plugin name (Datagnosis has no learned detector)
DATAGNOSIS = {
    "aum": "aum",
    "cleanlab": "confident_learning",
    "conf_agree": "conf_agree",
    "data_iq": "data_iq",
    "data_maps": "data_maps",
    "el2n": "el2n",
    "grand": "grand",
    "forgetting": "forgetting",
    "loss": "large_loss",
    "prototypicality": "prototypicality",
    "vog": "vog",
    "allsh": "allsh",
}


def noisy_digits(seed=0):
    from trustml.data import load
    from trustml.hardness import perturb

    data = load("digits")
    return data, perturb(data.X_train, data.y_train, kind="uniform", proportion=0.2, seed=seed)


def lenet():
    from trustml.models import LeNet

    return LeNet(dropout=0.2)


def timings(noisy, epochs, repeats):
    import torch

    from trustml import set_seed
    from trustml.hardness import characterize
    from trustml.training import fit

    def plain():
        set_seed(0)
        fit(lenet(), noisy.X, noisy.y, epochs=epochs, progress=False)

    def hcms(methods):
        set_seed(0)
        return characterize(lenet(), noisy.X, noisy.y, epochs=epochs, methods=methods)

    runs = {"fit": plain, "logit methods": lambda: hcms(LOGIT_METHODS), "all 13": lambda: hcms("all")}
    hcms("all")  # warm-up: imports (cleanlab, torch.func), allocator, caches
    wall = {name: float("inf") for name in runs}
    cpu = dict(wall)
    result = None
    for _ in range(repeats):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            out = run()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
            result = out if name == "all 13" else result
    return wall, cpu, result


def run_datagnosis(X, y, mask, epochs, methods) -> dict:
    """Each Datagnosis plugin trains its own LeNet; returns seconds and AUROC per trustml method name."""
    import torch
    from datagnosis.plugins import Plugins
    from datagnosis.plugins.core.datahandler import DataHandler
    from sklearn.metrics import roc_auc_score

    from trustml import set_seed

    plugins, out = Plugins(), {}
    for name in methods:
        set_seed(0)
        model = lenet()
        extra = {"total_samples": len(y)} if name == "forgetting" else {}
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            with tempfile.TemporaryDirectory() as workspace:
                hcm = plugins.get(
                    DATAGNOSIS[name],
                    model=model,
                    criterion=torch.nn.CrossEntropyLoss(),
                    optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
                    lr=1e-3,
                    epochs=epochs,
                    num_classes=10,
                    logging_interval=epochs + 1,
                    **extra,
                )
                hcm.fit(datahandler=DataHandler(X, y, batch_size=64), use_caches_if_exist=False, workspace=workspace)
                scores = hcm._scores
            seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
            scores = np.asarray(scores[0] if isinstance(scores, tuple) else scores, dtype=float)
            if hcm.hard_direction() == "low":
                scores = -scores
            out[name] = {"seconds": seconds, "cpu": cpu, "auroc": float(roc_auc_score(mask, np.nan_to_num(scores)))}
        except Exception as err:  # report and go on: one broken plugin should not hide the others
            out[name] = {"error": f"{type(err).__name__}: {err}"[:200]}
    return out


def datagnosis_part(noisy, epochs, python):
    """Run Datagnosis here if importable, else in ``python`` (another environment), else explain."""
    try:
        import datagnosis  # noqa: F401
    except ImportError:
        if python is None:
            return None, "Datagnosis is not importable here and --datagnosis-python was not given: skipped."
        with tempfile.TemporaryDirectory() as folder:
            np.savez(Path(folder) / "data.npz", X=noisy.X.numpy(), y=noisy.y.numpy(), mask=noisy.mask)
            env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
            command = [python, __file__, "--datagnosis-worker", folder, "--epochs", str(epochs), "--threads", "1"]
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                return None, f"Datagnosis run in {python} failed: {done.stderr.strip()[-400:]}"
            return json.loads(done.stdout.strip().splitlines()[-1]), f"Datagnosis 0.0.3 run by {python}"
    return run_datagnosis(noisy.X, noisy.y, noisy.mask, epochs, list(DATAGNOSIS)), "Datagnosis run in this environment"


def datagnosis_worker(folder, epochs):
    import torch

    from trustml import set_seed
    from trustml.training import fit

    data = np.load(Path(folder) / "data.npz")
    X, y, mask = torch.from_numpy(data["X"]), torch.from_numpy(data["y"]), data["mask"]
    out = run_datagnosis(X, y, mask, epochs, list(DATAGNOSIS))
    set_seed(0)  # a plain fit in the same process, so the ratio compares like with like
    start, start_cpu = time.perf_counter(), time.process_time()
    fit(lenet(), X, y, epochs=epochs, progress=False)
    out["_fit"] = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - start_cpu}
    print(json.dumps(out))


def memory_lines(epochs):
    lines = []
    for name, n, k in (("MNIST", 60_000, 10), ("CIFAR-10", 50_000, 10)):
        size = epochs * n * k * 4
        lines.append(f"  {name:<9} float32 ({epochs}, {n:,}, {k}) dynamics: {size:,} bytes ({size / 2**20:.1f} MiB)")
    for name, n, side in (("MNIST", 60_000, 28), ("CIFAR-10", 50_000, 32)):
        size = 3 * n * side * side * 4
        lines.append(f"  {name:<9} VoG input gradients, 3 checkpoints (channels averaged): {size / 2**20:,.0f} MiB")
    return lines


def grid(data, epochs, seeds, n_jobs):
    import pandas as pd

    from trustml.hardness import benchmark
    from trustml.models import LeNet

    start = time.perf_counter()
    table = benchmark(
        data.X_train,
        data.y_train,
        model=functools.partial(LeNet, dropout=0.2),
        proportions=(0.1, 0.2, 0.3, 0.4, 0.5),
        seeds=seeds,
        epochs=epochs,
        n_jobs=n_jobs,
    )
    seconds = time.perf_counter() - start
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 2):
        print(f"\nGrid: {table.kind.nunique()} hardness types x 5 proportions x {len(seeds)} seed(s), "
              f"{seconds / 60:.1f} min (n_jobs={n_jobs})")  # fmt: skip
        auroc = table.pivot_table(index="method", columns="kind", values="auroc", aggfunc="mean")
        print("\nAUROC, mean over proportions 0.1-0.5 and seeds:")
        print(auroc.round(2).to_string())
        print("\nAUROC per proportion:")
        print(table.pivot_table(index=["kind", "method"], columns="proportion", values="auroc").round(2).to_string())
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadiest on a shared machine)")
    parser.add_argument("--datagnosis-python", help="python of an environment where datagnosis==0.0.3 is installed")
    parser.add_argument("--grid", action="store_true", help="also run every method x hardness type x proportion")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", help="write the grid's tidy table to this CSV file")
    parser.add_argument("--datagnosis-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.datagnosis_worker:
        import torch

        torch.set_num_threads(args.threads)
        datagnosis_worker(args.datagnosis_worker, args.epochs)
        return

    import torch

    from trustml import get_device

    torch.set_num_threads(args.threads)
    data, noisy = noisy_digits()
    print(f"{data.name} ({data.source}): {len(noisy.y)} images 28x28, LeNet(dropout=0.2), Adam 1e-3, batch 64, "
          f"{args.epochs} epochs, 20% uniform noise")  # fmt: skip
    print(f"device {get_device()}, torch threads {torch.get_num_threads()}")
    wall, cpu, result = timings(noisy, args.epochs, args.repeats)
    print(f"\nTime, best of {args.repeats} alternating runs (CPU time of this process, and wall time):")
    goals = {"logit methods": 1.1, "all 13": 2.0}
    for name in wall:
        ratio = cpu[name] / cpu["fit"]
        goal = f"  (goal <= {goals[name]}x: {'met' if ratio <= goals[name] else 'NOT met'})" if name in goals else ""
        print(f"  {name:<14} CPU {cpu[name]:6.2f} s = {ratio:4.2f}x fit   "
              f"wall {wall[name]:6.2f} s = {wall[name] / wall['fit']:4.2f}x{goal}")  # fmt: skip
    print("  work per method beyond the training run (wall s, last run): "
          + ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items() if k != "fit"))  # fmt: skip

    table = result.evaluate(noisy.mask)
    print("\nDetection of the 20% flipped labels:")
    for method, row in table.iterrows():
        goal = AUROC_GOALS.get(method)
        verdict = f"goal >= {goal:.2f}: {'met' if row.auroc >= goal else 'NOT met'}" if goal else ""
        print(f"  {method:<16} AUROC {row.auroc:.3f}  AUPRC {row.auprc:.3f}  P@k {row.precision_at_k:.3f}  {verdict}")

    peer, how = datagnosis_part(noisy, args.epochs, args.datagnosis_python)
    print(f"\nDatagnosis: {how}")
    if peer:
        for name, entry in peer.items():
            if name == "_fit":
                continue
            shown = entry.get("error") or (
                f"CPU {entry['cpu']:6.2f} s  wall {entry['seconds']:6.2f} s  AUROC {entry['auroc']:.3f}"
            )
            print(f"  {DATAGNOSIS[name]:<20} {shown}")
        # compare in units of a plain fit's CPU time measured in each process
        fit_there = peer["_fit"]["cpu"]
        print(f"  (a plain trustml fit in that process: CPU {fit_there:.2f} s)")
        for label, names, ours in (
            ("the logit methods", LOGIT_METHODS, cpu["logit methods"] / cpu["fit"]),
            ("all methods", list(DATAGNOSIS), cpu["all 13"] / cpu["fit"]),
        ):
            ok = [m for m in names if "cpu" in peer.get(m, {})]
            theirs = sum(peer[m]["cpu"] for m in ok) / fit_there
            print(f"  {label}: Datagnosis ran {len(ok)} ({', '.join(ok)}) in {theirs:.1f} fits of CPU time, "
                  f"trustml all {len(names) + (label == 'all methods')} in {ours:.2f}: {theirs / ours:.0f}x"
                  + (" (goal >= 10x)" if label == "the logit methods" else ""))  # fmt: skip

    print("\nMemory:")
    print("\n".join(memory_lines(args.epochs)))

    if args.grid:
        table = grid(data, args.epochs, args.seeds, args.n_jobs)
        if args.out:
            table.to_csv(args.out, index=False)
            print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
