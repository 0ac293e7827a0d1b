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
import json
import sys

import torch
from torch import nn

from peer_timing import BATCH, batch_start, load_mnist, result_row, serve, time_inference, time_training


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


def measure(name, threads, quick, x, t):
    build, flat, make_optimizer, iterations, infer_n = MODELS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    model = build()
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    if quick:
        iterations = max(1, iterations // 4)
        infer_n //= 5
    inputs = x.reshape(-1, 784) if flat else x

    def step(i):
        start = batch_start(i, len(t))
        optimizer.zero_grad()
        loss = loss_fn(model(inputs[start : start + BATCH]), t[start : start + BATCH])
        loss.backward()
        optimizer.step()

    model.train()
    for i in range(2):
        step(i)
    blocks = 1 if quick else 5
    training = time_training(step, iterations, blocks, 2)
    model.eval()
    with torch.no_grad():
        model(inputs[:BATCH])
        inference = time_inference(model, inputs, infer_n, blocks)
    return result_row("pytorch", torch.__version__, name, threads, training, inference, infer_n)


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
            start = batch_start(self.done, len(self.t))
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(self.inputs[start : start + BATCH]), self.t[start : start + BATCH])
            loss.backward()
            self.optimizer.step()
            self.done += 1

    def infer(self, k):
        self.model.eval()
        with torch.no_grad():
            for i in range(k):
                start = batch_start(i, len(self.t))
                self.model(self.inputs[start : start + BATCH])


def mnist_tensors(count):
    """load_mnist's images and labels as torch tensors."""
    x, t = load_mnist(count)
    return torch.from_numpy(x), torch.from_numpy(t)


def main():
    if "--serve" in sys.argv:
        # One thread: bench/interleaved.ts compares single-threaded blocks.
        torch.set_num_interop_threads(1)
        torch.set_num_threads(1)
        serve(Session, *mnist_tensors(1000))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="two-layer,simple-conv,deep-conv")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    x, t = mnist_tensors(10000)
    for name in args.models.split(","):
        for threads in [int(n) for n in args.threads.split(",")]:
            print(json.dumps(measure(name, threads, args.quick, x, t)), flush=True)


if __name__ == "__main__":
    main()
