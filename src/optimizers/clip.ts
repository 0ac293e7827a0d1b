import { kernels } from "../backend/index.js";
import { OptionError } from "../errors.js";
import type { Param } from "../layers/layer.js";
import { gradOf } from "./state.js";

/**
 * Gradient clipping by global norm (the sequel's `clip_grads`): when the norm of all gradients
 * together, ‖g‖ = √(Σ g²) over every param, exceeds `maxNorm`, every gradient is scaled by
 * maxNorm / (‖g‖ + 1e-6), in place, so the step keeps its direction but not its size. Recurrent
 * networks need it: a gradient through many steps can explode. Returns ‖g‖ before clipping.
 */
export function clipGrads(params: readonly Param[], maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new OptionError(`clipGrads: maxNorm must be a finite number > 0, got ${maxNorm}`);
  }
  let sum = 0;
  for (const p of params) {
    const g = gradOf(p);
    for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  }
  const norm = Math.sqrt(sum);
  const rate = maxNorm / (norm + 1e-6);
  if (rate < 1) {
    for (const p of params) {
      const g = gradOf(p);
      kernels().axpby(g, rate, g, 0, g);
    }
  }
  return norm;
}
