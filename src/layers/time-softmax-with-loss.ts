import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Labels } from "../ndarray.js";
import { softmax, softmaxCrossEntropyBackward } from "../ops/softmax.js";
import type { LossLayer } from "./layer.js";
import { cached } from "./cached.js";

export interface TimeSoftmaxWithLossOptions {
  /** Targets equal to this are padding: no loss and no gradient (default −1, the sequel's). */
  ignoreLabel?: number;
}

/**
 * The sequel's TimeSoftmaxWithLoss: softmax cross-entropy at every step of (N, T, V) scores (any
 * leading axes) against N·T labels in the same order, averaged over the labels that count —
 * those equal to `ignoreLabel` (padding after a short caption) add nothing to the loss or its
 * gradient. Loss −log(p + 1e-7) as SoftmaxWithLoss.
 */
export class TimeSoftmaxWithLoss implements LossLayer {
  readonly ignoreLabel: number;
  #probs: NDArray | null = null; // (rows, V)
  #t: Labels | null = null; // ignored rows' labels replaced by 0 (their gradient rows are zeroed)
  #ignored: Uint8Array | null = null;
  #count = 0;
  #shape: readonly number[] = [];

  constructor({ ignoreLabel = -1 }: TimeSoftmaxWithLossOptions = {}) {
    if (!Number.isInteger(ignoreLabel))
      throw new RangeError(`TimeSoftmaxWithLoss: ignoreLabel ${ignoreLabel}`);
    this.ignoreLabel = ignoreLabel;
  }

  /** The number of labels the last loss averaged over (those not ignored). */
  get count(): number {
    return this.#count;
  }

  forward(scores: NDArray, t: Labels): number {
    if (scores.ndim < 2)
      throw new ShapeError(
        `TimeSoftmaxWithLoss: expected scores (N, T, V), got ${formatShape(scores.shape)}`,
      );
    const V = scores.shape[scores.ndim - 1];
    const rows = V === 0 ? 0 : scores.size / V;
    if (t.length !== rows) {
      throw new ShapeError(
        `TimeSoftmaxWithLoss: scores ${formatShape(scores.shape)} need ${rows} labels, got ${t.length}`,
      );
    }
    const probs = softmax(scores.reshape(rows, V));
    const ignored = new Uint8Array(rows);
    const labels = new Int32Array(rows);
    let loss = 0;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      if (t[r] === this.ignoreLabel) {
        ignored[r] = 1;
        continue;
      }
      if (!(t[r] >= 0 && t[r] < V)) {
        throw new RangeError(
          `TimeSoftmaxWithLoss: label ${t[r]} at ${r} is outside [0, ${V}) and is not the ignore label ${this.ignoreLabel}`,
        );
      }
      labels[r] = t[r];
      loss -= Math.log(probs.data[r * V + t[r]] + 1e-7);
      count++;
    }
    this.#probs = probs;
    this.#t = labels;
    this.#ignored = ignored;
    this.#count = count;
    this.#shape = scores.shape;
    return count === 0 ? 0 : loss / count;
  }

  /** dL/dscores in the scores' shape: (p − onehot)/count on the rows that count, 0 on the rest. */
  backward(dout = 1): NDArray {
    const probs = cached(this.#probs, "TimeSoftmaxWithLoss");
    const ignored = this.#ignored as Uint8Array;
    const V = probs.shape[1];
    const dx = softmaxCrossEntropyBackward(
      probs,
      this.#t as Labels,
      this.#count === 0 ? 0 : dout / this.#count,
    );
    for (let r = 0; r < ignored.length; r++) if (ignored[r]) dx.data.fill(0, r * V, (r + 1) * V);
    return dx.reshape(...this.#shape);
  }
}
