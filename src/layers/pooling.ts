import { kernels } from "../backend/index.js";
import { ShapeError, formatShape, unknownOption } from "../errors.js";
import { NDArray, allocIndices, type Shape } from "../ndarray.js";
import { convOutputSize } from "../ops/index.js";
import { cached } from "./cached.js";
import type { Layer, Mode, Param } from "./layer.js";

export type PoolingKind = "max" | "avg";
export const poolingKinds: readonly PoolingKind[] = ["max", "avg"];

export interface PoolingOptions {
  /** Window height and width. */
  ph: number;
  pw: number;
  /** Step between windows (book default 1; the book's networks use 2 with 2×2 windows). */
  stride?: number;
  /** Padding on every side: it never wins a max, and counts as 0 in an average. */
  pad?: number;
  /** "max" (the book's Pooling) or "avg" (LeNet's subsampling). */
  kind?: PoolingKind;
}

/**
 * The book's Pooling layer (§7.4.4), max or average over PH×PW windows of each channel:
 * (N, C, H, W) → (N, C, OH, OW). No params.
 *
 * Book: the book pools through im2col; here the pooling kernels walk the windows directly, which
 * gives the same values without the (N·OH·OW·C, PH·PW) copy. One difference with padding: the
 * book's zero padding can win a max over negative inputs; here padding never wins a max (it still
 * counts as 0 in an average, as in the book). Max-pool backward routes each dout to the cell that
 * won its window.
 */
export class Pooling implements Layer {
  readonly params: readonly Param[] = [];
  readonly ph: number;
  readonly pw: number;
  readonly stride: number;
  readonly pad: number;
  readonly kind: PoolingKind;
  #xShape: Shape | null = null;
  #argmax: Int32Array | null = null;

  constructor({ ph, pw, stride = 1, pad = 0, kind = "max" }: PoolingOptions) {
    for (const [name, v, min] of [
      ["ph", ph, 1],
      ["pw", pw, 1],
      ["stride", stride, 1],
      ["pad", pad, 0],
    ] as const) {
      if (!Number.isInteger(v) || v < min)
        throw new RangeError(`Pooling: ${name} must be an integer ≥ ${min}, got ${v}`);
    }
    if (!poolingKinds.includes(kind)) throw unknownOption("pooling kind", kind, poolingKinds);
    this.ph = ph;
    this.pw = pw;
    this.stride = stride;
    this.pad = pad;
    this.kind = kind;
  }

  /** The output shape for an input shape (N, C, H, W); throws if the windows do not fit. */
  outputShape(xShape: Shape): number[] {
    if (xShape.length !== 4) {
      throw new ShapeError(`Pooling: expected an (N, C, H, W) input, got ${formatShape(xShape)}`);
    }
    const [N, C, H, W] = xShape;
    return [
      N,
      C,
      convOutputSize(H, this.ph, this.stride, this.pad, "H"),
      convOutputSize(W, this.pw, this.stride, this.pad, "W"),
    ];
  }

  forward(x: NDArray, _mode: Mode): NDArray {
    const outShape = this.outputShape(x.shape);
    const [N, C, H, W] = x.shape;
    const out = NDArray.zeros(outShape, x.dtype);
    const { ph, pw, stride, pad } = this;
    if (this.kind === "max") {
      const argmax = allocIndices(out.size, x.dtype);
      kernels().maxPool(out.buf, argmax, x.buf, N, C, H, W, ph, pw, stride, pad);
      this.#argmax = argmax;
    } else {
      kernels().avgPool(out.buf, x.buf, N, C, H, W, ph, pw, stride, pad);
    }
    this.#xShape = x.shape;
    return out;
  }

  backward(dout: NDArray): NDArray {
    const xShape = cached(this.#xShape, "Pooling");
    const outShape = this.outputShape(xShape);
    if (dout.ndim !== 4 || dout.shape.some((d, i) => d !== outShape[i])) {
      throw new ShapeError(
        `Pooling: dout ${formatShape(dout.shape)} does not match the output ${formatShape(outShape)}`,
      );
    }
    const [N, C, H, W] = xShape;
    const dx = NDArray.zeros(xShape, dout.dtype);
    const { ph, pw, stride, pad } = this;
    if (this.kind === "max") {
      const argmax = cached(this.#argmax, "Pooling");
      kernels().maxPoolBackward(dx.buf, dout.buf, argmax, N, C, H, W, ph, pw, stride, pad);
    } else {
      kernels().avgPoolBackward(dx.buf, dout.buf, N, C, H, W, ph, pw, stride, pad);
    }
    return dx;
  }
}
