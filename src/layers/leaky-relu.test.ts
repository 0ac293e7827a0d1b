import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { checkLayerGradients, randomOffKink } from "../testing/layer-gradcheck.js";
import { LeakyRelu } from "./leaky-relu.js";

const torch = JSON.parse(
  readFileSync(new URL("../../test/fixtures/pytorch-dcgan-layers.json", import.meta.url), "utf8"),
) as { leakyRelu: { x: number[]; alpha: number; y: number[] } };

describe("LeakyRelu", () => {
  it("passes positives and scales the rest by alpha, forward and backward", () => {
    const layer = new LeakyRelu({ alpha: 0.25 });
    const x = NDArray.from([2, -4, 0.5, -0.5], [2, 2], "float64");
    expect(layer.forward(x).toArray()).toEqual([
      [2, -1],
      [0.5, -0.125],
    ]);
    expect(layer.backward(NDArray.from([10, 20, 30, 40], [2, 2], "float64")).toArray()).toEqual([
      [10, 5],
      [30, 10],
    ]);
  });

  it("agrees with PyTorch's leaky_relu", () => {
    const { x, alpha, y } = torch.leakyRelu;
    expect(Array.from(new LeakyRelu({ alpha }).forward(NDArray.from(x, undefined, "float64")).data)).toEqual(
      y,
    );
  });

  it("defaults to PyTorch's and ONNX's slope 0.01 and rejects slopes outside [0, 1)", () => {
    expect(new LeakyRelu().alpha).toBe(0.01);
    expect(() => new LeakyRelu({ alpha: -0.1 })).toThrow(/alpha -0.1 must be in \[0, 1\)/);
    expect(() => new LeakyRelu({ alpha: 1 })).toThrow(/alpha 1/);
  });

  it("gradient-checks off the kink", () => {
    const rng = new Rng(2);
    checkLayerGradients(new LeakyRelu({ alpha: 0.2 }), randomOffKink([3, 2, 2, 3], rng), rng);
  });
});
