import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Sigmoid } from "./sigmoid.js";

describe("Sigmoid", () => {
  it("computes 1 / (1 + e^−x) and its derivative y(1 − y)", () => {
    const s = new Sigmoid();
    const y = s.forward(NDArray.from([0, 1, -1], undefined, "float64"));
    const e = Math.E;
    expect(y.data[0]).toBe(0.5);
    expect(y.data[1]).toBeCloseTo(1 / (1 + 1 / e), 15);
    expect(y.data[2]).toBeCloseTo(1 / (1 + e), 15);
    const dx = s.backward(NDArray.from([1, 2, 4], undefined, "float64"));
    expect(dx.data[0]).toBe(0.25);
    expect(dx.data[1]).toBeCloseTo(2 * y.data[1] * (1 - y.data[1]), 15);
  });

  it("saturates without overflow: −1000 → 0 (not NaN), 1000 → 1", () => {
    const y = new Sigmoid().forward(NDArray.from([-1000, 1000]));
    expect(Array.from(y.data)).toEqual([0, 1]);
  });

  it("gradient-checks", () => {
    const rng = new Rng(2);
    checkLayerGradients(new Sigmoid(), randomUpstream([3, 4], rng), rng);
  });
});
