import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, allocIndices } from "../ndarray.js";
import { cached } from "./cached.js";
import { Convolution } from "./convolution.js";
import type { Layer, Mode, Param } from "./layer.js";
import { Pooling } from "./pooling.js";
import { Relu } from "./relu.js";

/**
 * The book's Convolution → ReLU (→ max Pooling) block as one step, run through the fused kernels
 * (convReluPoolForward/Backward): a fast backend keeps the convolution's and the ReLU's outputs to
 * itself and hands back only the pooled output. The same values as the layers one after another
 * (the reference kernels compose exactly them). The layers stay the network's: this step uses the
 * Convolution's params (and fills their grads) and the Pooling's window; the Relu has no state.
 *
 * Sequential builds these with `fuseLayers`; they are an execution detail, not part of a spec.
 */
export class FusedConvolution implements Layer {
  readonly conv: Convolution;
  /** A max Pooling after the ReLU, or null for Convolution → ReLU alone. */
  readonly pool: Pooling | null;
  #x: NDArray | null = null;
  #out: NDArray | null = null;
  #argmax: Int32Array | null = null;

  constructor(conv: Convolution, pool: Pooling | null = null) {
    if (pool && pool.kind !== "max")
      throw new TypeError(`FusedConvolution: pooling must be max, got ${pool.kind}`);
    this.conv = conv;
    this.pool = pool;
  }

  get params(): readonly Param[] {
    return this.conv.params;
  }

  /** The Convolution's flag: a network's first layer skips dx. */
  get needsInputGrad(): boolean {
    return this.conv.needsInputGrad;
  }

  set needsInputGrad(value: boolean) {
    this.conv.needsInputGrad = value;
  }

  /** The output shape for an input (N, C, H, W): the convolution's, pooled. */
  outputShape(xShape: readonly number[]): number[] {
    const convShape = this.conv.outputShape(xShape);
    return this.pool ? this.pool.outputShape(convShape) : convShape;
  }

  forward(x: NDArray, _mode: Mode): NDArray {
    const out = NDArray.zeros(this.outputShape(x.shape), x.dtype);
    const argmax = allocIndices(this.pool ? out.size : 0, x.dtype);
    kernels().convReluPoolForward(
      out.buf,
      argmax,
      x.buf,
      this.conv.W.value.buf,
      this.conv.b.value.buf,
      ...this.#geometry(x),
    );
    this.#x = x;
    this.#out = out;
    this.#argmax = argmax;
    return out;
  }

  backward(dout: NDArray): NDArray {
    const x = cached(this.#x, "FusedConvolution");
    const out = cached(this.#out, "FusedConvolution");
    const argmax = cached(this.#argmax, "FusedConvolution");
    if (dout.ndim !== out.ndim || dout.shape.some((d, i) => d !== out.shape[i])) {
      throw new ShapeError(
        `FusedConvolution: dout ${formatShape(dout.shape)} does not match the output ${formatShape(out.shape)}`,
      );
    }
    const conv = this.conv;
    const dx = NDArray.zeros(conv.needsInputGrad ? x.shape : [0], x.dtype);
    const dW = NDArray.zeros(conv.W.value.shape, x.dtype);
    const db = NDArray.zeros(conv.b.value.shape, x.dtype);
    const W = conv.W.value.buf;
    kernels().convReluPoolBackward(
      dx.buf,
      dW.buf,
      db.buf,
      dout.buf,
      out.buf,
      argmax,
      x.buf,
      W,
      ...this.#geometry(x),
    );
    conv.W.grad = dW;
    conv.b.grad = db;
    return dx;
  }

  /** n, c, h, w, fn, fh, fw, stride, pad, then the pooling's ph, pw, stride, pad (ph = 0: none). */
  #geometry(x: NDArray) {
    const [N, C, H, W] = x.shape;
    const [FN, , FH, FW] = this.conv.W.value.shape;
    const { stride, pad } = this.conv;
    const p = this.pool;
    return [
      N,
      C,
      H,
      W,
      FN,
      FH,
      FW,
      stride,
      pad,
      p?.ph ?? 0,
      p?.pw ?? 0,
      p?.stride ?? 1,
      p?.pad ?? 0,
    ] as const;
  }
}

/**
 * The steps a network runs for `layers`: every Convolution directly followed by a Relu (and a max
 * Pooling, if one follows) becomes one FusedConvolution; every other layer runs as itself.
 */
export function fuseLayers(layers: readonly Layer[]): Layer[] {
  const steps: Layer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (layer instanceof Convolution && layers[i + 1] instanceof Relu) {
      const next = layers[i + 2];
      const pool = next instanceof Pooling && next.kind === "max" ? next : null;
      steps.push(new FusedConvolution(layer, pool));
      i += pool ? 2 : 1;
    } else {
      steps.push(layer);
    }
  }
  return steps;
}
