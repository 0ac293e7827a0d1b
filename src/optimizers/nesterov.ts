import { kernels } from "../backend/index.js";
import type { Param } from "../layers/layer.js";
import type { MomentumOptions } from "./momentum.js";
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

export type NesterovOptions = MomentumOptions;

/**
 * Nesterov's accelerated gradient (book §6.1.7's reference code), in the form that needs the
 * gradient at W only: W ← W + α²v − (1+α)·η·∂L/∂W, then v ← αv − η·∂L/∂W. It equals Momentum
 * that looks one step ahead along v before taking the gradient.
 */
export class Nesterov implements Optimizer {
  /** The learning rate; a schedule (the Trainer's `lrSchedule`) may change it between steps. */
  lr: number;
  readonly momentum: number;
  readonly #v = new ParamState();

  constructor({ lr = 0.01, momentum = 0.9 }: NesterovOptions = {}) {
    this.lr = checkPositive("Nesterov lr", lr);
    this.momentum = checkRate("Nesterov momentum", momentum);
  }

  async readState(params: readonly Param[]): Promise<void> {
    await readSlots(params, { v: this.#v });
  }

  state(params: readonly Param[]): OptimizerState {
    return { step: 0, buffers: saveSlots(params, { v: this.#v }) };
  }

  setState(params: readonly Param[], state: OptimizerState): void {
    loadSlots("Nesterov", params, { v: this.#v }, state.buffers);
  }

  step(params: readonly Param[]): void {
    for (const p of params) {
      kernels().nesterovUpdate(p.value.buf, this.#v.get(p), gradOf(p), this.lr, this.momentum);
    }
  }
}
