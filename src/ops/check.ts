import { NonFiniteError, ShapeError, assertShapes, formatShape } from "../errors.js";
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

/**
 * The index of the first NaN or ±Infinity in `data`, or −1. Fast when all are finite: v·0 is 0 for
 * every finite v and NaN otherwise, so four running sums of it stay 0 exactly when all are finite.
 */
export function findNonFinite(data: ArrayLike<number>): number {
  const n = data.length;
  const n4 = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n4; i += 4) {
    s0 += data[i] * 0;
    s1 += data[i + 1] * 0;
    s2 += data[i + 2] * 0;
    s3 += data[i + 3] * 0;
  }
  for (let i = n4; i < n; i++) s0 += data[i] * 0;
  if (s0 + s1 + s2 + s3 === 0) return -1;
  for (let i = 0; i < n; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** How many of `data` are NaN or ±Infinity. */
export function countNonFinite(data: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) count++;
  return count;
}

/**
 * Throws a NonFiniteError naming `what` (e.g. "predict: input") and the first sample and element
 * holding a NaN or ±Infinity, unless every value of the batch `x` (N, …) is finite.
 */
export function assertFinite(what: string, x: NDArray): void {
  const i = findNonFinite(x.data);
  if (i < 0) return;
  const n = x.shape[0] ?? 1;
  const perSample = n > 0 ? x.size / n : x.size;
  const sample = Math.floor(i / perSample);
  throw new NonFiniteError(
    `${what} holds ${x.data[i]} (sample ${sample} of ${n}, element ${i - sample * perSample}; ` +
      `${countNonFinite(x.data)} non-finite values in all, shape ${formatShape(x.shape)}): ` +
      `a network computes nothing meaningful from it, so it is refused`,
  );
}
