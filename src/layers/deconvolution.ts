import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, kernelOutput, type Shape } from "../ndarray.js";
import { deconvOutputSize } from "../ops/index.js";
import { cached } from "./cached.js";
import { param, type Layer, type Mode, type Param } from "./layer.js";

export interface DeconvolutionOptions {
  /** Step between the windows each input pixel writes (default 1): the upsampling factor. */
  stride?: number;
  /** Rows and columns cropped from every side of the output (default 0). */
  pad?: number;
  /** Extra rows and columns at the bottom and right, < stride (default 0). */
  outputPadding?: number;
}

/**
 * Transposed convolution ("deconvolution", book §8.5.2's DCGAN generator): each input pixel
 * scatters its C values times a filter bank into an FH×FW window of the output, windows `stride`
 * apart and overlapping sums, then `pad` rows/columns are cropped from every side:
 *   (N, C, H, W) → (N, FN, (H − 1)·S − 2P + FH + OP, (W − 1)·S − 2P + FW + OP).
 * It is the backward-data pass of a Convolution with the same W, stride and pad (from the output
 * shape back to the input's), and its backward is that convolution's forward; so a stride-2 4×4
 * filter with pad 1 doubles H and W exactly.
 *
 * W is (C, FN, FH, FW), input channels first, the layout of PyTorch's ConvTranspose2d and ONNX's
 * ConvTranspose (group 1): W[c, f] is what input channel c adds to output channel f.
 */
export class Deconvolution implements Layer {
  readonly params: readonly Param[];
  readonly stride: number;
  readonly pad: number;
  readonly outputPadding: number;
  readonly W: Param;
  readonly b: Param;
  /** False when nothing reads this layer's dx (a network's first layer): backward then skips it. */
  needsInputGrad = true;
  #x: NDArray | null = null;

  /** W (C, FN, FH, FW), b (FN,). */
  constructor(W: NDArray, b: NDArray, { stride = 1, pad = 0, outputPadding = 0 }: DeconvolutionOptions = {}) {
    if (W.ndim !== 4) {
      throw new ShapeError(`Deconvolution: W must be (C, FN, FH, FW), got ${formatShape(W.shape)}`);
    }
    if (b.ndim !== 1 || b.shape[0] !== W.shape[1]) {
      throw new ShapeError(
        `Deconvolution: b ${formatShape(b.shape)} must have one value per output channel of W ${formatShape(W.shape)} (its axis 1)`,
      );
    }
    if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`Deconvolution: stride ${stride} < 1`);
    if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`Deconvolution: pad ${pad} < 0`);
    if (!Number.isInteger(outputPadding) || outputPadding < 0 || outputPadding >= stride) {
      throw new RangeError(
        `Deconvolution: outputPadding ${outputPadding} must be an integer in [0, stride ${stride})`,
      );
    }
    this.W = param("W", W);
    this.b = param("b", b);
    this.params = [this.W, this.b];
    this.stride = stride;
    this.pad = pad;
    this.outputPadding = outputPadding;
  }

  /** The output shape for an input shape (N, C, H, W); throws if they do not fit. */
  outputShape(xShape: Shape): number[] {
    const [C, FN, FH, FW] = this.W.value.shape;
    if (xShape.length !== 4 || xShape[1] !== C) {
      throw new ShapeError(
        `Deconvolution: input ${formatShape(xShape)} must be (N, ${C}, H, W) to match W ${formatShape(this.W.value.shape)}`,
      );
    }
    const [N, , H, W] = xShape;
    const { stride, pad, outputPadding } = this;
    return [
      N,
      FN,
      deconvOutputSize(H, FH, stride, pad, outputPadding, "H"),
      deconvOutputSize(W, FW, stride, pad, outputPadding, "W"),
    ];
  }

  forward(x: NDArray, _mode: Mode): NDArray {
    const [N, FN, OH, OW] = this.outputShape(x.shape);
    const [C, , FH, FW] = this.W.value.shape;
    const [, , H, W] = x.shape;
    // (N, C, H·W)ᵀ · W (C, FN·FH·FW) = col (N·H·W, FN·FH·FW) → col2im → (N, FN, OH, OW) + b
    // Written whole by deconvForward (its col2im covers every output, then the bias).
    const out = kernelOutput([N, FN, OH, OW], x.dtype);
    const { stride, pad, outputPadding } = this;
    kernels().deconvForward(
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
      stride,
      pad,
      outputPadding,
    );
    this.#x = x;
    return out;
  }

  backward(dout: NDArray): NDArray {
    const x = cached(this.#x, "Deconvolution");
    const [N, FN, OH, OW] = this.outputShape(x.shape);
    if (dout.ndim !== 4 || dout.shape.some((d, i) => d !== [N, FN, OH, OW][i])) {
      throw new ShapeError(
        `Deconvolution: dout ${formatShape(dout.shape)} does not match the output ${formatShape([N, FN, OH, OW])}`,
      );
    }
    const [C, , FH, FW] = this.W.value.shape;
    const [, , H, W] = x.shape;
    // col = im2col(dout) (N·H·W, FN·FH·FW); db = Σ dout over (N, OH, OW); dW = xᵀ·col (C, FN, FH, FW);
    // dx = col·Wᵀ (N, C, H, W), the convolution of dout with W. A first layer skips dx.
    const dx = kernelOutput(this.needsInputGrad ? x.shape : [0], x.dtype);
    const dW = NDArray.zeros(this.W.value.shape, x.dtype);
    const db = NDArray.zeros([FN], x.dtype);
    const { stride, pad, outputPadding } = this;
    kernels().deconvBackward(
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
      stride,
      pad,
      outputPadding,
    );
    this.W.grad = dW;
    this.b.grad = db;
    return dx;
  }
}
