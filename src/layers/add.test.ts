import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkMergeLayerGradients } from "../testing/layer-gradcheck.js";
import { Add } from "./add.js";

describe("Add (tensor sum of a skip connection)", () => {
  it("adds element-wise and hands dout to every input", () => {
    const add = new Add();
    const a = NDArray.from([1, 2, 3, 4], [2, 2], "float64");
    const b = NDArray.from([10, 20, 30, 40], [2, 2], "float64");
    const c = NDArray.from([0.5, 0.5, -1, -1], [2, 2], "float64");
    expect(Array.from(add.forward([a, b, c], "train").data)).toEqual([11.5, 22.5, 32, 43]);
    const dout = NDArray.from([1, -2, 3, -4], [2, 2], "float64");
    const dxs = add.backward(dout);
    expect(dxs).toHaveLength(3);
    for (const dx of dxs) expect(Array.from(dx.data)).toEqual([1, -2, 3, -4]);
  });

  it("is gradient-checked on every input with a random upstream gradient", () => {
    const rng = new Rng(21);
    const xs = [0, 1, 2].map(() => randomUpstream([2, 3, 4, 5], rng));
    checkMergeLayerGradients(new Add(), xs, rng);
  });

  it("refuses inputs of different shapes, naming both", () => {
    const add = new Add();
    expect(() => add.forward([NDArray.zeros([2, 3]), NDArray.zeros([2, 4])], "eval")).toThrow(
      /Add: input 1 has shape \(2, 4\), input 0 has \(2, 3\)/,
    );
    expect(() => add.forward([NDArray.zeros([2, 3])], "eval")).toThrow(/at least 2 inputs/);
  });
});
