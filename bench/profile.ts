/**
 * `npx tsx bench/profile.ts <two-layer|simple-conv|deep-conv|vgg|googlenet|lstm> [threads] [iterations] [infer]`: where
 * one training step's time goes (with `infer`: one inference pass, `predict` on the batch), per kernel (calls and ms per iteration, copies into and out of WASM
 * included), and the rest (JS: layer code, allocation). Wall and CPU time; batch 100, Adam/SGD as
 * in bench/run.ts. For finding what to optimize next; not part of `npm test`.
 */
import { setKernels } from "../src/backend/index.js";
import type { Kernels } from "../src/backend/kernels.js";
import { initWasm, profileWasmJobs } from "../src/backend/wasm.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import { GoogLeNet } from "../src/models/googlenet.js";
import { VGG } from "../src/models/vgg.js";
import { RnnLm } from "../src/models/rnnlm.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { TwoLayerNet } from "../src/models/two-layer-net.js";
import { NDArray } from "../src/ndarray.js";
import { Adam, SGD, type Optimizer } from "../src/optimizers/index.js";
import { Rng } from "../src/rng.js";

const [name = "simple-conv", threadsArg = "1", itersArg, modeArg] = process.argv.slice(2);
const infer = modeArg === "infer";
const threads = Number(threadsArg);
const wasm = await initWasm({ threads });

const times = new Map<string, { calls: number; ms: number }>();
const timed = { ...wasm } as Record<string, unknown>;
for (const [key, fn] of Object.entries(wasm)) {
  if (typeof fn !== "function") continue;
  timed[key] = (...a: unknown[]) => {
    const t0 = performance.now();
    const r = (fn as (...args: unknown[]) => unknown).apply(wasm, a);
    const e = times.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += performance.now() - t0;
    times.set(key, e);
    return r;
  };
}
setKernels(timed as unknown as Kernels);

const rng = new Rng(42);
const adam = (lr = 0.001) => new Adam({ lr });
const image = [1, 28, 28];
/** What this script uses of a network (the classifiers' Model and the LSTM's RnnLm alike). */
type Net = Pick<RnnLm, "params" | "loss" | "backward" | "predict">;
/** Each network as bench/run.ts times it (model, one sample's shape, optimizer, default iterations). */
const configs: Record<
  string,
  () => { model: Net; shape: number[]; batch?: number; opt: Optimizer; iters: number }
> = {
  "two-layer": () => ({
    model: new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, rng),
    shape: [784],
    opt: new SGD({ lr: 0.1 }),
    iters: 300,
  }),
  "simple-conv": () => ({ model: new SimpleConvNet({}, rng), shape: image, opt: adam(), iters: 30 }),
  "deep-conv": () => ({ model: new DeepConvNet({}, rng), shape: image, opt: adam(), iters: 5 }),
  vgg: () => ({ model: new VGG({}, rng), shape: image, opt: adam(), iters: 5 }),
  googlenet: () => ({ model: new GoogLeNet({}, rng), shape: image, opt: adam(), iters: 4 }),
  // bench/run.ts's lstm row: 32 streams × 64 characters, 60 symbols, 128 units
  lstm: () => ({
    model: new RnnLm({ kind: "rnnlm", vocabSize: 60, wordvecSize: 32, hiddenSize: 128 }, rng),
    shape: [64],
    batch: 32,
    opt: adam(0.003),
    iters: 10,
  }),
};
if (!(name in configs))
  throw new Error(`unknown model ${name}: choose one of ${Object.keys(configs).join(", ")}`);
const cfg = configs[name]();
const iterations = itersArg ? Number(itersArg) : infer ? cfg.iters * 10 : cfg.iters;
const dataRng = new Rng(1);
const x = NDArray.zeros([cfg.batch ?? 100, ...cfg.shape]);
dataRng.fillUniform(x.data);
// Token ids for the LSTM (0 … 59), class labels for the others.
if (name === "lstm") x.data.forEach((v, i) => (x.data[i] = Math.floor(v * 60)));
// Labels: the next id of every position for the LSTM (N·T), a class per image for the others.
const t = new Int32Array(name === "lstm" ? x.size : x.shape[0]).map((_, i) => i % 10);
const step = () => {
  if (infer) {
    cfg.model.predict(x);
    return;
  }
  cfg.model.loss(x, t);
  cfg.model.backward();
  cfg.opt.step(cfg.model.params);
};
for (let i = 0; i < 3; i++) step();
times.clear();
profileWasmJobs(true);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < iterations; i++) step();
const wall = (performance.now() - t0) / iterations;
const cpu = process.cpuUsage(cpu0);
const jobs = profileWasmJobs(false);
let kernelMs = 0;
console.log(
  `${name}${infer ? " inference" : ""}, ${threads} thread(s), ${iterations} iterations: ${wall.toFixed(2)} ms/iter wall, ${((cpu.user + cpu.system) / 1000 / iterations).toFixed(2)} cpu ms/iter (all threads)`,
);
for (const [key, e] of [...times].sort((a, b) => b[1].ms - a[1].ms)) {
  kernelMs += e.ms;
  console.log(
    `  ${key.padEnd(30)}${(e.calls / iterations).toFixed(0).padStart(4)} calls${(e.ms / iterations).toFixed(3).padStart(10)} ms`,
  );
}
console.log(
  `  ${"(outside kernels: JS, allocation)".padEnd(40)}${(wall - kernelMs / iterations).toFixed(3).padStart(10)} ms`,
);
console.log("  WASM jobs inside those kernels (the rest of a kernel's time is copies in and out):");
let jobMs = 0;
for (const [key, e] of [...jobs].sort((a, b) => b[1].ms - a[1].ms)) {
  jobMs += e.ms;
  console.log(
    `    ${key.padEnd(28)}${(e.calls / iterations).toFixed(0).padStart(4)} jobs${(e.ms / iterations).toFixed(3).padStart(10)} ms`,
  );
}
console.log(
  `  copies in and out of WASM (kernel time − job time)${(kernelMs / iterations - jobMs / iterations).toFixed(3).padStart(10)} ms`,
);
