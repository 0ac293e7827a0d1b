import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Floats } from "../ndarray.js";
import type { Param } from "../layers/layer.js";

/** The gradient of `p` as kernels take it, checked: an optimizer step needs `backward()` to have run first. */
export function gradOf(p: Param): Floats {
  if (p.grad === null) {
    throw new Error(`param "${p.name}" ${formatShape(p.value.shape)} has no gradient: call backward() first`);
  }
  if (p.grad.size !== p.value.size) {
    throw new ShapeError(
      `param "${p.name}": grad ${formatShape(p.grad.shape)} does not match value ${formatShape(p.value.shape)}`,
    );
  }
  return p.grad.buf;
}

/**
 * Per-parameter optimizer state (velocity, squared-gradient sums, …), private to one optimizer and
 * keyed by the Param itself, so one optimizer can serve any set of params. Buffers start at zero,
 * as the book's `np.zeros_like(val)`; on a device backend they live on the device.
 */
export class ParamState {
  readonly #arrays = new WeakMap<Param, NDArray>();

  /** The buffer of `p` as kernels take it (made on first use). */
  get(p: Param): Floats {
    return this.array(p).buf;
  }

  /** The buffer of `p` as an array (made on first use). */
  array(p: Param): NDArray {
    let a = this.#arrays.get(p);
    if (a === undefined || a.size !== p.value.size) {
      a = NDArray.lasting(p.value.shape, p.value.dtype);
      this.#arrays.set(p, a);
    }
    return a;
  }

  /** The buffer of `p` if a step made one (a param never stepped has none: it is all zeros). */
  peek(p: Param): NDArray | undefined {
    return this.#arrays.get(p);
  }
}

/** What a checkpoint keeps of an optimizer: its step count and every per-param buffer. */
export interface OptimizerState {
  /** Steps taken (Adam's t; 0 for optimizers that do not count them). */
  step: number;
  /** Buffers by `${param name}/${slot}`, e.g. "W1/m". */
  buffers: Record<string, Floats>;
}

/** The buffers of `slots` (by slot name) for `params`, keyed `${param name}/${slot}`. */
export function saveSlots(
  params: readonly Param[],
  slots: Record<string, ParamState>,
): Record<string, Floats> {
  const buffers: Record<string, Floats> = {};
  for (const [slot, state] of Object.entries(slots)) {
    for (const p of params) {
      const buf = state.peek(p);
      if (buf) buffers[`${p.name}/${slot}`] = buf.data.slice();
    }
  }
  return buffers;
}

/** Brings the buffers of `slots` for `params` home from a device (WebGPU), so `saveSlots` can copy them. */
export async function readSlots(params: readonly Param[], slots: Record<string, ParamState>): Promise<void> {
  for (const state of Object.values(slots)) {
    for (const p of params) await state.peek(p)?.read();
  }
}

/**
 * Fills `slots` from saved buffers. Every buffer must belong to one of `params` and one of the
 * slots, with the param's size; a param without a saved buffer starts from zeros, as it would have.
 */
export function loadSlots(
  who: string,
  params: readonly Param[],
  slots: Record<string, ParamState>,
  buffers: Record<string, Floats>,
): void {
  const byName = new Map(params.map((p) => [p.name, p]));
  for (const [key, saved] of Object.entries(buffers)) {
    const cut = key.lastIndexOf("/");
    const p = byName.get(key.slice(0, cut));
    const state = slots[key.slice(cut + 1)];
    if (cut < 0 || !p || !state) {
      throw new RangeError(
        `${who}: saved state "${key}" matches no param/slot (params: ${[...byName.keys()].join(", ")}; slots: ${Object.keys(slots).join(", ")})`,
      );
    }
    if (saved.length !== p.value.size) {
      throw new ShapeError(
        `${who}: saved state "${key}" has ${saved.length} values, param ${p.name} has ${p.value.size}`,
      );
    }
    state.array(p).data.set(saved);
  }
}

/** Throws unless `value` is a finite number > 0 (or ≥ 0 when `allowZero`). */
export function checkPositive(what: string, value: number, allowZero = false): number {
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) throw new RangeError(`${what} must be a finite number ${allowZero ? "≥" : ">"} 0, got ${value}`);
  return value;
}

/** Throws unless `value` lies in [0, 1). */
export function checkRate(what: string, value: number): number {
  if (!(value >= 0 && value < 1)) throw new RangeError(`${what} must lie in [0, 1), got ${value}`);
  return value;
}
