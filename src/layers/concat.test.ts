import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkMergeLayerGradients } from "../testing/layer-gradcheck.js";
import { Concat } from "./concat.js";

describe("Concat (channel axis)", () => {
  it("stacks channels per sample and cuts dout back into the inputs' channels", () => {
    const concat = new Concat();
    // Two samples; a has 1 channel of 1×2, b has 2 channels of 1×2.
    const a = NDArray.from([1, 2, 3, 4], [2, 1, 1, 2], "float64");
    const b = NDArray.from([10, 11, 12, 13, 20, 21, 22, 23], [2, 2, 1, 2], "float64");
    const y = concat.forward([a, b], "train");
    expect(y.shape).toEqual([2, 3, 1, 2]);
    expect(Array.from(y.data)).toEqual([1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23]);
    const [da, db] = concat.backward(y);
    expect(Array.from(da.data)).toEqual(Array.from(a.data));
    expect(Array.from(db.data)).toEqual(Array.from(b.data));
  });

  it("is gradient-checked on 4-D and 2-D inputs with a random upstream gradient", () => {
    const rng = new Rng(22);
    const xs = [1, 3, 2].map((c) => randomUpstream([3, c, 4, 5], rng));
    checkMergeLayerGradients(new Concat(), xs, rng);
    checkMergeLayerGradients(new Concat(), [randomUpstream([2, 3], rng), randomUpstream([2, 5], rng)], rng);
  });

  it("refuses inputs that differ on an axis other than channels", () => {
    expect(() =>
      new Concat().forward([NDArray.zeros([2, 3, 4, 4]), NDArray.zeros([2, 3, 4, 5])], "eval"),
    ).toThrow(/Concat: input 1 has shape \(2, 3, 4, 5\), input 0 has \(2, 3, 4, 4\); all axes but 1/);
  });
});
