import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import type { NDArray, Shape } from "../ndarray.js";
import { col2im, convOutputSize, im2col, matmul, sumRows, transposeLast2 } from "../ops/index.js";
import { cached } from "./cached.js";
import { param, type Layer, type Mode, type Param } from "./layer.js";

export interface ConvolutionOptions {
  /** Step between windows (book default 1). */
  stride?: number;
  /** Zeros added on every side of the input (book default 0). */
  pad?: number;
}

/**
 * The book's Convolution layer (§7.4.3): FN filters of C×FH×FW slid over the input, through
 * im2col so the whole layer is one matrix product:
 *   (N, C, H, W) → col (N·OH·OW, C·FH·FW) · Wᵀ (C·FH·FW, FN) + b → (N, FN, OH, OW).
 */
export class Convolution implements Layer {
  readonly params: readonly Param[];
  readonly stride: number;
  readonly pad: number;
  readonly W: Param;
  readonly b: Param;
  #xShape: Shape | null = null;
  #col: NDArray | null = null;

  /** W (FN, C, FH, FW), b (FN,). */
  constructor(W: NDArray, b: NDArray, { stride = 1, pad = 0 }: ConvolutionOptions = {}) {
    if (W.ndim !== 4) {
      throw new ShapeError(`Convolution: W must be (FN, C, FH, FW), got ${formatShape(W.shape)}`);
    }
    if (b.ndim !== 1 || b.shape[0] !== W.shape[0]) {
      throw new ShapeError(
        `Convolution: b ${formatShape(b.shape)} must have one value per filter of W ${formatShape(W.shape)}`,
      );
    }
    if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`Convolution: stride ${stride} < 1`);
    if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`Convolution: pad ${pad} < 0`);
    this.W = param("W", W);
    this.b = param("b", b);
    this.params = [this.W, this.b];
    this.stride = stride;
    this.pad = pad;
  }

  /** The output shape for an input shape (N, C, H, W); throws if they do not fit. */
  outputShape(xShape: Shape): number[] {
    const [FN, C, FH, FW] = this.W.value.shape;
    if (xShape.length !== 4 || xShape[1] !== C) {
      throw new ShapeError(
        `Convolution: input ${formatShape(xShape)} must be (N, ${C}, H, W) to match W ${formatShape(this.W.value.shape)}`,
      );
    }
    const [N, , H, W] = xShape;
    return [
      N,
      FN,
      convOutputSize(H, FH, this.stride, this.pad, "H"),
      convOutputSize(W, FW, this.stride, this.pad, "W"),
    ];
  }

  forward(x: NDArray, _mode: Mode): NDArray {
    const [N, FN, OH, OW] = this.outputShape(x.shape);
    const [, , FH, FW] = this.W.value.shape;
    // (N, C, H, W) → (N·OH·OW, C·FH·FW)
    const col = im2col(x, FH, FW, this.stride, this.pad);
    // (N·OH·OW, C·FH·FW) · (FN, C·FH·FW)ᵀ → (N·OH·OW, FN)
    const out = matmul(col, this.W.value.reshape(FN, -1), { transB: true });
    // + b, in place: `out` is ours (addBias allows out to alias x).
    kernels().addBias(out.data, out.data, this.b.value.data, N * OH * OW, FN);
    this.#xShape = x.shape;
    this.#col = col;
    // (N, OH·OW, FN) → (N, FN, OH·OW) = (N, FN, OH, OW)
    return transposeLast2(out.reshape(N, OH * OW, FN)).reshape(N, FN, OH, OW);
  }

  backward(dout: NDArray): NDArray {
    const xShape = cached(this.#xShape, "Convolution");
    const col = cached(this.#col, "Convolution");
    const [N, FN, OH, OW] = this.outputShape(xShape);
    if (dout.ndim !== 4 || dout.shape.some((d, i) => d !== [N, FN, OH, OW][i])) {
      throw new ShapeError(
        `Convolution: dout ${formatShape(dout.shape)} does not match the output ${formatShape([N, FN, OH, OW])}`,
      );
    }
    const [, C, FH, FW] = this.W.value.shape;
    // (N, FN, OH·OW) → (N, OH·OW, FN) → (N·OH·OW, FN), the layout of `out` in forward
    const d = transposeLast2(dout.reshape(N, FN, OH * OW)).reshape(N * OH * OW, FN);
    this.b.grad = sumRows(d);
    // dW = dᵀ·col: (FN, N·OH·OW) · (N·OH·OW, C·FH·FW) → (FN, C, FH, FW)
    this.W.grad = matmul(d, col, { transA: true }).reshape(FN, C, FH, FW);
    // dcol = d·W: (N·OH·OW, FN) · (FN, C·FH·FW), then scattered back onto the image
    const dcol = matmul(d, this.W.value.reshape(FN, -1));
    return col2im(dcol, xShape, FH, FW, this.stride, this.pad);
  }
}
