import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";

/**
 * Output size of a convolution or pooling window along one axis, the book's Equation 7.1:
 * OH = ⌊(H + 2P − FH) / S⌋ + 1: windows never run past the padded input, and input rows or columns
 * that no window reaches are left out (as PyTorch and ONNX do by default).
 *
 * Book: the book asks for settings that divide evenly and leaves the rest to the implementation;
 * flooring is what the usual downsampling needs (a 3×3 stride-2 convolution with padding 1 takes
 * 28×28 to 14×14). A filter larger than the padded input is an error. `what` names the axis in the
 * message ("H"/"W").
 */
export function convOutputSize(
  size: number,
  filter: number,
  stride: number,
  pad: number,
  what = "H",
): number {
  const f = `F${what}`;
  const values = `${what}=${size}, ${f}=${filter}, P=${pad}, S=${stride}`;
  for (const [name, v, min] of [
    [what, size, 1],
    [f, filter, 1],
    [`S`, stride, 1],
    [`P`, pad, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new ShapeError(`output size: ${name} must be an integer ≥ ${min} (${values})`);
    }
  }
  const span = size + 2 * pad - filter;
  if (span < 0) {
    throw new ShapeError(
      `output size: the filter is larger than the padded input, ${what} + 2P − ${f} = ${span} < 0 (${values})`,
    );
  }
  return Math.floor(span / stride) + 1;
}

/** Checks x is (N, C, H, W) and returns its sizes with the output sizes of an FH×FW window. */
function windowGeometry(op: string, xShape: Shape, fh: number, fw: number, stride: number, pad: number) {
  if (xShape.length !== 4) {
    throw new ShapeError(`${op}: expected an (N, C, H, W) input, got ${formatShape(xShape)}`);
  }
  const [n, c, h, w] = xShape;
  const oh = convOutputSize(h, fh, stride, pad, "H");
  const ow = convOutputSize(w, fw, stride, pad, "W");
  return { n, c, h, w, oh, ow };
}

/**
 * Unrolls every FH×FW window of x into one row, the book's im2col layout, so a convolution is one
 * matrix product: (N, C, H, W) → (N·OH·OW, C·FH·FW). Padding reads as zeros.
 */
export function im2col(x: NDArray, fh: number, fw: number, stride = 1, pad = 0): NDArray {
  const { n, c, h, w, oh, ow } = windowGeometry("im2col", x.shape, fh, fw, stride, pad);
  const col = NDArray.zeros([n * oh * ow, c * fh * fw], x.dtype);
  kernels().im2col(col.buf, x.buf, n, c, h, w, fh, fw, stride, pad);
  return col;
}

/**
 * The adjoint of im2col: scatters each row back to its window and sums where windows overlap,
 * (N·OH·OW, C·FH·FW) → (N, C, H, W). Padding cells are dropped. Used for dx of a convolution.
 */
export function col2im(col: NDArray, xShape: Shape, fh: number, fw: number, stride = 1, pad = 0): NDArray {
  const { n, c, h, w, oh, ow } = windowGeometry("col2im", xShape, fh, fw, stride, pad);
  const expected = [n * oh * ow, c * fh * fw];
  if (col.ndim !== 2 || col.shape[0] !== expected[0] || col.shape[1] !== expected[1]) {
    throw new ShapeError(
      `col2im: col ${formatShape(col.shape)} does not fit x ${formatShape(xShape)} with a ${fh}×${fw} window (stride ${stride}, pad ${pad}): expected ${formatShape(expected)}`,
    );
  }
  const dx = NDArray.zeros(xShape, col.dtype);
  kernels().col2im(dx.buf, col.buf, n, c, h, w, fh, fw, stride, pad);
  return dx;
}

/**
 * Output size of a transposed convolution along one axis (the converse of Equation 6.1):
 * OH = (H − 1)·S − 2P + FH + OP. The output padding OP < S picks among the OH that a convolution
 * with the same FH, S, P maps back to H (with S > 1 several do); it adds rows at the bottom/right.
 */
export function deconvOutputSize(
  size: number,
  filter: number,
  stride: number,
  pad: number,
  outputPadding: number,
  what = "H",
): number {
  const f = `F${what}`;
  const values = `${what}=${size}, ${f}=${filter}, P=${pad}, S=${stride}, OP=${outputPadding}`;
  for (const [name, v, min] of [
    [what, size, 1],
    [f, filter, 1],
    [`S`, stride, 1],
    [`P`, pad, 0],
    [`OP`, outputPadding, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new ShapeError(`transposed convolution size: ${name} must be an integer ≥ ${min} (${values})`);
    }
  }
  if (outputPadding >= stride) {
    throw new ShapeError(
      `transposed convolution size: the output padding OP must be smaller than the stride S (${values})`,
    );
  }
  const out = (size - 1) * stride - 2 * pad + filter + outputPadding;
  if (out < 1) {
    throw new ShapeError(
      `transposed convolution size: (${what} − 1)·S − 2P + ${f} + OP = ${out} < 1 (${values})`,
    );
  }
  return out;
}
