import type { Kernels } from "./kernels.js";
import { reference } from "./reference.js";

export type { Kernels } from "./kernels.js";

let current: Kernels = reference;

/** The kernels every op calls. */
export function kernels(): Kernels {
  return current;
}

/** Makes `k` the backend for all later ops (returns the previous one). */
export function setKernels(k: Kernels): Kernels {
  const previous = current;
  current = k;
  return previous;
}

/** Runs `fn` with `k` as the backend, restoring the previous one afterwards. */
export function withKernels<T>(k: Kernels, fn: () => T): T {
  const previous = setKernels(k);
  try {
    return fn();
  } finally {
    setKernels(previous);
  }
}
