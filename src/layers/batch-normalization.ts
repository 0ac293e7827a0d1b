import { ShapeError, formatShape } from "../errors.js";
import { NDArray, keepFromStep, type Shape } from "../ndarray.js";
import { add, mul } from "../ops/elementwise.js";
import { addBias, scaleColumns, sumRows, transposeLast2 } from "../ops/linalg.js";
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
  xc: NDArray; // x − μ, (M, D)
  xn: NDArray; // (x − μ) / σ, (M, D)
  std: NDArray; // σ, (D,)
}

/**
 * Batch normalization (Ioffe & Szegedy), y = γ·(x − μ)/σ + β with μ, σ² the batch statistics in
 * training and the running averages in evaluation.
 *
 * - 2-D input (N, D): per activation, the book's form; γ, β, running mean/var have shape (D,).
 * - 4-D input (N, C, H, W): per channel, statistics over N·H·W; γ, β have shape (C,).
 *   Book: its BatchNormalization flattens 4-D input to (N, C·H·W) and normalizes each activation;
 *   per-channel is the form the paper gives for convolutions (and what frameworks do).
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
    const m = rows.shape[0];
    let xc: NDArray, std: NDArray;
    if (mode === "train") {
      const mu = perFeature(sumRows(rows), (s) => s / m);
      xc = addBias(rows, negative(mu));
      const variance = perFeature(sumRows(mul(xc, xc)), (s) => s / m);
      std = perFeature(variance, (v) => Math.sqrt(v + this.eps));
      const k = this.momentum;
      // Kept from the model's step: they outlive it (ndarray.ts keepFromStep).
      this.runningMean = keepFromStep(perFeature(this.runningMean, (r, j) => k * r + (1 - k) * mu.data[j]));
      this.runningVar = keepFromStep(
        perFeature(this.runningVar, (r, j) => k * r + (1 - k) * variance.data[j]),
      );
    } else {
      xc = addBias(rows, negative(this.runningMean));
      std = perFeature(this.runningVar, (v) => Math.sqrt(v + this.eps));
    }
    const xn = scaleColumns(xc, reciprocal(std));
    this.#cache = { mode, xShape: x.shape, xc, xn, std };
    const out = addBias(scaleColumns(xn, this.gamma.value), this.beta.value);
    return this.#fromRows(out, x.shape);
  }

  backward(dout: NDArray): NDArray {
    const { mode, xShape, xc, xn, std } = cached(this.#cache, "BatchNormalization");
    const d = this.#toRows(dout); // (M, D)
    const m = d.shape[0];
    this.beta.grad = sumRows(d);
    this.gamma.grad = sumRows(mul(xn, d));
    const dxn = scaleColumns(d, this.gamma.value);
    const invStd = reciprocal(std);
    if (mode === "eval") {
      // μ and σ are constants here, so the layer is a per-feature affine map.
      return this.#fromRows(scaleColumns(dxn, invStd), xShape);
    }
    // The book's backward, through xc = x − μ and σ = √(var + eps):
    let dxc = scaleColumns(dxn, invStd);
    const dstd = perFeature(sumRows(mul(dxn, xc)), (s, j) => -s / (std.data[j] * std.data[j]));
    const dvar = perFeature(dstd, (v, j) => (0.5 * v) / std.data[j]);
    // dxc += (2/m)·xc·dvar
    const twoDvarOverM = perFeature(dvar, (v) => (2 / m) * v);
    dxc = add(dxc, scaleColumns(xc, twoDvarOverM));
    const meanDxc = perFeature(sumRows(dxc), (s) => s / m); // dμ/m
    const dx = addBias(dxc, negative(meanDxc));
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

const negative = (v: NDArray) => perFeature(v, (value) => -value);
const reciprocal = (v: NDArray) => perFeature(v, (value) => 1 / value);

/** A new (D,) vector f(v[j], j): the per-feature statistics are small, so a plain loop. */
function perFeature(v: NDArray, f: (value: number, j: number) => number): NDArray {
  const out = NDArray.zeros(v.shape, v.dtype);
  for (let j = 0; j < v.size; j++) out.data[j] = f(v.data[j], j);
  return out;
}
