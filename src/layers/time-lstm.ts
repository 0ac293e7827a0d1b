import type { NDArray } from "../ndarray.js";
import { lstmBackward, lstmForward } from "../ops/recurrent.js";
import { StepStore, TimeRecurrent, type TimeRecurrentOptions } from "./time-recurrent.js";

/**
 * The sequel's TimeLSTM: the LSTM cell (see LSTM: gate blocks f, g, i, o) over a whole sequence,
 * x (N, T, D) → hs (N, T, H). `stateful` carries h and c from one forward to the next
 * (truncated BPTT); `setState(h, c)` starts from an encoder's state and `dh`/`dc` return its
 * gradient.
 */
export class TimeLSTM extends TimeRecurrent {
  /** Wx (D, 4H), Wh (H, 4H), b (4H,). */
  constructor(Wx: NDArray, Wh: NDArray, b: NDArray, options: TimeRecurrentOptions = {}) {
    super("TimeLSTM", Wx, Wh, b, 4, options);
  }

  protected stepForward(steps: StepStore, t: number, at: NDArray): void {
    lstmForward(steps.gates[t], steps.cs[t + 1], steps.hs[t + 1], at, steps.cs[t]);
  }

  protected stepBackward(steps: StepStore, t: number, dat: NDArray, dh: NDArray, dc: NDArray): void {
    lstmBackward(dat, dc, dh, dc, steps.gates[t], steps.cs[t], steps.cs[t + 1]);
  }
}
