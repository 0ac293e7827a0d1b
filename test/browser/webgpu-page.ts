/**
 * The page test/browser/webgpu.spec.ts opens in headless Chromium: the WebGPU backend's checks, run
 * on request from the spec through `window.zerodlWebGPU`. Each returns plain JSON. In Node,
 * test/webgpu-node-run.ts runs the same checks on Dawn after `configure`.
 */
import { setKernels } from "../../src/backend/index.js";
import type { Kernels } from "../../src/backend/kernels.js";
import { reference } from "../../src/backend/reference.js";
import { initWasm } from "../../src/backend/wasm.js";
import type { GpuDevice } from "../../src/backend/webgpu/device.js";
import { gpuDevice, initWebGPU } from "../../src/backend/webgpu/index.js";
import { webgpuKernels } from "../../src/backend/webgpu/kernels.js";
import { loadMnist } from "../../src/data/mnist.js";
import { fetchSource, type ByteSource } from "../../src/data/source.js";
import { createModel, type ModelSpec } from "../../src/models/model.js";
import { NDArray, Storage, shapeSize, type DType, type Floats } from "../../src/ndarray.js";
import { createOptimizer, type OptimizerName } from "../../src/optimizers/optimizer.js";
import { Rng } from "../../src/rng.js";
import { Trainer, type History } from "../../src/train/trainer.js";
import { accuracyAsync } from "../../src/train/accuracy.js";
import { cases, check, floats } from "../kernel-cases.js";
import { Concat } from "../../src/layers/concat.js";
import { Embedding } from "../../src/layers/embedding.js";
import { param } from "../../src/layers/layer.js";
import { TimeLSTM } from "../../src/layers/time-lstm.js";
import { TimeRNN } from "../../src/layers/time-rnn.js";
import { clipGradsOnDevice } from "../../src/optimizers/clip.js";
import { assertAllClose } from "../../src/testing/gradcheck.js";

let gpu: Kernels | null = null;
let dev: GpuDevice | null = null;
/** Outside a page (Node): the WebGPU entry point and where MNIST's files are. */
let environment: { gpu?: GPU; mnist?: ByteSource } = {};

export function configure(e: { gpu: GPU; mnist: ByteSource }): void {
  environment = e;
}

/** WebGPU's kernels, the device's adapter, or why there are none. */
async function setup(): Promise<{ adapter?: string; error?: string; errorName?: string }> {
  try {
    gpu = await initWebGPU(environment.gpu ? { gpu: environment.gpu } : {});
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

/**
 * Every parity case on the WebGPU kernels (float32) against the reference (float64); with
 * `workgroupMemory` given, on kernels made with that setting instead of the adapter's default.
 */
async function parity(
  workgroupMemory?: boolean,
  only?: string,
): Promise<{ results: CaseResult[]; ms: number; dispatches: number }> {
  if (gpu === null) await setup();
  const k = workgroupMemory === undefined ? gpu! : webgpuKernels(dev!, { workgroupMemory });
  const { kernels, settle } = onDevice(k, dev!);
  const results: CaseResult[] = [];
  const t0 = performance.now();
  const before = dev!.counts.dispatches;
  const pattern = only === undefined ? null : new RegExp(only);
  for (const c of cases) {
    if (pattern && !pattern.test(c.name)) continue;
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
  if (gpu === null) await setup();
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

interface TrainingRun {
  history: History;
  ms: number;
  /** GPU buffers made and bytes held by arrays after each iteration (WebGPU only). */
  buffers: number[];
  liveBytes: number[];
  /** Read-backs and uploads during the run (WebGPU only). */
  reads: number;
  uploads: number;
}

/**
 * The same short training run (seeded model, batches and dropout) on the WASM kernels and on
 * WebGPU: `spec` on the first `trainSize` MNIST training images, `iterations` steps of batch 100,
 * with the accuracies at each epoch's end (on all `testSize` test images at the last).
 */
async function training(
  spec: ModelSpec,
  optimizer: OptimizerName,
  iterations: number,
  trainSize: number,
  testSize: number,
  maxGradNorm?: number,
): Promise<{ wasm: TrainingRun; webgpu: TrainingRun }> {
  if (gpu === null) await setup();
  const mnist = await loadMnist({
    source: environment.mnist ?? fetchSource("/data/mnist/"),
    subset: { train: trainSize, test: testSize },
    flatten: spec.inputShape.length === 1,
  });
  const run = async (k: Kernels): Promise<TrainingRun> => {
    setKernels(k);
    const model = createModel(spec, new Rng(1));
    const trainer = new Trainer({
      model,
      optimizer: createOptimizer(optimizer),
      train: mnist.train,
      test: mnist.test,
      iterations,
      batchSize: 100,
      rng: new Rng(2),
      maxGradNorm,
    });
    const history: History = { loss: [], trainAcc: [], testAcc: [] };
    const buffers: number[] = [];
    const liveBytes: number[] = [];
    const t0 = performance.now();
    const { reads, uploads } = dev!.counts;
    for await (const event of trainer.stepsAsync()) {
      if (event.type === "iteration") {
        history.loss.push(event.loss);
        if (k === gpu) {
          buffers.push(dev!.counts.buffersCreated);
          liveBytes.push(dev!.memory().liveBytes);
        }
      } else {
        history.trainAcc.push(event.trainAcc);
        history.testAcc.push(event.testAcc);
      }
    }
    const ms = performance.now() - t0;
    return {
      history,
      ms,
      buffers,
      liveBytes,
      reads: dev!.counts.reads - reads,
      uploads: dev!.counts.uploads - uploads,
    };
  };
  try {
    return { wasm: await run(await initWasm({ threads: 1 })), webgpu: await run(gpu!) };
  } finally {
    setKernels(reference);
  }
}

/** What a user sees of the memory model: where values are, what reading them takes, what recycling does. */
async function residency(): Promise<Record<string, unknown>> {
  if (gpu === null) await setup();
  setKernels(gpu!);
  try {
    const model = createModel(
      { kind: "two-layer", inputShape: [4], outputSize: 3, hiddenSize: 5 },
      new Rng(1),
    );
    const x = NDArray.from([0.5, -1, 2, 0.25, 1, 1, -0.5, 0], [2, 4]);
    const t = Int32Array.from([0, 2]);
    const result: Record<string, unknown> = {};
    const error = (fn: () => unknown) => {
      try {
        fn();
        return null;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const scores = model.predict(x);
    result.scoresData = error(() => scores.data);
    result.scores = Array.from(await scores.read());
    result.scoresDataAfterRead = Array.from(scores.data);
    result.inputStillOnHost = Array.from(x.data);
    result.loss = error(() => model.loss(x, t));
    const loss = model.lossArray!(x, t);
    model.backward();
    const grad = model.params[0].grad!;
    result.gradBeforeNextStep = (await grad.read()).length;
    const grad2 = model.params[2].grad!;
    model.lossArray!(x, t); // the next step recycles the previous one's arrays
    result.recycledData = error(() => grad2.data);
    result.recycledRead = await grad2.read().then(
      () => null,
      (e: Error) => e.message,
    );
    result.lossKeptAcrossSteps = (await loss.read())[0];
    result.accuracy = error(() => model.accuracy(x, t));
    result.accuracyAsync = await accuracyAsync(model, x, t);
    result.predictKept = Array.from(await scores.read());
    return result;
  } finally {
    setKernels(reference);
  }
}

/**
 * The layers whose loops used to run on the host, on WebGPU (float32) against the reference kernels
 * (float64), from the same seeded values: TimeLSTM over two chunks of a stateful sequence, TimeRNN
 * from a given state, Embedding with repeated ids, Concat, and clipping gradients by their global
 * norm. Each output and gradient must agree; no value may come back to the host while they run.
 */
async function layers(): Promise<{ checked: string[]; mismatches: string[]; readsWhileRunning: number }> {
  if (gpu === null) await setup();
  const run = (dtype: DType): [string, NDArray][] => {
    const rng = new Rng(5);
    const rand = (...shape: number[]) => NDArray.from(floats(dtype, shapeSize(shape), rng), shape, dtype);
    const got: [string, NDArray][] = [];
    const [N, T, D, H] = [3, 5, 4, 6];
    const lstm = new TimeLSTM(rand(D, 4 * H), rand(H, 4 * H), rand(4 * H), { stateful: true });
    for (const chunk of [1, 2]) {
      got.push([`TimeLSTM chunk ${chunk} hs`, lstm.forward(rand(N, T, D))]);
      got.push([`TimeLSTM chunk ${chunk} dx`, lstm.backward(rand(N, T, H))]);
      for (const p of lstm.params) got.push([`TimeLSTM chunk ${chunk} d${p.name}`, p.grad!]);
    }
    got.push(["TimeLSTM dh", lstm.dh!], ["TimeLSTM dc", lstm.dc!]);
    const rnn = new TimeRNN(rand(D, H), rand(H, H), rand(H));
    rnn.setState(rand(N, H));
    got.push(["TimeRNN hs", rnn.forward(rand(N, T, D))], ["TimeRNN dx", rnn.backward(rand(N, T, H))]);
    for (const p of rnn.params) got.push([`TimeRNN d${p.name}`, p.grad!]);
    got.push(["TimeRNN dh", rnn.dh!]);
    const [V, W] = [7, 5];
    const embedding = new Embedding(rand(V, W));
    const ids = NDArray.from([3, 0, 3, 6, 1, 3, 0, 2], [2, 4], dtype); // 3 three times; 4 and 5 never
    got.push(["Embedding out", embedding.forward(ids)]);
    embedding.backward(rand(2, 4, W));
    got.push(["Embedding dW", embedding.W.grad!]);
    const concat = new Concat();
    got.push(["Concat out", concat.forward([rand(2, 3, 4, 5), rand(2, 1, 4, 5), rand(2, 2, 4, 5)], "train")]);
    concat.backward(rand(2, 6, 4, 5)).forEach((dx, i) => got.push([`Concat dx${i}`, dx]));
    // Clipped (the norm is about 8) and not.
    for (const maxNorm of [1, 100]) {
      const params = [param("a", rand(17)), param("b", rand(3, 65))];
      for (const p of params) p.grad = rand(...p.value.shape);
      got.push([`clip ${maxNorm}: Σ g²`, clipGradsOnDevice(params, maxNorm)]);
      for (const p of params) got.push([`clip ${maxNorm}: ${p.name}`, p.grad!]);
    }
    return got;
  };
  setKernels(gpu!);
  let onGpu: [string, NDArray][];
  let readsWhileRunning: number;
  try {
    const reads = dev!.counts.reads;
    onGpu = run("float32");
    readsWhileRunning = dev!.counts.reads - reads;
    for (const [, a] of onGpu) await a.read();
  } finally {
    setKernels(reference);
  }
  const want = run("float64");
  const mismatches: string[] = [];
  onGpu.forEach(([name, a], i) => {
    try {
      assertAllClose(a.data, want[i][1].data, 1e-5, 1e-4, name);
    } catch (e) {
      mismatches.push((e as Error).message.slice(0, 300));
    }
  });
  return { checked: onGpu.map(([name]) => name), mismatches, readsWhileRunning };
}

export const api = { setup, parity, float64, training, residency, layers };
(globalThis as unknown as { zerodlWebGPU: typeof api }).zerodlWebGPU = api;
(globalThis as unknown as { zerodlReady: boolean }).zerodlReady = true;
void setKernels;
