/**
 * Looking inside a network (book chapter 7, and §6.2's activation histograms): its first
 * convolution's filters, every layer's output for one input, the distribution of each hidden
 * layer's activations over many inputs, and an evaluation of the whole test set done a slice at a
 * time so the page keeps answering.
 */
import { Graph, NDArray, confusionMatrix, type Labels, type Model } from "../../../src/index.js";
import type { Tiles } from "./views.js";

/**
 * One computation on the page's networks at a time. A model's arrays are reused from one step to
 * the next (in the WASM memory, or on the GPU), so a prediction must be read before anything else
 * runs the model: work that awaits a read (a GPU, or just a promise) goes through here, and the
 * evaluation's batches, the views, the pad's predictions and the training slices never interleave.
 */
export class ModelQueue {
  #last: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.#last.then(work, work);
    this.#last = next.catch(() => {});
    return next;
  }
}

export const modelQueue = new ModelQueue();

/** An array computed by `compute` (a prediction, a weight), read back in the queue as a copy. */
export function readInQueue(compute: () => NDArray): Promise<Float32Array> {
  return modelQueue.run(async () => Float32Array.from(await compute().read()));
}

export interface LayerOutput {
  /** A chain's layers by position and class ("3 Relu"); a graph's by node name ("stage2.block1.add"). */
  name: string;
  kind: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Whether the per-layer views can show this model: a network of layers (a chain or a graph, like
 * chapter 8's ResNet) with one input. Models of other kinds get a note instead.
 */
export function hasLayers(model: Model): model is Graph {
  return model instanceof Graph && model.inputNames.length === 1 && model.nodes.length > 0;
}

/**
 * Every layer's output for input `x` (already shaped for the model), in eval mode (dropout off,
 * batch norm on its running statistics); copies (read back from a device), so later steps cannot
 * change them. A graph runs node by node in its order, each node reading its inputs' outputs (the
 * sum at an Add, the channels side by side at a Concat), so a skip's output is there to look at.
 *
 * `wanted` is asked before each layer; once it says no (the page has moved on to another network
 * or input), the walk stops and gives null. On a slow device every later computation waits in the
 * queue behind this one: DeepConvNet's layers for 200 images, which the page starts on loading,
 * took 30–50 s on a CPU-emulated GPU (SwiftShader; a prediction of those 200 images 32 s there,
 * 0.7 s on WASM), and under heavier load the next network's views waited over 2 minutes behind them.
 */
export async function layerOutputs(
  model: Model,
  x: NDArray,
  wanted: () => boolean = () => true,
): Promise<LayerOutput[] | null> {
  if (!hasLayers(model)) return null;
  return modelQueue.run(() => (wanted() ? forwardEach(model, x, wanted) : null));
}

async function forwardEach(graph: Graph, x: NDArray, wanted: () => boolean): Promise<LayerOutput[] | null> {
  const values = new Map<string, NDArray>([[graph.inputNames[0], x]]);
  // A chain reads each node from the one before: its layers are numbered as in the book's lists.
  const chain = graph.nodes.every(
    (node, i) =>
      node.inputs.length === 1 &&
      node.inputs[0] === (i === 0 ? graph.inputNames[0] : graph.nodes[i - 1].name),
  );
  const outputs: LayerOutput[] = [];
  for (const [i, node] of graph.nodes.entries()) {
    if (!wanted()) return null;
    const inputs = node.inputs.map((name) => values.get(name)!);
    const layer = node.layer;
    const y = "merge" in layer ? layer.forward(inputs, "eval") : layer.forward(inputs[0], "eval");
    values.set(node.name, y);
    const kind = layer.constructor.name;
    outputs.push({
      name: chain ? `${i + 1} ${kind}` : node.name,
      kind,
      shape: [...y.shape],
      data: Float32Array.from(await y.read()),
    });
  }
  return outputs;
}

/** The first convolution's filters (input channel 0), as tiles: the book's Figure 7-24. */
export async function firstFilters(model: Model): Promise<Tiles | null> {
  const W = model.params.find((p) => p.value.shape.length === 4)?.value;
  if (!W) return null;
  return filterTiles(await readInQueue(() => W), W.shape);
}

/** Weights (count, channels, height, width) as tiles of their first input channel. */
export function filterTiles(
  weights: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  shape: readonly number[],
): Tiles {
  const [count, channels, height, width] = shape;
  const data = new Float32Array(count * height * width);
  for (let f = 0; f < count; f++) {
    data.set(
      weights.subarray(f * channels * height * width, f * channels * height * width + height * width),
      f * height * width,
    );
  }
  return { data, count, height, width };
}

/** A 4-D layer output (1, C, H, W) as C tiles. */
export function mapsOf(output: LayerOutput): Tiles | null {
  if (output.shape.length !== 4) return null;
  const [, count, height, width] = output.shape;
  return { data: output.data, count, height, width };
}

const activationKinds = new Set(["Relu", "ReLU", "Sigmoid", "Tanh"]);

/**
 * The outputs of each activation layer for the inputs `x` (the book's Figure 6-10 uses 1,000
 * inputs): one panel per hidden layer, over the range the values actually take.
 */
export async function activationPanels(
  model: Model,
  x: NDArray,
  wanted: () => boolean = () => true,
): Promise<{ title: string; values: Float32Array; range: [number, number]; skipZeros: boolean }[] | null> {
  const outputs = await layerOutputs(model, x, wanted);
  if (!outputs) return null;
  const picked = outputs.filter((o) => activationKinds.has(o.kind));
  return picked.map((o, k) => {
    let hi = 0;
    for (const v of o.data) if (v > hi) hi = v;
    // Sigmoid outputs lie in [0, 1] (the book's axis); tanh in [-1, 1]; ReLU from 0 to its largest.
    const range: [number, number] =
      o.kind === "Sigmoid" ? [0, 1] : o.kind === "Tanh" ? [-1, 1] : [0, Math.max(hi, 1e-6)];
    if (o.kind !== "Relu" && o.kind !== "ReLU")
      return { title: `layer ${k + 1} (${o.kind})`, values: o.data, range, skipZeros: false };
    // ReLU: most outputs are exactly 0; drawn, they would flatten every other bar, so they are counted in the title.
    let zeros = 0;
    for (const v of o.data) if (v === 0) zeros++;
    const share = Math.round((100 * zeros) / o.data.length);
    return { title: `layer ${k + 1} (ReLU, ${share} % zero)`, values: o.data, range, skipZeros: true };
  });
}

export interface Evaluation {
  accuracy: number;
  predicted: Int32Array;
  matrix: number[][];
  count: number;
}

/**
 * Classifies all of `x` (shaped for the model) `batch` samples at a time, giving the page a frame
 * whenever `budgetMs` of work has passed, so even 10,000 images through a deep convolutional
 * network never freeze it (one batch is the page's longest pause). `onProgress` gets the fraction
 * done.
 */
export async function evaluateInFrames(
  model: Model,
  x: NDArray,
  labels: Labels,
  classes: number,
  onProgress: (done: number) => void = () => {},
  { batch = 100, budgetMs = 25 } = {},
): Promise<Evaluation> {
  const n = labels.length;
  const predicted = new Int32Array(n);
  let deadline = performance.now() + budgetMs;
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(n, start + batch);
    const rows = x.sliceRows(start, end);
    const values = await readInQueue(() => model.predict(rows));
    const k = values.length / (end - start);
    for (let i = 0; i < end - start; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
      predicted[start + i] = best;
    }
    if (performance.now() >= deadline) {
      onProgress(end / n);
      await nextFrame();
      deadline = performance.now() + budgetMs;
    }
  }
  onProgress(1);
  let right = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) right++;
  return { accuracy: right / n, predicted, matrix: confusionMatrix(labels, predicted, classes), count: n };
}

/** Resolves at the next animation frame (the page draws and handles input in between). */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}
