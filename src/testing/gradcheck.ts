import { NDArray } from "../ndarray.js";
import type { Rng } from "../rng.js";

/**
 * Central-difference numerical gradient of a scalar function of `x` (changed in place and
 * restored). Use float64 arrays: float32 round-off swamps the difference quotient.
 */
export function numericalGradient(f: () => number, x: NDArray, h = 1e-4): NDArray {
  const grad = NDArray.zeros(x.shape, x.dtype);
  for (let i = 0; i < x.size; i++) {
    const saved = x.data[i];
    x.data[i] = saved + h;
    const fPlus = f();
    x.data[i] = saved - h;
    const fMinus = f();
    x.data[i] = saved;
    grad.data[i] = (fPlus - fMinus) / (2 * h);
  }
  return grad;
}

export interface CloseReport {
  ok: boolean;
  /** Largest |a − e| − (atol + rtol·|e|) over all elements (≤ 0 when ok). */
  worstExcess: number;
  worstIndex: number;
  actual: number;
  expected: number;
}

/** Element-wise |actual − expected| ≤ atol + rtol·|expected|, with the worst element reported. */
export function compareClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
): CloseReport {
  if (actual.length !== expected.length) {
    throw new RangeError(`compareClose: ${actual.length} values vs ${expected.length} expected`);
  }
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    // NaN never passes.
    if (Number.isNaN(excess) || excess > worst) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      at = i;
    }
  }
  return {
    ok: actual.length === 0 || worst <= 0,
    worstExcess: worst,
    worstIndex: at,
    actual: at >= 0 ? actual[at] : NaN,
    expected: at >= 0 ? expected[at] : NaN,
  };
}

/** Throws with the worst element when the arrays are not close. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
  what = "values",
): void {
  const r = compareClose(actual, expected, atol, rtol);
  if (!r.ok) {
    throw new Error(
      `${what} differ at index ${r.worstIndex}: got ${r.actual}, expected ${r.expected} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** A seeded random upstream gradient: scalarize L = Σ y ⊙ dy (never Σ y; see DESIGN.md). */
export function randomUpstream(shape: readonly number[], rng: Rng): NDArray {
  const dy = NDArray.zeros(shape, "float64");
  rng.fillNormal(dy.data);
  return dy;
}

export function dot(a: NDArray, b: NDArray): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i] * b.data[i];
  return s;
}
