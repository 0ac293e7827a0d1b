import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose } from "../testing/gradcheck.js";
import { DeepConvNet } from "./deep-conv-net.js";
import { toFullyConvolutional } from "./fcn.js";
import { SimpleConvNet } from "./simple-conv-net.js";

function randn(shape: number[], rng: Rng, dtype: "float32" | "float64" = "float32"): NDArray {
  const a = NDArray.zeros(shape, dtype);
  rng.fillNormal(a.data);
  return a;
}

/** The crop of x (N, C, H, W) at (y, x) of size h×w. */
function crop(x: NDArray, y0: number, x0: number, h: number, w: number): NDArray {
  const [n, c, H, W] = x.shape;
  const out = NDArray.zeros([n, c, h, w], x.dtype);
  for (let i = 0; i < n * c; i++) {
    for (let y = 0; y < h; y++) {
      for (let x1 = 0; x1 < w; x1++) out.data[(i * h + y) * w + x1] = x.data[(i * H + y + y0) * W + x1 + x0];
    }
  }
  return out;
}

describe("toFullyConvolutional (book §8.4.2)", () => {
  it("turns SimpleConvNet's Affine layers into convolutions with equal outputs on 28×28 (float rounding)", () => {
    const net = new SimpleConvNet({ weightInitStd: 0.1 }, new Rng(1));
    const fcn = toFullyConvolutional(net);
    const arch = fcn.architecture();
    // Affine on the 30×12×12 pooled map → a convolution of 100 filters of 30×12×12; then 1×1.
    expect(arch.nodes.map((n) => n.type)).toEqual([
      "convolution",
      "relu",
      "pooling",
      "convolution",
      "relu",
      "convolution",
    ]);
    expect(arch.nodes[3]).toMatchObject({ name: "affine1", filters: 100, fh: 12, fw: 12 });
    expect(arch.nodes[5]).toMatchObject({ name: "affine2", filters: 10, fh: 1, fw: 1 });
    const x = randn([3, 1, 28, 28], new Rng(2));
    const scores = net.predict(x);
    const map = fcn.predict(x);
    expect(map.shape).toEqual([3, 10, 1, 1]);
    assertAllClose(map.data, scores.data, 1e-5, 1e-4, "scores");
  });

  it("on a larger image gives the original network's scores for every window, in one pass", () => {
    const rng = new Rng(3);
    const net = new SimpleConvNet({ weightInitStd: 0.1 }, rng, "float64");
    const fcn = toFullyConvolutional(net, [1, 36, 40]);
    const x = randn([2, 1, 36, 40], rng, "float64");
    const map = fcn.predict(x); // windows every 2 pixels (the pooling's stride)
    expect(map.shape).toEqual([2, 10, 5, 7]);
    for (const [i, j] of [
      [0, 0],
      [2, 3],
      [4, 6],
    ]) {
      const window = net.predict(crop(x, 2 * i, 2 * j, 28, 28)); // (2, 10)
      for (let n = 0; n < 2; n++) {
        for (let k = 0; k < 10; k++) {
          expect(map.data[((n * 10 + k) * 5 + i) * 7 + j]).toBeCloseTo(window.data[n * 10 + k], 10);
        }
      }
    }
  });

  it("converts DeepConvNet (padding, dropout, two Affine layers) with equal outputs", () => {
    const net = new DeepConvNet({}, new Rng(4));
    const fcn = toFullyConvolutional(net);
    const x = randn([2, 1, 28, 28], new Rng(5));
    assertAllClose(fcn.predict(x).data, net.predict(x).data, 1e-5, 1e-4, "scores");
    expect(fcn.lossLayer).toBeNull();
  });
});
