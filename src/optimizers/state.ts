import { ShapeError, formatShape } from "../errors.js";
import { allocFloats, type Floats } from "../ndarray.js";
import type { Param } from "../layers/layer.js";

/** The gradient of `p`, checked: an optimizer step needs `backward()` to have run first. */
export function gradOf(p: Param): Floats {
  if (p.grad === null) {
    throw new Error(`param "${p.name}" ${formatShape(p.value.shape)} has no gradient: call backward() first`);
  }
  if (p.grad.size !== p.value.size) {
    throw new ShapeError(
      `param "${p.name}": grad ${formatShape(p.grad.shape)} does not match value ${formatShape(p.value.shape)}`,
    );
  }
  return p.grad.data;
}

/**
 * Per-parameter optimizer state (velocity, squared-gradient sums, …), private to one optimizer and
 * keyed by the Param itself, so one optimizer can serve any set of params. Buffers start at zero,
 * as the book's `np.zeros_like(val)`.
 */
export class ParamState {
  readonly #buffers = new WeakMap<Param, Floats>();

  get(p: Param): Floats {
    let buf = this.#buffers.get(p);
    if (buf === undefined || buf.length !== p.value.size) {
      buf = allocFloats(p.value.dtype, p.value.size);
      this.#buffers.set(p, buf);
    }
    return buf;
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
