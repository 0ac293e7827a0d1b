import { ShapeError, assertShapes, formatShape } from "../errors.js";
import type { NDArray } from "../ndarray.js";

/** Kernels take one element type per call: mixing float32 and float64 is an error, not a cast. */
export function assertSameDtype(what: string, ...arrays: NDArray[]): void {
  const first = arrays[0];
  for (const a of arrays) {
    if (a.dtype !== first.dtype) {
      throw new TypeError(
        `${what}: mixed dtypes ${first.dtype} ${formatShape(first.shape)} and ${a.dtype} ${formatShape(a.shape)}`,
      );
    }
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Element-wise ops need equal shapes (no broadcasting: say what you mean with addBias etc.). */
export function assertSameShape(what: string, a: NDArray, b: NDArray): void {
  assertShapes(sameShape(a.shape, b.shape), `${what}: shapes differ`, a.shape, b.shape, "x", "y");
  assertSameDtype(what, a, b);
}

export function assertMatrix(what: string, a: NDArray): void {
  if (a.ndim !== 2) throw new ShapeError(`${what}: expected a 2-D array, got ${formatShape(a.shape)}`);
}
