#!/usr/bin/env python3
"""Runs a zerodl model file (format 2) forward with NumPy alone, from the file's own metadata.

Written from docs/model-format.md only, as a reader outside zerodl would: it is how we check
that the format document is enough to rebuild a network.

    python3 scripts/zerodl_numpy.py MODEL.safetensors INPUT.npy [OUTPUT.npy]

INPUT.npy holds a batch (N, *shape) for a graph of one input (float32 or float64); the scores of
the first output, in evaluation mode, are printed (or saved to OUTPUT.npy).
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, t in header.items():
        start, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return metadata, tensors


def im2col(x, fh, fw, stride, pad):
    n, c, h, w = x.shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.empty((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for ky in range(fh):
        for kx in range(fw):
            col[:, :, ky, kx] = xp[:, :, ky : ky + stride * oh : stride, kx : kx + stride * ow : stride]
    return col, oh, ow


def convolution(x, W, b, stride, pad):
    col, oh, ow = im2col(x, W.shape[2], W.shape[3], stride, pad)
    y = np.einsum("ncijyx,fcij->nfyx", col, W)
    return y + b.reshape(1, -1, 1, 1)


def pooling(x, ph, pw, stride, pad, kind):
    n, c, h, w = x.shape
    if kind == "max":
        # Padding never wins a max.
        xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=-np.inf)
    else:
        # Padding counts as 0, and the divisor is always ph·pw.
        xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    oh = (h + 2 * pad - ph) // stride + 1
    ow = (w + 2 * pad - pw) // stride + 1
    windows = np.stack(
        [xp[:, :, ky : ky + stride * oh : stride, kx : kx + stride * ow : stride] for ky in range(ph) for kx in range(pw)]
    )
    return windows.max(axis=0) if kind == "max" else windows.sum(axis=0) / (ph * pw)


def forward(metadata, tensors, x):
    graph = json.loads(metadata["graph"])
    dtype = np.float64 if metadata.get("dtype") == "float64" else np.float32
    values = {graph["inputs"][0]["name"]: x.astype(dtype)}
    for node in graph["nodes"]:
        t = node["type"]
        ins = [values[i] for i in node["inputs"]]
        p = {k: tensors[v].astype(dtype) for k, v in node.get("params", {}).items()}
        x = ins[0]
        if t == "affine":
            y = x.reshape(x.shape[0], -1) @ p["W"] + p["b"]
        elif t == "convolution":
            y = convolution(x, p["W"], p["b"], node["stride"], node["pad"])
        elif t == "pooling":
            y = pooling(x, node["ph"], node["pw"], node["stride"], node["pad"], node["kind"])
        elif t == "relu":
            y = np.maximum(x, 0)
        elif t == "sigmoid":
            y = 1 / (1 + np.exp(-x))
        elif t == "tanh":
            y = np.tanh(x)
        elif t == "flatten":
            y = x.reshape(x.shape[0], -1)
        elif t == "dropout":
            y = x if node["inverted"] else x * (1 - node["ratio"])
        elif t == "batchnorm":
            shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
            mean, var = p["running_mean"].reshape(shape), p["running_var"].reshape(shape)
            y = p["gamma"].reshape(shape) * (x - mean) / np.sqrt(var + node["eps"]) + p["beta"].reshape(shape)
        elif t == "lrn":
            sq = np.pad(x * x, [(0, 0), (node["n"] // 2, node["n"] // 2), (0, 0), (0, 0)])
            s = sum(sq[:, i : i + x.shape[1]] for i in range(node["n"]))
            y = x / (node["k"] + node["alpha"] / node["n"] * s) ** node["beta"]
        elif t == "add":
            y = sum(ins)
        elif t == "concat":
            y = np.concatenate(ins, axis=1)
        elif t == "global-average-pooling":
            y = x.mean(axis=(2, 3))
        else:
            raise ValueError(f"unknown layer type {t}")
        values[node["name"]] = y
    outputs = graph.get("outputs") or [graph["nodes"][-1]["name"]]
    return values[outputs[0]]


if __name__ == "__main__":
    metadata, tensors = read_safetensors(sys.argv[1])
    y = forward(metadata, tensors, np.load(sys.argv[2]))
    if len(sys.argv) > 3:
        np.save(sys.argv[3], y)
    else:
        print(y)
