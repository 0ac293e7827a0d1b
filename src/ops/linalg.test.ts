import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { addBias, matmul, scaleColumns, sumRows, transposeLast2 } from "./linalg.js";

const m = (rows: number[][]) => NDArray.from(rows, undefined, "float64");

describe("linalg ops", () => {
  it("matmul multiplies, with either operand transposed", () => {
    const a = m([
      [1, 2],
      [3, 4],
      [5, 6],
    ]); // (3, 2)
    const b = m([
      [1, 0, 2],
      [0, 1, -1],
    ]); // (2, 3)
    expect(matmul(a, b).toArray()).toEqual([
      [1, 2, 0],
      [3, 4, 2],
      [5, 6, 4],
    ]);
    expect(matmul(a, a, { transA: true }).toArray()).toEqual([
      [35, 44],
      [44, 56],
    ]);
    expect(matmul(a, a, { transB: true }).shape).toEqual([3, 3]);
    // bᵀ·aᵀ = (a·b)ᵀ
    expect(matmul(b, a, { transA: true, transB: true }).toArray()).toEqual(
      transposeLast2(matmul(a, b)).toArray(),
    );
  });

  it("matmul names both shapes when the inner sizes differ", () => {
    const a = NDArray.zeros([2, 3]);
    const b = NDArray.zeros([4, 5]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(/a is \(2, 3\).*b is \(4, 5\)/);
    expect(() => matmul(a, b, { transA: true })).toThrow(/aᵀ is \(3, 2\) \(a \(2, 3\)\)/);
    expect(() => matmul(NDArray.zeros([2]), b)).toThrow(/expected a 2-D array, got \(2,\)/);
  });

  it("addBias, scaleColumns and sumRows work per column", () => {
    const x = m([
      [1, 2],
      [3, 4],
    ]);
    const v = NDArray.from([10, -1], undefined, "float64");
    expect(addBias(x, v).toArray()).toEqual([
      [11, 1],
      [13, 3],
    ]);
    expect(scaleColumns(x, v).toArray()).toEqual([
      [10, -2],
      [30, -4],
    ]);
    expect(sumRows(x).toArray()).toEqual([4, 6]);
    expect(() => addBias(x, NDArray.from([1, 2, 3], undefined, "float64"))).toThrow(
      /x \(2, 2\) needs a vector of 2, got \(3,\)/,
    );
  });

  it("transposeLast2 swaps the last two axes of each batch entry", () => {
    const x = NDArray.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
    expect(transposeLast2(x).toArray()).toEqual([
      [
        [1, 4],
        [2, 5],
        [3, 6],
      ],
      [
        [7, 10],
        [8, 11],
        [9, 12],
      ],
    ]);
  });
});
