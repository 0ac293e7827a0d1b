import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { cached } from "./cached.js";
import type { Layer, Mode, Param } from "./layer.js";

export interface LRNOptions {
  /** The additive constant k (default 2). */
  k?: number;
  /** How many neighbouring channels each sum covers, centred on the channel (odd; default 5). */
  n?: number;
  /** Scale α of the sum of squares (default 1e-4); the sum is multiplied by α/n. */
  alpha?: number;
  /** Exponent β (default 0.75). */
  beta?: number;
}

/**
 * Local response normalization across channels (AlexNet, Krizhevsky et al. 2012, §3.3): each
 * activation is damped by the energy of its n neighbouring channels at the same position,
 *   b_c = a_c / s_c^β,  s_c = k + (α/n)·Σ_{|c'−c| ≤ ⌊n/2⌋} a_c'².
 * (N, C, H, W) → same shape. No params.
 *
 * The sum is scaled by α/n as Caffe does; the paper writes α alone, so its α = 1e-4 corresponds
 * to alpha = n·1e-4 here. Not in the book: AlexNet appears there only as a figure (§8.2.2).
 *
 * The loops are kernels (lrnForward/lrnBackward), so that LRN runs on the GPU too.
 */
export class LRN implements Layer {
  readonly params: readonly Param[] = [];
  readonly k: number;
  readonly n: number;
  readonly alpha: number;
  readonly beta: number;
  #x: NDArray | null = null;
  #y: NDArray | null = null;
  /** s_c per element, kept for backward. */
  #scale: NDArray | null = null;

  constructor({ k = 2, n = 5, alpha = 1e-4, beta = 0.75 }: LRNOptions = {}) {
    if (!Number.isInteger(n) || n < 1 || n % 2 === 0) {
      throw new RangeError(`LRN: n must be an odd integer ≥ 1 (a window centred on the channel), got ${n}`);
    }
    if (!(k > 0) || !(alpha >= 0) || !(beta >= 0)) {
      throw new RangeError(`LRN: need k > 0, alpha ≥ 0, beta ≥ 0; got k=${k}, alpha=${alpha}, beta=${beta}`);
    }
    this.k = k;
    this.n = n;
    this.alpha = alpha;
    this.beta = beta;
  }

  forward(x: NDArray, _mode: Mode): NDArray {
    if (x.ndim !== 4)
      throw new ShapeError(`LRN: expected an (N, C, H, W) input, got ${formatShape(x.shape)}`);
    const [N, C, H, W] = x.shape;
    const y = NDArray.zeros(x.shape, x.dtype);
    const scale = NDArray.zeros(x.shape, x.dtype);
    kernels().lrnForward(y.buf, scale.buf, x.buf, N, C, H, W, this.n, this.k, this.alpha, this.beta);
    this.#x = x;
    this.#y = y;
    this.#scale = scale;
    return y;
  }

  /**
   * a_j appears in its own output and in the sums s_c of its neighbours c (the window is
   * symmetric, so those are the channels in j's own window):
   *   ∂L/∂a_j = dout_j·s_j^−β − (2αβ/n)·a_j·Σ_{|c−j| ≤ ⌊n/2⌋} dout_c·b_c / s_c.
   */
  backward(dout: NDArray): NDArray {
    const x = cached(this.#x, "LRN");
    const y = cached(this.#y, "LRN");
    const scale = cached(this.#scale, "LRN");
    if (dout.ndim !== 4 || dout.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(
        `LRN: dout ${formatShape(dout.shape)} does not match the output ${formatShape(x.shape)}`,
      );
    }
    const [N, C, H, W] = x.shape;
    const dx = NDArray.zeros(x.shape, dout.dtype);
    kernels().lrnBackward(
      dx.buf,
      dout.buf,
      x.buf,
      y.buf,
      scale.buf,
      N,
      C,
      H,
      W,
      this.n,
      this.alpha,
      this.beta,
    );
    return dx;
  }
}
