import { emptyBatch } from "../errors.js";
import type { NDArray } from "../ndarray.js";
import { assertSameShape } from "../ops/check.js";
import { axpby, sub } from "../ops/elementwise.js";
import { cached } from "./cached.js";

/**
 * The identity output with the mean squared error, for regression:
 * L = ½ Σ (y − t)² / N (N the batch size), dL/dy = (y − t) / N.
 *
 * Book: `mean_squared_error` is ½ Σ (y − t)² over whatever it is given; dividing by the batch size
 * puts the loss on the same per-sample scale as SoftmaxWithLoss, so learning rates carry over.
 */
export class IdentityWithLoss {
  #diff: NDArray | null = null; // y − t

  forward(y: NDArray, t: NDArray): number {
    assertSameShape("IdentityWithLoss (y, t)", y, t);
    if (batchSize(y) === 0) throw emptyBatch("IdentityWithLoss", "the mean loss");
    const diff = sub(y, t);
    this.#diff = diff;
    let sum = 0;
    for (let i = 0; i < diff.size; i++) sum += diff.data[i] * diff.data[i];
    return (0.5 * sum) / batchSize(y);
  }

  backward(dout = 1): NDArray {
    const diff = cached(this.#diff, "IdentityWithLoss");
    return axpby(dout / batchSize(diff), diff, 0, diff);
  }
}

/** The first axis is the batch; a 1-D array is one sample. */
function batchSize(y: NDArray): number {
  return y.ndim <= 1 ? 1 : y.shape[0];
}
