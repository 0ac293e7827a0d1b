import { NDArray } from "../ndarray.js";
import { lstmBackward, lstmForward } from "../ops/recurrent.js";
import type { Param } from "./layer.js";
import { cached } from "./cached.js";
import {
  recurrentWeights,
  stepAffine,
  stepAffineBackward,
  type RecurrentWeights,
} from "./recurrent-weights.js";

/**
 * The sequel's LSTM cell, one time step. a = x·Wx + hPrev·Wh + b (N, 4H) holds the four gate
 * blocks side by side in the order f, g, i, o (forget, candidate, input, output — the sequel's;
 * PyTorch orders them i, f, g, o):
 *   f = σ(a_f), g = tanh(a_g), i = σ(a_i), o = σ(a_o);  c = f⊙cPrev + g⊙i;  h = o⊙tanh(c).
 * TimeLSTM runs a whole sequence; this cell is its naive twin, and what step-by-step generation
 * (greedy and beam search) uses.
 */
export class LSTM {
  readonly Wx: Param;
  readonly Wh: Param;
  readonly b: Param;
  readonly params: readonly Param[];
  readonly #w: RecurrentWeights;
  #cache: { x: NDArray; hPrev: NDArray; cPrev: NDArray; gates: NDArray; c: NDArray } | null = null;

  /** Wx (D, 4H), Wh (H, 4H), b (4H,). */
  constructor(Wx: NDArray, Wh: NDArray, b: NDArray) {
    this.#w = recurrentWeights("LSTM", Wx, Wh, b, 4);
    ({ Wx: this.Wx, Wh: this.Wh, b: this.b } = this.#w);
    this.params = [this.Wx, this.Wh, this.b];
  }

  /** x (N, D), hPrev and cPrev (N, H) → the next h and c (N, H). */
  forward(x: NDArray, hPrev: NDArray, cPrev: NDArray): { h: NDArray; c: NDArray } {
    const a = stepAffine(this.#w, x, hPrev); // (N, 4H)
    const gates = NDArray.zeros(a.shape, a.dtype);
    const c = NDArray.zeros(cPrev.shape, a.dtype);
    const h = NDArray.zeros(cPrev.shape, a.dtype);
    lstmForward(gates, c, h, a, cPrev);
    this.#cache = { x, hPrev, cPrev, gates, c };
    return { h, c };
  }

  /** From dL/dh and dL/dc of this step's outputs: fills the grads, returns dx, dhPrev, dcPrev. */
  backward(dhNext: NDArray, dcNext: NDArray): { dx: NDArray; dhPrev: NDArray; dcPrev: NDArray } {
    const { x, hPrev, cPrev, gates, c } = cached(this.#cache, "LSTM");
    const da = NDArray.zeros(gates.shape, gates.dtype);
    const dcPrev = NDArray.zeros(cPrev.shape, cPrev.dtype);
    lstmBackward(da, dcPrev, dhNext, dcNext, gates, cPrev, c);
    return { ...stepAffineBackward(this.#w, x, hPrev, da), dcPrev };
  }
}
