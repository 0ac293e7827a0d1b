import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Affine } from "./affine.js";
import { TimeAffine } from "./time-affine.js";

describe("TimeAffine", () => {
  it.each([1, 4])("is gradient-checked over (N, T = %i, D) with random dout", (T) => {
    const rng = new Rng(T);
    const layer = new TimeAffine(randomUpstream([3, 5], rng), randomUpstream([5], rng));
    const reports = checkLayerGradients(layer, randomUpstream([2, T, 3], rng), rng);
    expect(reports.map((r) => r.name)).toEqual(["x", "W", "b"]);
  });

  it("is Affine at every step", () => {
    const rng = new Rng(9);
    const [W, b] = [randomUpstream([3, 2], rng), randomUpstream([2], rng)];
    const x = randomUpstream([2, 4, 3], rng);
    const y = new TimeAffine(W, b).forward(x);
    expect(y.shape).toEqual([2, 4, 2]);
    const step = new Affine(W, b).forward(x.reshape(8, 3));
    assertAllClose(y.data, step.data, 0, 0);
  });

  it("names the input that does not fit", () => {
    const layer = new TimeAffine(NDArray.zeros([3, 2]), NDArray.zeros([2]));
    expect(() => layer.forward(NDArray.zeros([2, 4, 5]))).toThrow(/expected input \(…, 3\), got \(2, 4, 5\)/);
  });
});
