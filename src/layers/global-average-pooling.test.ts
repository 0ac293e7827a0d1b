import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { GlobalAveragePooling } from "./global-average-pooling.js";

describe("GlobalAveragePooling", () => {
  it("averages each channel's plane and spreads dout / (H·W) back", () => {
    const gap = new GlobalAveragePooling();
    // One sample, two channels of 2×2.
    const x = NDArray.from([1, 2, 3, 6, -1, -1, 0, 10], [1, 2, 2, 2], "float64");
    const y = gap.forward(x, "train");
    expect(y.shape).toEqual([1, 2]);
    expect(Array.from(y.data)).toEqual([3, 2]);
    const dx = gap.backward(NDArray.from([4, -8], [1, 2], "float64"));
    expect(Array.from(dx.data)).toEqual([1, 1, 1, 1, -2, -2, -2, -2]);
  });

  it("is gradient-checked with a random upstream gradient (odd planes, batch 1 and 3)", () => {
    const rng = new Rng(23);
    checkLayerGradients(new GlobalAveragePooling(), randomUpstream([3, 4, 5, 3], rng), rng);
    checkLayerGradients(new GlobalAveragePooling(), randomUpstream([1, 2, 1, 1], rng), rng);
  });

  it("needs (N, C, H, W)", () => {
    expect(() => new GlobalAveragePooling().forward(NDArray.zeros([2, 3]), "eval")).toThrow(/\(N, C, H, W\)/);
  });
});
