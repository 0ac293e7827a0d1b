/**
 * Looking inside a network (book chapter 7, and §6.2's activation histograms): its first
 * convolution's filters, every layer's output for one input, the distribution of each hidden
 * layer's activations over many inputs, and an evaluation of the whole test set done a slice at a
 * time so the page keeps answering.
 */
import { NDArray, argmaxRows, confusionMatrix, type Labels, type Model } from "../../../src/index.js";
import type { Tiles } from "./views.js";

/** A layer in a chain: what `Sequential.layers` holds. */
interface ChainLayer {
  forward(x: NDArray, mode: "train" | "eval"): NDArray;
  readonly constructor: { name: string };
}

export interface LayerOutput {
  /** "3 Relu": position in the chain and the layer's class. */
  name: string;
  kind: string;
  shape: number[];
  data: Float32Array;
}

/** The layers of a chain network, or null for a model that is not one (views then say so). */
export function chainLayers(model: Model): readonly ChainLayer[] | null {
  const layers = (model as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || layers.length === 0) return null;
  if (!layers.every((l) => typeof (l as ChainLayer).forward === "function")) return null;
  return layers as ChainLayer[];
}

/**
 * Every layer's output for input `x` (already shaped for the model), in eval mode (dropout off,
 * batch norm on its running statistics); copies, so later steps cannot change them.
 */
export function layerOutputs(model: Model, x: NDArray): LayerOutput[] | null {
  const layers = chainLayers(model);
  if (!layers) return null;
  const outputs: LayerOutput[] = [];
  let y = x;
  layers.forEach((layer, i) => {
    y = layer.forward(y, "eval");
    const kind = layer.constructor.name;
    outputs.push({ name: `${i + 1} ${kind}`, kind, shape: [...y.shape], data: Float32Array.from(y.data) });
  });
  return outputs;
}

/** The first convolution's filters (input channel 0), as tiles: the book's Figure 7-24. */
export function firstFilters(model: Model): Tiles | null {
  const W = model.params.find((p) => p.value.shape.length === 4)?.value;
  if (!W) return null;
  const [count, channels, height, width] = W.shape;
  const data = new Float32Array(count * height * width);
  for (let f = 0; f < count; f++) {
    data.set(W.data.subarray(f * channels * height * width, f * channels * height * width + height * width), f * height * width);
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
export function activationPanels(
  model: Model,
  x: NDArray,
): { title: string; values: Float32Array; range: [number, number] }[] | null {
  const outputs = layerOutputs(model, x);
  if (!outputs) return null;
  const picked = outputs.filter((o) => activationKinds.has(o.kind));
  return picked.map((o, k) => {
    let hi = 0;
    for (const v of o.data) if (v > hi) hi = v;
    // Sigmoid outputs lie in [0, 1] (the book's axis); tanh in [-1, 1]; ReLU from 0 to its largest.
    const range: [number, number] =
      o.kind === "Sigmoid" ? [0, 1] : o.kind === "Tanh" ? [-1, 1] : [0, Math.max(hi, 1e-6)];
    return { title: `layer ${k + 1} (${o.kind === "Relu" ? "ReLU" : o.kind})`, values: o.data, range };
  });
}

export interface Evaluation {
  accuracy: number;
  predicted: Int32Array;
  matrix: number[][];
  count: number;
}

/**
 * Classifies all of `x` (shaped for the model) `batch` samples per step; yields after each step
 * with the fraction done, so the caller can spread the work over animation frames.
 */
export function* evaluateSliced(
  model: Model,
  x: NDArray,
  labels: Labels,
  classes: number,
  batch = 200,
): Generator<number, Evaluation> {
  const n = labels.length;
  const predicted = new Int32Array(n);
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(n, start + batch);
    predicted.set(argmaxRows(model.predict(x.sliceRows(start, end))), start);
    yield end / n;
  }
  let right = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) right++;
  return { accuracy: right / n, predicted, matrix: confusionMatrix(labels, predicted, classes), count: n };
}

/**
 * Runs a generator in slices of about `budgetMs` per animation frame (the page redraws between
 * them), calling `onProgress` with what it yields; resolves with what it returns.
 */
export function runInFrames<Y, R>(
  work: Generator<Y, R>,
  onProgress: (value: Y) => void = () => {},
  budgetMs = 20,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const slice = () => {
      const deadline = performance.now() + budgetMs;
      try {
        for (;;) {
          const next = work.next();
          if (next.done) return resolve(next.value);
          onProgress(next.value);
          if (performance.now() >= deadline) break;
        }
      } catch (e) {
        return reject(e);
      }
      requestAnimationFrame(slice);
    };
    requestAnimationFrame(slice);
  });
}
