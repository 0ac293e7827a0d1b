import { kernels } from "../backend/index.js";
import { OptionError } from "../errors.js";
import type { Param } from "../layers/layer.js";
import { NDArray } from "../ndarray.js";
import { gradOf } from "./state.js";

/**
 * Gradient clipping by global norm (the sequel's `clip_grads`): when the norm of all gradients
 * together, ‖g‖ = √(Σ g²) over every param, exceeds `maxNorm`, every gradient is scaled by
 * maxNorm / (‖g‖ + 1e-6), in place, so the step keeps its direction but not its size. Recurrent
 * networks need it: a gradient through many steps can explode. Returns ‖g‖ before clipping.
 *
 * On a device backend (WebGPU), whose values come back asynchronously, use `clipGradsOnDevice`.
 */
export function clipGrads(params: readonly Param[], maxNorm: number): number {
  return Math.sqrt(clipGradsOnDevice(params, maxNorm).data[0]);
}

/**
 * `clipGrads` where the gradients live, with no read-back: the kernels sum the squares into a (1,)
 * array and scale by what it holds. Returns that array, Σ g² before clipping (`await a.read()`).
 */
export function clipGradsOnDevice(params: readonly Param[], maxNorm: number): NDArray {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new OptionError(`clipGrads: maxNorm must be a finite number > 0, got ${maxNorm}`);
  }
  const grads = params.map(gradOf);
  const sumSq = NDArray.zeros([1], params[0]?.value.dtype ?? "float32");
  grads.forEach((g, i) => kernels().sumSquares(sumSq.buf, g, i > 0));
  for (const g of grads) kernels().clipByNorm(g, sumSq.buf, maxNorm);
  return sumSq;
}
