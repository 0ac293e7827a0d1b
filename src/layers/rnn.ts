import { NDArray } from "../ndarray.js";
import { rnnBackward, rnnForward } from "../ops/recurrent.js";
import type { Param } from "./layer.js";
import { cached } from "./cached.js";
import {
  recurrentWeights,
  stepAffine,
  stepAffineBackward,
  type RecurrentWeights,
} from "./recurrent-weights.js";

/**
 * The sequel's RNN cell, one time step: hNext = tanh(x·Wx + hPrev·Wh + b), x (N, D), h (N, H).
 * TimeRNN runs a whole sequence; this cell is its naive twin, and what step-by-step generation
 * uses. Its two inputs make it a cell rather than a Layer.
 */
export class RNN {
  readonly Wx: Param;
  readonly Wh: Param;
  readonly b: Param;
  readonly params: readonly Param[];
  readonly #w: RecurrentWeights;
  #cache: { x: NDArray; hPrev: NDArray; hNext: NDArray } | null = null;

  /** Wx (D, H), Wh (H, H), b (H,). */
  constructor(Wx: NDArray, Wh: NDArray, b: NDArray) {
    this.#w = recurrentWeights("RNN", Wx, Wh, b, 1);
    ({ Wx: this.Wx, Wh: this.Wh, b: this.b } = this.#w);
    this.params = [this.Wx, this.Wh, this.b];
  }

  forward(x: NDArray, hPrev: NDArray): NDArray {
    const hNext = stepAffine(this.#w, x, hPrev); // (N, H), then tanh in place
    rnnForward(hNext, hNext);
    this.#cache = { x, hPrev, hNext };
    return hNext;
  }

  /** From dL/dhNext: fills the params' grads, returns dx and dhPrev. */
  backward(dhNext: NDArray): { dx: NDArray; dhPrev: NDArray } {
    const { x, hPrev, hNext } = cached(this.#cache, "RNN");
    const da = NDArray.zeros(hNext.shape, hNext.dtype);
    rnnBackward(da, dhNext, hNext);
    return stepAffineBackward(this.#w, x, hPrev, da);
  }
}
