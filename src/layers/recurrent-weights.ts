import { ShapeError, formatShape } from "../errors.js";
import type { NDArray } from "../ndarray.js";
import { addBias, addMatmul, matmul, sumRows } from "../ops/linalg.js";
import { param, type Param } from "./layer.js";

/** The three parameters of a recurrent cell, a = x·Wx + h·Wh + b, checked to fit each other. */
export interface RecurrentWeights {
  readonly Wx: Param;
  readonly Wh: Param;
  readonly b: Param;
  /** Input size D and hidden size H. */
  readonly inputSize: number;
  readonly hiddenSize: number;
}

/**
 * Wx (D, G·H), Wh (H, G·H), b (G·H,) for a cell with G gate blocks of H units (1 for RNN, 4 for
 * LSTM): throws naming all three shapes when they do not fit.
 */
export function recurrentWeights(
  what: string,
  Wx: NDArray,
  Wh: NDArray,
  b: NDArray,
  gates: number,
): RecurrentWeights {
  const H = Wh.shape[0];
  const G = gates * H;
  const fits =
    Wx.ndim === 2 &&
    Wh.ndim === 2 &&
    b.ndim === 1 &&
    Wx.shape[1] === G &&
    Wh.shape[1] === G &&
    b.shape[0] === G;
  if (!fits) {
    const expected = gates === 1 ? "(D, H), (H, H), (H,)" : `(D, ${gates}H), (H, ${gates}H), (${gates}H,)`;
    throw new ShapeError(
      `${what}: Wx ${formatShape(Wx.shape)}, Wh ${formatShape(Wh.shape)}, b ${formatShape(b.shape)} do not fit; expected ${expected}`,
    );
  }
  if (Wx.dtype !== Wh.dtype || Wx.dtype !== b.dtype) {
    throw new TypeError(`${what}: Wx is ${Wx.dtype}, Wh ${Wh.dtype}, b ${b.dtype}; use one dtype`);
  }
  return {
    Wx: param("Wx", Wx),
    Wh: param("Wh", Wh),
    b: param("b", b),
    inputSize: Wx.shape[0],
    hiddenSize: H,
  };
}

/** One step's affine, a = x·Wx + hPrev·Wh + b: x (N, D), hPrev (N, H) → (N, G·H). */
export function stepAffine(w: RecurrentWeights, x: NDArray, hPrev: NDArray): NDArray {
  const a = addBias(matmul(x, w.Wx.value), w.b.value);
  addMatmul(a, hPrev, w.Wh.value);
  return a;
}

/** Backward of stepAffine from da (N, G·H): fills the three grads, returns dx and dhPrev. */
export function stepAffineBackward(
  w: RecurrentWeights,
  x: NDArray,
  hPrev: NDArray,
  da: NDArray,
): { dx: NDArray; dhPrev: NDArray } {
  w.Wx.grad = matmul(x, da, { transA: true });
  w.Wh.grad = matmul(hPrev, da, { transA: true });
  w.b.grad = sumRows(da);
  return { dx: matmul(da, w.Wx.value, { transB: true }), dhPrev: matmul(da, w.Wh.value, { transB: true }) };
}
