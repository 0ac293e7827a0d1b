import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Labels } from "../ndarray.js";
import { cached } from "./cached.js";

export interface HuberLossOptions {
  /** Where the loss turns from quadratic to linear (DQN: 1, the paper's error clipping to [−1, 1]). */
  delta?: number;
}

/**
 * The Huber loss, quadratic near 0 and linear beyond ±δ:
 *   h(e) = ½e² for |e| ≤ δ, δ(|e| − ½δ) otherwise;  h′(e) = e clipped to [−δ, δ].
 * L = Σ h(y − t) / N over the batch of N samples (the same per-sample scale as IdentityWithLoss).
 *
 * DQN's form takes the taken actions too: y are the Q-values (N, A), t the TD targets (N,), and
 * only y[i, actions[i]] enters the loss, so the other actions' gradient is exactly 0. The gradient
 * clipped to ±δ is the paper's "clip the error term to between −1 and 1".
 */
export class HuberLoss {
  readonly delta: number;
  #dy: NDArray | null = null; // h′(y − t) / N, zero where no target

  constructor({ delta = 1 }: HuberLossOptions = {}) {
    if (!(delta > 0) || !Number.isFinite(delta)) {
      throw new RangeError(`HuberLoss delta must be a finite number > 0, got ${delta}`);
    }
    this.delta = delta;
  }

  /**
   * `forward(y, t)`: y and t of one shape, every element a target. `forward(q, t, actions)`: Q-values
   * q (N, A), targets t (N,) and the taken actions (N,), each in [0, A).
   */
  forward(y: NDArray, t: NDArray, actions?: Labels): number {
    const n = y.ndim <= 1 ? 1 : y.shape[0];
    const dy = NDArray.zeros(y.shape, y.dtype);
    const d = this.delta;
    let sum = 0;
    const add = (k: number, e: number) => {
      const a = Math.abs(e);
      sum += a <= d ? 0.5 * e * e : d * (a - 0.5 * d);
      dy.data[k] = (a <= d ? e : Math.sign(e) * d) / n;
    };
    if (actions === undefined) {
      if (y.size !== t.size || y.ndim !== t.ndim || y.shape.some((s, i) => s !== t.shape[i])) {
        throw new ShapeError(
          `HuberLoss (y, t): shapes ${formatShape(y.shape)} and ${formatShape(t.shape)} differ`,
        );
      }
      for (let k = 0; k < y.size; k++) add(k, y.data[k] - t.data[k]);
    } else {
      if (y.ndim !== 2 || t.size !== y.shape[0] || actions.length !== y.shape[0]) {
        throw new ShapeError(
          `HuberLoss (q, t, actions): expected q (N, A), t (N) and N actions; got q ${formatShape(y.shape)}, ` +
            `t ${formatShape(t.shape)}, ${actions.length} actions`,
        );
      }
      const A = y.shape[1];
      for (let i = 0; i < y.shape[0]; i++) {
        const a = actions[i];
        if (!(Number.isInteger(a) && a >= 0 && a < A)) {
          throw new RangeError(`HuberLoss: action ${a} of sample ${i} is not in [0, ${A})`);
        }
        add(i * A + a, y.data[i * A + a] - t.data[i]);
      }
    }
    this.#dy = dy;
    return sum / n;
  }

  /** dL/dy, shaped like y; `dout` scales it (1 when this is the final loss). */
  backward(dout = 1): NDArray {
    const dy = cached(this.#dy, "HuberLoss");
    const out = NDArray.zeros(dy.shape, dy.dtype);
    for (let k = 0; k < dy.size; k++) out.data[k] = dout * dy.data[k];
    return out;
  }
}
