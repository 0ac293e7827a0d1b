import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";
import { convOutputSize } from "../ops/index.js";
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
  /** False when nothing reads this layer's dx (a network's first layer): backward then skips it. */
  needsInputGrad = true;
  #x: NDArray | null = null;

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
    const [, C, FH, FW] = this.W.value.shape;
    const [, , H, W] = x.shape;
    // (N, C, H, W) → col (N·OH·OW, C·FH·FW) · Wᵀ (C·FH·FW, FN) + b → (N, FN, OH, OW), in one
    // kernel call: a fast backend keeps col (C·FH·FW times the size of x) to itself.
    const out = NDArray.zeros([N, FN, OH, OW], x.dtype);
    kernels().convForward(
      out.buf,
      x.buf,
      this.W.value.buf,
      this.b.value.buf,
      N,
      C,
      H,
      W,
      FN,
      FH,
      FW,
      this.stride,
      this.pad,
    );
    // Book: the book caches col for backward; here backward recomputes it from x, which costs an
    // im2col but keeps a DeepConvNet step's memory ~200 MB lower (bench/README.md).
    this.#x = x;
    return out;
  }

  backward(dout: NDArray): NDArray {
    const x = cached(this.#x, "Convolution");
    const [N, FN, OH, OW] = this.outputShape(x.shape);
    if (dout.ndim !== 4 || dout.shape.some((d, i) => d !== [N, FN, OH, OW][i])) {
      throw new ShapeError(
        `Convolution: dout ${formatShape(dout.shape)} does not match the output ${formatShape([N, FN, OH, OW])}`,
      );
    }
    const [, C, FH, FW] = this.W.value.shape;
    const [, , H, W] = x.shape;
    // db = Σ dout over (N, OH, OW); dW = doutᵀ·col (FN, C, FH, FW); dx = col2im(dout·W) (N, C, H, W).
    // A first layer's dx is never read: an empty dx tells the kernel to skip its matmul and col2im.
    const dx = NDArray.zeros(this.needsInputGrad ? x.shape : [0], x.dtype);
    const dW = NDArray.zeros(this.W.value.shape, x.dtype);
    const db = NDArray.zeros([FN], x.dtype);
    kernels().convBackward(
      dx.buf,
      dW.buf,
      db.buf,
      dout.buf,
      x.buf,
      this.W.value.buf,
      N,
      C,
      H,
      W,
      FN,
      FH,
      FW,
      this.stride,
      this.pad,
    );
    this.W.grad = dW;
    this.b.grad = db;
    return dx;
  }
}
