import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, allocFloats, type Floats, type Shape } from "../ndarray.js";
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
  mean: Floats;
  std: Floats; // √(σ² + eps)
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
 * Both run on the per-channel kernels over x seen as (N, C, H·W) ((N, D) is (N, D, 1)): statistics
 * in two passes, normalization and scale as one multiply-add per value, and a backward of two
 * passes (the book's chain of steps, folded into per-channel coefficients; its step-by-step form is
 * the test's twin).
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
    const dtype = x.dtype;
    let mean: Floats, std: Floats;
    if (mode === "train") {
      mean = allocFloats(dtype, c);
      const variance = allocFloats(dtype, c);
      kernels().batchNormStats(mean, variance, x.data, n, c, hw);
      std = variance.map((v) => Math.sqrt(v + this.eps));
      const k = this.momentum;
      const runMean = this.runningMean.clone();
      const runVar = this.runningVar.clone();
      for (let j = 0; j < c; j++) {
        runMean.data[j] = k * runMean.data[j] + (1 - k) * mean[j];
        runVar.data[j] = k * runVar.data[j] + (1 - k) * variance[j];
      }
      this.runningMean = runMean;
      this.runningVar = runVar;
    } else {
      mean = this.runningMean.data;
      std = this.runningVar.data.map((v) => Math.sqrt(v + this.eps));
    }
    // y = γ(x − μ)/σ + β = x·(γ/σ) + (β − μγ/σ)
    const gamma = this.gamma.value.data;
    const beta = this.beta.value.data;
    const scale = allocFloats(dtype, c);
    const shift = allocFloats(dtype, c);
    for (let j = 0; j < c; j++) {
      scale[j] = gamma[j] / std[j];
      shift[j] = beta[j] - mean[j] * scale[j];
    }
    const out = NDArray.zeros(x.shape, dtype);
    kernels().channelAffine(out.data, x.data, scale, shift, n, c, hw, relu);
    this.#cache = { mode, x, mean, std };
    return out;
  }

  backward(dout: NDArray): NDArray {
    const { mode, x, mean, std } = cached(this.#cache, "BatchNormalization");
    if (dout.ndim !== x.ndim || dout.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(
        `BatchNormalization: dout ${formatShape(dout.shape)} does not match the input ${formatShape(x.shape)}`,
      );
    }
    const [n, c, hw] = this.#geometry(x.shape);
    const m = n * hw;
    const dtype = x.dtype;
    const gamma = this.gamma.value.data;
    // dβ = Σ dy, dγ = Σ dy·x̂ = Σ dy·(x − μ)/σ
    const sumDy = allocFloats(dtype, c);
    const sumDyXc = allocFloats(dtype, c);
    kernels().batchNormBackwardSums(sumDy, sumDyXc, dout.data, x.data, mean, n, c, hw);
    this.beta.grad = new NDArray(sumDy, [c]);
    this.gamma.grad = new NDArray(
      sumDyXc.map((s, j) => s / std[j]),
      [c],
    );
    // Evaluation: μ and σ are constants, so dx = γ/σ·dy. Training (the book's backward through
    // xc = x − μ and σ = √(var + eps), collected per channel):
    //   dx = γ/σ·dy − γ·Σ(dy·xc)/(mσ³)·xc − γ·Σdy/(mσ)
    const a = allocFloats(dtype, c);
    const b = allocFloats(dtype, c);
    const k = allocFloats(dtype, c);
    for (let j = 0; j < c; j++) {
      a[j] = gamma[j] / std[j];
      if (mode === "train") {
        b[j] = (-gamma[j] * sumDyXc[j]) / (m * std[j] * std[j] * std[j]);
        k[j] = (-gamma[j] * sumDy[j]) / (m * std[j]);
      }
    }
    const dx = NDArray.zeros(x.shape, dtype);
    kernels().batchNormBackwardDx(dx.data, dout.data, x.data, mean, a, b, k, n, c, hw);
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
