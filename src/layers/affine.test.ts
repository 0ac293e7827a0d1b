import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Affine } from "./affine.js";

function randomAffine(inputs: number, outputs: number, rng: Rng): Affine {
  return new Affine(randomUpstream([inputs, outputs], rng), randomUpstream([outputs], rng));
}

describe("Affine", () => {
  it("computes x·W + b and its gradients by hand", () => {
    const W = NDArray.from(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      undefined,
      "float64",
    );
    const b = NDArray.from([0.5, -1, 2], undefined, "float64");
    const affine = new Affine(W, b);
    const x = NDArray.from(
      [
        [1, 0],
        [2, -1],
      ],
      undefined,
      "float64",
    );
    // Row 1: (1, 2, 3) + b; row 2: 2·(1, 2, 3) − (4, 5, 6) + b = (−2, −1, 0) + b.
    expect(affine.forward(x).toArray()).toEqual([
      [1.5, 1, 5],
      [-1.5, -2, 2],
    ]);
    const dout = NDArray.from(
      [
        [1, 0, 0],
        [0, 1, 1],
      ],
      undefined,
      "float64",
    );
    const dx = affine.backward(dout);
    expect(dx.toArray()).toEqual([
      [1, 4],
      [5, 11],
    ]); // dout·Wᵀ
    expect(affine.W.grad?.toArray()).toEqual([
      [1, 2, 2],
      [0, -1, -1],
    ]); // xᵀ·dout
    expect(affine.b.grad?.toArray()).toEqual([1, 1, 1]);
  });

  it("gradient-checks on x, W and b", () => {
    const rng = new Rng(6);
    checkLayerGradients(randomAffine(5, 3, rng), randomUpstream([4, 5], rng), rng);
  });

  it("flattens N-D input and returns dx in the input's shape", () => {
    const rng = new Rng(7);
    const affine = randomAffine(2 * 3 * 2, 4, rng);
    const x = randomUpstream([3, 2, 3, 2], rng);
    expect(affine.forward(x).shape).toEqual([3, 4]);
    const reports = checkLayerGradients(affine, x, rng);
    expect(reports.map((r) => r.name)).toEqual(["x", "W", "b"]);
  });

  it("names both shapes when the input width does not fit W", () => {
    const affine = randomAffine(4, 3, new Rng(8));
    const forward = () => affine.forward(NDArray.zeros([2, 5], "float64"));
    expect(forward).toThrow(ShapeError);
    expect(forward).toThrow(/input \(2, 5\).*W \(4, 3\)/);
    expect(() => new Affine(NDArray.zeros([4, 3]), NDArray.zeros([4]))).toThrow(/W \(4, 3\).*\(4,\)/);
  });
});
