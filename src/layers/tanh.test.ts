import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Tanh } from "./tanh.js";

describe("Tanh", () => {
  it("computes tanh and its derivative 1 − y²", () => {
    const t = new Tanh();
    const y = t.forward(NDArray.from([0, 0.5, -2], undefined, "float64"));
    // tanh(0.5) = (e − 1)/(e + 1) with e = e^1.
    expect(y.data[1]).toBeCloseTo((Math.E - 1) / (Math.E + 1), 15);
    expect(y.data[2]).toBeCloseTo(-(Math.exp(4) - 1) / (Math.exp(4) + 1), 15);
    const dx = t.backward(NDArray.from([3, 1, 1], undefined, "float64"));
    expect(dx.data[0]).toBe(3);
    expect(dx.data[1]).toBeCloseTo(1 - y.data[1] ** 2, 15);
  });

  it("gradient-checks", () => {
    const rng = new Rng(3);
    checkLayerGradients(new Tanh(), randomUpstream([2, 6], rng), rng);
  });
});
