import { kernels } from "../backend/index.js";
import type { Param } from "../layers/layer.js";
import type { Optimizer } from "./optimizer.js";
import { checkPositive, gradOf, loadSlots, readSlots, saveSlots, type OptimizerState } from "./state.js";

export interface SGDOptions {
  /** Learning rate η (book default 0.01). */
  lr?: number;
}

/** Stochastic gradient descent (book §6.1.2): W ← W − η·∂L/∂W. */
export class SGD implements Optimizer {
  /** The learning rate; a schedule (the Trainer's `lrSchedule`) may change it between steps. */
  lr: number;

  constructor({ lr = 0.01 }: SGDOptions = {}) {
    this.lr = checkPositive("SGD lr", lr);
  }

  async readState(params: readonly Param[]): Promise<void> {
    await readSlots(params, {});
  }

  state(params: readonly Param[]): OptimizerState {
    return { step: 0, buffers: saveSlots(params, {}) };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    loadSlots("SGD", params, {}, state.buffers);
  }

  step(params: readonly Param[]): void {
    for (const p of params) kernels().sgdUpdate(p.value.buf, gradOf(p), this.lr);
  }
}
