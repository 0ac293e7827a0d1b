/**
 * The WebGPU bench page (bench/webgpu.ts serves it): WebGPU and WASM timed in one page, one after
 * the other. `window.zerodlBench.run(options)` returns the results as JSON and shows them on the page.
 */
import { setKernels, useFastBackend, useWebGPU } from "../src/backend/index.js";
import { wasmThreads } from "../src/backend/wasm.js";
import type { Kernels } from "../src/backend/kernels.js";
import type { GpuDevice } from "../src/backend/webgpu/device.js";
import { gpuDevice } from "../src/backend/webgpu/index.js";
import { webgpuKernels } from "../src/backend/webgpu/kernels.js";
import { createModel, type ModelSpec } from "../src/models/model.js";
import { NDArray, Storage, type Floats } from "../src/ndarray.js";
import { Adam } from "../src/optimizers/adam.js";
import { SGD } from "../src/optimizers/sgd.js";
import { Rng } from "../src/rng.js";

export interface BenchOptions {
  /** Which models (default two-layer and simple-conv). */
  models?: string[];
  /** Fewer repetitions (a smoke run). */
  quick?: boolean;
}

export interface ModelRow {
  model: string;
  backend: string;
  msPerIteration: number;
  /** Fastest and slowest timed block, ms per iteration. */
  range: [number, number];
  imagesPerSecond: number;
}

export interface BenchResult {
  adapter: string;
  userAgent: string;
  wasmThreads: number;
  /** ms per call at SimpleConvNet's shapes (batch 100), for each tiling of the product. */
  kernels: { name: string; ms: number; msOtherTiling: number | null }[];
  matmul: { shape: string; gflops: number; gflopsOtherTiling: number }[];
  models: ModelRow[];
}

const SPECS: Record<string, ModelSpec> = {
  "two-layer": { kind: "two-layer", inputShape: [784], outputSize: 10, hiddenSize: 50 },
  "simple-conv": { kind: "simple-conv", inputShape: [1, 28, 28], outputSize: 10 },
  "deep-conv": { kind: "deep-conv", inputShape: [1, 28, 28], outputSize: 10 },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function randomArray(shape: number[], rng: Rng): NDArray {
  const a = NDArray.zeros(shape);
  for (let i = 0; i < a.size; i++) a.data[i] = rng.uniform(0, 1);
  return a;
}

/** Training ms/iteration (median of blocks) and inference images/s of one model on `k`. */
async function timeModel(name: string, k: Kernels, quick: boolean): Promise<ModelRow> {
  setKernels(k);
  const rng = new Rng(1);
  const spec = SPECS[name];
  const model = createModel(spec, rng);
  const x = randomArray([100, ...spec.inputShape], rng);
  const t = Int32Array.from({ length: 100 }, (_, i) => i % 10);
  const optimizer = name === "two-layer" ? new SGD({ lr: 0.1 }) : new Adam();
  // One step as the Trainer's stepsAsync runs it: recorded whole, then its loss read back.
  const step = async () => {
    const loss = model.lossArray!(x, t);
    model.backward();
    optimizer.step(model.params);
    await loss.read();
  };
  await step();
  await step();
  const blocks = quick ? 2 : 5;
  const per = name === "deep-conv" || (k.device && name === "simple-conv") ? 2 : quick ? 3 : 10;
  const times: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) await step();
    times.push((performance.now() - t0) / per);
  }
  const images = quick ? 200 : name === "deep-conv" ? 200 : 1000;
  const batch = randomArray([images, ...spec.inputShape], rng);
  const t0 = performance.now();
  for (let s = 0; s < images; s += 100) await model.predict(batch.sliceRows(s, s + 100)).read();
  const imagesPerSecond = images / ((performance.now() - t0) / 1000);
  return {
    model: name,
    backend: k.name,
    msPerIteration: median(times),
    range: [Math.min(...times), Math.max(...times)],
    imagesPerSecond,
  };
}

/** A device array of `n` values (a handle, for calling kernels directly). */
function deviceArray(d: GpuDevice, n: number, rng: Rng): Floats {
  const host = new Float32Array(n);
  for (let i = 0; i < n; i++) host[i] = rng.uniform(-1, 1);
  return d.handle(new Storage<Floats>("float32", n, host));
}

/** ms per call of `fn` on the GPU: recorded `reps` times, then waited for. */
async function gpuTime(d: GpuDevice, fn: () => void, reps: number): Promise<number> {
  fn();
  await d.idle();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) fn();
  await d.idle();
  return (performance.now() - t0) / reps;
}

async function kernelTable(gpu: Kernels, d: GpuDevice, quick: boolean) {
  const reps = quick ? 1 : 3;
  const other = webgpuKernels(d, { workgroupMemory: d.cpuAdapter });
  const rng = new Rng(2);
  const a = (n: number) => deviceArray(d, n, rng);
  const argmax = d.indexHandle(new Storage<Int32Array>("int32", 100 * 30 * 12 * 12, null));
  const [x, W, b, conv, pooled] = [a(100 * 784), a(30 * 25), a(30), a(100 * 30 * 24 * 24), a(100 * 30 * 144)];
  const [col, y, a1, W1, h] = [a(57600 * 25), a(57600 * 30), a(100 * 4320), a(4320 * 100), a(100 * 100)];
  const dx0 = a(0);
  const rows: { name: string; run: (k: Kernels) => void; tiled: boolean }[] = [
    {
      name: "im2col 100×1×28×28, 5×5",
      run: (k) => k.im2col(col, x, 100, 1, 28, 28, 5, 5, 1, 0),
      tiled: false,
    },
    {
      name: "matmul col·Wᵀ 57600×25·(30×25)ᵀ",
      run: (k) => k.matmul(y, col, W, 57600, 25, 30, false, true),
      tiled: true,
    },
    {
      name: "matmul Affine 100×4320·4320×100",
      run: (k) => k.matmul(h, a1, W1, 100, 4320, 100, false, false),
      tiled: true,
    },
    { name: "transpose 100×576×30", run: (k) => k.transpose(conv, y, 100, 576, 30), tiled: true },
    { name: "relu 1,728,000", run: (k) => k.relu(conv, conv), tiled: false },
    {
      name: "maxPool 100×30×24×24, 2×2 stride 2",
      run: (k) => k.maxPool(pooled, argmax, conv, 100, 30, 24, 24, 2, 2, 2, 0),
      tiled: false,
    },
    {
      name: "convReluPoolForward (SimpleConvNet's block)",
      run: (k) => k.convReluPoolForward(pooled, argmax, x, W, b, 100, 1, 28, 28, 30, 5, 5, 1, 0, 2, 2, 2, 0),
      tiled: true,
    },
    {
      name: "convReluPoolBackward, dW and db",
      run: (k) =>
        k.convReluPoolBackward(
          dx0,
          W,
          b,
          pooled,
          pooled,
          argmax,
          x,
          W,
          100,
          1,
          28,
          28,
          30,
          5,
          5,
          1,
          0,
          2,
          2,
          2,
          0,
        ),
      tiled: true,
    },
  ];
  const kernels = [];
  for (const row of rows) {
    const ms = await gpuTime(d, () => row.run(gpu), reps);
    const msOtherTiling = row.tiled ? await gpuTime(d, () => row.run(other), reps) : null;
    kernels.push({ name: row.name, ms, msOtherTiling });
  }
  const shapes: [number, number, number][] = [
    [100, 784, 50],
    [57600, 25, 30],
    [30, 57600, 25],
    [512, 512, 512],
  ];
  const matmul = [];
  for (const [m, k, n] of shapes) {
    const [out, p, q] = [a(m * n), a(m * k), a(k * n)];
    const flop = 2 * m * k * n;
    const ms = await gpuTime(d, () => gpu.matmul(out, p, q, m, k, n, false, false), reps);
    const msOther = await gpuTime(d, () => other.matmul(out, p, q, m, k, n, false, false), reps);
    matmul.push({
      shape: `${m}×${k}·${k}×${n}`,
      gflops: flop / ms / 1e6,
      gflopsOtherTiling: flop / msOther / 1e6,
    });
  }
  return { kernels, matmul };
}

async function run(options: BenchOptions = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  const models = options.models ?? ["two-layer", "simple-conv"];
  const wasm = await useFastBackend();
  const gpu = await useWebGPU();
  const d = gpuDevice(gpu)!;
  const { vendor, architecture, description } = d.adapterInfo;
  const { kernels, matmul } = await kernelTable(gpu, d, quick);
  const rows: ModelRow[] = [];
  for (const name of models) {
    rows.push(await timeModel(name, wasm, quick));
    rows.push(await timeModel(name, gpu, quick));
  }
  setKernels(wasm);
  const result: BenchResult = {
    adapter: [vendor, architecture, description].filter(Boolean).join(" "),
    userAgent: navigator.userAgent,
    wasmThreads: await wasmThreads(),
    kernels,
    matmul,
    models: rows,
  };
  document.getElementById("out")!.textContent = JSON.stringify(result, null, 2);
  return result;
}

(globalThis as unknown as { zerodlBench: { run: typeof run } }).zerodlBench = { run };
(globalThis as unknown as { zerodlBenchReady: boolean }).zerodlBenchReady = true;
