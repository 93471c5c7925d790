#!/usr/bin/python3
"""Times PyTorch's training step on the report's configurations, for `Pure.Bench compare-torch`.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 Pure.Bench/torch/step.py --config d --threads 1 [--quick]

Prints one line of JSON: the torch version, the thread count, and examples/s of each timed repeat.

The configurations are those of Pure.Bench/Support/Configs.cs: ReLU MLPs a-d with Adam, and the README's CNN on
[1, 28, 28] images with AdamW (PyTorch's defaults, weight decay 0.01), softmax cross-entropy, float32, train mode
(dropout and batch statistics on; the README's flip and shift layers, a few copies per example in NeuralPure,
have no nn counterpart and are left out here, so PyTorch's step does slightly less). A step is zero_grad, forward, loss, backward, optimizer step, on one of 64 batches
of random data taken in turn, so the input is not cache-resident. The input does not require a gradient, so autograd
does not compute the first layer's input gradient (as NeuralPure does not).

Timing mirrors the report: a warm-up of at least 40 steps and 1 s, then repeats of about 0.4 s (3 with --quick, 7
otherwise). The Debian PyTorch is /usr/bin/python3's (torch 1.13); it is not run by CI.
"""
import argparse
import json
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must be set before torch loads OpenMP

import torch  # noqa: E402
from torch import nn  # noqa: E402

MLPS = {"a": ([64, 32, 10], 32), "b": ([784, 128, 10], 64), "c": ([784, 256, 128, 10], 128), "d": ([784, 1024, 1024, 10], 256)}
BATCHES = 64


def model_of(name):
    """The model, its example shape, the batch size and the optimizer class of a configuration."""
    if name == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))
        return model, (1, 28, 28), 64, torch.optim.AdamW
    sizes, batch = MLPS[name]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers), (sizes[0],), batch, torch.optim.Adam


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, choices=sorted(MLPS) + ["cnn"])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model, shape, batch, optimizer_class = model_of(args.config)
    model.train()
    optimizer = optimizer_class(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand((BATCHES * batch,) + shape, dtype=torch.float32) * 2 - 1
    y = torch.randint(0, 10, (BATCHES * batch,))
    xs = [x[i * batch:(i + 1) * batch] for i in range(BATCHES)]
    ys = [y[i * batch:(i + 1) * batch] for i in range(BATCHES)]
    state = {"i": 0}

    def steps(n):
        for _ in range(n):
            i = state["i"] % BATCHES
            state["i"] += 1
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[i]), ys[i])
            loss.backward()
            optimizer.step()

    start, warm = time.perf_counter(), 0
    while time.perf_counter() - start < 1.0 or warm < 40:
        steps(1)
        warm += 1
    per_step = (time.perf_counter() - start) / warm
    per_repeat = max(2, int(0.4 / per_step))
    rates = []
    for _ in range(3 if args.quick else 7):
        t0 = time.perf_counter()
        steps(per_repeat)
        rates.append(per_repeat * batch / (time.perf_counter() - t0))
    print(json.dumps({
        "torch": torch.__version__, "config": args.config, "threads": torch.get_num_threads(), "batch": batch,
        "steps_per_repeat": per_repeat, "examples_per_second": rates,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }))


if __name__ == "__main__":
    main()
