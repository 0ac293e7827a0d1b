/**
 * The zerodl browser demo: MNIST fetched from the server and verified, a network trained a few
 * steps per animation frame with a live chart, and a pad to draw digits on.
 *
 * Imports only the public API (src/index.ts), as a user's bundle would.
 */
import {
  NDArray,
  fetchSource,
  loadMnist,
  reference,
  softmax,
  withKernels,
  type Mnist,
  type TrainEvent,
} from "../../src/index.js";
import {
  chooseBackend,
  onDevice,
  probeWebGPU,
  type BackendChoice,
  type BackendInfo,
  type GpuOffer,
} from "./backend.js";
import { TrainingChart, chartColors } from "./chart.js";
import { DigitPad, showImage } from "./digit-pad.js";
import { TrainingRun, recipes, shapeFor, type ModelChoice, type RunConfig } from "./training.js";

/** Time the training may take of each animation frame (the rest is the page's). */
const FRAME_BUDGET_MS = 25;
/**
 * The live accuracy line gets a point after this much training time, or after ten times what the
 * last point took, whichever is longer: the measurement stays under ~10 % of the training time.
 */
const PROBE_EVERY_MS = 100;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  backend: $("backend"),
  isolation: $("isolation"),
  dataStatus: $("data-status"),
  kernels: $<HTMLSelectElement>("kernels"),
  model: $<HTMLSelectElement>("model"),
  trainSize: $<HTMLSelectElement>("train-size"),
  epochs: $<HTMLInputElement>("epochs"),
  batch: $<HTMLInputElement>("batch"),
  train: $<HTMLButtonElement>("train"),
  pause: $<HTMLButtonElement>("pause"),
  recipe: $("recipe"),
  progress: $<HTMLProgressElement>("progress"),
  progressText: $("progress-text"),
  chart: $<HTMLCanvasElement>("chart"),
  legend: $("legend"),
  pad: $<HTMLCanvasElement>("pad"),
  preview: $<HTMLCanvasElement>("preview"),
  guess: $("guess"),
  clear: $<HTMLButtonElement>("clear"),
  sample: $<HTMLButtonElement>("sample"),
  bars: $("bars"),
  predictNote: $("predict-note"),
};

// ---- state ------------------------------------------------------------------------------------

interface EpochResult {
  epoch: number;
  trainAcc: number;
  testAcc: number;
  loss: number;
}

const state = {
  backend: null as BackendInfo | null,
  /** What WebGPU this browser offers (probed at start). */
  gpu: null as GpuOffer | null,
  mnist: null as Mnist | null,
  data: null as {
    train: number;
    test: number;
    trainLabels: number[];
    testLabels: number[];
    ms: number;
  } | null,
  run: null as TrainingRun | null,
  paused: false,
  /** Which frame loop may continue: starting, restarting or resuming begins a new one. */
  loop: 0,
  losses: [] as number[],
  epochs: [] as EpochResult[],
  probes: [] as { iteration: number; accuracy: number }[],
  trainingMs: 0,
  sinceProbeMs: 0,
  probeMs: 0,
  prediction: null as { probabilities: number[]; guess: number } | null,
  sampleIndex: 0,
  errors: [] as string[],
};

const chart = new TrainingChart(ui.chart);
const pad = new DigitPad(ui.pad, () => predict());
ui.legend.innerHTML = [
  ["loss (moving average)", chartColors.loss],
  ["test accuracy, 500 images (live)", chartColors.probe],
  ["train accuracy (epoch)", chartColors.train],
  ["test accuracy (epoch)", chartColors.test],
]
  .map(([text, color]) => `<span style="--c: ${color}">${text}</span>`)
  .join("");

function fail(where: string, e: unknown): void {
  const message = `${where}: ${e instanceof Error ? e.message : String(e)}`;
  state.errors.push(message);
  console.error(message);
}

// ---- backend and data ---------------------------------------------------------------------------

// ?backend=reference|wasm|webgpu chooses the kernels to start on, ?threads=1 runs one thread (to
// compare speeds). By default the page starts on WebGPU where the browser offers a GPU adapter, and
// on WebAssembly otherwise (also where the only adapter is a CPU one such as SwiftShader: it is
// offered in the list, but the WASM kernels are much faster on a CPU).
const params = new URLSearchParams(location.search);
const requestedThreads = Number(params.get("threads")) || undefined;

async function setBackend(choice: BackendChoice): Promise<void> {
  ui.kernels.disabled = true;
  ui.kernels.value = choice;
  const wasOnDevice = state.backend?.name === "webgpu";
  try {
    const run = state.run;
    if (run && wasOnDevice !== (choice === "webgpu")) {
      // A run's arrays (weights, optimizer state) live where it started: it ends here. Its weights
      // come home from the GPU, so that the model still predicts on the CPU kernels.
      if (!run.done) stopRun(`Kernels switched: press Train to start a run on them.`);
      if (wasOnDevice) await run.readWeights();
    }
    state.backend = await chooseBackend(choice, requestedThreads);
  } finally {
    ui.kernels.disabled = false;
  }
  const { name, threads, adapter, isolated, note } = state.backend;
  ui.kernels.value = name === "wasm" || name === "webgpu" ? name : "reference";
  ui.backend.textContent =
    name === "wasm"
      ? `backend: wasm SIMD · ${threads} thread${threads > 1 ? "s" : ""}`
      : name === "webgpu"
        ? `backend: webgpu · ${adapter}`
        : `backend: ${name}`;
  ui.backend.title = note;
  ui.backend.classList.toggle("off", name === "reference");
  ui.isolation.textContent = isolated ? "cross-origin isolated" : "not isolated (1 thread)";
  ui.isolation.classList.toggle("off", !isolated);
}

/** Offers WebGPU in the kernels list when the browser has an adapter; the kernels to start on. */
async function offerWebGPU(): Promise<BackendChoice> {
  const gpu = (state.gpu = await probeWebGPU());
  const option = ui.kernels.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
  option.disabled = gpu.adapter === null;
  option.textContent = gpu.adapter === null ? "WebGPU (unavailable)" : `WebGPU (${gpu.adapter})`;
  option.title = gpu.adapter === null ? gpu.reason : gpu.cpu ? "a CPU implementation of WebGPU" : "";
  const asked = params.get("backend");
  if (asked === "reference" || asked === "wasm" || asked === "webgpu") return asked;
  return gpu.adapter !== null && !gpu.cpu ? "webgpu" : "wasm";
}

async function start(): Promise<void> {
  await setBackend(await offerWebGPU());

  const t0 = performance.now();
  // The four original .gz files, fetched relative to this page and checked against their SHA-256.
  const mnist = await loadMnist({ source: fetchSource("data/mnist/") });
  const ms = performance.now() - t0;
  state.mnist = mnist;
  state.data = {
    train: mnist.train.labels.length,
    test: mnist.test.labels.length,
    trainLabels: Array.from(mnist.train.labels.subarray(0, 10)),
    testLabels: Array.from(mnist.test.labels.subarray(0, 10)),
    ms,
  };
  ui.dataStatus.textContent =
    `${state.data.train.toLocaleString("en")} training and ${state.data.test.toLocaleString("en")} test images, ` +
    `fetched, verified (SHA-256) and decoded in ${(ms / 1000).toFixed(1)} s.`;
  ui.train.disabled = false;
  ui.sample.disabled = false;
}

// ---- training -----------------------------------------------------------------------------------

function readConfig(): RunConfig {
  const clamp = (v: number, lo: number, hi: number, fallback: number) =>
    Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : fallback;
  return {
    model: ui.model.value as ModelChoice,
    trainSize: Number(ui.trainSize.value),
    epochs: clamp(Number(ui.epochs.value), 1, 20, 2),
    batchSize: clamp(Number(ui.batch.value), 1, 1000, 100),
    seed: 1,
  };
}

function showRecipe(): void {
  const recipe = recipes[ui.model.value as ModelChoice];
  ui.recipe.textContent = `${recipe.label}, ${recipe.optimizer}; tested on the first ${recipe.testSize.toLocaleString("en")} test images.`;
}

function onEvent(event: TrainEvent): void {
  if (event.type === "iteration") {
    state.losses.push(event.loss);
    chart.addLoss(event.loss);
  } else {
    const { epoch, trainAcc, testAcc, loss } = event;
    state.epochs.push({ epoch, trainAcc, testAcc, loss });
    const iteration = state.run?.iteration ?? 0;
    chart.addAccuracy("train", iteration, trainAcc);
    chart.addAccuracy("test", iteration, testAcc);
  }
}

function startTraining(): void {
  if (!state.mnist) return;
  const config = readConfig();
  state.run = new TrainingRun(config, state.mnist, onEvent);
  state.paused = false;
  state.losses = [];
  state.epochs = [];
  state.probes = [];
  state.trainingMs = 0;
  state.sinceProbeMs = 0;
  state.probeMs = 0;
  chart.reset(state.run.trainer.iterations);
  ui.pause.disabled = false;
  ui.pause.textContent = "Pause";
  ui.train.textContent = "Restart";
  ui.progress.max = state.run.trainer.iterations;
  startLoop();
}

function startLoop(): void {
  const loop = ++state.loop;
  const next = async () => {
    if (loop === state.loop && !state.paused && (await frame(loop))) requestAnimationFrame(next);
  };
  requestAnimationFrame(next);
}

/** Ends the frame loop of the current run, saying why. */
function stopRun(why: string): void {
  state.loop++;
  ui.pause.disabled = true;
  ui.progressText.textContent = why;
}

/** One frame of training; false when the run is over (finished, failed or replaced). */
async function frame(loop: number): Promise<boolean> {
  const run = state.run;
  if (!run) return false;
  try {
    let phase = "training";
    if (state.sinceProbeMs >= Math.max(PROBE_EVERY_MS, 10 * state.probeMs)) {
      // A frame of its own: the probe can take as long as a few training steps.
      state.sinceProbeMs = 0;
      await probe(run);
    } else {
      const t0 = performance.now();
      phase = (await run.advance(FRAME_BUDGET_MS)).state;
      const spent = performance.now() - t0;
      state.trainingMs += spent;
      state.sinceProbeMs += spent;
    }
    if (loop !== state.loop) return false;
    showProgress(run, phase);
    chart.draw();
    if (run.done) {
      await probe(run);
      chart.draw();
      ui.pause.disabled = true;
      return false;
    }
    return true;
  } catch (e) {
    if (loop !== state.loop) return false;
    fail("training", e);
    ui.progressText.textContent = `Training stopped: ${(e as Error).message}`;
    ui.pause.disabled = true;
    return false;
  }
}

async function probe(run: TrainingRun): Promise<void> {
  const t0 = performance.now();
  const accuracy = await run.probeAccuracy();
  state.probeMs = performance.now() - t0;
  state.probes.push({ iteration: run.iteration, accuracy });
  chart.addAccuracy("probe", run.iteration, accuracy);
  if (!pad.empty) predict();
}

function showProgress(run: TrainingRun, phase: string): void {
  const { trainer } = run;
  const epoch = Math.min(trainer.epochs, Math.floor((run.iteration - 1) / trainer.iterationsPerEpoch) + 1);
  const last = state.losses.at(-1);
  const perSecond = run.iteration / (state.trainingMs / 1000);
  const parts = [
    `epoch ${Math.max(1, epoch)}/${trainer.epochs}`,
    `iteration ${run.iteration}/${trainer.iterations}`,
    last === undefined ? "" : `loss ${last.toFixed(3)}`,
    Number.isFinite(perSecond) ? `${perSecond.toFixed(1)} it/s` : "",
  ];
  const lastEpoch = state.epochs.at(-1);
  if (lastEpoch) {
    parts.push(
      `train ${pct(lastEpoch.trainAcc)}, test ${pct(lastEpoch.testAcc)} after epoch ${lastEpoch.epoch}`,
    );
  }
  const prefix = run.done ? "Done: " : phase === "evaluating" ? "Evaluating accuracy… " : "";
  ui.progress.value = run.iteration;
  ui.progressText.textContent = prefix + parts.filter(Boolean).join(" · ");
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

ui.train.addEventListener("click", startTraining);
ui.pause.addEventListener("click", () => {
  state.paused = !state.paused;
  ui.pause.textContent = state.paused ? "Resume" : "Pause";
  if (!state.paused) startLoop();
});
ui.model.addEventListener("change", () => {
  // The last epoch measures accuracy on every training image: for the convolutional net, 60,000
  // would freeze the page for many seconds at the end.
  if (ui.model.value === "simple-conv" && ui.trainSize.value === "60000") ui.trainSize.value = "10000";
  showRecipe();
});
// Switching takes effect at the next kernel call, even in the middle of a run.
ui.kernels.addEventListener("change", () => {
  setBackend(ui.kernels.value as BackendChoice).catch((e) => fail("backend", e));
});
showRecipe();

// ---- drawing and prediction ---------------------------------------------------------------------

ui.bars.innerHTML = Array.from(
  { length: 10 },
  (_, d) => `<b>${d}</b><div class="bar" id="bar-${d}"><i></i></div><span id="p-${d}">–</span>`,
).join("");

/** Counts predictions, so that only the latest one's result is shown (WebGPU's come back later). */
let predictions = 0;

function predict(): void {
  const input = pad.input();
  showImage(ui.preview, input ?? new Float32Array(784));
  const model = state.run?.model;
  if (!input || !model) {
    state.prediction = null;
    showPrediction(null);
    ui.predictNote.textContent = model ? "Draw a digit." : "Train a network, then draw.";
    return;
  }
  const show = (p: ArrayLike<number>) => {
    const probabilities = Array.from(p);
    const guess = probabilities.indexOf(Math.max(...probabilities));
    state.prediction = { probabilities, guess };
    showPrediction(state.prediction);
    ui.predictNote.textContent = `Predicted by the network${state.run?.done ? "" : " as it trains"}.`;
  };
  try {
    const probabilities = softmax(model.predict(shapeFor(model, NDArray.from(input, [1, 784]))));
    if (!onDevice()) return show(probabilities.data);
    const id = ++predictions;
    probabilities.read().then(
      (p) => id === predictions && show(p),
      (e: unknown) => fail("predict", e),
    );
  } catch (e) {
    fail("predict", e);
  }
}

function showPrediction(prediction: { probabilities: number[]; guess: number } | null): void {
  ui.guess.textContent = prediction ? String(prediction.guess) : "–";
  for (let d = 0; d < 10; d++) {
    const p = prediction?.probabilities[d] ?? 0;
    const bar = $(`bar-${d}`);
    bar.classList.toggle("top", prediction?.guess === d);
    (bar.firstElementChild as HTMLElement).style.width = `${(100 * p).toFixed(1)}%`;
    $(`p-${d}`).textContent = prediction ? pct(p) : "–";
  }
}

/** Puts test image `index` on the pad, enlarged as if drawn. */
function showTestImage(index: number): number {
  const test = state.mnist!.test;
  pad.showImage(test.x.data.subarray(index * 784, (index + 1) * 784));
  predict();
  return test.labels[index];
}

ui.clear.addEventListener("click", () => {
  pad.clear();
  predict();
});
ui.sample.addEventListener("click", () => {
  // Steps through the test set in a fixed order that mixes the classes.
  const label = showTestImage(state.sampleIndex);
  ui.predictNote.textContent += ` (test image #${state.sampleIndex}, labelled ${label})`;
  state.sampleIndex = (state.sampleIndex + 997) % state.mnist!.test.labels.length;
});
showPrediction(null);

// ---- a handle for tests and the console ---------------------------------------------------------

const ready = start().catch((e) => {
  fail("loading", e);
  ui.dataStatus.textContent = `Could not load MNIST: ${(e as Error).message}`;
});

declare global {
  interface Window {
    zerodlDemo: unknown;
  }
}

window.zerodlDemo = {
  ready,
  /** A JSON-friendly picture of the page's state. */
  snapshot: () => {
    const input = pad.input();
    return {
      backend: state.backend,
      gpu: state.gpu,
      data: state.data,
      run: state.run && {
        config: state.run.config,
        iteration: state.run.iteration,
        iterations: state.run.trainer.iterations,
        done: state.run.done,
        losses: state.losses,
        epochs: state.epochs,
        probes: state.probes,
        trainingMs: state.trainingMs,
      },
      prediction: state.prediction,
      input: input && Array.from(input),
      errors: state.errors,
    };
  },
  showTestImage,
  /** The pad's size, and a picture of that size (RGBA bytes, base64) put on it and classified. */
  padSize: () => [pad.canvas.width, pad.canvas.height],
  showPicture: (rgbaBase64: string) => {
    pad.showPicture(Uint8Array.from(atob(rgbaBase64), (c) => c.charCodeAt(0)));
    predict();
  },
  /**
   * The largest difference between the trained model's scores for the first n test images from the
   * kernels in use and from the reference kernels (the specification).
   */
  compareWithReference: async (n: number) => {
    const run = state.run!;
    const model = run.model;
    const x = shapeFor(model, state.mnist!.test.x.sliceRows(0, n));
    const fast = await model.predict(x).read();
    await run.readWeights(); // the reference kernels run on the host
    const spec = withKernels(reference, () => model.predict(x)).data;
    let worst = 0;
    for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - spec[i]));
    return worst;
  },
  testImage: (index: number) => Array.from(state.mnist!.test.x.data.subarray(index * 784, (index + 1) * 784)),
};
