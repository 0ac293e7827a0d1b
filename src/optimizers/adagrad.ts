import { kernels } from "../backend/index.js";
import type { Param } from "../layers/layer.js";
import type { Optimizer } from "./optimizer.js";
import {
  ParamState,
  checkPositive,
  gradOf,
  loadSlots,
  readSlots,
  saveSlots,
  type OptimizerState,
} from "./state.js";

export interface AdaGradOptions {
  /** Learning rate η (book default 0.01). */
  lr?: number;
  /** Added to √h so the first steps never divide by zero (book: 1e-7). */
  eps?: number;
}

/**
 * AdaGrad (book §6.1.5): h ← h + (∂L/∂W)²; W ← W − η·∂L/∂W / (√h + ε). Each weight's step
 * shrinks with the squared gradients it has seen so far.
 */
export class AdaGrad implements Optimizer {
  /** The learning rate; a schedule (the Trainer's `lrSchedule`) may change it between steps. */
  lr: number;
  readonly eps: number;
  readonly #h = new ParamState();

  constructor({ lr = 0.01, eps = 1e-7 }: AdaGradOptions = {}) {
    this.lr = checkPositive("AdaGrad lr", lr);
    this.eps = checkPositive("AdaGrad eps", eps);
  }

  async readState(params: readonly Param[]): Promise<void> {
    await readSlots(params, { h: this.#h });
  }

  state(params: readonly Param[]): OptimizerState {
    return { step: 0, buffers: saveSlots(params, { h: this.#h }) };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    loadSlots("AdaGrad", params, { h: this.#h }, state.buffers);
  }

  step(params: readonly Param[]): void {
    for (const p of params)
      kernels().adagradUpdate(p.value.buf, this.#h.get(p), gradOf(p), this.lr, this.eps);
  }
}
