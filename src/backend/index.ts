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

// ---- the fast backend --------------------------------------------------------------------------

/**
 * Switches to the WASM SIMD kernels on every core (or `threads` of them) and returns them; where
 * WebAssembly SIMD is missing the reference kernels stay. Instantiated once; safe to call again.
 */
export async function useFastBackend(options: { threads?: number } = {}): Promise<Kernels> {
  const { initWasm } = await import("./wasm.js");
  const k = await initWasm(options);
  setKernels(k);
  return k;
}

/** Sets the fast backend's thread count (the calling thread included); resolves when they run. */
export async function setThreads(n: number): Promise<void> {
  const { setWasmThreads } = await import("./wasm.js");
  await setWasmThreads(n);
}

/** Which kernels run now and on how many threads. */
export async function backendInfo(): Promise<{ name: string; threads: number }> {
  const { wasmThreads } = await import("./wasm.js");
  const name = current.name;
  return { name, threads: name === "wasm" ? await wasmThreads() : 1 };
}
