/**
 * The page test/browser/webgpu.spec.ts opens in headless Chromium: the WebGPU backend's checks, run
 * on request from the spec through `window.zerodlWebGPU`. Each returns plain JSON.
 */
import { setKernels } from "../../src/backend/index.js";
import type { Kernels } from "../../src/backend/kernels.js";
import { reference } from "../../src/backend/reference.js";
import type { GpuDevice } from "../../src/backend/webgpu/device.js";
import { gpuDevice, initWebGPU } from "../../src/backend/webgpu/index.js";
import { Storage, type Floats } from "../../src/ndarray.js";
import { cases, check } from "../kernel-cases.js";

let gpu: Kernels | null = null;
let dev: GpuDevice | null = null;

/** WebGPU's kernels, the device's adapter, or why there are none. */
async function setup(): Promise<{ adapter?: string; error?: string; errorName?: string }> {
  try {
    gpu = await initWebGPU();
    dev = gpuDevice(gpu);
    const info = dev!.adapterInfo;
    return { adapter: `${info.vendor} ${info.architecture}`.trim() };
  } catch (e) {
    return { error: String((e as Error).message), errorName: (e as Error).name };
  }
}

/**
 * The kernels with plain typed arrays in and out, for the shared parity cases: every float32 and
 * int32 array a call is given is placed on the device (uploaded once, kept there), and `settle`
 * copies each one's device values back into it.
 */
function onDevice(k: Kernels, d: GpuDevice): { kernels: Kernels; settle: () => Promise<void> } {
  let placed = new Map<Floats | Int32Array, Storage<Floats | Int32Array>>();
  const place = (a: unknown) => {
    if (!(a instanceof Float32Array || a instanceof Int32Array)) return a;
    let s = placed.get(a);
    if (s === undefined) {
      s = new Storage<Floats | Int32Array>(a instanceof Int32Array ? "int32" : "float32", a.length, a);
      placed.set(a, s);
    }
    return s.kind === "int32" ? d.indexHandle(s as Storage<Int32Array>) : d.handle(s as Storage);
  };
  const kernels: Record<string, unknown> = { name: k.name, device: k.device };
  for (const [name, fn] of Object.entries(k)) {
    if (typeof fn === "function") kernels[name] = (...args: unknown[]) => fn(...args.map(place));
  }
  const settle = async () => {
    const arrays = placed;
    placed = new Map();
    for (const [a, s] of arrays) {
      a.set(await d.readValues(s));
      d.drop(s);
    }
  };
  return { kernels: kernels as unknown as Kernels, settle };
}

interface CaseResult {
  name: string;
  error?: string;
}

/** Every parity case on the WebGPU kernels (float32) against the reference (float64). */
async function parity(): Promise<{ results: CaseResult[]; ms: number; dispatches: number }> {
  const { kernels, settle } = onDevice(gpu!, dev!);
  const results: CaseResult[] = [];
  const t0 = performance.now();
  const before = dev!.counts.dispatches;
  for (const c of cases) {
    try {
      await check(kernels, c, settle);
      results.push({ name: c.name });
    } catch (e) {
      results.push({ name: c.name, error: String((e as Error).message) });
    }
  }
  return { results, ms: performance.now() - t0, dispatches: dev!.counts.dispatches - before };
}

/** Float64 calls (no device arrays): the WebGPU kernels hand them to the reference, bit for bit. */
async function float64(): Promise<{ mismatches: string[]; dispatches: number }> {
  const mismatches: string[] = [];
  const before = dev!.counts.dispatches;
  for (const c of cases.filter((_, i) => i % 5 === 0)) {
    const got = c.run(gpu!, "float64");
    const want = c.run(reference, "float64");
    got.forEach((g, i) => {
      const w = want[i];
      const same =
        typeof g === "number"
          ? Object.is(g, w)
          : Array.from(g).every((v, j) => Object.is(v, (w as Floats)[j]));
      if (!same) mismatches.push(`${c.name}, output ${i}`);
    });
  }
  return { mismatches, dispatches: dev!.counts.dispatches - before };
}

const api = { setup, parity, float64 };
(globalThis as unknown as { zerodlWebGPU: typeof api }).zerodlWebGPU = api;
(globalThis as unknown as { zerodlReady: boolean }).zerodlReady = true;
void setKernels;
