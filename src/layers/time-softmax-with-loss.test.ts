import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { SoftmaxWithLoss } from "./softmax-with-loss.js";
import { TimeSoftmaxWithLoss } from "./time-softmax-with-loss.js";

describe("TimeSoftmaxWithLoss", () => {
  const rng = new Rng(1);
  const scores = randomUpstream([2, 3, 4], rng); // (N, T, V)
  const t = Int32Array.from([1, 3, -1, 0, -1, -1]); // the padding comes last in each row

  it("averages the cross-entropy over the labels that count, ignoring padding", () => {
    const layer = new TimeSoftmaxWithLoss();
    const loss = layer.forward(scores, t);
    expect(layer.count).toBe(3);
    // The same three rows through SoftmaxWithLoss.
    const rows = [0, 1, 3];
    const kept = NDArray.zeros([3, 4], "float64");
    rows.forEach((r, i) => kept.data.set(scores.data.subarray(r * 4, r * 4 + 4), i * 4));
    const plain = new SoftmaxWithLoss();
    expect(loss).toBeCloseTo(plain.forward(kept, Int32Array.from([1, 3, 0])), 12);
    const dx = layer.backward();
    expect(dx.shape).toEqual([2, 3, 4]);
    const dPlain = plain.backward();
    rows.forEach((r, i) =>
      assertAllClose(dx.data.subarray(r * 4, r * 4 + 4), dPlain.data.subarray(i * 4, i * 4 + 4), 1e-15, 0),
    );
    for (const r of [2, 4, 5]) expect(Array.from(dx.data.subarray(r * 4, r * 4 + 4))).toEqual([0, 0, 0, 0]);
  });

  it("is gradient-checked on the scores", () => {
    const layer = new TimeSoftmaxWithLoss();
    const x = scores.clone();
    layer.forward(x, t);
    checkGradients(() => layer.forward(x, t), [{ name: "scores", value: x, grad: layer.backward() }]);
  });

  it("takes another ignore label; all-padding gives 0 loss and 0 gradient", () => {
    const layer = new TimeSoftmaxWithLoss({ ignoreLabel: 0 });
    expect(layer.forward(scores, new Int32Array(6))).toBe(0);
    expect(Array.from(layer.backward().data).every((v) => v === 0)).toBe(true);
  });

  it("names labels that do not fit", () => {
    const layer = new TimeSoftmaxWithLoss();
    expect(() => layer.forward(scores, new Int32Array(5))).toThrow(/scores \(2, 3, 4\) need 6 labels, got 5/);
    expect(() => layer.forward(scores, Int32Array.from([0, 4, 0, 0, 0, 0]))).toThrow(
      /label 4 at 1 is outside \[0, 4\) and is not the ignore label -1/,
    );
  });
});
