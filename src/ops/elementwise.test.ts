import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { add, axpby, mul, relu, reluBackward, scale, sub } from "./elementwise.js";

const v = (values: number[]) => NDArray.from(values, undefined, "float64");

describe("element-wise ops", () => {
  it("compute new arrays and leave their inputs alone", () => {
    const x = v([1, -2, 3]);
    const y = v([4, 5, -6]);
    expect(Array.from(add(x, y).data)).toEqual([5, 3, -3]);
    expect(Array.from(sub(x, y).data)).toEqual([-3, -7, 9]);
    expect(Array.from(mul(x, y).data)).toEqual([4, -10, -18]);
    expect(Array.from(scale(x, 2).data)).toEqual([2, -4, 6]);
    expect(Array.from(axpby(2, x, -1, y).data)).toEqual([-2, -9, 12]);
    expect(Array.from(relu(x).data)).toEqual([1, 0, 3]);
    expect(Array.from(reluBackward(y, x).data)).toEqual([4, 0, -6]);
    expect(Array.from(x.data)).toEqual([1, -2, 3]);
  });

  it("name both shapes when they differ, and refuse mixed precision", () => {
    expect(() => add(v([1, 2]), NDArray.zeros([2, 1], "float64"))).toThrow(
      /add: shapes differ: x \(2,\), y \(2, 1\)/,
    );
    expect(() => mul(v([1, 2]), NDArray.zeros([2]))).toThrow(
      /mixed dtypes float64 \(2,\) and float32 \(2,\)/,
    );
  });
});
