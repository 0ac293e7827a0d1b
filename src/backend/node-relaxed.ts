/**
 * Relaxed SIMD on Node 20 (Node only). Node 22+ and Chromium 114+ have WebAssembly relaxed SIMD on
 * by default, and the WASM backend then runs its relaxed build, whose products use fused
 * multiply-add (`f32x4.relaxed_madd`; 10–15 % less time per convolutional training step on this
 * project's machines). Node 20 has the same engine support behind `--experimental-wasm-relaxed-simd`;
 * this sets that V8 flag from inside the process, which Node allows (`v8.setFlagsFromString`), so
 * that `node app.js` gets what `node --experimental-wasm-relaxed-simd app.js` would.
 *
 * The flag is process-wide: call it at the start of an application (the zerodl CLI and bench do),
 * before the first `useFastBackend`; a backend already running keeps the build it started with.
 * ZERODL_RELAXED_SIMD=0 keeps plain SIMD (and this function then leaves the flags alone).
 * Results then differ from plain SIMD's in the last bits of each product (fused rounding); they stay
 * bit-identical across thread counts.
 */
import { setFlagsFromString } from "node:v8";
import { relaxedSimdRefused, relaxedSimdSupported } from "./wasm.js";

/** Node 20's switch for relaxed SIMD (on by default from Node 22). */
export const RELAXED_SIMD_FLAG = "--experimental-wasm-relaxed-simd";

/**
 * Turns on relaxed SIMD where this Node has it only behind a flag; returns whether the engine now
 * validates relaxed-SIMD modules (false with ZERODL_RELAXED_SIMD=0 or where the engine lacks it).
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdRefused()) return false;
  if (relaxedSimdSupported()) return true;
  try {
    setFlagsFromString(RELAXED_SIMD_FLAG);
  } catch {
    return false; // an engine that refuses the flag keeps plain SIMD
  }
  return relaxedSimdSupported();
}
