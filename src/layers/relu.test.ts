import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { checkLayerGradients, randomOffKink } from "../testing/layer-gradcheck.js";
import { Relu } from "./relu.js";

describe("Relu", () => {
  it("passes positives and zeroes the rest, forward and backward", () => {
    const relu = new Relu();
    const x = NDArray.from(
      [
        [1.0, -0.5],
        [-2.0, 3.0],
      ],
      undefined,
      "float64",
    ); // book 5.5.1
    expect(relu.forward(x).toArray()).toEqual([
      [1, 0],
      [0, 3],
    ]);
    const dx = relu.backward(
      NDArray.from(
        [
          [10, 20],
          [30, 40],
        ],
        undefined,
        "float64",
      ),
    );
    expect(dx.toArray()).toEqual([
      [10, 0],
      [0, 40],
    ]);
  });

  it("gradient-checks off the kink", () => {
    const rng = new Rng(1);
    checkLayerGradients(new Relu(), randomOffKink([4, 5], rng), rng);
  });

  it("throws when backward comes before forward", () => {
    expect(() => new Relu().backward(NDArray.zeros([1]))).toThrow(/Relu.backward called before forward/);
  });
});
