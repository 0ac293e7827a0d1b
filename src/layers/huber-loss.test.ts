import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { HuberLoss } from "./huber-loss.js";

const f64 = (values: number[] | number[][]) => NDArray.from(values, undefined, "float64");

describe("HuberLoss", () => {
  it("is ½e² inside ±δ and δ(|e| − ½δ) outside, per sample", () => {
    const loss = new HuberLoss();
    // Errors 0.5, −3 | 2, 0: ½·0.25 + 1·(3 − 0.5) + 1·(2 − 0.5) + 0 = 0.125 + 2.5 + 1.5 = 4.125; / 2 samples.
    const y = f64([
      [1.5, -1],
      [2, 7],
    ]);
    const t = f64([
      [1, 2],
      [0, 7],
    ]);
    expect(loss.forward(y, t)).toBeCloseTo(2.0625, 12);
    // Gradient: e clipped to ±1, / 2.
    expect(loss.backward().toArray()).toEqual([
      [0.25, -0.5],
      [0.5, 0],
    ]);
  });

  it("moves the kink with δ", () => {
    const loss = new HuberLoss({ delta: 2 });
    // One sample, errors 1 and −3: ½·1 + 2·(3 − 1) = 4.5; gradient 1 and −2.
    expect(loss.forward(f64([1, -3]), f64([0, 0]))).toBeCloseTo(4.5, 12);
    expect(loss.backward().toArray()).toEqual([1, -2]);
  });

  it("DQN form: only the taken action's TD error counts", () => {
    const loss = new HuberLoss();
    const q = f64([
      [0.1, 0.9, 0.3],
      [5, -2, 0],
    ]);
    const t = f64([0.4, 1]);
    // Sample 0 took action 1: e = 0.9 − 0.4 = 0.5 → 0.125. Sample 1 took action 0: e = 4 → 3.5.
    expect(loss.forward(q, t, Int32Array.from([1, 0]))).toBeCloseTo((0.125 + 3.5) / 2, 12);
    const dq = loss.backward().toArray() as number[][];
    expect(dq[0][0]).toBe(0);
    expect(dq[0][1]).toBeCloseTo(0.25, 12);
    expect(dq[0][2]).toBe(0);
    expect(dq[1]).toEqual([0.5, 0, 0]);
  });

  it("gradient-checks with a random upstream scalar, elementwise and on taken actions", () => {
    const rng = new Rng(4);
    for (const delta of [1, 0.3]) {
      const layer = new HuberLoss({ delta });
      const y = randomUpstream([4, 3], rng);
      const t = randomUpstream([4, 3], rng);
      for (let k = 0; k < y.size; k++) {
        // Off the kinks at |e| = δ: push errors near ±δ away by 0.05.
        const e = y.data[k] - t.data[k];
        if (Math.abs(Math.abs(e) - delta) < 0.05) y.data[k] += 0.1 * Math.sign(e);
      }
      const s = rng.normal();
      layer.forward(y, t);
      checkGradients(() => s * layer.forward(y, t), [{ name: "y", value: y, grad: layer.backward(s) }]);

      const targets = randomUpstream([4], rng);
      const actions = Int32Array.from([2, 0, 1, 2]);
      for (let i = 0; i < 4; i++) {
        const e = y.data[i * 3 + actions[i]] - targets.data[i];
        if (Math.abs(Math.abs(e) - delta) < 0.05) targets.data[i] -= 0.1 * Math.sign(e);
      }
      layer.forward(y, targets, actions);
      const dq = layer.backward(s);
      checkGradients(() => s * layer.forward(y, targets, actions), [{ name: "q", value: y, grad: dq }]);
    }
  });

  it("names the shapes and the action when they do not fit", () => {
    const loss = new HuberLoss();
    expect(() => loss.forward(NDArray.zeros([2, 3]), NDArray.zeros([3, 2]))).toThrow(ShapeError);
    expect(() => loss.forward(NDArray.zeros([2, 3]), NDArray.zeros([3]), Int32Array.from([0, 1]))).toThrow(
      /q \(2, 3\), t \(3,\), 2 actions/,
    );
    expect(() => loss.forward(NDArray.zeros([2, 3]), NDArray.zeros([2]), Int32Array.from([0, 3]))).toThrow(
      /action 3 of sample 1 is not in \[0, 3\)/,
    );
    expect(() => new HuberLoss({ delta: 0 })).toThrow(/delta/);
    expect(() => new HuberLoss().backward()).toThrow(/before forward/);
  });
});
