import { describe, expect, it } from "vitest";
import { crossEntropyError, softmax } from "../functions.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { SoftmaxWithLoss } from "./softmax-with-loss.js";

describe("SoftmaxWithLoss", () => {
  it("equals softmax followed by crossEntropyError (composed vs fused)", () => {
    const rng = new Rng(10);
    const scores = randomUpstream([5, 4], rng);
    const t = Int32Array.from([0, 3, 1, 1, 2]);
    const layer = new SoftmaxWithLoss();
    const loss = layer.forward(scores, t);
    const y = softmax(scores);
    expect(loss).toBeCloseTo(crossEntropyError(y, t), 12);
    assertAllClose(layer.probs.data, y.data, 1e-15, 1e-12, "probs");
  });

  it("has the gradient (y − t) / N", () => {
    const layer = new SoftmaxWithLoss();
    const scores = NDArray.from(
      [
        [0, 0],
        [Math.log(3), 0],
      ],
      undefined,
      "float64",
    );
    // Probabilities: (½, ½) and (¾, ¼).
    const loss = layer.forward(scores, Int32Array.from([0, 1]));
    expect(loss).toBeCloseTo(-(Math.log(0.5 + 1e-7) + Math.log(0.25 + 1e-7)) / 2, 12);
    const dx = layer.backward();
    assertAllClose(dx.data, [(0.5 - 1) / 2, 0.5 / 2, 0.75 / 2, (0.25 - 1) / 2], 1e-12, 0, "dx");
  });

  it("gradient-checks with a random upstream scalar", () => {
    const rng = new Rng(11);
    const layer = new SoftmaxWithLoss();
    const scores = randomUpstream([4, 6], rng);
    const t = Int32Array.from([5, 0, 2, 2]);
    const s = rng.normal();
    layer.forward(scores, t);
    const dx = layer.backward(s);
    checkGradients(() => s * layer.forward(scores, t), [{ name: "scores", value: scores, grad: dx }]);
  });

  it("stays finite for huge scores", () => {
    const loss = new SoftmaxWithLoss().forward(NDArray.from([[1010, 1000, 990]]), Int32Array.from([0]));
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(-Math.log(1 / (1 + Math.exp(-10) + Math.exp(-20)) + 1e-7), 5);
  });

  it("rejects labels that do not fit the scores", () => {
    const layer = new SoftmaxWithLoss();
    expect(() => layer.forward(NDArray.zeros([2, 3]), Int32Array.from([0]))).toThrow(
      /\(2, 3\) need 2 labels, got 1/,
    );
    expect(() => layer.forward(NDArray.zeros([2, 3]), Int32Array.from([0, 3]))).toThrow(
      /label 3 at 1 is outside \[0, 3\)/,
    );
  });
});
