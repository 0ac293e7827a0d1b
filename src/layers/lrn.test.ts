import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { LRN } from "./lrn.js";

function randn(shape: number[], rng: Rng): NDArray {
  const a = NDArray.zeros(shape, "float64");
  rng.fillNormal(a.data);
  return a;
}

describe("LRN", () => {
  it("divides by k + α/n·Σ a² over neighbouring channels (hand-worked)", () => {
    // k = 1, n = 3, α = 3 (α/n = 1), β = 1; one pixel with channels a = [1, 2, 3]:
    // s = [1 + 1 + 4, 1 + 1 + 4 + 9, 1 + 4 + 9] = [6, 15, 14]
    const lrn = new LRN({ k: 1, n: 3, alpha: 3, beta: 1 });
    const y = lrn.forward(NDArray.from([1, 2, 3], [1, 3, 1, 1], "float64"), "train");
    assertAllClose(y.data, [1 / 6, 2 / 15, 3 / 14], 1e-15, 0);
  });

  it("uses AlexNet's defaults k = 2, n = 5, α = 1e-4, β = 0.75", () => {
    const lrn = new LRN();
    expect([lrn.k, lrn.n, lrn.alpha, lrn.beta]).toEqual([2, 5, 1e-4, 0.75]);
    const y = lrn.forward(NDArray.from([4], [1, 1, 1, 1], "float64"), "eval");
    expect(y.data[0]).toBeCloseTo(4 / Math.pow(2 + (1e-4 / 5) * 16, 0.75), 14);
  });

  it("passes the gradient check with the defaults", () => {
    const rng = new Rng(5);
    checkLayerGradients(new LRN(), randn([2, 7, 3, 3], rng), rng);
  });

  it("passes the gradient check where the cross-channel term is large", () => {
    // With α = 1e-4 the neighbours' term is tiny; here it is comparable to the direct one.
    const rng = new Rng(6);
    checkLayerGradients(new LRN({ k: 1, n: 3, alpha: 1.5, beta: 0.75 }), randn([2, 5, 2, 3], rng), rng);
    checkLayerGradients(new LRN({ k: 1, n: 5, alpha: 2, beta: 1.2 }), randn([1, 4, 2, 2], rng), rng);
  });

  it("rejects an even window and a non-4-D input", () => {
    expect(() => new LRN({ n: 4 })).toThrow(/n must be an odd integer/);
    expect(() => new LRN().forward(NDArray.zeros([2, 3]), "train")).toThrow(
      /\(N, C, H, W\) input, got \(2, 3\)/,
    );
  });
});
