import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { SigmoidWithLoss } from "./sigmoid-with-loss.js";

const torch = JSON.parse(
  readFileSync(new URL("../../test/fixtures/pytorch-dcgan-layers.json", import.meta.url), "utf8"),
) as { bce: { x: number[]; t: number[]; loss: number; dx: number[] } };

describe("SigmoidWithLoss", () => {
  it("is the binary cross-entropy of σ(x) per sample, with gradient (σ(x) − t) / N", () => {
    const layer = new SigmoidWithLoss();
    const x = NDArray.from([0, Math.log(3)], [2, 1], "float64"); // σ = 1/2, 3/4
    const t = NDArray.from([1, 0], [2, 1], "float64");
    // (−log ½ − log ¼) / 2 = (log 2 + log 4) / 2 = 1.5·log 2
    expect(layer.forward(x, t)).toBeCloseTo(1.5 * Math.log(2), 14);
    assertAllClose(layer.backward().data, [(0.5 - 1) / 2, 0.75 / 2], 1e-15, 1e-14, "dx");
  });

  it("agrees with PyTorch's binary_cross_entropy_with_logits, at logits up to ±1000", () => {
    const { x, t, loss, dx } = torch.bce;
    const layer = new SigmoidWithLoss();
    const value = layer.forward(
      NDArray.from(x, [x.length, 1], "float64"),
      NDArray.from(t, [t.length, 1], "float64"),
    );
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeCloseTo(loss, 12);
    assertAllClose(layer.backward().data, dx, 1e-15, 1e-12, "dx");
  });

  it("stays exact in float32 where σ then log would give ∞ or lose the loss", () => {
    const layer = new SigmoidWithLoss();
    // A confident mistake costs its logit: log(1 + e^100) = 100 (+ e^-100).
    expect(layer.forward(NDArray.from([100, -100]), new Int32Array([0, 1]))).toBeCloseTo(100, 4);
    expect(Array.from(layer.backward().data)).toEqual([0.5, -0.5]);
  });

  it("gradient-checks with a random upstream scalar and soft targets", () => {
    const rng = new Rng(5);
    const layer = new SigmoidWithLoss();
    const x = randomUpstream([4, 3], rng);
    const t = NDArray.zeros([4, 3], "float64");
    for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform(0, 1);
    const s = rng.normal();
    layer.forward(x, t);
    const dx = layer.backward(s);
    checkGradients(() => s * layer.forward(x, t), [{ name: "x", value: x, grad: dx }]);
  });

  it("names targets that do not fit", () => {
    const layer = new SigmoidWithLoss();
    expect(() => layer.forward(NDArray.zeros([2, 1]), NDArray.zeros([2]))).toThrow(ShapeError);
    expect(() => layer.forward(NDArray.zeros([2, 1]), new Int32Array(3))).toThrow(
      /targets 3 labels do not match the logits \(2, 1\)/,
    );
    expect(() => layer.forward(NDArray.zeros([2, 1]), new Int32Array([0, 2]))).toThrow(
      /target 2 at 1 is outside \[0, 1\]/,
    );
    expect(() => layer.backward()).toThrow(/before forward/);
  });
});
