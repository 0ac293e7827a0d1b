import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { IdentityWithLoss } from "./identity-with-loss.js";

describe("IdentityWithLoss", () => {
  it("is ½ Σ (y − t)² per sample, with gradient (y − t) / N", () => {
    const loss = new IdentityWithLoss();
    const y = NDArray.from(
      [
        [1, 2],
        [3, 4],
      ],
      undefined,
      "float64",
    );
    const t = NDArray.from(
      [
        [0, 2],
        [1, 1],
      ],
      undefined,
      "float64",
    );
    // Squared errors 1 + 0 + 4 + 9 = 14; ½·14 / 2 samples = 3.5.
    expect(loss.forward(y, t)).toBe(3.5);
    expect(loss.backward().toArray()).toEqual([
      [0.5, 0],
      [1, 1.5],
    ]);
  });

  it("gradient-checks with a random upstream scalar", () => {
    const rng = new Rng(9);
    const layer = new IdentityWithLoss();
    const y = randomUpstream([3, 4], rng);
    const t = randomUpstream([3, 4], rng);
    const s = rng.normal();
    layer.forward(y, t);
    const dy = layer.backward(s);
    checkGradients(() => s * layer.forward(y, t), [{ name: "y", value: y, grad: dy }]);
  });

  it("names both shapes when y and t differ", () => {
    expect(() => new IdentityWithLoss().forward(NDArray.zeros([2, 3]), NDArray.zeros([3, 2]))).toThrow(
      ShapeError,
    );
    expect(() => new IdentityWithLoss().forward(NDArray.zeros([2, 3]), NDArray.zeros([3, 2]))).toThrow(
      /\(2, 3\).*\(3, 2\)/,
    );
  });
});
