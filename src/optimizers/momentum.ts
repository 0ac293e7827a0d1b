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

export interface MomentumOptions {
  /** Learning rate η (book default 0.01). */
  lr?: number;
  /** α, the share of the velocity kept each step (book default 0.9). */
  momentum?: number;
}

/** Momentum (book §6.1.4): v ← αv − η·∂L/∂W; W ← W + v. */
export class Momentum implements Optimizer {
  /** The learning rate; a schedule (the Trainer's `lrSchedule`) may change it between steps. */
  lr: number;
  readonly momentum: number;
  readonly #v = new ParamState();

  constructor({ lr = 0.01, momentum = 0.9 }: MomentumOptions = {}) {
    this.lr = checkPositive("Momentum lr", lr);
    this.momentum = checkRate("Momentum momentum", momentum);
  }

  async readState(params: readonly Param[]): Promise<void> {
    await readSlots(params, { v: this.#v });
  }

  state(params: readonly Param[]): OptimizerState {
    return { step: 0, buffers: saveSlots(params, { v: this.#v }) };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    loadSlots("Momentum", params, { v: this.#v }, state.buffers);
  }

  step(params: readonly Param[]): void {
    for (const p of params) {
      kernels().momentumUpdate(p.value.buf, this.#v.get(p), gradOf(p), this.lr, this.momentum);
    }
  }
}
