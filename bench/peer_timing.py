"""What the Python peers (bench/pytorch_peer.py, bench/numpy_peer.py) share: the first MNIST training
images, the timing of training steps and inference passes the way bench/run.ts times zerodl, the
JSON row they print, and `--serve`, the loop bench/interleaved.ts talks to.

NumPy only, so that numpy_peer.py can set OpenBLAS's thread count before anything loads NumPy.
"""
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np

BATCH = 100


def load_mnist(count):
    """The first `count` training images (float32, (count, 1, 28, 28), in [0, 1]) and labels (int64)."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist")
    with gzip.open(os.path.join(root, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)[: count * 784]
    with gzip.open(os.path.join(root, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    return (images.astype(np.float32) / 255.0).reshape(count, 1, 28, 28), labels.astype(np.int64)


def batch_start(i, count):
    """Where the i-th batch of 100 begins, cycling through `count` samples."""
    return (i * BATCH) % (count - BATCH + 1)


def time_training(step, iterations, blocks, first):
    """Times `blocks` blocks of `iterations` training steps, step(i) with i counting on from `first`:
    the ms per step of each block, and the CPU ms per step (process time: all threads)."""
    block_ms = []
    cpu0 = time.process_time()
    done = first
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(iterations):
            step(done)
            done += 1
        block_ms.append((time.perf_counter() - t0) * 1000 / iterations)
    return block_ms, (time.process_time() - cpu0) * 1000 / (iterations * blocks)


def time_inference(predict, inputs, count, blocks):
    """Times `blocks` passes of predict over inputs[:count] at batch 100: the seconds of each pass,
    and the CPU ms per 100 images."""
    runs = []
    cpu0 = time.process_time()
    for _ in range(blocks):
        t0 = time.perf_counter()
        for s in range(0, count, BATCH):
            predict(inputs[s : s + BATCH])
        runs.append(time.perf_counter() - t0)
    return runs, (time.process_time() - cpu0) * 1000 / blocks / (count / 100)


def result_row(peer, version, name, threads, training, inference, count):
    """One JSON row, as bench/run.ts prints zerodl's: `training` and `inference` are what
    time_training and time_inference gave."""
    block_ms, cpu_ms = training
    runs, infer_cpu_ms = inference
    return {
        "peer": peer,
        "version": version,
        "model": name,
        "threads": threads,
        "msPerIteration": statistics.median(block_ms),
        "msPerIterationRange": [min(block_ms), max(block_ms)],
        "cpuMsPerIteration": cpu_ms,
        "secondsPerEpoch": statistics.median(block_ms) * 600 / 1000,
        "inferenceImages": count,
        "imagesPerSecond": count / statistics.median(runs),
        "inferenceCpuMsPer100": infer_cpu_ms,
    }


def serve(open_session, x, t):
    """Lines `train MODEL K` / `infer MODEL K` on stdin; one JSON line {"cpuMs"} (per step or per
    100 images, process time of all threads) for each. open_session(name, x, t) gives an object
    with train(k) and infer(k), made on the first line that names its model."""
    sessions = {}
    for line in sys.stdin:
        cmd, name, k = line.split()
        if name not in sessions:
            sessions[name] = open_session(name, x, t)
        session = sessions[name]
        c0 = time.process_time()
        (session.train if cmd == "train" else session.infer)(int(k))
        print(json.dumps({"cpuMs": (time.process_time() - c0) * 1000 / int(k)}), flush=True)
