#!/usr/bin/env python3
"""PyTorch on the CPU, timing the networks zerodl's bench times, for side-by-side comparison.

    /usr/bin/python3 bench/pytorch_peer.py [--models simple-conv,deep-conv] [--threads 1,2] [--quick]

Not part of zerodl or its tests: PyTorch is only the peer being measured (Debian's python3-torch;
`npm run bench -- --peers` runs this script when that Python has torch, interleaved with zerodl).
The networks are the book's, as in bench/run.ts: TwoLayerNet (784-50-10, sigmoid, SGD 0.1),
SimpleConvNet (conv 30×5×5 → ReLU → max-pool 2 → 100 → ReLU → 10, Adam 0.001) and DeepConvNet
(six 3×3 convolutions with pads 1,1,1,2,1,1 and three 2×2 max-pools, 50 hidden, dropout 0.5,
Adam 0.001), batch 100 of the first MNIST training images (data/mnist), cross-entropy loss.

Per (model, threads) it prints one JSON line: msPerIteration (median of 5 timed blocks of a
training step: forward, loss, backward, Adam/SGD step), the fastest and slowest block, CPU ms per
iteration (process time: all threads), images/s of inference in eval mode (median of 5 passes over
the inference images at batch 100, under torch.no_grad) and the CPU ms of 100 of those images.
PyTorch here starts with 1 thread (its OpenMP default on this machine); each row sets its count.
`--serve` (for bench/interleaved.ts): one thread, blocks of steps on demand, see `serve`.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn


def two_layer():
    return nn.Sequential(nn.Linear(784, 50), nn.Sigmoid(), nn.Linear(50, 10))


def simple_conv():
    return nn.Sequential(
        nn.Conv2d(1, 30, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(30 * 12 * 12, 100),
        nn.ReLU(),
        nn.Linear(100, 10),
    )


def deep_conv():
    layers = []
    channels = 1
    for i, (filters, pad) in enumerate(zip([16, 16, 32, 32, 64, 64], [1, 1, 1, 2, 1, 1])):
        layers += [nn.Conv2d(channels, filters, 3, padding=pad), nn.ReLU()]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2))
        channels = filters
    layers += [
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 50),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(50, 10),
        nn.Dropout(0.5),
    ]
    return nn.Sequential(*layers)


# name: (builder, flat input, optimizer, training iterations per block, inference images)
MODELS = {
    "two-layer": (two_layer, True, lambda p: torch.optim.SGD(p, lr=0.1), 300, 10000),
    "simple-conv": (simple_conv, False, lambda p: torch.optim.Adam(p, lr=0.001), 30, 10000),
    "deep-conv": (deep_conv, False, lambda p: torch.optim.Adam(p, lr=0.001), 5, 2000),
}


def load_mnist(count):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist")
    with gzip.open(os.path.join(root, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)[: count * 784]
    with gzip.open(os.path.join(root, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    x = torch.from_numpy(images.astype(np.float32) / 255).reshape(count, 1, 28, 28)
    return x, torch.from_numpy(labels.astype(np.int64))


def measure(name, threads, quick, x, t):
    build, flat, make_optimizer, iterations, infer_n = MODELS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    model = build()
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    batch = 100
    if quick:
        iterations = max(1, iterations // 4)
        infer_n //= 5
    inputs = x.reshape(-1, 784) if flat else x

    def step(i):
        start = (i * batch) % (len(t) - batch + 1)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs[start : start + batch]), t[start : start + batch])
        loss.backward()
        optimizer.step()

    model.train()
    for i in range(2):
        step(i)
    blocks = 1 if quick else 5
    block_ms = []
    cpu0 = time.process_time()
    done = 2
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(iterations):
            step(done)
            done += 1
        block_ms.append((time.perf_counter() - t0) * 1000 / iterations)
    cpu_ms = (time.process_time() - cpu0) * 1000 / (iterations * blocks)

    model.eval()
    xs = inputs[:infer_n]
    with torch.no_grad():
        model(xs[:batch])
        runs = []
        cpu1 = time.process_time()
        for _ in range(blocks):
            t0 = time.perf_counter()
            for s in range(0, infer_n, batch):
                model(xs[s : s + batch])
            runs.append(time.perf_counter() - t0)
        infer_cpu_ms = (time.process_time() - cpu1) * 1000 / blocks / (infer_n / 100)
    return {
        "peer": "pytorch",
        "version": torch.__version__,
        "model": name,
        "threads": threads,
        "msPerIteration": statistics.median(block_ms),
        "msPerIterationRange": [min(block_ms), max(block_ms)],
        "cpuMsPerIteration": cpu_ms,
        "secondsPerEpoch": statistics.median(block_ms) * 600 / 1000,
        "inferenceImages": infer_n,
        "imagesPerSecond": infer_n / statistics.median(runs),
        "inferenceCpuMsPer100": infer_cpu_ms,
    }


class Session:
    """One model and its optimizer, stepped on demand: `serve` (bench/interleaved.ts) alternates
    short blocks of it with zerodl's in another process."""

    def __init__(self, name, x, t):
        build, flat, make_optimizer, _, _ = MODELS[name]
        torch.manual_seed(42)
        self.model = build()
        self.optimizer = make_optimizer(self.model.parameters())
        self.loss_fn = nn.CrossEntropyLoss()
        self.inputs, self.t, self.done = (x.reshape(-1, 784) if flat else x), t, 0

    def train(self, k):
        self.model.train()
        for _ in range(k):
            start = (self.done * 100) % (len(self.t) - 99)
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(self.inputs[start : start + 100]), self.t[start : start + 100])
            loss.backward()
            self.optimizer.step()
            self.done += 1

    def infer(self, k):
        self.model.eval()
        with torch.no_grad():
            for i in range(k):
                start = (i * 100) % (len(self.t) - 99)
                self.model(self.inputs[start : start + 100])


def serve():
    """Lines `train MODEL K` / `infer MODEL K` on stdin; one JSON line {"cpuMs"} (per step or per
    100 images, process time of all threads) for each. One thread."""
    torch.set_num_threads(1)
    x, t = load_mnist(1000)
    sessions = {}
    for line in sys.stdin:
        cmd, name, k = line.split()
        if name not in sessions:
            sessions[name] = Session(name, x, t)
        session = sessions[name]
        c0 = time.process_time()
        (session.train if cmd == "train" else session.infer)(int(k))
        print(json.dumps({"cpuMs": (time.process_time() - c0) * 1000 / int(k)}), flush=True)


def main():
    if "--serve" in sys.argv:
        torch.set_num_interop_threads(1)
        serve()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="two-layer,simple-conv,deep-conv")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    x, t = load_mnist(10000)
    for name in args.models.split(","):
        for threads in [int(n) for n in args.threads.split(",")]:
            print(json.dumps(measure(name, threads, args.quick, x, t)), flush=True)


if __name__ == "__main__":
    main()
