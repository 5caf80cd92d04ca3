"""How much does trustml's training loop cost over a plain PyTorch loop?

Trains LeNet on the digits (1,437 images, 28x28) with a hand-written PyTorch loop
(DataLoader, Adam, batch 64), with ``trustml.training.fit``, and with ``fit``
recording every sample's logits each epoch (``RecordLogits``), all in one run, and
prints the times and their ratios. Usage: ``.venv/bin/python benchmarks/bench_fit.py``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from trustml import get_device, set_seed
from trustml.data import load
from trustml.models import LeNet
from trustml.training import RecordLogits, fit


def plain_loop(X, y, epochs, device):
    set_seed(0)
    model = LeNet().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def trustml_fit(X, y, epochs, device, record):
    set_seed(0)
    model = LeNet()
    callbacks = [RecordLogits()] if record else []
    fit(model, X, y, epochs=epochs, device=device, callbacks=callbacks, progress=False)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    digits = load("digits")
    X, y, device = digits.X_train, digits.y_train, get_device()
    runs = {
        "plain PyTorch loop": lambda: plain_loop(X, y, args.epochs, device),
        "trustml fit": lambda: trustml_fit(X, y, args.epochs, device, record=False),
        "trustml fit + RecordLogits": lambda: trustml_fit(X, y, args.epochs, device, record=True),
    }
    runs["plain PyTorch loop"]()  # warm-up
    best = {}
    for name, run in runs.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        best[name] = min(times)
    base = best["plain PyTorch loop"]
    print(f"LeNet on digits, {len(y)} images, {args.epochs} epochs, device {device}, best of {args.repeats}")
    for name, seconds in best.items():
        print(f"  {name:<28} {seconds:6.2f} s   ratio {seconds / base:4.2f}")


if __name__ == "__main__":
    main()
