import type { NDArray } from "../ndarray.js";
import { rnnBackward, rnnForward } from "../ops/recurrent.js";
import { StepStore, TimeRecurrent, type TimeRecurrentOptions } from "./time-recurrent.js";

/**
 * The sequel's TimeRNN: the RNN cell (hₜ = tanh(xₜ·Wx + hₜ₋₁·Wh + b)) over a whole sequence,
 * x (N, T, D) → hs (N, T, H), with backpropagation through time inside backward. `stateful`
 * carries h from one forward to the next (truncated BPTT); `setState`/`dh` connect it to what
 * comes before (an encoder).
 */
export class TimeRNN extends TimeRecurrent {
  /** Wx (D, H), Wh (H, H), b (H,). */
  constructor(Wx: NDArray, Wh: NDArray, b: NDArray, options: TimeRecurrentOptions = {}) {
    super("TimeRNN", Wx, Wh, b, 1, options);
  }

  protected stepForward(steps: StepStore, t: number, at: NDArray): void {
    rnnForward(steps.hs[t + 1], at);
  }

  protected stepBackward(steps: StepStore, t: number, dat: NDArray, dh: NDArray): void {
    rnnBackward(dat, dh, steps.hs[t + 1]);
  }
}
