import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { assertMatrix, assertSameDtype } from "./check.js";

export interface MatmulOptions {
  /** Use aᵀ: a is stored (k, m). */
  transA?: boolean;
  /** Use bᵀ: b is stored (n, k). */
  transB?: boolean;
}

/** op(a)·op(b): (m, k)·(k, n) → (m, n), where op transposes when asked (no copy is made). */
export function matmul(a: NDArray, b: NDArray, options: MatmulOptions = {}): NDArray {
  const [m, k, n] = matmulSizes("matmul", a, b, options);
  const out = NDArray.zeros([m, n], a.dtype);
  kernels().matmul(out.buf, a.buf, b.buf, m, k, n, !!options.transA, !!options.transB);
  return out;
}

/** out += op(a)·op(b), in place: a recurrent step adds h·Wh to its precomputed x·Wx + b. */
export function addMatmul(out: NDArray, a: NDArray, b: NDArray, options: MatmulOptions = {}): void {
  const [m, k, n] = matmulSizes("addMatmul", a, b, options);
  if (out.ndim !== 2 || out.shape[0] !== m || out.shape[1] !== n) {
    throw new ShapeError(
      `addMatmul: out ${formatShape(out.shape)} does not fit the product's ${formatShape([m, n])}`,
    );
  }
  assertSameDtype("addMatmul", out, a);
  kernels().matmul(out.buf, a.buf, b.buf, m, k, n, !!options.transA, !!options.transB, true);
}

/** [m, k, n] of op(a)·op(b), after checking both are matrices of one dtype with equal inner sizes. */
function matmulSizes(
  what: string,
  a: NDArray,
  b: NDArray,
  { transA = false, transB = false }: MatmulOptions,
): [number, number, number] {
  assertMatrix(`${what} (a)`, a);
  assertMatrix(`${what} (b)`, b);
  assertSameDtype(what, a, b);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== kb) {
    const name = (t: boolean, s: string) => (t ? `${s}ᵀ` : s);
    throw new ShapeError(
      `${what}: inner sizes differ, ${name(transA, "a")} is ${formatShape([m, k])} (a ${formatShape(a.shape)}), ${name(transB, "b")} is ${formatShape([kb, n])} (b ${formatShape(b.shape)})`,
    );
  }
  return [m, k, n];
}

/** x (N, D) + b (D,) on every row. */
export function addBias(x: NDArray, b: NDArray): NDArray {
  assertMatrix("addBias", x);
  assertBias("addBias", x, b);
  const out = NDArray.zeros(x.shape, x.dtype);
  kernels().addBias(out.buf, x.buf, b.buf, x.shape[0], x.shape[1]);
  return out;
}

/** x (N, D) ⊙ s (D,) on every row: a per-feature scale. */
export function scaleColumns(x: NDArray, s: NDArray): NDArray {
  assertMatrix("scaleColumns", x);
  assertBias("scaleColumns", x, s);
  const out = NDArray.zeros(x.shape, x.dtype);
  kernels().scaleColumns(out.buf, x.buf, s.buf, x.shape[0], x.shape[1]);
  return out;
}

/** Column sums: (N, D) → (D,), as `np.sum(x, axis=0)`. */
export function sumRows(x: NDArray): NDArray {
  assertMatrix("sumRows", x);
  const out = NDArray.zeros([x.shape[1]], x.dtype);
  kernels().sumRows(out.buf, x.buf, x.shape[0], x.shape[1]);
  return out;
}

/** Swaps the last two axes of (…, R, C) → (…, C, R); leading axes are a batch. A copy. */
export function transposeLast2(x: NDArray): NDArray {
  if (x.ndim < 2)
    throw new ShapeError(`transposeLast2: expected at least 2 axes, got ${formatShape(x.shape)}`);
  const rows = x.shape[x.ndim - 2];
  const cols = x.shape[x.ndim - 1];
  const out = NDArray.zeros([...x.shape.slice(0, -2), cols, rows], x.dtype);
  kernels().transpose(out.buf, x.buf, x.size / (rows * cols || 1), rows, cols);
  return out;
}

function assertBias(what: string, x: NDArray, b: NDArray): void {
  if (b.ndim !== 1 || b.shape[0] !== x.shape[1]) {
    throw new ShapeError(
      `${what}: x ${formatShape(x.shape)} needs a vector of ${x.shape[1]}, got ${formatShape(b.shape)}`,
    );
  }
  assertSameDtype(what, x, b);
}
