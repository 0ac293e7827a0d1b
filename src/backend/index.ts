import { setDevice, setHostMemory } from "../ndarray.js";
import type { Kernels } from "./kernels.js";
import { reference } from "./reference.js";
import type { WebGPUOptions } from "./webgpu/index.js";

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
  setDevice(k.device ?? null);
  setHostMemory(k.hostMemory ?? null);
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

/**
 * Which kernels run now and on how many threads (for WebGPU, which adapter; for WASM, whether the
 * relaxed-SIMD build with fused multiply-add runs).
 */
export async function backendInfo(): Promise<{
  name: string;
  threads: number;
  adapter?: string;
  relaxedSimd?: boolean;
}> {
  const name = current.name;
  if (name === "webgpu") {
    const { gpuDevice } = await import("./webgpu/index.js");
    const info = gpuDevice(current)?.adapterInfo;
    const adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(" ");
    return { name, threads: 1, adapter };
  }
  if (name !== "wasm") return { name, threads: 1 };
  const { wasmRelaxedSimd, wasmThreads } = await import("./wasm.js");
  return { name, threads: await wasmThreads(), relaxedSimd: await wasmRelaxedSimd() };
}

// ---- the GPU backend ---------------------------------------------------------------------------

/**
 * Switches to the WebGPU kernels and returns them: arrays then live on the GPU between kernels and
 * come back with `await a.read()` (docs/webgpu.md). Rejects with a WebGPUUnavailableError saying
 * what is missing where there is no WebGPU, adapter or device; the current kernels stay.
 */
export async function useWebGPU(options: WebGPUOptions = {}): Promise<Kernels> {
  const { initWebGPU } = await import("./webgpu/index.js");
  const k = await initWebGPU(options);
  setKernels(k);
  return k;
}
