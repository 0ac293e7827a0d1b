/**
 * Which kernels the page runs, and on how many threads (or on which GPU).
 */
import { backendInfo, kernels, reference, setKernels, useFastBackend, useWebGPU } from "../../src/index.js";

export type BackendChoice = "wasm" | "reference" | "webgpu";

export interface BackendInfo {
  /** What runs: "reference" (plain TypeScript), "wasm" (WebAssembly SIMD) or "webgpu". */
  name: string;
  threads: number;
  /** The WebGPU adapter, as it names itself ("google swiftshader" is Chromium's CPU one). */
  adapter?: string;
  /** Whether the page is cross-origin isolated (the condition for SharedArrayBuffer and threads). */
  isolated: boolean;
  /** Why the page runs what it runs, for the badge's tooltip. */
  note: string;
}

/** The WebGPU adapter this browser offers, or why there is none (asked once). */
export interface GpuOffer {
  adapter: string | null;
  /** A CPU implementation (SwiftShader): it works, but the WASM kernels are much faster. */
  cpu: boolean;
  reason: string;
}

export async function probeWebGPU(): Promise<GpuOffer> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { adapter: null, cpu: false, reason: "this browser has no WebGPU (navigator.gpu)" };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { adapter: null, cpu: false, reason: "WebGPU offers no adapter here" };
  const { vendor, architecture } = adapter.info;
  const cpu =
    architecture === "swiftshader" ||
    (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { adapter: [vendor, architecture].filter(Boolean).join(" ") || "unnamed", cpu, reason: "" };
}

/**
 * Switches to `choice` (the WASM kernels fall back to the reference where SIMD is missing; WebGPU
 * falls back to WASM where it cannot start, saying why), on `threads` threads (default: one per core).
 */
export async function chooseBackend(choice: BackendChoice, threads?: number): Promise<BackendInfo> {
  let fallback = "";
  if (choice === "webgpu") {
    try {
      await useWebGPU();
    } catch (e) {
      fallback = `WebGPU could not start (${(e as Error).message}): the WebAssembly kernels run instead. `;
      choice = "wasm";
    }
  }
  if (choice === "wasm") await useFastBackend(threads ? { threads } : {});
  else if (choice === "reference") setKernels(reference);
  const info = await backendInfo();
  const { name } = info;
  const isolated = globalThis.crossOriginIsolated === true;
  let note: string;
  if (name === "webgpu") {
    note = `WebGPU compute shaders on ${info.adapter}: arrays stay on the GPU between layers`;
  } else if (name === "wasm") {
    const simd = info.relaxedSimd
      ? "WebAssembly relaxed-SIMD kernels (fused multiply-add)"
      : "WebAssembly SIMD kernels";
    note =
      info.threads > 1
        ? `${simd} on ${info.threads} threads (Web Workers sharing the WebAssembly memory)`
        : isolated
          ? `${simd} on one thread`
          : `${simd} on one thread: without cross-origin isolation there is no shared memory for workers`;
  } else {
    note =
      choice === "wasm"
        ? "this browser lacks WebAssembly SIMD: the plain-TypeScript reference kernels run"
        : "the plain-TypeScript reference kernels (the specification)";
  }
  return { name, threads: info.threads, adapter: info.adapter, isolated, note: fallback + note };
}

/** Whether the kernels in use keep arrays on a device (values then come back asynchronously). */
export function onDevice(): boolean {
  return kernels().device !== undefined;
}
