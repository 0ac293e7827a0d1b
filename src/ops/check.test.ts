import { describe, expect, it } from "vitest";
import { NonFiniteError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { assertFinite, countNonFinite, findNonFinite } from "./check.js";

describe("non-finite checks", () => {
  it("find the first NaN or ±Infinity anywhere, including the tail past a multiple of 4", () => {
    for (const n of [0, 1, 3, 4, 5, 17, 64, 65]) {
      const a = new Float32Array(n).map((_, i) => i - n / 2);
      expect(findNonFinite(a)).toBe(-1);
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, n - 1, Math.floor(n / 2)].filter((i) => i >= 0 && i < n)) {
          const b = a.slice();
          b[at] = bad;
          expect(findNonFinite(b), `n ${n}, ${bad} at ${at}`).toBe(at);
        }
      }
    }
    // Huge finite values are finite (their ·0 is 0, not an overflow).
    expect(findNonFinite(Float64Array.from([1e308, -1e308, 3.4e38]))).toBe(-1);
    expect(countNonFinite([NaN, 1, Infinity, -Infinity])).toBe(3);
  });

  it("assertFinite names the batch's sample and element", () => {
    const x = NDArray.zeros([2, 3, 2]);
    x.data[8] = NaN;
    expect(() => assertFinite("the input", x)).toThrow(NonFiniteError);
    expect(() => assertFinite("the input", x)).toThrow(
      "the input holds NaN (sample 1 of 2, element 2; 1 non-finite values in all, shape (2, 3, 2))",
    );
    x.data[8] = 0;
    expect(() => assertFinite("the input", x)).not.toThrow();
  });
});
