import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { BatchNormalization } from "./batch-normalization.js";

function randomBatchNorm(features: number, rng: Rng): BatchNormalization {
  const gamma = randomUpstream([features], rng);
  const beta = randomUpstream([features], rng);
  return new BatchNormalization(gamma, beta);
}

/** Mean and (biased) variance of the values at the given flat indices. */
function stats(a: NDArray, indices: number[]): { mean: number; variance: number } {
  const mean = indices.reduce((s, i) => s + a.data[i], 0) / indices.length;
  const variance = indices.reduce((s, i) => s + (a.data[i] - mean) ** 2, 0) / indices.length;
  return { mean, variance };
}

describe("BatchNormalization, 2-D (the book's per-activation form)", () => {
  it("normalizes each column to mean 0, variance 1 before γ and β", () => {
    const bn = new BatchNormalization(NDArray.full([2], 1, "float64"), NDArray.zeros([2], "float64"));
    const x = NDArray.from(
      [
        [1, 10],
        [3, 20],
        [5, 60],
      ],
      undefined,
      "float64",
    );
    const y = bn.forward(x, "train");
    // Column 0: mean 3, variance 8/3.
    expect(y.get(0, 0)).toBeCloseTo(-2 / Math.sqrt(8 / 3 + 1e-6), 12);
    for (const col of [0, 1]) {
      const s = stats(y, [col, col + 2, col + 4]);
      expect(s.mean).toBeCloseTo(0, 12);
      expect(s.variance).toBeCloseTo(1, 5);
    }
  });

  it("applies γ and β per feature", () => {
    const bn = new BatchNormalization(
      NDArray.from([2, 3], undefined, "float64"),
      NDArray.from([1, -1], undefined, "float64"),
    );
    const y = bn.forward(
      NDArray.from(
        [
          [0, 0],
          [2, 4],
        ],
        undefined,
        "float64",
      ),
      "train",
    );
    // Column 0: mean 1, variance 1; column 1: mean 2, variance 4.
    const n0 = 1 / Math.sqrt(1 + 1e-6);
    const n1 = 2 / Math.sqrt(4 + 1e-6);
    assertAllClose(y.data, [1 - 2 * n0, -1 - 3 * n1, 1 + 2 * n0, -1 + 3 * n1], 1e-12, 0, "y");
  });

  it("keeps running statistics with momentum 0.9 and uses them in eval", () => {
    const bn = new BatchNormalization(NDArray.full([1], 1, "float64"), NDArray.zeros([1], "float64"));
    bn.forward(NDArray.from([[2], [4]], undefined, "float64"), "train"); // mean 3, variance 1
    expect(bn.runningMean.data[0]).toBeCloseTo(0.3, 15);
    expect(bn.runningVar.data[0]).toBeCloseTo(0.1, 15);
    bn.forward(NDArray.from([[2], [4]], undefined, "float64"), "train");
    expect(bn.runningMean.data[0]).toBeCloseTo(0.9 * 0.3 + 0.3, 15);
    const y = bn.forward(NDArray.from([[1]], undefined, "float64"), "eval");
    expect(y.data[0]).toBeCloseTo((1 - 0.57) / Math.sqrt(0.19 + 1e-6), 12);
  });

  it("gradient-checks in train mode (x, gamma, beta)", () => {
    const rng = new Rng(17);
    const reports = checkLayerGradients(randomBatchNorm(4, rng), randomUpstream([5, 4], rng), rng);
    expect(reports.map((r) => r.name)).toEqual(["x", "gamma", "beta"]);
  });

  it("gradient-checks in eval mode", () => {
    const rng = new Rng(18);
    const bn = randomBatchNorm(3, rng);
    for (let i = 0; i < 3; i++) bn.forward(randomUpstream([6, 3], rng), "train");
    checkLayerGradients(bn, randomUpstream([4, 3], rng), rng, { mode: "eval" });
  });
});

describe("BatchNormalization, 4-D (per channel)", () => {
  it("normalizes each channel over N·H·W", () => {
    const rng = new Rng(19);
    const bn = new BatchNormalization(NDArray.full([3], 1, "float64"), NDArray.zeros([3], "float64"));
    const x = randomUpstream([2, 3, 2, 2], rng);
    const y = bn.forward(x, "train");
    expect(y.shape).toEqual([2, 3, 2, 2]);
    for (let c = 0; c < 3; c++) {
      const indices = [0, 1].flatMap((n) => [0, 1, 2, 3].map((p) => (n * 3 + c) * 4 + p));
      const s = stats(y, indices);
      expect(s.mean).toBeCloseTo(0, 12);
      expect(s.variance).toBeCloseTo(1, 4);
    }
  });

  it("gradient-checks in train mode (x, gamma, beta)", () => {
    const rng = new Rng(20);
    checkLayerGradients(randomBatchNorm(3, rng), randomUpstream([2, 3, 2, 3], rng), rng);
  });

  it("names the shapes when the input does not fit gamma", () => {
    const bn = randomBatchNorm(3, new Rng(21));
    expect(() => bn.forward(NDArray.zeros([2, 4], "float64"))).toThrow(
      /expected \(N, 3\) or \(N, 3, H, W\) for gamma \(3,\), got \(2, 4\)/,
    );
  });
});

describe("BatchNormalization against the book's step-by-step backward", () => {
  /** The book's `BatchNormalization._forward`/`_backward` for (N, D), line by line, in plain loops. */
  function bookBackward(x: number[][], gamma: number[], dout: number[][], eps: number) {
    const N = x.length;
    const D = gamma.length;
    const col = (a: number[][], j: number) => a.map((r) => r[j]);
    const sum = (v: number[]) => v.reduce((s, t) => s + t, 0);
    const mu = gamma.map((_, j) => sum(col(x, j)) / N);
    const xc = x.map((r) => r.map((v, j) => v - mu[j]));
    const std = gamma.map((_, j) => Math.sqrt(sum(col(xc, j).map((v) => v * v)) / N + eps));
    const xn = xc.map((r) => r.map((v, j) => v / std[j]));
    const dbeta = gamma.map((_, j) => sum(col(dout, j)));
    const dgamma = gamma.map((_, j) => sum(xn.map((r, i) => r[j] * dout[i][j])));
    const dxn = dout.map((r) => r.map((v, j) => gamma[j] * v));
    const dxc = dxn.map((r) => r.map((v, j) => v / std[j]));
    const dstd = gamma.map((_, j) => -sum(dxn.map((r, i) => (r[j] * xc[i][j]) / (std[j] * std[j]))));
    const dvar = dstd.map((v, j) => (0.5 * v) / std[j]);
    for (let i = 0; i < N; i++) for (let j = 0; j < D; j++) dxc[i][j] += (2 / N) * xc[i][j] * dvar[j];
    const dmu = gamma.map((_, j) => sum(col(dxc, j)));
    const dx = dxc.map((r) => r.map((v, j) => v - dmu[j] / N));
    return { dx, dgamma, dbeta };
  }

  it("gives the book's dx, dγ and dβ", () => {
    const rng = new Rng(22);
    const gamma = randomUpstream([3], rng);
    const bn = new BatchNormalization(gamma, randomUpstream([3], rng));
    const x = randomUpstream([5, 3], rng);
    const dout = randomUpstream([5, 3], rng);
    bn.forward(x, "train");
    const dx = bn.backward(dout);
    const book = bookBackward(
      x.toArray() as number[][],
      Array.from(gamma.data),
      dout.toArray() as number[][],
      1e-6,
    );
    assertAllClose(dx.data, book.dx.flat(), 1e-12, 1e-10, "dx");
    assertAllClose(bn.gamma.grad!.data, book.dgamma, 1e-12, 1e-10, "dgamma");
    assertAllClose(bn.beta.grad!.data, book.dbeta, 1e-12, 1e-10, "dbeta");
  });

  it("gradient-checks 4-D input in eval mode, and leaves dout alone", () => {
    const rng = new Rng(23);
    const bn = randomBatchNorm(3, rng);
    for (let i = 0; i < 2; i++) bn.forward(randomUpstream([3, 3, 2, 3], rng), "train");
    checkLayerGradients(bn, randomUpstream([2, 3, 3, 1], rng), rng, { mode: "eval" });
  });

  it("forwardRelu equals forward then ReLU", () => {
    const rng = new Rng(24);
    const bn = randomBatchNorm(4, rng);
    const x = randomUpstream([2, 4, 3, 3], rng);
    const y = bn.forward(x, "train");
    const yr = bn.forwardRelu(x, "train", true);
    expect(Array.from(yr.data)).toEqual(Array.from(y.data).map((v) => (v > 0 ? v : 0)));
  });
});
