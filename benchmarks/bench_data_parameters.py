"""What do data parameters cost, and how well do their temperatures find flipped labels?

H-CAT's MNIST protocol at this machine's scale: the digits (1,437 images, 28x28),
20% uniform label noise (``trustml.hardness.perturb``), LeNet with dropout 0.2,
Adam 1e-3, batch 64, 10 epochs. Trains with plain ``fit`` and with ``fit`` plus
instance-level ``DataParameters`` (as the criterion), alternating, ``--repeats``
times each, and prints the best time of each and their ratio (measured in one
run, so both see the same machine load), the detection AUROC of the final
temperatures (and of the plain run's last-epoch loss, for comparison), and the
easy / need-review / hard counts. Usage:
``.venv/bin/python benchmarks/bench_data_parameters.py [--epochs 10] [--repeats 3] [--lr-instance 1.0]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from trustml import get_device, set_seed
from trustml.data import load
from trustml.hardness import DataParameters, categorize, perturb
from trustml.models import LeNet
from trustml.training import RecordLogits, fit


def train(X, y, epochs, device, data_parameters=None):
    set_seed(0)
    model = LeNet(dropout=0.2)
    recorder = RecordLogits()
    start = time.perf_counter()
    fit(model, X, y, epochs=epochs, device=device, criterion=data_parameters, callbacks=[recorder], progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, recorder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lr-instance", type=float, default=1.0)
    args = parser.parse_args()
    digits = load("digits")
    noisy = perturb(digits.X_train, digits.y_train, kind="uniform", proportion=0.2, seed=0)
    X, y, mask, device = noisy.X, noisy.y, noisy.mask, get_device()

    train(X, y, 1, device)  # warm-up
    times = {"plain fit": [], "fit + DataParameters": []}
    for _ in range(args.repeats):  # alternate, so that both see the same load
        seconds, plain = train(X, y, args.epochs, device)
        times["plain fit"].append(seconds)
        dp = DataParameters(len(y), 10, lr_instance=args.lr_instance)
        seconds, _ = train(X, y, args.epochs, device, dp)
        times["fit + DataParameters"].append(seconds)
    best = {name: min(values) for name, values in times.items()}

    last_loss = F.cross_entropy(plain.logits[-1], y, reduction="none").numpy()
    categories = categorize(dp.trajectories_)
    print(
        f"LeNet on digits, {len(y)} images, 20% uniform label noise ({mask.sum()} flipped), "
        f"{args.epochs} epochs, device {device}, best of {args.repeats}"
    )
    for name, seconds in best.items():
        print(f"  {name:<22} {seconds:6.2f} s   ratio {seconds / best['plain fit']:4.2f}")
    auroc = roc_auc_score(mask, dp.instance_sigma)
    print(f"  detection AUROC, final σ (lr_instance={args.lr_instance:g}):   {auroc:.4f}")
    print(f"  detection AUROC, last-epoch loss of plain fit:  {roc_auc_score(mask, last_loss):.4f}")
    for category in ("easy", "need-review", "hard"):
        members = categories == category
        print(f"  {category:<12} {members.sum():5d} samples, {mask[members].sum():4d} of them flipped")


if __name__ == "__main__":
    main()
