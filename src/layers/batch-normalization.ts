import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";
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
  x: NDArray;
  /** The statistics x was normalized with: the batch's in training, the running ones in evaluation. */
  mean: NDArray;
  variance: NDArray;
}

/**
 * Batch normalization (Ioffe & Szegedy), y = γ·(x − μ)/σ + β with μ, σ² the batch statistics in
 * training and the running averages in evaluation, σ = √(σ² + eps).
 *
 * - 2-D input (N, D): per activation, the book's form; γ, β, running mean/var have shape (D,).
 * - 4-D input (N, C, H, W): per channel, statistics over N·H·W; γ, β have shape (C,).
 *   Book: its BatchNormalization flattens 4-D input to (N, C·H·W) and normalizes each activation;
 *   per-channel is the form the paper gives for convolutions (and what frameworks do).
 *
 * Both run on the batch norm kernels over x seen as (N, C, H·W) ((N, D) is (N, D, 1)): statistics
 * in two passes, the normalization as one multiply-add per value, and a backward of two passes (the
 * book's chain of steps folded into per-channel sums; its step-by-step form is the test's twin).
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
    return this.forwardRelu(x, mode, false);
  }

  /** forward, then max(·, 0) in the same pass when `relu` (a following ReLU fused in). */
  forwardRelu(x: NDArray, mode: Mode, relu: boolean): NDArray {
    const [n, c, hw] = this.#geometry(x.shape);
    let mean = this.runningMean;
    let variance = this.runningVar;
    // An empty batch has no statistics: its (empty) output uses the running ones, left as they are.
    const train = mode === "train" && n * hw > 0;
    if (train) {
      mean = NDArray.zeros([c], x.dtype);
      variance = NDArray.zeros([c], x.dtype);
      kernels().batchNormStats(mean.buf, variance.buf, x.buf, n, c, hw);
      // running = momentum·running + (1 − momentum)·batch (the biased variance, as the book), in
      // place: the running statistics are never made in a model's step, so they outlive it and a
      // device backend makes no new buffer for them step after step.
      const k = this.momentum;
      kernels().axpby(this.runningMean.buf, k, this.runningMean.buf, 1 - k, mean.buf);
      kernels().axpby(this.runningVar.buf, k, this.runningVar.buf, 1 - k, variance.buf);
    }
    const out = NDArray.zeros(x.shape, x.dtype);
    const { gamma, beta, eps } = this;
    kernels().batchNormForward(
      out.buf,
      x.buf,
      mean.buf,
      variance.buf,
      gamma.value.buf,
      beta.value.buf,
      n,
      c,
      hw,
      eps,
      relu,
    );
    this.#cache = { mode: train ? "train" : "eval", x, mean, variance };
    return out;
  }

  backward(dout: NDArray): NDArray {
    const { mode, x, mean, variance } = cached(this.#cache, "BatchNormalization");
    if (dout.ndim !== x.ndim || dout.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(
        `BatchNormalization: dout ${formatShape(dout.shape)} does not match the input ${formatShape(x.shape)}`,
      );
    }
    const [n, c, hw] = this.#geometry(x.shape);
    const dx = NDArray.zeros(x.shape, x.dtype);
    const dgamma = NDArray.zeros([c], x.dtype);
    const dbeta = NDArray.zeros([c], x.dtype);
    // Training: the book's backward through xc = x − μ and σ = √(var + eps), per channel;
    // evaluation: μ and σ are constants, so the layer is a per-channel affine map.
    kernels().batchNormBackward(
      dx.buf,
      dgamma.buf,
      dbeta.buf,
      dout.buf,
      x.buf,
      mean.buf,
      variance.buf,
      this.gamma.value.buf,
      n,
      c,
      hw,
      this.eps,
      mode === "train",
    );
    this.gamma.grad = dgamma;
    this.beta.grad = dbeta;
    return dx;
  }

  /** x as (n, c, hw): (N, D) → (N, D, 1); (N, C, H, W) → (N, C, H·W). */
  #geometry(shape: Shape): [number, number, number] {
    const d = this.gamma.value.size;
    if (shape.length === 2 && shape[1] === d) return [shape[0], d, 1];
    if (shape.length === 4 && shape[1] === d) return [shape[0], d, shape[2] * shape[3]];
    throw new ShapeError(
      `BatchNormalization: expected (N, ${d}) or (N, ${d}, H, W) for gamma ${formatShape(this.gamma.value.shape)}, got ${formatShape(shape)}`,
    );
  }
}
