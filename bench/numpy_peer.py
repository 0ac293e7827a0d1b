#!/usr/bin/env python3
"""The book's own NumPy code for DeepConvNet and SimpleConvNet, timed the way zerodl's bench times them.

    python3 bench/numpy_peer.py [--models simple-conv,deep-conv] [--threads N] [--quick]

Not part of zerodl or its tests: NumPy is only the baseline being measured (issue 11 asks DeepConvNet
training at ≥ 8× the book's code). The layers below are the book's (ゼロから作るDeep Learning,
`common/util.py` im2col/col2im, `common/layers.py` Convolution, Pooling, Relu, Affine, Dropout,
SoftmaxWithLoss, `common/optimizer.py` Adam, `ch08/deep_convnet.py`, `ch07/simple_convnet.py`),
transcribed with their arithmetic unchanged: weights in float64 (np.random.randn), images float32
in [0, 1] as the book's `load_mnist(normalize=True)` gives them, He initialization, batch 100 of the
first MNIST training images (data/mnist), Adam lr 0.001.

`--threads N` sets OpenBLAS's thread count before NumPy loads (default: OpenBLAS's own, every core,
which is what a reader running the book's code gets). One JSON line per model: msPerIteration
(median of 5 timed blocks of a training step: forward, loss, backward, Adam), its range, CPU ms per
iteration (all threads), inference images/s (median of as many passes at batch 100, predict with
train_flg=False) and CPU ms per 100 inference images.
"""
import argparse
import json
import os
import sys

if __name__ == "__main__":
    _threads = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--threads=")), None)
    if _threads:
        os.environ["OPENBLAS_NUM_THREADS"] = _threads
        os.environ["OMP_NUM_THREADS"] = _threads

import numpy as np  # noqa: E402

from peer_timing import (  # noqa: E402
    BATCH,
    batch_start,
    load_mnist,
    result_row,
    serve,
    time_inference,
    time_training,
)


# ---- common/util.py ------------------------------------------------------------------------------
def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad : H + pad, pad : W + pad]


# ---- common/layers.py ----------------------------------------------------------------------------
class Relu:
    def forward(self, x, train_flg=True):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x, train_flg=True):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x, train_flg=True):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x, train_flg=True):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        self.x = x
        return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size))
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        batch_size = self.y.shape[0]
        return -np.sum(np.log(self.y[np.arange(batch_size), t] + 1e-7)) / batch_size

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


# ---- common/optimizer.py -------------------------------------------------------------------------
class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2, self.iter, self.m, self.v = lr, beta1, beta2, 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# ---- ch08/deep_convnet.py, ch07/simple_convnet.py -------------------------------------------------
class Net:
    """A chain of the book's layers; params keyed W1, b1, … as the book's networks keep them."""

    def __init__(self, specs, input_dim=(1, 28, 28)):
        self.params, self.layers, self.owners = {}, [], []
        shape = input_dim
        index = 1
        for spec in specs:
            kind = spec[0]
            if kind == "conv":
                _, fn, size, pad = spec
                fan_in = shape[0] * size * size
                W = np.sqrt(2.0 / fan_in) * np.random.randn(fn, shape[0], size, size)
                self._add(index, W, np.zeros(fn), Convolution(W, None, 1, pad))
                shape = (fn, shape[1] + 2 * pad - size + 1, shape[2] + 2 * pad - size + 1)
                index += 1
            elif kind == "affine":
                _, out = spec
                fan_in = int(np.prod(shape))
                W = np.sqrt(2.0 / fan_in) * np.random.randn(fan_in, out)
                self._add(index, W, np.zeros(out), Affine(W, None))
                shape = (out,)
                index += 1
            elif kind == "relu":
                self.layers.append(Relu())
            elif kind == "pool":
                self.layers.append(Pooling(2, 2, 2))
                shape = (shape[0], shape[1] // 2, shape[2] // 2)
            elif kind == "dropout":
                self.layers.append(Dropout(0.5))
        self.last_layer = SoftmaxWithLoss()

    def _add(self, index, W, b, layer):
        self.params[f"W{index}"], self.params[f"b{index}"] = W, b
        layer.b = b
        self.layers.append(layer)
        self.owners.append((index, layer))

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            x = layer.forward(x, train_flg)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for index, layer in self.owners:
            grads[f"W{index}"], grads[f"b{index}"] = layer.dW, layer.db
        return grads


DEEP = [
    ("conv", 16, 3, 1), ("relu",), ("conv", 16, 3, 1), ("relu",), ("pool",),
    ("conv", 32, 3, 1), ("relu",), ("conv", 32, 3, 2), ("relu",), ("pool",),
    ("conv", 64, 3, 1), ("relu",), ("conv", 64, 3, 1), ("relu",), ("pool",),
    ("affine", 50), ("relu",), ("dropout",), ("affine", 10), ("dropout",),
]  # fmt: skip
SIMPLE = [("conv", 30, 5, 0), ("relu",), ("pool",), ("affine", 100), ("relu",), ("affine", 10)]
# name: (layers, training iterations per block, inference images), as bench/run.ts
MODELS = {"simple-conv": (SIMPLE, 3, 1000), "deep-conv": (DEEP, 1, 200)}


def measure(name, quick, x, t):
    specs, iterations, infer_n = MODELS[name]
    np.random.seed(42)
    net = Net(specs)
    optimizer = Adam(lr=0.001)
    if quick:
        infer_n = BATCH

    def step(i):
        start = batch_start(i, len(t))
        grads = net.gradient(x[start : start + BATCH], t[start : start + BATCH])
        optimizer.update(net.params, grads)

    step(0)
    blocks = 1 if quick else 5
    training = time_training(step, iterations, blocks, 1)
    inference = time_inference(net.predict, x, infer_n, blocks)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return result_row("numpy-book", np.__version__, name, threads, training, inference, infer_n)


class Session:
    """One network and its Adam, stepped on demand (`serve`, for bench/interleaved.ts)."""

    def __init__(self, name, x, t):
        np.random.seed(42)
        self.net, self.optimizer = Net(MODELS[name][0]), Adam(lr=0.001)
        self.x, self.t, self.done = x, t, 0

    def train(self, k):
        for _ in range(k):
            start = batch_start(self.done, len(self.t))
            grads = self.net.gradient(self.x[start : start + BATCH], self.t[start : start + BATCH])
            self.optimizer.update(self.net.params, grads)
            self.done += 1

    def infer(self, k):
        for i in range(k):
            start = batch_start(i, len(self.t))
            self.net.predict(self.x[start : start + BATCH])


def main():
    if "--serve" in sys.argv:
        serve(Session, *load_mnist(1000))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="simple-conv,deep-conv")
    parser.add_argument("--threads", help="OpenBLAS threads (--threads=N, read before NumPy loads)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    x, t = load_mnist(1000)
    for name in args.models.split(","):
        print(json.dumps(measure(name, args.quick, x, t)), flush=True)


if __name__ == "__main__":
    main()
