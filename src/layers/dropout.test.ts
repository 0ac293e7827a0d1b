import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Dropout } from "./dropout.js";

const mask = NDArray.from([
  [1, 0, 1],
  [0, 1, 1],
]);
const x = () =>
  NDArray.from(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    undefined,
    "float64",
  );

describe("Dropout (the book's form)", () => {
  it("drops masked units in training and scales by (1 − ratio) at test", () => {
    const d = new Dropout(new Rng(12), { ratio: 0.25 });
    d.fixMask(mask);
    expect(d.forward(x(), "train").toArray()).toEqual([
      [1, 0, 3],
      [0, 5, 6],
    ]);
    expect(d.backward(NDArray.full([2, 3], 2, "float64")).toArray()).toEqual([
      [2, 0, 2],
      [0, 2, 2],
    ]);
    expect(d.forward(x(), "eval").toArray()).toEqual([
      [0.75, 1.5, 2.25],
      [3, 3.75, 4.5],
    ]);
    expect(d.backward(NDArray.full([2, 3], 2, "float64")).data.every((v) => v === 1.5)).toBe(true);
  });

  it("gradient-checks with a fixed mask", () => {
    const rng = new Rng(13);
    const d = new Dropout(rng, { ratio: 0.5 });
    d.fixMask(mask);
    checkLayerGradients(d, randomUpstream([2, 3], rng), rng);
  });

  it("keeps about (1 − ratio) of the units, reproducibly from the seed", () => {
    const ones = NDArray.full([100, 100], 1);
    const y = new Dropout(new Rng(14), { ratio: 0.3 }).forward(ones, "train");
    const kept = Array.from(y.data).reduce((s, v) => s + v, 0) / y.size;
    expect(kept).toBeGreaterThan(0.68);
    expect(kept).toBeLessThan(0.72);
    expect(new Dropout(new Rng(14), { ratio: 0.3 }).forward(ones, "train").data).toEqual(y.data);
  });

  it("rejects a ratio outside [0, 1) and a mask that does not fit", () => {
    expect(() => new Dropout(new Rng(0), { ratio: 1 })).toThrow(/ratio must be in \[0, 1\), got 1/);
    const d = new Dropout(new Rng(0));
    d.fixMask(NDArray.zeros([3]));
    expect(() => d.forward(x())).toThrow(/mask \(3,\), x \(2, 3\)/);
  });
});

describe("Dropout (inverted)", () => {
  it("scales kept units by 1 / (1 − ratio) in training and is the identity at test", () => {
    const d = new Dropout(new Rng(15), { ratio: 0.5, inverted: true });
    d.fixMask(mask);
    expect(d.forward(x(), "train").toArray()).toEqual([
      [2, 0, 6],
      [0, 10, 12],
    ]);
    expect(d.backward(NDArray.full([2, 3], 1, "float64")).toArray()).toEqual([
      [2, 0, 2],
      [0, 2, 2],
    ]);
    expect(d.forward(x(), "eval").toArray()).toEqual(x().toArray());
  });

  it("gradient-checks with a fixed mask", () => {
    const rng = new Rng(16);
    const d = new Dropout(rng, { ratio: 0.2, inverted: true });
    d.fixMask(mask);
    checkLayerGradients(d, randomUpstream([2, 3], rng), rng);
  });
});
