/**
 * Which kernels the page runs, and on how many threads.
 */
import { kernels } from "../../src/index.js";

export interface BackendInfo {
  /** "reference" (plain TypeScript) or "wasm" (WebAssembly SIMD). */
  name: string;
  threads: number;
  /** Whether the page is cross-origin isolated (the condition for SharedArrayBuffer and threads). */
  isolated: boolean;
  /** Why the page runs what it runs, for the badge's tooltip. */
  note: string;
}

export async function startBackend(): Promise<BackendInfo> {
  const isolated = globalThis.crossOriginIsolated === true;
  return {
    name: kernels().name,
    threads: 1,
    isolated,
    note: "the plain-TypeScript reference kernels",
  };
}
