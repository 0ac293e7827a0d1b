import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Labels } from "../ndarray.js";
import { axpby, sigmoid } from "../ops/elementwise.js";
import { cached } from "./cached.js";

/**
 * Sigmoid then binary cross-entropy, fused, on logits x with targets t ∈ [0, 1] (a GAN's
 * "real"/"fake", a multi-label's yes/no):
 *   L = Σ [max(x, 0) − x·t + log(1 + exp(−|x|))] / N,   dL/dx = (σ(x) − t) / N,
 * N the batch (first axis). The form −t·log σ(x) − (1 − t)·log(1 − σ(x)) rewritten so that no exp
 * overflows and no log sees 0: exact for logits of any size (x = ±1000 costs 1000, not ∞ or NaN).
 *
 * Book: the sequel's (Deep Learning from Scratch 2) SigmoidWithLoss computes σ first and takes
 * log(σ + 1e-7), which caps the loss of a confident mistake at 16.1 and flattens its gradient.
 */
export class SigmoidWithLoss {
  #y: NDArray | null = null; // σ(x)
  #t: NDArray | null = null;

  /**
   * Logits x (N, …) and targets t of the same shape (or, for 0/1 labels, an Int32Array with one
   * value per element of x) → the summed binary cross-entropy divided by N.
   */
  forward(x: NDArray, t: NDArray | Labels): number {
    const target = targetsFor(x, t);
    let sum = 0;
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      sum += Math.max(v, 0) - v * target.data[i] + Math.log1p(Math.exp(-Math.abs(v)));
    }
    this.#y = sigmoid(x);
    this.#t = target;
    return sum / batchSize(x);
  }

  /** dL/dx = (σ(x) − t) / N, times `dout` (1 when this is the final loss). */
  backward(dout = 1): NDArray {
    const y = cached(this.#y, "SigmoidWithLoss");
    const k = dout / batchSize(y);
    return axpby(k, y, -k, cached(this.#t, "SigmoidWithLoss"));
  }

  /** σ(x) of the last forward pass: the probabilities of "1". */
  get probs(): NDArray {
    return cached(this.#y, "SigmoidWithLoss");
  }
}

function batchSize(x: NDArray): number {
  return x.ndim === 0 ? 1 : x.shape[0];
}

/** t as a float array of x's shape and dtype, checked to lie in [0, 1]. */
function targetsFor(x: NDArray, t: NDArray | Labels): NDArray {
  const values = t instanceof NDArray ? t.data : t;
  if (
    t instanceof NDArray ? t.shape.some((d, i) => d !== x.shape[i]) || t.ndim !== x.ndim : t.length !== x.size
  ) {
    const got = t instanceof NDArray ? formatShape(t.shape) : `${t.length} labels`;
    throw new ShapeError(`SigmoidWithLoss: targets ${got} do not match the logits ${formatShape(x.shape)}`);
  }
  const target = NDArray.zeros(x.shape, x.dtype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= 1)) throw new RangeError(`SigmoidWithLoss: target ${v} at ${i} is outside [0, 1]`);
    target.data[i] = v;
  }
  return target;
}
