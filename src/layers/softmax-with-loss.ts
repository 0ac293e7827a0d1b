import { emptyBatch } from "../errors.js";
import type { Labels, NDArray } from "../ndarray.js";
import { scale } from "../ops/elementwise.js";
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from "../ops/softmax.js";
import type { LossLayer } from "./layer.js";
import { cached } from "./cached.js";

/**
 * Softmax then cross-entropy, fused: the mean loss over the batch, and the famously simple
 * gradient (y − t) / N. Labels are class indices (one-hot targets are converted at the data edge).
 */
export class SoftmaxWithLoss implements LossLayer {
  #y: NDArray | null = null; // softmax probabilities (N, C)
  #t: Labels | null = null;

  /** Scores (N, C), labels (N,) → mean cross-entropy loss. */
  forward(scores: NDArray, t: Labels): number {
    return this.lossArray(scores, t).data[0];
  }

  /** `forward` with the loss as a (1,) array: on a device backend it stays there until read. */
  lossArray(scores: NDArray, t: Labels): NDArray {
    if (scores.shape[0] === 0) throw emptyBatch("SoftmaxWithLoss", "the mean loss");
    const { probs, loss } = softmaxCrossEntropy(scores, t);
    this.#y = probs;
    this.#t = t;
    return scale(loss, 1 / scores.shape[0]);
  }

  /** dL/dscores (N, C); `dout` scales it (1 when this is the final loss, as in the book). */
  backward(dout = 1): NDArray {
    const y = cached(this.#y, "SoftmaxWithLoss");
    return softmaxCrossEntropyBackward(y, cached(this.#t, "SoftmaxWithLoss"), dout / y.shape[0]);
  }

  /** The probabilities of the last forward pass. */
  get probs(): NDArray {
    return cached(this.#y, "SoftmaxWithLoss");
  }
}
