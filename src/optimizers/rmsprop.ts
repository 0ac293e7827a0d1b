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

export interface RMSpropOptions {
  /** Learning rate η (book default 0.01). */
  lr?: number;
  /** ρ, the share of the squared-gradient average kept each step (book default 0.99). */
  decayRate?: number;
  /** Added to √h so the first steps never divide by zero (book: 1e-7). */
  eps?: number;
}

/**
 * RMSprop (book §6.1.5, reference code): AdaGrad with a moving average in place of the sum, so
 * old gradients fade: h ← ρh + (1−ρ)(∂L/∂W)²; W ← W − η·∂L/∂W / (√h + ε).
 */
export class RMSprop implements Optimizer {
  /** The learning rate; a schedule (the Trainer's `lrSchedule`) may change it between steps. */
  lr: number;
  readonly decayRate: number;
  readonly eps: number;
  readonly #h = new ParamState();

  constructor({ lr = 0.01, decayRate = 0.99, eps = 1e-7 }: RMSpropOptions = {}) {
    this.lr = checkPositive("RMSprop lr", lr);
    this.decayRate = checkRate("RMSprop decayRate", decayRate);
    this.eps = checkPositive("RMSprop eps", eps);
  }

  async readState(params: readonly Param[]): Promise<void> {
    await readSlots(params, { h: this.#h });
  }

  state(params: readonly Param[]): OptimizerState {
    return { step: 0, buffers: saveSlots(params, { h: this.#h }) };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    loadSlots("RMSprop", params, { h: this.#h }, state.buffers);
  }

  step(params: readonly Param[]): void {
    for (const p of params) {
      kernels().rmspropUpdate(p.value.buf, this.#h.get(p), gradOf(p), this.lr, this.decayRate, this.eps);
    }
  }
}
