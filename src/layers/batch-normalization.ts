import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";
import { transposeLast2 } from "../ops/linalg.js";
import { cached } from "./cached.js";
import { param, type Layer, type Mode, type Param } from "./layer.js";

export interface BatchNormalizationOptions {
  /** Weight of the old running statistics in each update (the book's 0.9). */
  momentum?: number;
  /** Added to the variance before the square root. */
  eps?: number;
}

/** What forward keeps for backward. */
interface Cache {
  mode: Mode;
  xShape: Shape;
  xn: NDArray; // (x − μ) / σ, (M, D)
  invStd: NDArray; // 1 / σ, (D,)
}

/**
 * Batch normalization (Ioffe & Szegedy), y = γ·(x − μ)/σ + β with μ, σ² the batch statistics in
 * training and the running averages in evaluation.
 *
 * - 2-D input (N, D): per activation, the book's form; γ, β, running mean/var have shape (D,).
 * - 4-D input (N, C, H, W): per channel, statistics over N·H·W; γ, β have shape (C,).
 *   Book: its BatchNormalization flattens 4-D input to (N, C·H·W) and normalizes each activation;
 *   per-channel is the form the paper gives for convolutions (and what frameworks do).
 *
 * Forward and backward are one kernel each (batchNormForward/Backward). Book: the book's backward
 * goes through xc = x − μ and σ step by step; the kernel uses the same gradient in closed form,
 * dx = γ/σ·(dout − mean(dout) − xn·mean(dout·xn)), and the running statistics are updated in place.
 */
export class BatchNormalization implements Layer {
  readonly gamma: Param;
  readonly beta: Param;
  readonly params: readonly Param[];
  readonly momentum: number;
  readonly eps: number;
  /** Running statistics for evaluation (state, not params: saved with a model, never trained). */
  runningMean: NDArray;
  runningVar: NDArray;
  #cache: Cache | null = null;

  // Book: eps = 10e-7 (= 1e-6); running statistics start at zero.
  constructor(gamma: NDArray, beta: NDArray, { momentum = 0.9, eps = 1e-6 }: BatchNormalizationOptions = {}) {
    if (gamma.ndim !== 1 || beta.ndim !== 1 || gamma.size !== beta.size) {
      throw new ShapeError(
        `BatchNormalization: gamma ${formatShape(gamma.shape)} and beta ${formatShape(beta.shape)} must be vectors of one size`,
      );
    }
    this.gamma = param("gamma", gamma);
    this.beta = param("beta", beta);
    this.params = [this.gamma, this.beta];
    this.momentum = momentum;
    this.eps = eps;
    this.runningMean = NDArray.zeros(gamma.shape, gamma.dtype);
    this.runningVar = NDArray.zeros(gamma.shape, gamma.dtype);
  }

  forward(x: NDArray, mode: Mode = "train"): NDArray {
    const rows = this.#toRows(x); // (M, D)
    const [m, d] = rows.shape;
    // An empty batch has no statistics: its (empty) output uses the running ones, left as they are.
    const train = mode === "train" && m > 0;
    const out = NDArray.zeros(rows.shape, x.dtype);
    const xn = NDArray.zeros(rows.shape, x.dtype);
    const invStd = NDArray.zeros([d], x.dtype);
    kernels().batchNormForward(
      out.buf,
      xn.buf,
      invStd.buf,
      this.runningMean.buf,
      this.runningVar.buf,
      rows.buf,
      this.gamma.value.buf,
      this.beta.value.buf,
      m,
      d,
      this.momentum,
      this.eps,
      train,
    );
    this.#cache = { mode: train ? "train" : "eval", xShape: x.shape, xn, invStd };
    return this.#fromRows(out, x.shape);
  }

  backward(dout: NDArray): NDArray {
    const { mode, xShape, xn, invStd } = cached(this.#cache, "BatchNormalization");
    const d = this.#toRows(dout); // (M, D)
    const [m, cols] = d.shape;
    const dx = NDArray.zeros(d.shape, dout.dtype);
    const dgamma = NDArray.zeros([cols], dout.dtype);
    const dbeta = NDArray.zeros([cols], dout.dtype);
    kernels().batchNormBackward(
      dx.buf,
      dgamma.buf,
      dbeta.buf,
      d.buf,
      xn.buf,
      invStd.buf,
      this.gamma.value.buf,
      m,
      cols,
      mode === "train",
    );
    this.gamma.grad = dgamma;
    this.beta.grad = dbeta;
    return this.#fromRows(dx, xShape);
  }

  /** (N, D) as is; (N, C, H, W) → channels last (N·H·W, C) so each channel is a column. */
  #toRows(x: NDArray): NDArray {
    const d = this.gamma.value.size;
    if (x.ndim === 2 && x.shape[1] === d) return x;
    if (x.ndim === 4 && x.shape[1] === d) {
      const [n, c, h, w] = x.shape;
      return transposeLast2(x.reshape(n, c, h * w)).reshape(n * h * w, c);
    }
    throw new ShapeError(
      `BatchNormalization: expected (N, ${d}) or (N, ${d}, H, W) for gamma ${formatShape(this.gamma.value.shape)}, got ${formatShape(x.shape)}`,
    );
  }

  /** The inverse of #toRows. */
  #fromRows(rows: NDArray, xShape: Shape): NDArray {
    if (xShape.length === 2) return rows;
    const [n, c, h, w] = xShape;
    return transposeLast2(rows.reshape(n, h * w, c)).reshape(n, c, h, w);
  }
}
