/**
 * Which kernels the page runs, and on how many threads.
 */
import { backendInfo, reference, setKernels, useFastBackend } from "../../src/index.js";

export type BackendChoice = "wasm" | "reference";

export interface BackendInfo {
  /** What runs: "reference" (plain TypeScript) or "wasm" (WebAssembly SIMD). */
  name: string;
  threads: number;
  /** Whether the page is cross-origin isolated (the condition for SharedArrayBuffer and threads). */
  isolated: boolean;
  /** Why the page runs what it runs, for the badge's tooltip. */
  note: string;
}

/**
 * Switches to `choice` (the WASM kernels fall back to the reference where SIMD is missing), on
 * `threads` threads (default: one per core).
 */
export async function chooseBackend(choice: BackendChoice, threads?: number): Promise<BackendInfo> {
  if (choice === "wasm") await useFastBackend(threads ? { threads } : {});
  else setKernels(reference);
  const info = await backendInfo();
  const { name } = info;
  const isolated = globalThis.crossOriginIsolated === true;
  let note: string;
  if (name === "wasm") {
    note =
      info.threads > 1
        ? `WebAssembly SIMD kernels on ${info.threads} threads (Web Workers sharing the WebAssembly memory)`
        : isolated
          ? "WebAssembly SIMD kernels on one thread"
          : "WebAssembly SIMD kernels on one thread: without cross-origin isolation there is no shared memory for workers";
  } else {
    note =
      choice === "wasm"
        ? "this browser lacks WebAssembly SIMD: the plain-TypeScript reference kernels run"
        : "the plain-TypeScript reference kernels (the specification)";
  }
  return { name, threads: info.threads, isolated, note };
}
