import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, shapeSize } from "../ndarray.js";
import { assertSameDtype, sameShape } from "./check.js";

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
  const row = shapeSize(rest);
  // One strided copy per index of the shorter axis: out[j, i] = x[i, j], rows of `row` values.
  if (a <= b) {
    for (let i = 0; i < a; i++)
      kernels().copyBlocks(out.buf, x.buf, b, row, a * row, i * row, row, i * b * row);
  } else {
    for (let j = 0; j < b; j++)
      kernels().copyBlocks(out.buf, x.buf, a, row, row, j * a * row, b * row, j * row);
  }
  return out;
}

/** Step t of a batch-major sequence x (N, T, …): (N, …), a copy. */
export function timeStep(x: NDArray, t: number): NDArray {
  const [n, steps, ...rest] = x.shape;
  if (x.ndim < 2 || !(t >= 0 && t < steps)) {
    throw new ShapeError(`timeStep: no step ${t} in ${formatShape(x.shape)}`);
  }
  const row = shapeSize(rest);
  const out = NDArray.zeros([n, ...rest], x.dtype);
  kernels().copyBlocks(out.buf, x.buf, n, row, row, 0, steps * row, t * row);
  return out;
}

/** Writes v (N, …) as step t of the batch-major sequence out (N, T, …). */
export function setTimeStep(out: NDArray, t: number, v: NDArray): void {
  const [n, steps, ...rest] = out.shape;
  if (out.ndim < 2 || !(t >= 0 && t < steps) || !sameShape(v.shape, [n, ...rest])) {
    throw new ShapeError(
      `setTimeStep: ${formatShape(v.shape)} is not step ${t} of ${formatShape(out.shape)}`,
    );
  }
  assertSameDtype("setTimeStep", out, v);
  const row = shapeSize(rest);
  kernels().copyBlocks(out.buf, v.buf, n, row, steps * row, t * row, row, 0);
}

/** Arrays of shape `item` stacked on a new first axis: k × item → (k, …item). A copy. */
export function stack(xs: readonly NDArray[], item: readonly number[], dtype: NDArray["dtype"]): NDArray {
  const out = NDArray.zeros([xs.length, ...item], dtype);
  xs.forEach((x, i) => {
    if (!sameShape(x.shape, item)) {
      throw new ShapeError(`stack: array ${i} is ${formatShape(x.shape)}, expected ${formatShape(item)}`);
    }
    assertSameDtype("stack", out, x);
    kernels().copyBlocks(out.buf, x.buf, 1, x.size, 0, i * x.size, 0, 0);
  });
  return out;
}

/** A copy of x, made where x lives (unlike `clone`, which copies host values). */
export function copy(x: NDArray): NDArray {
  const out = NDArray.zeros(x.shape, x.dtype);
  kernels().copyBlocks(out.buf, x.buf, 1, x.size, 0, 0, 0, 0);
  return out;
}
