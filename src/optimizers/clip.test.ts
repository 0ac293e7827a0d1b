import { describe, expect, it } from "vitest";
import { param } from "../layers/layer.js";
import { NDArray } from "../ndarray.js";
import { clipGrads } from "./clip.js";

function withGrad(values: number[]) {
  const p = param("W", NDArray.zeros([values.length], "float64"));
  p.grad = NDArray.from(values, undefined, "float64");
  return p;
}

describe("clipGrads (by global norm)", () => {
  it("scales every gradient by maxNorm / ‖g‖ when the norm over all of them is larger", () => {
    // ‖g‖ = √(3² + 4² + 12²) = 13 over two params.
    const [a, b] = [withGrad([3, 4]), withGrad([12])];
    expect(clipGrads([a, b], 6.5)).toBeCloseTo(13, 12);
    const rate = 6.5 / (13 + 1e-6);
    expect(Array.from(a.grad!.data)).toEqual([3 * rate, 4 * rate]);
    expect(b.grad!.data[0]).toBeCloseTo(12 * rate, 14);
  });

  it("leaves gradients within the norm alone", () => {
    const p = withGrad([3, 4]);
    expect(clipGrads([p], 5.1)).toBeCloseTo(5, 12);
    expect(Array.from(p.grad!.data)).toEqual([3, 4]);
  });

  it("rejects a bad norm and params without gradients", () => {
    expect(() => clipGrads([withGrad([1])], 0)).toThrow(/maxNorm must be a finite number > 0, got 0/);
    expect(() => clipGrads([param("W", NDArray.zeros([2]))], 1)).toThrow(/has no gradient/);
  });
});
