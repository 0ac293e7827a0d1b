import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { assertSameDtype } from "./check.js";

/**
 * The recurrent cells' element-wise work, after the affine a = x·Wx + h·Wh + b. Each writes into
 * arrays the caller owns (views into a layer's per-step storage), so a time loop allocates nothing.
 */

function assertRows(what: string, arrays: Record<string, NDArray>, n: number, cols: Record<string, number>) {
  for (const [name, a] of Object.entries(arrays)) {
    if (a.ndim !== 2 || a.shape[0] !== n || a.shape[1] !== cols[name]) {
      throw new ShapeError(
        `${what}: ${name} is ${formatShape(a.shape)}, expected ${formatShape([n, cols[name]])}`,
      );
    }
  }
  assertSameDtype(what, ...Object.values(arrays));
}

/** RNN cell: hNext = tanh(a), a and hNext (N, H). hNext may alias a. */
export function rnnForward(hNext: NDArray, a: NDArray): void {
  const [n, h] = a.shape;
  assertRows("rnnForward", { hNext, a }, n, { hNext: h, a: h });
  kernels().tanh(hNext.buf, a.buf);
}

/** RNN cell backward: da = dh ⊙ (1 − hNext²). da may alias dh. */
export function rnnBackward(da: NDArray, dh: NDArray, hNext: NDArray): void {
  const [n, h] = hNext.shape;
  assertRows("rnnBackward", { da, dh, hNext }, n, { da: h, dh: h, hNext: h });
  kernels().tanhBackward(da.buf, dh.buf, hNext.buf);
}

/**
 * LSTM cell (the sequel's gate order f, g, i, o): a (N, 4H) → gates (N, 4H) after their
 * nonlinearities, c = f⊙cPrev + g⊙i and hNext = o⊙tanh(c), both (N, H).
 */
export function lstmForward(gates: NDArray, c: NDArray, hNext: NDArray, a: NDArray, cPrev: NDArray): void {
  const [n, h] = cPrev.shape;
  assertRows("lstmForward", { gates, c, hNext, a, cPrev }, n, {
    gates: 4 * h,
    c: h,
    hNext: h,
    a: 4 * h,
    cPrev: h,
  });
  kernels().lstmForward(gates.buf, c.buf, hNext.buf, a.buf, cPrev.buf, n, h);
}

/** LSTM cell backward from dh (of hNext) and dc (of c, from the next step): da (N, 4H), dcPrev (N, H). */
export function lstmBackward(
  da: NDArray,
  dcPrev: NDArray,
  dh: NDArray,
  dc: NDArray,
  gates: NDArray,
  cPrev: NDArray,
  c: NDArray,
): void {
  const [n, h] = cPrev.shape;
  assertRows("lstmBackward", { da, dcPrev, dh, dc, gates, cPrev, c }, n, {
    da: 4 * h,
    dcPrev: h,
    dh: h,
    dc: h,
    gates: 4 * h,
    cPrev: h,
    c: h,
  });
  kernels().lstmBackward(da.buf, dcPrev.buf, dh.buf, dc.buf, gates.buf, cPrev.buf, c.buf, n, h);
}

/** Swaps the first two axes, (A, B, …) → (B, A, …): batch-major ⇄ time-major. A copy. */
export function swapAxes01(x: NDArray): NDArray {
  if (x.ndim < 2) throw new ShapeError(`swapAxes01: expected at least 2 axes, got ${formatShape(x.shape)}`);
  const [a, b, ...rest] = x.shape;
  const out = NDArray.zeros([b, a, ...rest], x.dtype);
  const row = rest.reduce((p, d) => p * d, 1);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      out.data.set(x.data.subarray((i * b + j) * row, (i * b + j + 1) * row), (j * a + i) * row);
    }
  }
  return out;
}

/** Block `i` of the first axis as a view: (A, …) → (…) sharing x's data. */
export function block(x: NDArray, i: number): NDArray {
  const rest = x.shape.slice(1);
  const size = rest.reduce((p, d) => p * d, 1);
  return new NDArray(x.data.subarray(i * size, (i + 1) * size), rest);
}
