import { kernels } from "../backend/index.js";
import type { Param } from "../layers/layer.js";
import type { Optimizer } from "./optimizer.js";
import {
  ParamState,
  checkPositive,
  checkRate,
  gradOf,
  loadSlots,
  readSlots,
  saveSlots,
  type OptimizerState,
} from "./state.js";

export interface AdamOptions {
  /** Learning rate η (book default 0.001). */
  lr?: number;
  /** Decay of the gradient's moving average m (book default 0.9). */
  beta1?: number;
  /** Decay of the squared gradient's moving average v (book default 0.999). */
  beta2?: number;
  /** Added to √v so the first steps never divide by zero (book: 1e-7). */
  eps?: number;
}

/**
 * Adam (book §6.1.6, reference code): Momentum's velocity and RMSprop's scaling together, with the
 * bias of the zero-started averages corrected through the learning rate at step t:
 *   lr_t = η·√(1−β2^t)/(1−β1^t);  m ← m + (1−β1)(g−m);  v ← v + (1−β2)(g²−v);
 *   W ← W − lr_t·m / (√v + ε).
 * t counts calls to `step`, shared by all params, as the book's `self.iter`.
 */
export class Adam implements Optimizer {
  /** The learning rate; a schedule (the Trainer's `lrSchedule`) may change it between steps. */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly #m = new ParamState();
  readonly #v = new ParamState();
  #t = 0;

  constructor({ lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-7 }: AdamOptions = {}) {
    this.lr = checkPositive("Adam lr", lr);
    this.beta1 = checkRate("Adam beta1", beta1);
    this.beta2 = checkRate("Adam beta2", beta2);
    this.eps = checkPositive("Adam eps", eps);
  }

  /** Steps taken so far (the book's `iter`). */
  get t(): number {
    return this.#t;
  }

  async readState(params: readonly Param[]): Promise<void> {
    await readSlots(params, { m: this.#m, v: this.#v });
  }

  state(params: readonly Param[]): OptimizerState {
    return { step: this.#t, buffers: saveSlots(params, { m: this.#m, v: this.#v }) };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    loadSlots("Adam", params, { m: this.#m, v: this.#v }, state.buffers);
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new RangeError(`Adam: saved step count must be an integer ≥ 0, got ${state.step}`);
    }
    this.#t = state.step;
  }

  step(params: readonly Param[]): void {
    this.#t += 1;
    const lrT = (this.lr * Math.sqrt(1 - this.beta2 ** this.#t)) / (1 - this.beta1 ** this.#t);
    for (const p of params) {
      kernels().adamUpdate(
        p.value.buf,
        this.#m.get(p),
        this.#v.get(p),
        gradOf(p),
        lrT,
        this.beta1,
        this.beta2,
        this.eps,
      );
    }
  }
}
