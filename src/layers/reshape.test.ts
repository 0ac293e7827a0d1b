import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Reshape } from "./reshape.js";

describe("Reshape", () => {
  it("views each sample in the given shape and reshapes dout back", () => {
    const layer = new Reshape([2, 1, 3]);
    const x = NDArray.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [2, 6]);
    const y = layer.forward(x);
    expect(y.shape).toEqual([2, 2, 1, 3]);
    expect(y.get(1, 1, 0, 2)).toBe(11);
    expect(layer.backward(y).shape).toEqual([2, 6]);
  });

  it("gradient-checks", () => {
    const rng = new Rng(1);
    checkLayerGradients(new Reshape([3, 2]), randomUpstream([4, 6], rng), rng);
  });

  it("handles an empty batch and names a sample that does not fit", () => {
    expect(new Reshape([2, 3]).forward(NDArray.zeros([0, 6])).shape).toEqual([0, 2, 3]);
    expect(() => new Reshape([2, 3]).forward(NDArray.zeros([4, 5]))).toThrow(
      /input \(4, 5\) does not hold \(N, 2, 3\) samples of 6 values/,
    );
    expect(() => new Reshape([2, 0])).toThrow(/positive integers/);
  });
});
