/**
 * `npm run bench [-- --json] [-- --quick]`: the reference and WASM backends in one run.
 *
 *   1. matmul GFLOP/s at the book's shapes (and their backward transposes) and 512³;
 *   2. per-kernel times at SimpleConvNet's shapes (batch 100);
 *   3. models: training seconds per 600-iteration epoch of batch 100, projected from the median of
 *      5 timed blocks of a fixed number of iterations (3 for the reference); inference images/s
 *      (median of as many passes); peak RSS.
 *      Each (model, backend) runs in a child process so its peak RSS is its own.
 *
 * Human-readable by default; `--json` prints one JSON object instead, `--out FILE` writes it too.
 * Kept under 3 minutes on 2 cores.
 *
 * `--peers` runs instead zerodl against PyTorch and ONNX Runtime, interleaved (bench/peers.ts):
 * `--rounds N` (default 3), `--models`, `--no-pytorch`, `--no-cli`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type { Kernels } from "../src/backend/kernels.js";
import { setKernels } from "../src/backend/index.js";
import { reference } from "../src/backend/reference.js";
import { initWasm, relaxedSimdChosen, setWasmThreads, wasmThreads } from "../src/backend/wasm.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import { ResNet } from "../src/models/resnet.js";
import { RnnLm } from "../src/models/rnnlm.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { VGG } from "../src/models/vgg.js";
import { GoogLeNet } from "../src/models/googlenet.js";
import { createDcgan } from "../src/models/dcgan.js";
import { Captioner, mnistCaptionerSpec } from "../src/models/captioner.js";
import { DigitCanvases } from "../src/data/captions.js";
import { sampleLatent } from "../src/train/gan.js";
import { TwoLayerNet } from "../src/models/two-layer-net.js";
import { NDArray } from "../src/ndarray.js";
import { Adam, SGD } from "../src/optimizers/index.js";
import { Rng } from "../src/rng.js";
import { peersSection, runOrtChild } from "./peers.js";
import { enableRelaxedSimd } from "../src/backend/node-relaxed.js";

// What the CLI runs: relaxed SIMD's fused multiply-add where this Node has it, on Node 20 too (a V8
// flag set in-process); ZERODL_RELAXED_SIMD=0 measures the plain SIMD build.
enableRelaxedSimd();

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
/** `--models simple-conv,deep-conv` runs only those models' section (no matmul or kernel tables). */
const modelsArg = args.indexOf("--models");
const onlyModels = modelsArg >= 0 ? (args[modelsArg + 1] ?? "").split(",") : null;
/** `--no-reference` skips the reference backend's model rows (slow; for iterating on wasm). */
const noReference = args.includes("--no-reference");
const peers = args.includes("--peers");
/** `--out FILE`: also writes the JSON object there (the human-readable tables still print). */
const outArg = args.indexOf("--out");
const outFile = outArg >= 0 ? args[outArg + 1] : null;
const roundsArg = args.indexOf("--rounds");
const log = (line: string) => {
  if (!json) console.log(line);
};

/** Best of `reps` timed calls after one warm-up, in milliseconds. */
function best(fn: () => void, reps: number): number {
  fn();
  let ms = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

function randomFloats(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

// ---- 1. matmul -----------------------------------------------------------------------------------
interface MatmulRow {
  shape: string;
  what: string;
  reference: number;
  wasm1: number;
  wasmN: number;
}

const MATMUL: [string, number, number, number, boolean, boolean][] = [
  ["Affine forward, TwoLayerNet (100×784·784×50)", 100, 784, 50, false, false],
  ["Affine dW = xᵀ·dout (784×100·100×50)", 784, 100, 50, true, false],
  ["Affine dx = dout·Wᵀ (100×50·50×784)", 100, 50, 784, false, true],
  ["conv as im2col, SimpleConvNet (57600×25·25×32)", 57600, 25, 32, false, false],
  ["conv forward col·Wᵀ (57600×25·(30×25)ᵀ)", 57600, 25, 30, false, true],
  ["conv dW = doutᵀ·col (30×57600·57600×25)", 30, 57600, 25, true, false],
  ["conv dcol = dout·W (57600×30·30×25)", 57600, 30, 25, false, false],
  ["DeepConvNet conv2 dW = doutᵀ·col (16×78400·78400×144)", 16, 78400, 144, true, false],
  ["square 512³", 512, 512, 512, false, false],
];

async function matmulSection(threads: number): Promise<MatmulRow[]> {
  const wasm = await initWasm({ threads });
  const rows: MatmulRow[] = [];
  log(`\nmatmul GFLOP/s (float32; reference = plain TypeScript, wasm × 1 and × ${threads} threads)`);
  log(`${"".padEnd(58)}${"reference".padStart(10)}${"wasm×1".padStart(10)}${`wasm×${threads}`.padStart(10)}`);
  for (const [what, m, k, n, ta, tb] of MATMUL) {
    const a = randomFloats(m * k, 1);
    const b = randomFloats(k * n, 2);
    const out = new Float32Array(m * n);
    const flop = 2 * m * k * n;
    const gflops = (kern: Kernels, reps: number) =>
      flop / best(() => kern.matmul(out, a, b, m, k, n, ta, tb), reps) / 1e6;
    const ref = gflops(reference, 1);
    await setWasmThreads(1);
    const w1 = gflops(wasm, quick ? 3 : 10);
    await setWasmThreads(threads);
    const wn = gflops(wasm, quick ? 3 : 10);
    rows.push({
      shape: `${m}×${k}·${k}×${n}${ta ? " Aᵀ" : ""}${tb ? " Bᵀ" : ""}`,
      what,
      reference: ref,
      wasm1: w1,
      wasmN: wn,
    });
    log(
      `${what.padEnd(58)}${ref.toFixed(1).padStart(10)}${w1.toFixed(1).padStart(10)}${wn.toFixed(1).padStart(10)}`,
    );
  }
  return rows;
}

// ---- 2. kernels ----------------------------------------------------------------------------------
interface KernelRow {
  kernel: string;
  shape: string;
  referenceMs: number;
  wasmMs: number;
}

async function kernelSection(threads: number): Promise<KernelRow[]> {
  const wasm = await initWasm({ threads });
  // SimpleConvNet at batch 100: conv 30×5×5 on 1×28×28 → 100×30×24×24, pool 2×2 → 100×30×12×12.
  const N = 100;
  const x = randomFloats(N * 784, 3);
  const col = new Float32Array(57600 * 25);
  const act = randomFloats(57600 * 30, 4);
  const act2 = randomFloats(57600 * 30, 5);
  const out = new Float32Array(57600 * 30);
  const pooled = new Float32Array(N * 30 * 144);
  const argmax = new Int32Array(N * 30 * 144);
  const dx = new Float32Array(N * 784);
  const bias = randomFloats(30, 6);
  const sums = new Float32Array(30);
  const w = randomFloats(4320 * 100, 7);
  const m = new Float32Array(w.length);
  const v = new Float32Array(w.length);
  const g = randomFloats(w.length, 8);
  const convW = randomFloats(30 * 25, 9);
  const convDW = new Float32Array(30 * 25);
  const dpooled = randomFloats(N * 30 * 144, 10);
  const noDx = new Float32Array(0);
  // The LSTM language model's step (experiments/language-model.ts): 32 streams, 256 units.
  const [ln, lh] = [32, 256];
  const lstmA = randomFloats(ln * 4 * lh, 11);
  const [lstmGates, lstmDa] = [new Float32Array(ln * 4 * lh), new Float32Array(ln * 4 * lh)];
  const [lstmC, lstmH, lstmDc] = [
    new Float32Array(ln * lh),
    new Float32Array(ln * lh),
    new Float32Array(ln * lh),
  ];
  const [lstmCPrev, lstmDh, lstmDcNext] = [
    randomFloats(ln * lh, 12),
    randomFloats(ln * lh, 13),
    randomFloats(ln * lh, 14),
  ];
  const cases: [string, string, (k: Kernels) => void][] = [
    ["im2col", "100×1×28×28, 5×5", (k) => k.im2col(col, x, N, 1, 28, 28, 5, 5, 1, 0)],
    ["col2im", "57600×25 → 100×1×28×28", (k) => k.col2im(dx, col, N, 1, 28, 28, 5, 5, 1, 0)],
    ["transpose", "100×576×30", (k) => k.transpose(out, act, N, 576, 30)],
    ["addBias", "57600×30", (k) => k.addBias(out, act, bias, 57600, 30)],
    ["sumRows", "57600×30", (k) => k.sumRows(sums, act, 57600, 30)],
    ["relu", "1,728,000", (k) => k.relu(out, act)],
    ["reluBackward", "1,728,000", (k) => k.reluBackward(out, act2, act)],
    ["maxPool", "100×30×24×24, 2×2 s2", (k) => k.maxPool(pooled, argmax, act, N, 30, 24, 24, 2, 2, 2, 0)],
    [
      "maxPoolBackward",
      "100×30×12×12 → 24×24",
      (k) => k.maxPoolBackward(out, pooled, argmax, N, 30, 24, 24, 2, 2, 2, 0),
    ],
    ["adamUpdate", "432,000 (Affine 4320×100)", (k) => k.adamUpdate(w, m, v, g, 1e-4, 0.9, 0.999, 1e-7)],
    // The whole Convolution → ReLU → Pooling block as SimpleConvNet runs it (first layer: no dx).
    [
      "convReluPoolForward",
      "100×1×28×28 → 30×5×5 → 2×2 s2",
      (k) => k.convReluPoolForward(pooled, argmax, x, convW, bias, N, 1, 28, 28, 30, 5, 5, 1, 0, 2, 2, 2, 0),
    ],
    [
      "convReluPoolBackward",
      "the same, dW and db only",
      (k) =>
        k.convReluPoolBackward(
          noDx,
          convDW,
          sums,
          dpooled,
          pooled,
          argmax,
          x,
          convW,
          N,
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
    ],
  ];
  cases.push(
    [
      "lstmForward",
      "32×256 (4 gates)",
      (k) => k.lstmForward(lstmGates, lstmC, lstmH, lstmA, lstmCPrev, ln, lh),
    ],
    [
      "lstmBackward",
      "32×256",
      (k) => k.lstmBackward(lstmDa, lstmDc, lstmDh, lstmDcNext, lstmGates, lstmCPrev, lstmC, ln, lh),
    ],
  );
  log(
    `\nkernels at SimpleConvNet (and the LSTM language model's) shapes (ms, best of ${quick ? 3 : 10}; wasm includes copies in and out)`,
  );
  log(`${"".padEnd(58)}${"reference".padStart(10)}${`wasm×${threads}`.padStart(10)}`);
  const rows: KernelRow[] = [];
  for (const [kernel, shape, fn] of cases) {
    const referenceMs = best(() => fn(reference), quick ? 2 : 5);
    const wasmMs = best(() => fn(wasm), quick ? 3 : 10);
    rows.push({ kernel, shape, referenceMs, wasmMs });
    log(
      `${`${kernel} (${shape})`.padEnd(58)}${referenceMs.toFixed(3).padStart(10)}${wasmMs.toFixed(3).padStart(10)}`,
    );
  }
  return rows;
}

// ---- 3. models (each in a child process) -----------------------------------------------------------
type Variant = "reference" | "wasm";

interface ModelResult {
  model: string;
  backend: Variant;
  threads: number;
  optimizer: string;
  iterationsTimed: number;
  /** Timed blocks (of iterationsTimed / blocks iterations each); msPerIteration is their median. */
  blocks: number;
  msPerIteration: number;
  /** The fastest and the slowest block. */
  msPerIterationRange: [number, number];
  /** CPU time (all threads) per iteration: on a shared machine, wall time also counts others' work. */
  cpuMsPerIteration: number;
  secondsPerEpoch: number;
  inferenceImages: number;
  imagesPerSecond: number;
  /** CPU time (all threads) of inference per 100 images. */
  inferenceCpuMsPer100: number;
  peakRssMB: number;
}

/** The book's three benchmark networks at their book sizes, with the book's optimizers. */
const MODELS = {
  "two-layer": {
    create: (rng: Rng) => new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, rng),
    inputShape: [784],
    optimizer: () => new SGD({ lr: 0.1 }),
    optimizerName: "SGD",
    iterations: { reference: 30, wasm: 300 },
    inference: { reference: 10000, wasm: 10000 },
  },
  "simple-conv": {
    create: (rng: Rng) => new SimpleConvNet({}, rng),
    inputShape: [1, 28, 28],
    optimizer: () => new Adam({ lr: 0.001 }),
    optimizerName: "Adam",
    iterations: { reference: 3, wasm: 30 },
    inference: { reference: 1000, wasm: 10000 },
  },
  "deep-conv": {
    create: (rng: Rng) => new DeepConvNet({}, rng),
    inputShape: [1, 28, 28],
    optimizer: () => new Adam({ lr: 0.001 }),
    optimizerName: "Adam",
    iterations: { reference: 1, wasm: 5 },
    inference: { reference: 200, wasm: 2000 },
  },
  // Chapter 8's ResNet (14 layers: 16/32/64 channels, 2 basic blocks per stage, batch norm). One
  // reference step takes about 15 s, so --quick leaves its reference row out.
  resnet: {
    quickWithoutReference: true,
    create: (rng: Rng) => new ResNet({}, rng),
    inputShape: [1, 28, 28],
    optimizer: () => new Adam({ lr: 0.001 }),
    optimizerName: "Adam",
    iterations: { reference: 1, wasm: 4 },
    inference: { reference: 100, wasm: 1000 },
  },
  // Chapter 8's VGG (two 3×3 convolutions per stage at 16/32/64 filters, Affine 128) and GoogLeNet
  // (Inception blocks), at their defaults on MNIST's 28×28, as `zerodl train --model vgg|googlenet`.
  // These and the DCGAN and captioner below have WASM rows only (`wasmOnly`): the reference kernels
  // take seconds a step there, and ResNet's reference row already shows that gap.
  vgg: {
    wasmOnly: true,
    create: (rng: Rng) => new VGG({}, rng),
    inputShape: [1, 28, 28],
    optimizer: () => new Adam({ lr: 0.001 }),
    optimizerName: "Adam",
    iterations: { reference: 1, wasm: 5 },
    inference: { reference: 100, wasm: 2000 },
  },
  googlenet: {
    wasmOnly: true,
    create: (rng: Rng) => new GoogLeNet({}, rng),
    inputShape: [1, 28, 28],
    optimizer: () => new Adam({ lr: 0.001 }),
    optimizerName: "Adam",
    iterations: { reference: 1, wasm: 4 },
    inference: { reference: 100, wasm: 1000 },
  },
  // The DCGAN of `zerodl gan` at its defaults (transposed convolutions in the generator, LeakyReLU
  // and strided convolutions in the discriminator): a step is one GAN iteration (the discriminator on
  // 64 real and 64 generated images, then the generator), inference draws images from the generator.
  dcgan: {
    wasmOnly: true,
    gan: { batchSize: 64 },
    inputShape: [1, 28, 28],
    optimizerName: "Adam (both networks)",
    iterations: { reference: 1, wasm: 10 },
    inference: { reference: 100, wasm: 2000 },
  },
  // Chapter 8's image captioner (`zerodl train-captioner` at its defaults: a convolutional encoder,
  // an LSTM decoder over 12 words) on canvases of 1–4 MNIST digits; inference is greedy captioning,
  // its img/s canvases per second.
  captioner: {
    wasmOnly: true,
    captioner: { canvases: 1000 },
    inputShape: [1, 28, 28],
    optimizerName: "Adam",
    iterations: { reference: 1, wasm: 10 },
    inference: { reference: 100, wasm: 1000 },
  },
  // The LSTM language model at experiments/language-model.ts's size (the sequel's Rnnlm: embedding
  // 32, 128 units, stateful), 32 streams × 64 characters of random ids over 60 symbols. Its rows
  // count sequences of 64 characters where the others count images; an epoch is 600 steps.
  lstm: {
    create: (rng: Rng) => new RnnLm({ kind: "rnnlm", vocabSize: 60, wordvecSize: 32, hiddenSize: 128 }, rng),
    tokens: { vocabulary: 60, time: 64, batch: 32 },
    optimizer: () => new Adam({ lr: 0.003 }),
    optimizerName: "Adam",
    iterations: { reference: 2, wasm: 10 },
    inference: { reference: 320, wasm: 3200 },
  },
} as const;
type ModelName = keyof typeof MODELS;

function loadImages(count: number): { x: Float32Array; labels: Int32Array } {
  const root = new URL("../data/mnist/", import.meta.url);
  const images = gunzipSync(readFileSync(new URL("train-images-idx3-ubyte.gz", root)));
  const labelBytes = gunzipSync(readFileSync(new URL("train-labels-idx1-ubyte.gz", root)));
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = images[16 + i] / 255;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = labelBytes[8 + i];
  return { x, labels };
}

/** A model's batches: `batch(i)` for training step i, `inputs` (inferN rows) for inference. */
interface Feed {
  B: number;
  batch(i: number): { x: NDArray; t: Int32Array };
  inputs: NDArray;
}

/** MNIST training images (the first ones, in order) at batch 100. */
function imageFeed(inputShape: readonly number[], inferN: number): Feed {
  const data = loadImages(Math.max(inferN, 1000));
  const B = 100;
  const batch = (i: number) => {
    const start = (i * B) % (data.labels.length - B + 1);
    return {
      x: new NDArray(data.x.slice(start * 784, (start + B) * 784), [B, ...inputShape]),
      t: data.labels.slice(start, start + B),
    };
  };
  return { B, batch, inputs: new NDArray(data.x.slice(0, inferN * 784), [inferN, ...inputShape]) };
}

/** Seeded random ids: batches of `batch` streams × `time` steps, each next id the label. */
function tokenFeed(o: { vocabulary: number; time: number; batch: number }, inferN: number): Feed {
  const rng = new Rng(7);
  const ids = (rows: number) =>
    Int32Array.from({ length: rows * (o.time + 1) }, () => Math.floor(rng.uniform() * o.vocabulary));
  const pool = ids(8 * o.batch);
  const batch = (i: number) => {
    const rows = pool.subarray((i % 8) * o.batch * (o.time + 1), ((i % 8) + 1) * o.batch * (o.time + 1));
    const x = new Float32Array(o.batch * o.time);
    const t = new Int32Array(o.batch * o.time);
    for (let r = 0; r < o.batch; r++) {
      for (let s = 0; s < o.time; s++) {
        x[r * o.time + s] = rows[r * (o.time + 1) + s];
        t[r * o.time + s] = rows[r * (o.time + 1) + s + 1];
      }
    }
    return { x: new NDArray(x, [o.batch, o.time]), t };
  };
  const inputs = new NDArray(Float32Array.from(ids(inferN).subarray(0, inferN * o.time)), [inferN, o.time]);
  return { B: o.batch, batch, inputs };
}

/** What the timing loop runs: training step i, and inference on rows [start, end) of its inputs. */
interface Workload {
  B: number;
  step(i: number): void;
  predict(start: number, end: number): void;
}

/** A classifier's or language model's step (loss, backward, optimizer) and prediction. */
function modelWorkload(
  cfg: Exclude<(typeof MODELS)[ModelName], { gan: unknown } | { captioner: unknown }>,
  inferN: number,
): Workload {
  const model = cfg.create(new Rng(42));
  const optimizer = cfg.optimizer();
  const { B, batch, inputs } =
    "tokens" in cfg ? tokenFeed(cfg.tokens, inferN) : imageFeed(cfg.inputShape, inferN);
  return {
    B,
    step(i) {
      const { x, t } = batch(i);
      model.loss(x, t);
      model.backward();
      optimizer.step(model.params);
    },
    predict: (start, end) => model.predict(inputs.sliceRows(start, end)),
  };
}

/** A DCGAN: one GanTrainer iteration per step (on the first 1,000 MNIST images), generation for inference. */
function ganWorkload(cfg: (typeof MODELS)["dcgan"], inferN: number): Workload {
  const { x } = loadImages(1000);
  const images = new NDArray(x, [1000, ...cfg.inputShape]);
  const { generator, trainer } = createDcgan({
    images,
    iterations: Number.MAX_SAFE_INTEGER,
    batchSize: cfg.gan.batchSize,
    seed: 42,
  });
  const events = trainer.steps();
  const z = sampleLatent(inferN, generator.spec.inputShape[0], new Rng(7));
  return {
    B: 100,
    step() {
      // Epoch events come between iterations; a step is one iteration.
      while (events.next().value?.type !== "iteration");
    },
    predict: (start, end) => generator.forward(z.sliceRows(start, end), "eval"),
  };
}

/** The captioner: teacher-forced loss, backward and Adam per step; greedy captions for inference. */
function captionerWorkload(cfg: (typeof MODELS)["captioner"]): Workload {
  const { x, labels } = loadImages(2000);
  const digits = { x: new NDArray(x, [2000, ...cfg.inputShape]), labels };
  const canvases = new DigitCanvases(digits, cfg.captioner.canvases, 3);
  const model = new Captioner(mnistCaptionerSpec(), new Rng(42));
  const optimizer = new Adam({ lr: 0.001 });
  const B = 100;
  const rows = (start: number, end: number) =>
    Array.from({ length: end - start }, (_, j) => (start + j) % canvases.count);
  return {
    B,
    step(i) {
      const indices = rows(i * B, (i + 1) * B);
      const { inputs, targets } = canvases.sequences(indices);
      model.loss(canvases.images(indices), inputs, targets);
      model.backward();
      optimizer.step(model.params);
    },
    predict: (start, end) => model.caption(canvases.images(rows(start, end))),
  };
}

/** Timed blocks per (model, backend): medians over them (inference: over as many passes). */
const BLOCKS: Record<Variant, number> = { reference: 3, wasm: 5 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Child: train and infer one model on one backend; prints one JSON line. */
async function runModelChild(name: ModelName, variant: Variant, threads: number): Promise<void> {
  const backend = variant === "reference" ? "reference" : "wasm";
  if (backend === "wasm") setKernels(await initWasm({ threads }));
  const cfg = MODELS[name];
  const iterations = quick ? Math.max(1, Math.ceil(cfg.iterations[variant] / 4)) : cfg.iterations[variant];
  const inferN = quick ? cfg.inference[variant] / 5 : cfg.inference[variant];
  const { B, step, predict } =
    "gan" in cfg
      ? ganWorkload(cfg, inferN)
      : "captioner" in cfg
        ? captionerWorkload(cfg)
        : modelWorkload(cfg, inferN);
  for (let i = 0; i < 2; i++) step(i);
  // Blocks of iterations, and the median block: these cores are shared with other machines' work,
  // which slows a block now and then by up to 1.5×; the median is what a quiet stretch gives.
  const blocks = quick ? 1 : BLOCKS[variant];
  const blockMs: number[] = [];
  const cpu0 = process.cpuUsage();
  let done = 2;
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) step(done++);
    blockMs.push((performance.now() - t0) / iterations);
  }
  const msPerIteration = median(blockMs);
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerIteration = (cpu.user + cpu.system) / 1000 / (iterations * blocks);
  predict(0, B);
  const inferRuns: number[] = [];
  const inferCpu0 = process.cpuUsage();
  for (let r = 0; r < blocks; r++) {
    const t1 = performance.now();
    for (let s = 0; s < inferN; s += B) predict(s, Math.min(inferN, s + B));
    inferRuns.push((performance.now() - t1) / 1000);
  }
  const inferSeconds = median(inferRuns);
  const inferCpu = process.cpuUsage(inferCpu0);
  const result: ModelResult = {
    model: name,
    backend: variant,
    threads: backend === "wasm" ? await wasmThreads() : 1,
    optimizer: cfg.optimizerName,
    iterationsTimed: iterations * blocks,
    blocks,
    msPerIteration,
    msPerIterationRange: [Math.min(...blockMs), Math.max(...blockMs)],
    cpuMsPerIteration,
    secondsPerEpoch: (msPerIteration * 600) / 1000,
    inferenceImages: inferN,
    imagesPerSecond: inferN / inferSeconds,
    inferenceCpuMsPer100: (inferCpu.user + inferCpu.system) / 1000 / blocks / (inferN / 100),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function modelSection(threads: number): ModelResult[] {
  const results: ModelResult[] = [];
  log(
    `\nmodels, batch 100, TwoLayerNet SGD, the conv nets Adam (epoch = 600 iterations, projected from the median block; peak RSS per process)` +
      `\n(lstm: the LSTM language model, batch 32 × 64 characters, Adam; its img/s counts 64-character sequences)` +
      `\n(dcgan: an iteration trains the discriminator on 64 real and 64 generated images, then the generator; img/s counts generated images)` +
      `\n(captioner: canvases of 1–4 digits, 28×112; inference is greedy captioning)`,
  );
  log(
    `${"".padEnd(28)}${"ms/iter".padStart(10)}${"cpu ms".padStart(9)}${"s/epoch".padStart(10)}${"img/s".padStart(10)}${"RSS MB".padStart(9)}`,
  );
  const script = fileURLToPath(import.meta.url);
  const names = (Object.keys(MODELS) as ModelName[]).filter((n) => !onlyModels || onlyModels.includes(n));
  for (const name of names) {
    const cfg = MODELS[name];
    const skipReference = noReference || "wasmOnly" in cfg || (quick && "quickWithoutReference" in cfg);
    const runs: [Variant, number][] = skipReference
      ? [["wasm", 1]]
      : [
          ["reference", 1],
          ["wasm", 1],
        ];
    if (threads > 1) runs.push(["wasm", threads]);
    for (const [backend, t] of runs) {
      const child = spawnSync(
        process.execPath,
        [...process.execArgv, script, "--child", name, backend, String(t), ...(quick ? ["--quick"] : [])],
        { encoding: "utf8", maxBuffer: 1 << 24 },
      );
      const line = child.stdout.trim().split("\n").pop() ?? "";
      if (child.status !== 0 || !line.startsWith("{")) {
        throw new Error(`bench child ${name}/${backend} failed (status ${child.status}):\n${child.stderr}`);
      }
      const r = JSON.parse(line) as ModelResult;
      results.push(r);
      const label = `${name} ${backend}${backend === "reference" ? "" : `×${r.threads}`}`;
      log(
        `${label.padEnd(28)}${r.msPerIteration.toFixed(1).padStart(10)}${r.cpuMsPerIteration.toFixed(1).padStart(9)}${r.secondsPerEpoch.toFixed(2).padStart(10)}${r.imagesPerSecond.toFixed(0).padStart(10)}${r.peakRssMB.toFixed(0).padStart(9)}`,
      );
    }
  }
  return results;
}

async function main(): Promise<void> {
  if (args[0] === "--child") {
    await runModelChild(args[1] as ModelName, args[2] as Variant, Number(args[3]));
    return;
  }
  if (args[0] === "--peer-child") {
    await runOrtChild(args[1], args[2], Number(args[3]), quick);
    return;
  }
  const threads = os.availableParallelism();
  const started = performance.now();
  const machine = {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: threads,
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: os.loadavg(),
    relaxedSimd: relaxedSimdChosen(),
  };
  log(
    `zerodl bench — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}; WASM ${machine.relaxedSimd ? "relaxed SIMD (fused multiply-add)" : "plain SIMD (ZERODL_RELAXED_SIMD=0, or no relaxed SIMD in this engine)"}`,
  );
  log(
    `load average at start: ${machine.loadAverage.map((l) => l.toFixed(2)).join(" ")} (other work on these cores skews timings)`,
  );
  if (peers) {
    const results = peersSection({
      script: fileURLToPath(import.meta.url),
      quick,
      models: onlyModels ?? ["simple-conv", "deep-conv"],
      threads: threads > 1 ? [1, threads] : [1],
      rounds: roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 1 : 3,
      pytorch: !args.includes("--no-pytorch"),
      cli: !args.includes("--no-cli"),
      log,
    });
    const seconds = (performance.now() - started) / 1000;
    log(`\nbench took ${seconds.toFixed(0)} s`);
    report({ machine, threads, peers: results, seconds });
    return;
  }
  const matmul = onlyModels ? [] : await matmulSection(threads);
  const kernelTimes = onlyModels ? [] : await kernelSection(threads);
  const models = modelSection(threads);
  const seconds = (performance.now() - started) / 1000;
  log(`\nbench took ${seconds.toFixed(0)} s`);
  report({ machine, threads, matmul, kernels: kernelTimes, models, seconds });
}

/** The JSON object: printed with `--json`, written to the file with `--out`. */
function report(result: object): void {
  const text = JSON.stringify(result);
  if (json) console.log(text);
  if (outFile) writeFileSync(outFile, `${text}\n`);
}

await main();
