/**
 * The zerodl playground: the shipped pretrained networks classify a drawing at once; chapter 6's
 * settings train a network of the reader's choice with its curves overlaid on earlier runs;
 * chapter 7's views look inside whichever network is chosen; the book's cheap experiments run in
 * the page through the same code as `zerodl experiment`.
 *
 * Imports the public API (src/index.ts), as a user's bundle would; model files through
 * src/io/model-file.ts's byte functions (encodeModel/decodeModel), which need no file system.
 */
import {
  NDArray,
  Rng,
  createModel,
  fetchSource,
  loadMnist,
  reference,
  softmax,
  withKernels,
  type Mnist,
  type Model,
  type ModelSpec,
  type TrainEvent,
} from "../../src/index.js";
import { decodeModel, encodeModel, type ModelFileInfo } from "../../src/io/model-file.js";
import {
  chooseBackend,
  onDevice,
  probeWebGPU,
  type BackendChoice,
  type BackendInfo,
  type GpuOffer,
} from "./backend.js";
import { DigitPad, showImage } from "./digit-pad.js";
import { TrainingRun, shapeFor } from "./training.js";
import { defaultLr, describeConfig, type LabConfig } from "./playground/lab.js";
import { RunsChart } from "./playground/runs-chart.js";
import {
  activationPanels,
  hasLayers,
  evaluateInFrames,
  filterTiles,
  firstFilters,
  layerOutputs,
  mapsOf,
  modelQueue,
  readInQueue,
  type Evaluation,
  type LayerOutput,
} from "./playground/inspect.js";
import { confusionTable, drawHistograms, drawMistakes, drawTiles } from "./playground/views.js";

/** Time the training may take of each animation frame (the rest is the page's). */
const FRAME_BUDGET_MS = 25;
/**
 * The live accuracy line gets a point after this much training time, or after ten times what the
 * last point took, whichever is longer: the measurement stays under ~10 % of the training time.
 */
const PROBE_EVERY_MS = 100;
/** How many misclassified test images the views show. */
const MISTAKES_SHOWN = 24;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  backend: $("backend"),
  isolation: $("isolation"),
  kernels: $<HTMLSelectElement>("kernels"),
  classifier: $<HTMLSelectElement>("classifier"),
  classifierNote: $("classifier-note"),
  modelFile: $<HTMLInputElement>("model-file"),
  saveModel: $<HTMLButtonElement>("save-model"),
  pad: $<HTMLCanvasElement>("pad"),
  preview: $<HTMLCanvasElement>("preview"),
  guess: $("guess"),
  clear: $<HTMLButtonElement>("clear"),
  sample: $<HTMLButtonElement>("sample"),
  bars: $("bars"),
  predictNote: $("predict-note"),
  filtersFigure: $("filters-figure"),
  filters: $<HTMLCanvasElement>("filters"),
  responsesFigure: $("responses-figure"),
  responses: $<HTMLCanvasElement>("responses"),
  dataStatus: $("data-status"),
  model: $<HTMLSelectElement>("model"),
  depth: $<HTMLInputElement>("depth"),
  width: $<HTMLInputElement>("width"),
  activation: $<HTMLSelectElement>("activation"),
  init: $<HTMLSelectElement>("init"),
  initStd: $<HTMLInputElement>("init-std"),
  batchNorm: $<HTMLInputElement>("batch-norm"),
  dropout: $<HTMLInputElement>("dropout"),
  weightDecay: $<HTMLInputElement>("weight-decay"),
  optimizer: $<HTMLSelectElement>("optimizer"),
  lr: $<HTMLInputElement>("lr"),
  trainSize: $<HTMLSelectElement>("train-size"),
  depthLabel: $<HTMLElement>("depth-label"),
  widthLabel: $<HTMLElement>("width-label"),
  epochs: $<HTMLInputElement>("epochs"),
  batch: $<HTMLInputElement>("batch"),
  seed: $<HTMLInputElement>("seed"),
  train: $<HTMLButtonElement>("train"),
  pause: $<HTMLButtonElement>("pause"),
  clearRuns: $<HTMLButtonElement>("clear-runs"),
  recipe: $("recipe"),
  progress: $<HTMLProgressElement>("progress"),
  progressText: $("progress-text"),
  runsChart: $<HTMLCanvasElement>("runs-chart"),
  runsLegend: $("runs-legend"),
  insideNote: $("inside-note"),
  evaluate: $<HTMLButtonElement>("evaluate"),
  evaluateStatus: $("evaluate-status"),
  beforeAfterFigure: $("before-after-figure"),
  filtersBefore: $<HTMLCanvasElement>("filters-before"),
  filtersAfter: $<HTMLCanvasElement>("filters-after"),
  mapsFigure: $("maps-figure"),
  mapsLayer: $<HTMLSelectElement>("maps-layer"),
  maps: $<HTMLCanvasElement>("maps"),
  histogramsFigure: $("histograms-figure"),
  histograms: $<HTMLCanvasElement>("histograms"),
  confusion: $("confusion"),
  mistakesCaption: $("mistakes-caption"),
  mistakes: $("mistakes"),
  experiment: $<HTMLSelectElement>("experiment"),
  runExperiment: $<HTMLButtonElement>("run-experiment"),
  experimentStatus: $("experiment-status"),
  experimentOutput: $("experiment-output"),
};

// ---- state ------------------------------------------------------------------------------------

type DatasetName = "mnist" | "fashion-mnist";

/** A network the top card can classify with. */
interface Classifier {
  id: string;
  label: string;
  model: Model;
  dataset: DatasetName;
  classNames: readonly string[];
  /** What the page says about it (where it comes from, its recorded accuracy). */
  note: string;
  /** The weights of its first convolution before training, when known (chapter 7's before/after). */
  initialFilters?: Float32Array;
  /** The file name it came from or is saved under. */
  fileName: string;
  /** What a saved file records about its training. */
  record?: Pick<ModelFileInfo, "training" | "results">;
}

interface EpochResult {
  epoch: number;
  trainAcc: number;
  testAcc: number;
  loss: number;
}

/** One finished or running training run, as the chart and its legend show it. */
interface RunRecord {
  config: LabConfig;
  label: string;
  losses: number[];
  probes: { iteration: number; accuracy: number }[];
  iterations: number;
  /** Accuracy on all 10,000 test images, measured after the run. */
  testAccuracy?: number;
}

const state = {
  backend: null as BackendInfo | null,
  /** What WebGPU this browser offers (probed at start). */
  gpu: null as GpuOffer | null,
  mnist: null as Mnist | null,
  fashion: null as Promise<Mnist> | null,
  data: null as {
    train: number;
    test: number;
    trainLabels: number[];
    testLabels: number[];
    ms: number;
  } | null,
  classifiers: new Map<string, Classifier>(),
  run: null as TrainingRun | null,
  runs: [] as RunRecord[],
  /** Each run's record (a run that is replaced may still deliver a probe). */
  records: new WeakMap<TrainingRun, RunRecord>(),
  paused: false,
  /** Which frame loop may continue: starting, restarting or resuming begins a new one. */
  loop: 0,
  epochs: [] as EpochResult[],
  trainingMs: 0,
  sinceProbeMs: 0,
  probeMs: 0,
  prediction: null as { probabilities: number[]; guess: number } | null,
  evaluation: null as { classifier: string; accuracy: number; count: number; mistakes: number } | null,
  sampleIndex: 0,
  errors: [] as string[],
};

const chart = new RunsChart(ui.runsChart);
/**
 * A test image shown on the pad is classified from its own 28×28 pixels (as `zerodl eval` does):
 * the pad's MNIST-style re-centring is for drawings, and would move a Fashion-MNIST article.
 */
let testPixels: Float32Array | null = null;
const pad = new DigitPad(ui.pad, () => {
  testPixels = null; // the reader drew over it
  void predict();
});
/** What the network classifies: the test image shown, or the drawing prepared like MNIST. */
const padInput = () => testPixels ?? pad.input();

function fail(where: string, e: unknown): void {
  const message = `${where}: ${e instanceof Error ? e.message : String(e)}`;
  state.errors.push(message);
  console.error(message);
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
/** Screen pixels per value so that a tile `size` values wide is about `target` pixels (filters: 3×3 or 5×5). */
const pixelScale = (size: number, target: number) => Math.max(2, Math.round(target / size));

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
  // The networks first: drawing works before the 60,000 training images have arrived.
  await loadShippedModels();

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
    `MNIST: ${state.data.train.toLocaleString("en")} training and ${state.data.test.toLocaleString("en")} test images, ` +
    `fetched, verified (SHA-256) and decoded in ${(ms / 1000).toFixed(1)} s.`;
  ui.train.disabled = false;
  updateClassifierControls();
  void showInside();
}

/** The test set a classifier's classes come from (Fashion-MNIST is fetched when first needed). */
async function testSet(dataset: DatasetName): Promise<Mnist> {
  if (dataset === "mnist") {
    if (!state.mnist) throw new Error("MNIST is still loading");
    return state.mnist;
  }
  state.fashion ??= loadMnist({ dataset: "fashion-mnist", source: fetchSource("data/fashion-mnist/") });
  return state.fashion;
}

// ---- the networks to classify with ------------------------------------------------------------------

/** The pretrained networks shipped in models/ (README: "Pretrained models"). */
const shipped: { id: string; file: string; label: string; dataset: DatasetName }[] = [
  { id: "deep-conv", file: "deep-conv.safetensors", label: "DeepConvNet (§8.1), MNIST", dataset: "mnist" },
  {
    id: "simple-conv",
    file: "simple-conv.safetensors",
    label: "SimpleConvNet (§7.5), MNIST",
    dataset: "mnist",
  },
  { id: "two-layer", file: "two-layer.safetensors", label: "TwoLayerNet (§5.7), MNIST", dataset: "mnist" },
  {
    id: "fashion-simple-conv",
    file: "fashion-simple-conv.safetensors",
    label: "SimpleConvNet, Fashion-MNIST",
    dataset: "fashion-mnist",
  },
];

const digitNames = Array.from({ length: 10 }, (_, d) => String(d));

/** Rebuilds a model from a file's bytes (the architecture is in the file). */
function modelFromBytes(bytes: Uint8Array, fileName: string): { model: Model; info: ModelFileInfo } {
  return decodeModel(bytes, fileName, (spec, dtype) => createModel(spec as ModelSpec, new Rng(0), dtype));
}

function classifierFromFile(
  id: string,
  label: string,
  bytes: Uint8Array,
  fileName: string,
  dataset?: DatasetName,
): Classifier {
  const { model, info } = modelFromBytes(bytes, fileName);
  const training = info.training ?? {};
  const names = Array.isArray(training.classNames) ? (training.classNames as string[]) : undefined;
  const data: DatasetName = dataset ?? (training.data === "fashion-mnist" ? "fashion-mnist" : "mnist");
  const testAcc = typeof info.results?.testAcc === "number" ? info.results.testAcc : undefined;
  const params = info.parameterCount.toLocaleString("en");
  return {
    id,
    label,
    model,
    dataset: data,
    classNames: names ?? digitNames,
    fileName,
    record: { training: info.training, results: info.results },
    note:
      `${fileName}: ${params} parameters` +
      (testAcc !== undefined ? `, ${pct(testAcc)} on the 10,000 test images when it was trained` : "") +
      (typeof training.epochs === "number"
        ? ` (${training.epochs} epochs, seed ${String(training.seed)})`
        : "") +
      ".",
  };
}

async function loadShippedModels(): Promise<void> {
  const results = await Promise.allSettled(
    shipped.map(async (s) => {
      const response = await fetch(`models/${s.file}`);
      if (!response.ok) throw new Error(`models/${s.file}: HTTP ${response.status}`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return classifierFromFile(s.id, `${s.label} · pretrained`, bytes, s.file, s.dataset);
    }),
  );
  results.forEach((r, i) => {
    if (r.status === "fulfilled") addClassifier(r.value, false);
    else fail(`loading ${shipped[i].file}`, r.reason);
  });
  const first = [...state.classifiers.keys()][0];
  if (first) selectClassifier(first);
  else ui.classifierNote.textContent = "No shipped network could be loaded: train one below, or load a file.";
}

function addClassifier(classifier: Classifier, select: boolean): void {
  state.classifiers.set(classifier.id, classifier);
  let option = [...ui.classifier.options].find((o) => o.value === classifier.id);
  if (!option) {
    option = document.createElement("option");
    option.value = classifier.id;
    ui.classifier.append(option);
  }
  option.textContent = classifier.label;
  if (select) selectClassifier(classifier.id);
}

function current(): Classifier | undefined {
  return state.classifiers.get(ui.classifier.value);
}

function selectClassifier(id: string): void {
  ui.classifier.value = id;
  const c = current();
  if (!c) return;
  ui.classifierNote.textContent = c.note;
  showBars(c.classNames);
  state.evaluation = null;
  ui.confusion.replaceChildren();
  ui.mistakes.replaceChildren();
  ui.mistakesCaption.textContent = "";
  ui.evaluateStatus.textContent = "";
  updateClassifierControls();
  void predict();
  void showInside();
}

function updateClassifierControls(): void {
  const c = current();
  ui.saveModel.disabled = !c;
  ui.sample.disabled = !c || (c.dataset === "mnist" && !state.mnist);
  ui.evaluate.disabled = !c || (c.dataset === "mnist" && !state.mnist);
}

// ---- drawing and prediction ---------------------------------------------------------------------

function showBars(classNames: readonly string[]): void {
  ui.bars.innerHTML = classNames
    .map(
      (name, d) =>
        `<b title="${name}">${name.length > 8 ? name.slice(0, 7) + "." : name}</b>` +
        `<div class="bar" id="bar-${d}"><i></i></div><span id="p-${d}">–</span>`,
    )
    .join("");
  ui.bars.style.gridTemplateColumns = classNames.some((n) => n.length > 1) ? "70px 1fr 48px" : "";
}

/** Counts predictions, so that only the latest one's result is shown (WebGPU's come back later). */
let predictions = 0;

/** Classifies the pad's input with the chosen network; resolves once the result is shown. */
function predict(): Promise<void> {
  const input = padInput();
  showImage(ui.preview, input ?? new Float32Array(784));
  const c = current();
  const id = ++predictions;
  if (!input || !c) {
    state.prediction = null;
    showPrediction(null);
    ui.predictNote.textContent = c ? "Draw a digit, or press Test image." : "Choose a network.";
    return showResponses(null, id);
  }
  const training = state.run && c.model === state.run.model && !state.run.done;
  const x = shapeFor(c.model, NDArray.from(input, [1, 784]));
  const shown = (async () => {
    // On WebGPU the scores come back later: only the latest prediction is shown.
    const p = await readInQueue(() => softmax(c.model.predict(x)));
    if (id !== predictions) return;
    const probabilities = Array.from(p);
    const guess = probabilities.indexOf(Math.max(...probabilities));
    state.prediction = { probabilities, guess };
    showPrediction(state.prediction);
    ui.predictNote.textContent = `Predicted by ${c.label}${training ? " as it trains" : ""}.`;
  })();
  return Promise.all([shown, showResponses(x, id)]).then(
    () => {},
    (e: unknown) => fail("predict", e),
  );
}

function showPrediction(prediction: { probabilities: number[]; guess: number } | null): void {
  const names = current()?.classNames ?? digitNames;
  ui.guess.textContent = prediction ? names[prediction.guess] : "–";
  for (let d = 0; d < names.length; d++) {
    const p = prediction?.probabilities[d] ?? 0;
    const bar = document.getElementById(`bar-${d}`);
    if (!bar) continue;
    bar.classList.toggle("top", prediction?.guess === d);
    (bar.firstElementChild as HTMLElement).style.width = `${(100 * p).toFixed(1)}%`;
    $(`p-${d}`).textContent = prediction ? pct(p) : "–";
  }
}

/** The latest layer outputs for the pad's input (activation maps); null when the pad is empty. */
let latestOutputs: LayerOutput[] | null = null;

/** The first layer's filters and their responses to the input, and the chosen layer's maps. */
async function showResponses(x: NDArray | null, id: number): Promise<void> {
  const c = current();
  try {
    const filters = c ? await firstFilters(c.model) : null;
    const outputs = c && x ? await layerOutputs(c.model, x, () => id === predictions) : null;
    if (id !== predictions) return;
    ui.filtersFigure.hidden = !filters;
    if (filters)
      drawTiles(ui.filters, filters, { columns: 8, scale: pixelScale(filters.height, 24), reversed: true });
    latestOutputs = outputs;
    const firstMaps = outputs?.map(mapsOf).find((t) => t !== null) ?? null;
    ui.responsesFigure.hidden = !firstMaps;
    if (firstMaps) drawTiles(ui.responses, firstMaps, { columns: 8, scale: 2 });
    showMaps();
  } catch (e) {
    fail("views", e);
  }
}

/** Puts test image `index` of the chosen network's dataset on the pad, enlarged as if drawn. */
async function showTestImage(index: number): Promise<number> {
  const c = current();
  const test = (await testSet(c?.dataset ?? "mnist")).test;
  testPixels = test.x.data.slice(index * 784, (index + 1) * 784) as Float32Array;
  pad.showImage(testPixels);
  await predict();
  return test.labels[index];
}

ui.clear.addEventListener("click", () => {
  testPixels = null;
  pad.clear();
  void predict();
});
ui.sample.addEventListener("click", () => {
  // Steps through the test set in a fixed order that mixes the classes.
  const index = state.sampleIndex;
  state.sampleIndex = (state.sampleIndex + 997) % 10000;
  ui.predictNote.textContent = "Fetching the test images…";
  showTestImage(index)
    .then((label) => {
      const names = current()?.classNames ?? digitNames;
      ui.predictNote.textContent += ` (test image #${index}, labelled ${names[label]})`;
    })
    .catch((e: unknown) => {
      fail("test image", e);
      ui.predictNote.textContent = `Could not load the test images: ${(e as Error).message}`;
    });
});
ui.classifier.addEventListener("change", () => selectClassifier(ui.classifier.value));

// ---- save and load ------------------------------------------------------------------------------------

/** The chosen network as model-file bytes (the same format `zerodl train --out` writes). */
function currentModelBytes(): { bytes: Uint8Array; fileName: string } {
  const c = current();
  if (!c) throw new Error("no network is chosen");
  const bytes = encodeModel(c.model as Parameters<typeof encodeModel>[0], {
    training: { ...c.record?.training, classNames: [...c.classNames], data: c.dataset },
    ...(c.record?.results ? { results: c.record.results } : {}),
  });
  return { bytes, fileName: c.fileName };
}

ui.saveModel.addEventListener("click", () => {
  try {
    const { bytes, fileName } = currentModelBytes();
    const url = URL.createObjectURL(
      new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }),
    );
    const a = document.createElement("a");
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    fail("save", e);
    ui.classifierNote.textContent = `Could not save: ${(e as Error).message}`;
  }
});

let loadedFiles = 0;
function loadModelFile(bytes: Uint8Array, fileName: string): Classifier {
  const c = classifierFromFile(`file-${++loadedFiles}`, `${fileName} · loaded`, bytes, fileName);
  addClassifier(c, true);
  return c;
}

ui.modelFile.addEventListener("change", () => {
  const file = ui.modelFile.files?.[0];
  if (!file) return;
  file
    .arrayBuffer()
    .then((buffer) => loadModelFile(new Uint8Array(buffer), file.name))
    .catch((e: unknown) => {
      // The reader's file, not the page, is at fault: said in the page, not logged as an error.
      ui.classifierNote.textContent = `Could not load ${file.name}: ${(e as Error).message}`;
    })
    .finally(() => (ui.modelFile.value = ""));
});

// ---- training (chapter 6) -------------------------------------------------------------------------

/**
 * Each network's starting settings, the book's: TwoLayerNet as in §5.7 (784-50-10, ReLU, weights of
 * std 0.01, SGD with lr 0.1; §4.5's sigmoid version is the activation list away), SimpleConvNet as
 * in §7.5 (std 0.01, Adam 0.001), MultiLayerNet as in §6.2 (He, ReLU).
 */
const presets: Record<string, Partial<LabConfig>> = {
  mlp: { depth: 2, width: 100, activation: "relu", init: "he", optimizer: "sgd", lr: 0.1 },
  "two-layer": {
    depth: 1,
    width: 50,
    activation: "relu",
    init: "std",
    initStd: 0.01,
    optimizer: "sgd",
    lr: 0.1,
  },
  "simple-conv": { width: 100, init: "std", initStd: 0.01, optimizer: "adam", lr: 0.001 },
  // Chapter 8's ResNet-14 (16/32/64 channels, He init, batch norm): ~20× SimpleConvNet's work per
  // image, so a shorter first run.
  resnet: { depth: 2, width: 16, optimizer: "adam", lr: 0.001, trainSize: 5000, epochs: 1 },
};

function applyPreset(name: string): void {
  const p = presets[name] ?? {};
  if (p.depth !== undefined) ui.depth.value = String(p.depth);
  if (p.width !== undefined) ui.width.value = String(p.width);
  if (p.activation) ui.activation.value = p.activation;
  if (p.init) ui.init.value = p.init;
  if (p.initStd !== undefined) ui.initStd.value = String(p.initStd);
  if (p.optimizer) ui.optimizer.value = p.optimizer;
  if (p.lr !== undefined) ui.lr.value = String(p.lr);
  if (p.trainSize !== undefined) ui.trainSize.value = String(p.trainSize);
  if (p.epochs !== undefined) ui.epochs.value = String(p.epochs);
  ui.batchNorm.checked = false;
  ui.dropout.value = "0";
  showControls();
}

/** Greys out what the chosen network does not have. */
function showControls(): void {
  const conv = ui.model.value === "simple-conv";
  const twoLayer = ui.model.value === "two-layer";
  const resnet = ui.model.value === "resnet";
  ui.depth.disabled = conv || twoLayer;
  // ResNet has its own: ReLU, He initialization, batch norm after every convolution, no dropout.
  ui.activation.disabled = conv || resnet;
  ui.batchNorm.disabled = conv || resnet;
  ui.dropout.disabled = conv || resnet;
  ui.init.disabled = resnet;
  ui.initStd.disabled = resnet || ui.init.value !== "std";
  ui.depthLabel.textContent = resnet ? "Blocks per stage" : "Hidden layers";
  ui.widthLabel.textContent = resnet ? "Channels (first stage)" : conv ? "Hidden units" : "Units per layer";
  if (twoLayer) ui.depth.value = "1";
  ui.recipe.textContent = `Next run: ${describeConfig(readConfig())}.`;
}

function readConfig(): LabConfig {
  const model = ui.model.value;
  const architecture = model === "simple-conv" || model === "resnet" ? model : "mlp";
  return {
    architecture,
    depth: Number(ui.depth.value),
    width: Number(ui.width.value),
    activation: ui.activation.value as LabConfig["activation"],
    init: ui.init.value as LabConfig["init"],
    initStd: Number(ui.initStd.value),
    batchNorm: ui.batchNorm.checked,
    dropout: Number(ui.dropout.value),
    weightDecay: Number(ui.weightDecay.value),
    optimizer: ui.optimizer.value as LabConfig["optimizer"],
    lr: Number(ui.lr.value),
    trainSize: Number(ui.trainSize.value),
    epochs: Number(ui.epochs.value),
    batchSize: Number(ui.batch.value),
    seed: Number(ui.seed.value),
  };
}

/** What a run's events add to its record (bound to the record: a replaced run's late events go nowhere else). */
function recordEvents(record: RunRecord): (event: TrainEvent) => void {
  return (event) => {
    if (event.type === "iteration") {
      record.losses.push(event.loss);
    } else if (record === state.runs.at(-1)) {
      const { epoch, trainAcc, testAcc, loss } = event;
      state.epochs.push({ epoch, trainAcc, testAcc, loss });
    }
  };
}

function startTraining(): void {
  if (!state.mnist) return;
  let run: TrainingRun;
  const config = readConfig();
  const record: RunRecord = { config, label: describeConfig(config), losses: [], probes: [], iterations: 0 };
  try {
    run = new TrainingRun(config, state.mnist, recordEvents(record));
  } catch (e) {
    fail("settings", e);
    ui.progressText.textContent = (e as Error).message;
    return;
  }
  state.run = run;
  state.paused = false;
  state.epochs = [];
  state.trainingMs = 0;
  state.sinceProbeMs = 0;
  state.probeMs = 0;
  const label = record.label;
  record.iterations = run.trainer.iterations;
  state.runs.push(record);
  state.records.set(run, record);
  drawRuns();
  ui.pause.disabled = false;
  ui.pause.textContent = "Pause";
  ui.train.textContent = "Train again";
  ui.progress.max = run.trainer.iterations;
  const n = state.runs.length;
  addClassifier(
    {
      id: "trained",
      label: `your network (run ${n}: ${ui.model.selectedOptions[0].textContent?.replace(/ \(.*/, "")})`,
      model: run.model,
      dataset: "mnist",
      classNames: digitNames,
      note: `Trained in this page (run ${n}): ${label}.`,
      initialFilters: run.initialFilters ?? undefined,
      fileName: `zerodl-run-${n}.safetensors`,
      record: { training: { ...config, data: "mnist", source: "zerodl playground" } },
    },
    true,
  );
  startLoop();
}

function stopRun(why: string): void {
  state.loop++;
  ui.pause.disabled = true;
  ui.progressText.textContent = why;
}

function startLoop(): void {
  const loop = ++state.loop;
  const next = async () => {
    if (loop === state.loop && !state.paused && (await frame(loop))) requestAnimationFrame(next);
  };
  requestAnimationFrame(next);
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
      phase = (await modelQueue.run(() => run.advance(FRAME_BUDGET_MS))).state;
      const spent = performance.now() - t0;
      state.trainingMs += spent;
      state.sinceProbeMs += spent;
    }
    if (loop !== state.loop) return false;
    showProgress(run, phase);
    drawRuns();
    if (run.done) {
      await probe(run);
      ui.pause.disabled = true;
      await finishRun(run, loop);
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
  const accuracy = await modelQueue.run(() => run.probeAccuracy());
  state.probeMs = performance.now() - t0;
  state.records.get(run)?.probes.push({ iteration: run.iteration, accuracy });
  if (!pad.empty && current()?.model === run.model) void predict();
}

/** After the last step: the whole test set, a slice per frame, then chapter 7's views. */
async function finishRun(run: TrainingRun, loop: number): Promise<void> {
  const record = state.records.get(run)!;
  const evaluation = await evaluateCurrent(run.model);
  if (loop !== state.loop || !evaluation) return;
  record.testAccuracy = evaluation.accuracy;
  drawRuns();
  showProgress(run, "done");
  const trained = state.classifiers.get("trained");
  if (trained && trained.model === run.model) {
    trained.record = { ...trained.record, results: { testAcc: evaluation.accuracy } };
    trained.note += ` ${pct(evaluation.accuracy)} on the 10,000 test images.`;
    if (current() === trained) ui.classifierNote.textContent = trained.note;
  }
  void showInside();
}

function showProgress(run: TrainingRun, phase: string): void {
  const { trainer } = run;
  const epoch = Math.min(trainer.epochs, Math.floor((run.iteration - 1) / trainer.iterationsPerEpoch) + 1);
  const record = state.runs.at(-1);
  const last = record?.losses.at(-1);
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
      `train ${pct(lastEpoch.trainAcc)}, test ${pct(lastEpoch.testAcc)} (1,000 images each) after epoch ${lastEpoch.epoch}`,
    );
  }
  if (record?.testAccuracy !== undefined) parts.push(`all 10,000 test images: ${pct(record.testAccuracy)}`);
  const prefix = run.done ? "Done: " : phase === "evaluating" ? "Evaluating accuracy… " : "";
  ui.progress.value = run.iteration;
  ui.progressText.textContent = prefix + parts.filter(Boolean).join(" · ");
}

function drawRuns(): void {
  chart.runs = state.runs.map((r) => ({
    label: r.label,
    losses: r.losses,
    accuracy: r.probes.map((p) => ({ iteration: p.iteration, value: p.accuracy })),
    iterations: r.iterations,
  }));
  chart.draw();
  ui.runsLegend.innerHTML = state.runs
    .map((r, i) => {
      const { color, dash } = RunsChart.style(i);
      const swatch =
        `<svg width="34" height="10"><line x1="1" y1="5" x2="33" y2="5" stroke="${color}" stroke-width="2.5"` +
        ` stroke-dasharray="${dash.join(" ")}"/></svg>`;
      const accuracy = r.testAccuracy !== undefined ? ` — test ${pct(r.testAccuracy)}` : "";
      return `<span>${swatch}run ${i + 1}: ${r.label}${accuracy}</span>`;
    })
    .join("");
}

ui.train.addEventListener("click", startTraining);
ui.pause.addEventListener("click", () => {
  state.paused = !state.paused;
  ui.pause.textContent = state.paused ? "Resume" : "Pause";
  if (!state.paused) startLoop();
});
ui.clearRuns.addEventListener("click", () => {
  // The run in progress (if any) stays: only finished curves go.
  const running = state.run && !state.run.done ? state.runs.slice(-1) : [];
  state.runs = running;
  drawRuns();
});
ui.model.addEventListener("change", () => applyPreset(ui.model.value));
ui.optimizer.addEventListener("change", () => {
  ui.lr.value = String(defaultLr[ui.optimizer.value as LabConfig["optimizer"]]);
  showControls();
});
for (const input of [
  ui.depth,
  ui.width,
  ui.activation,
  ui.init,
  ui.initStd,
  ui.batchNorm,
  ui.dropout,
  ui.weightDecay,
  ui.lr,
  ui.trainSize,
  ui.epochs,
  ui.batch,
  ui.seed,
]) {
  input.addEventListener("change", showControls);
}
// Switching takes effect at the next kernel call, even in the middle of a run.
ui.kernels.addEventListener("change", () => {
  setBackend(ui.kernels.value as BackendChoice).catch((e) => fail("backend", e));
});
applyPreset(ui.model.value);
drawRuns();

// ---- inside the network (chapter 7) -----------------------------------------------------------------

/** Counts view updates, so that a slow one never overwrites a newer one. */
let insideViews = 0;
/** The histogram panels shown (for the tests' snapshot). */
let histogramTitles: string[] = [];

/** Filters before/after, activation histograms: for the chosen network. */
async function showInside(): Promise<void> {
  const c = current();
  const id = ++insideViews;
  if (!c) return;
  try {
    const layered = hasLayers(c.model);
    ui.insideNote.textContent = layered
      ? `Inside ${c.label}.`
      : `${c.label} is not a network of layers with one input: the per-layer views need one.`;
    // Before/after: the run's own starting filters, or for a file the same architecture freshly initialised.
    const after = await firstFilters(c.model);
    let before = c.initialFilters;
    if (after && !before) {
      const fresh = createModel(c.model.spec, new Rng(1));
      const W = fresh.params.find((p) => p.value.shape.length === 4)!.value;
      before = Float32Array.from(W.data);
    }
    if (id !== insideViews) return;
    ui.beforeAfterFigure.hidden = !after;
    if (after && before) {
      const W = c.model.params.find((p) => p.value.shape.length === 4)!.value;
      const scale = pixelScale(after.height, 30);
      drawTiles(ui.filtersBefore, filterTiles(before, W.shape), { columns: 6, scale, reversed: true });
      drawTiles(ui.filtersAfter, after, { columns: 6, scale, reversed: true });
    }
    const data = c.dataset === "mnist" ? state.mnist : null;
    if (!data || !layered) {
      ui.histogramsFigure.hidden = true;
      return;
    }
    // The book's 1,000 inputs for a fully connected net; 200 for a convolutional one, whose every
    // layer's maps for 1,000 images would take long on a slow device (a CPU-emulated GPU).
    const images = c.model.spec.inputShape.length === 3 ? 200 : 1000;
    const x = shapeFor(c.model, data.test.x.sliceRows(0, images));
    const panels = await activationPanels(c.model, x, () => id === insideViews);
    if (id !== insideViews) return;
    ui.histogramsFigure.hidden = !panels || panels.length === 0;
    histogramTitles = panels?.map((p) => p.title) ?? [];
    if (panels && panels.length > 0) drawHistograms(ui.histograms, panels);
  } catch (e) {
    fail("views", e);
  }
}

/** Fills the layer list with the network's 4-D outputs and draws the chosen one. */
function showMaps(): void {
  const maps = (latestOutputs ?? []).filter((o) => o.shape.length === 4);
  ui.mapsFigure.hidden = maps.length === 0;
  const names = maps.map((o) => o.name);
  if ([...ui.mapsLayer.options].map((o) => o.value).join() !== names.join()) {
    const chosen = ui.mapsLayer.value;
    ui.mapsLayer.innerHTML = names
      .map((n, i) => `<option value="${n}">${n} (${maps[i].shape.slice(1).join("×")})</option>`)
      .join("");
    if (names.includes(chosen)) ui.mapsLayer.value = chosen;
  }
  const output = maps.find((o) => o.name === ui.mapsLayer.value) ?? maps[0];
  const tiles = output && mapsOf(output);
  if (tiles)
    drawTiles(ui.maps, tiles, { columns: Math.min(16, tiles.count), scale: tiles.height > 14 ? 2 : 4 });
}
ui.mapsLayer.addEventListener("change", showMaps);

/** Every test image of the chosen network's dataset, a slice per frame: confusion matrix and mistakes. */
async function evaluateCurrent(model?: Model): Promise<Evaluation | null> {
  const c = current();
  if (!c || (model && c.model !== model)) return null;
  ui.evaluate.disabled = true;
  try {
    const data = await testSet(c.dataset);
    const x = shapeFor(c.model, data.test.x);
    const t0 = performance.now();
    const evaluation = await evaluateInFrames(
      c.model,
      x,
      data.test.labels,
      c.classNames.length,
      (done) => {
        ui.evaluateStatus.textContent = `classifying the test images… ${(100 * done).toFixed(0)} %`;
      },
      // On a GPU each batch's scores come back to the page: fewer, larger batches.
      { batch: onDevice() ? 1000 : 100 },
    );
    if (current() !== c) return evaluation;
    const mistakes: number[] = [];
    for (let i = 0; i < evaluation.count && mistakes.length < MISTAKES_SHOWN; i++) {
      if (evaluation.predicted[i] !== data.test.labels[i]) mistakes.push(i);
    }
    const wrong = evaluation.count - Math.round(evaluation.accuracy * evaluation.count);
    state.evaluation = {
      classifier: c.id,
      accuracy: evaluation.accuracy,
      count: evaluation.count,
      mistakes: wrong,
    };
    ui.evaluateStatus.textContent =
      `${pct(evaluation.accuracy)} of the ${evaluation.count.toLocaleString("en")} test images right ` +
      `(${wrong} wrong; ${((performance.now() - t0) / 1000).toFixed(1)} s).`;
    ui.confusion.innerHTML = confusionTable(evaluation.matrix, c.classNames);
    ui.mistakesCaption.textContent = `The first ${mistakes.length} of the ${wrong} misclassified test images (true → predicted):`;
    drawMistakes(
      ui.mistakes,
      mistakes.map((i) => ({
        index: i,
        label: data.test.labels[i],
        predicted: evaluation.predicted[i],
        pixels: data.test.x.data.subarray(i * 784, (i + 1) * 784),
      })),
      c.classNames,
    );
    return evaluation;
  } catch (e) {
    fail("evaluate", e);
    ui.evaluateStatus.textContent = `Could not evaluate: ${(e as Error).message}`;
    return null;
  } finally {
    updateClassifierControls();
  }
}
ui.evaluate.addEventListener("click", () => void evaluateCurrent());

// ---- the book's experiments ---------------------------------------------------------------------------

/** Loaded on first use: the experiments and Vega are a separate chunk (about 1 MB). */
const experimentsModule = () => import("./playground/book-experiments.js");
const experimentResults: { name: string; summary: string; figures: number; seconds: number }[] = [];

async function listExperiments(): Promise<void> {
  const { pageExperiments } = await experimentsModule();
  ui.experiment.innerHTML = pageExperiments()
    .map((e) => `<option value="${e.name}">${e.title} — ${e.book}</option>`)
    .join("");
}

async function runExperiment(name: string): Promise<{ summary: string; figures: number; seconds: number }> {
  const { pageExperiments, runInPage, useMnist } = await experimentsModule();
  const experiment = pageExperiments().find((e) => e.name === name);
  if (!experiment) throw new Error(`no experiment "${name}" runs in the page`);
  // The MNIST experiments use the set this page fetched and verified.
  useMnist(async ({ flatten }) => {
    const data = await testSetWhenReady();
    if (flatten) return data;
    const images = (ds: Mnist["train"]) => ({ ...ds, x: ds.x.reshape(-1, 1, 28, 28) });
    return { ...data, train: images(data.train), test: images(data.test) };
  });
  ui.runExperiment.disabled = true;
  ui.experimentStatus.textContent = `running ${name} (quick form)…`;
  try {
    const { output, seconds } = await runInPage(experiment, ui.experimentOutput, {
      seed: 1,
      log: (message) => (ui.experimentStatus.textContent = message.trim()),
    });
    const result = { summary: output.summary, figures: output.figures.length, seconds };
    experimentResults.push({ name, ...result });
    ui.experimentStatus.textContent = `${output.summary} (${seconds.toFixed(1)} s)`;
    return result;
  } finally {
    ui.runExperiment.disabled = false;
  }
}

async function testSetWhenReady(): Promise<Mnist> {
  while (!state.mnist) await new Promise((r) => setTimeout(r, 100));
  return state.mnist;
}

ui.runExperiment.addEventListener("click", () => {
  runExperiment(ui.experiment.value).catch((e: unknown) => {
    fail("experiment", e);
    ui.experimentStatus.textContent = `Failed: ${(e as Error).message}`;
  });
});

// ---- a handle for tests and the console ---------------------------------------------------------

const ready = start().catch((e) => {
  fail("loading", e);
  ui.dataStatus.textContent = `Could not load MNIST: ${(e as Error).message}`;
});
const experimentsListed = listExperiments().catch((e) => fail("experiments", e));

declare global {
  interface Window {
    zerodlDemo: unknown;
  }
}

const toBase64 = (bytes: Uint8Array) => {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

window.zerodlDemo = {
  ready,
  experimentsListed,
  /** A JSON-friendly picture of the page's state. */
  snapshot: () => {
    const input = padInput();
    const run = state.run;
    const record = state.runs.at(-1);
    return {
      backend: state.backend,
      gpu: state.gpu,
      data: state.data,
      classifier: ui.classifier.value,
      classifiers: [...state.classifiers.values()].map((c) => ({
        id: c.id,
        label: c.label,
        dataset: c.dataset,
      })),
      run: run && {
        config: run.config,
        iteration: run.iteration,
        iterations: run.trainer.iterations,
        done: run.done,
        losses: record?.losses ?? [],
        epochs: state.epochs,
        probes: record?.probes ?? [],
        testAccuracy: record?.testAccuracy,
        trainingMs: state.trainingMs,
      },
      runs: state.runs.map((r) => ({
        label: r.label,
        iterations: r.iterations,
        testAccuracy: r.testAccuracy,
      })),
      prediction: state.prediction,
      evaluation: state.evaluation,
      views: {
        filters: !ui.filtersFigure.hidden,
        responses: !ui.responsesFigure.hidden,
        beforeAfter: !ui.beforeAfterFigure.hidden,
        maps: ui.mapsFigure.hidden ? [] : [...ui.mapsLayer.options].map((o) => o.value),
        histograms: ui.histogramsFigure.hidden ? [] : histogramTitles,
        mistakesShown: ui.mistakes.childElementCount,
      },
      experiments: experimentResults,
      input: input && Array.from(input),
      errors: state.errors,
    };
  },
  showTestImage,
  selectClassifier,
  /** The chosen network as model-file bytes (base64), as "Save this network" downloads them. */
  saveModel: () => toBase64(currentModelBytes().bytes),
  /** Loads model-file bytes (base64) as the file picker does; returns the new network's id. */
  loadModel: (base64: string, fileName: string) => loadModelFile(fromBase64(base64), fileName).id,
  /** Classifies the first n test images of MNIST with network `id`: the predicted classes. */
  classify: async (id: string, n: number) => {
    const c = state.classifiers.get(id)!;
    const x = shapeFor(c.model, state.mnist!.test.x.sliceRows(0, n));
    const scores = await readInQueue(() => c.model.predict(x));
    const k = c.classNames.length;
    return Array.from({ length: n }, (_, i) => {
      const row = Array.from(scores.subarray(i * k, (i + 1) * k));
      return row.indexOf(Math.max(...row));
    });
  },
  /**
   * Every layer's output for the first n test images of MNIST through network `id`, as the layer
   * views compute them (`layerOutputs`): names, shapes and float32 values (base64 bytes).
   */
  layerValues: async (id: string, n: number) => {
    const c = state.classifiers.get(id)!;
    const outputs = await layerOutputs(c.model, shapeFor(c.model, state.mnist!.test.x.sliceRows(0, n)));
    return outputs?.map(({ name, shape, data }) => ({
      name,
      shape,
      values: toBase64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    }));
  },
  evaluate: () => evaluateCurrent().then((e) => e && e.accuracy),
  runParams: () => state.run?.model.params.map((p) => [p.name, [...p.value.shape]]) ?? [],
  runExperiment,
  /** The pad's size, and a picture of that size (RGBA bytes, base64) put on it and classified. */
  padSize: () => [pad.canvas.width, pad.canvas.height],
  showPicture: (rgbaBase64: string) => {
    testPixels = null;
    pad.showPicture(fromBase64(rgbaBase64));
    return predict();
  },
  /**
   * The largest difference between the trained model's scores for the first n test images from the
   * kernels in use and from the reference kernels (the specification).
   */
  compareWithReference: async (n: number) => {
    const run = state.run!;
    const model = run.model;
    const x = shapeFor(model, state.mnist!.test.x.sliceRows(0, n));
    const fast = await readInQueue(() => model.predict(x));
    await run.readWeights(); // the reference kernels run on the host
    const spec = withKernels(reference, () => model.predict(x)).data;
    let worst = 0;
    for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - spec[i]));
    return worst;
  },
  testImage: (index: number) => Array.from(state.mnist!.test.x.data.subarray(index * 784, (index + 1) * 784)),
};
