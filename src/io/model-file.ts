/**
 * Model files: safetensors with the architecture (a ModelSpec) and the training record in the
 * header's `__metadata__`, so `eval`, `predict` and `info` need nothing but the file. Node only
 * (the format itself, in safetensors.ts, is pure and works in the browser).
 */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic.js";
import { allocFloats, type DType, type Floats } from "../ndarray.js";
import { Rng } from "../rng.js";
import { createModel, type Model, type ModelSpec } from "../models/model.js";
import type { Layer, MergeLayer, Param } from "../layers/layer.js";
import { Graph, type GraphSpec, type NamedTensor } from "../models/graph.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { NDArray } from "../ndarray.js";
import {
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsContents,
  type SafetensorsDType,
} from "./safetensors.js";

/**
 * Bumped when the metadata layout changes. Format 2 adds `graph`, the whole architecture as data
 * (docs/model-format.md); files of format 1 (a named recipe in `spec`, no `graph`) still load.
 */
export const MODEL_FORMAT_VERSION = "2";
const READABLE_VERSIONS = ["1", "2"];

/** What a model file needs from a model: its parameters and a JSON architecture to rebuild it from. */
export interface SavableModel {
  readonly params: readonly Param[];
  readonly spec: { readonly kind: string; [option: string]: unknown };
  /** A Sequential model's layers: their non-trained state (batch norm statistics) is saved too. */
  readonly layers?: readonly (Layer | MergeLayer)[];
  /** A graph's architecture as data (every Graph and Sequential has one): stored as `graph`. */
  architecture?(): GraphSpec;
  /** A graph's tensors under their file names, params and state (replaces params + layers). */
  tensors?(): NamedTensor[];
}

/** A tensor saved with the params: trained weights, or state such as batch norm running statistics. */
type StoredTensor = NamedTensor;

/**
 * The conventions a reader outside zerodl needs, stored beside the architecture (informational;
 * docs/model-format.md explains each).
 */
export const MODEL_CONVENTIONS = {
  layout: "row-major; images NCHW; a spec's shapes are per sample, without the batch axis",
  affine: "y = x·W + b, W (in, out); an N-D input is flattened per sample, in C, H, W order",
  convolution:
    "cross-correlation, W (out, in, kh, kw), b (out,); zero padding of pad on every side; out = floor((H + 2·pad − kh) / stride) + 1",
  pooling:
    "max: padding never wins (as −∞); avg: padding counts as 0 and the divisor is always ph·pw; windows do not run past the padded input (floor)",
  batchnorm:
    "y = γ·(x − μ)/√(σ² + eps) + β; (N, C, H, W) per channel over N·H·W, (N, D) per feature; training uses the batch's biased σ²; running = momentum·running + (1 − momentum)·batch, running_var from the biased σ²; evaluation uses the running statistics",
  dropout:
    "inverted false (the book's): training keeps units unscaled, evaluation multiplies by (1 − ratio); inverted true: training scales kept units by 1/(1 − ratio), evaluation is the identity",
  softmaxCrossEntropy: "mean over the batch of −log(softmax(y)[t] + 1e-7)",
  meanSquaredError: "½·Σ(y − t)² / N, N the batch size",
  weightDecay: "½·λ·ΣW² over every affine and convolution W joins the loss",
};

function isRunningStat(name: string): boolean {
  return /^running_(mean|var)\d+$/.test(name);
}

/**
 * A training checkpoint also stores its optimizer's per-param buffers, as tensors named
 * `optimizer/<param>/<slot>` (e.g. "optimizer/W1/m"); a finished model file has none.
 */
const OPTIMIZER_PREFIX = "optimizer/";

function isOptimizerState(name: string): boolean {
  return name.startsWith(OPTIMIZER_PREFIX);
}

/**
 * Everything a model file stores, in order: the params (named as `tensorNames` says), then the
 * running mean and variance of each BatchNormalization layer (`running_mean1`, `running_var1`, …,
 * numbered like its gamma1/beta1), without which a loaded model would normalize with zeros.
 */
export function storedTensors(model: SavableModel): StoredTensor[] {
  if (model.tensors) return model.tensors();
  const names = tensorNames(model.params);
  const out: StoredTensor[] = model.params.map((p, i) => ({
    name: names[i],
    value: p.value,
    set: (v) => p.value.data.set(v.data),
  }));
  let k = 0;
  for (const layer of model.layers ?? []) {
    if (layer instanceof BatchNormalization) {
      k++;
      out.push(
        { name: `running_mean${k}`, value: layer.runningMean, set: (v) => (layer.runningMean = v) },
        { name: `running_var${k}`, value: layer.runningVar, set: (v) => (layer.runningVar = v) },
      );
    }
  }
  return out;
}

/** The training record stored beside the weights (all JSON). */
export interface ModelRecord {
  /** Settings the model was trained with (optimizer, lr, epochs, seed, data, …). */
  training?: Record<string, unknown>;
  /** Per-iteration loss and per-epoch accuracies (the Trainer's History). */
  history?: object;
  /** Final results (test accuracy, …). */
  results?: Record<string, unknown>;
}

export interface ModelFileInfo extends ModelRecord {
  spec: SavableModel["spec"];
  /** The architecture as data (format 2); absent in format-1 files, which name a recipe only. */
  graph?: GraphSpec;
  /** The file's format version ("1" or "2"). */
  format: string;
  /** The precision the model computes in. */
  dtype: DType;
  /** How the weights are stored in the file (F16 = `--half`). */
  storage: SafetensorsDType;
  parameterCount: number;
  tensors: { name: string; shape: number[] }[];
}

/** Thrown for a file that is valid safetensors but not a zerodl model, or that does not fit its architecture. */
export class ModelFileError extends Error {
  override name = "ModelFileError";
}

/**
 * Tensor names in the file: the params' own names when they are unique (e.g. the book's "W1", "b1"),
 * otherwise prefixed with their position ("0.W", "0.b", "1.W", …).
 */
export function tensorNames(params: readonly Param[]): string[] {
  const names = params.map((p) => p.name);
  if (new Set(names).size === names.length) return names;
  return names.map((n, i) => `${i}.${n}`);
}

/** The model as safetensors bytes. `half` stores float16 (book §8.3.4); otherwise the model's own precision. */
export function encodeModel(
  model: SavableModel,
  record: ModelRecord = {},
  options: SaveOptions = {},
): Uint8Array {
  const tensors = storedTensors(model);
  const dtype = model.params[0]?.value.dtype ?? "float32";
  const metadata: Record<string, string> = { zerodl: MODEL_FORMAT_VERSION };
  const graph = model.architecture?.();
  if (graph) {
    metadata.graph = JSON.stringify(graph);
    metadata.conventions = JSON.stringify(MODEL_CONVENTIONS);
  }
  // A plain graph's recipe is its graph: stored once, under `graph`.
  const { graph: _nested, ...recipe } = model.spec;
  metadata.spec = JSON.stringify(model.spec.kind === "graph" ? recipe : model.spec);
  metadata.dtype = dtype;
  // How the weights are stored, which differs from `dtype` with `half` (float16 weights, float32 model).
  metadata.storage = options.half ? "float16" : dtype;
  if (record.training) metadata.training = JSON.stringify(record.training);
  if (record.history) metadata.history = JSON.stringify(record.history);
  if (record.results) metadata.results = JSON.stringify(record.results);
  const optimizer = Object.entries(options.optimizerState ?? {}).map(([key, data]) => ({
    name: `${OPTIMIZER_PREFIX}${key}`,
    data,
    shape: [data.length],
  }));
  return encodeSafetensors(
    [
      ...tensors.map((t) => ({
        name: t.name,
        data: t.value.data,
        shape: t.value.shape,
        dtype: options.half ? ("F16" as const) : undefined,
      })),
      ...optimizer,
    ],
    metadata,
  );
}

export interface SaveOptions {
  /** Store the weights as float16 (book §8.3.4). */
  half?: boolean;
  /** A checkpoint's optimizer buffers (`Optimizer.state().buffers`), kept at full precision. */
  optimizerState?: Record<string, Floats>;
}

/** Reads the zerodl metadata of decoded safetensors contents; a foreign file gets a clear error. */
export function modelInfo(contents: SafetensorsContents, fileName: string): ModelFileInfo {
  const { metadata, tensors } = contents;
  if (metadata.zerodl === undefined || metadata.spec === undefined) {
    const some = tensors
      .slice(0, 3)
      .map((t) => t.name)
      .join(", ");
    throw new ModelFileError(
      `${fileName}: not a zerodl model file (its safetensors metadata has no zerodl architecture spec; ` +
        `${tensors.length} tensors${some ? `: ${some}${tensors.length > 3 ? ", …" : ""}` : ""})`,
    );
  }
  if (!READABLE_VERSIONS.includes(metadata.zerodl)) {
    throw new ModelFileError(
      `${fileName}: zerodl model format version ${metadata.zerodl}, this zerodl reads ${READABLE_VERSIONS.join(" and ")}`,
    );
  }
  const json = <T>(key: string): T | undefined => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]) as T;
    } catch (e) {
      throw new ModelFileError(`${fileName}: metadata "${key}" is not valid JSON (${(e as Error).message})`);
    }
  };
  const spec = json<SavableModel["spec"]>("spec");
  if (typeof spec !== "object" || spec === null || typeof spec.kind !== "string") {
    throw new ModelFileError(`${fileName}: metadata "spec" has no model kind`);
  }
  const graph = json<GraphSpec>("graph");
  if (graph !== undefined && (typeof graph !== "object" || graph === null || !Array.isArray(graph.nodes))) {
    throw new ModelFileError(`${fileName}: metadata "graph" is not a graph spec (no list of nodes)`);
  }
  if (spec.kind === "graph") {
    if (!graph) throw new ModelFileError(`${fileName}: a "graph" model without its "graph" metadata`);
    spec.graph = graph;
  }
  const dtype = metadata.dtype === "float64" ? "float64" : "float32";
  const storage = weightStorage(tensors);
  // Files written before the `storage` key lack it; one that has it must agree with its tensors.
  if (metadata.storage !== undefined && metadata.storage !== STORAGE_NAMES[storage]) {
    throw new ModelFileError(
      `${fileName}: metadata says the weights are stored as ${metadata.storage}, but they are ${STORAGE_NAMES[storage]} (${storage})`,
    );
  }
  return {
    spec,
    ...(graph ? { graph } : {}),
    format: metadata.zerodl,
    dtype,
    storage,
    // Batch norm statistics are state, not parameters.
    parameterCount: tensors
      .filter((t) => !isRunningStat(t.name) && !isOptimizerState(t.name))
      .reduce((s, t) => s + t.data.length, 0),
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
    training: json("training"),
    history: json("history"),
    results: json("results"),
  };
}

const STORAGE_NAMES: Record<SafetensorsDType, string> = { F16: "float16", F32: "float32", F64: "float64" };

/** How the weights are stored: the dtype of the parameter tensors (optimizer state is kept apart). */
function weightStorage(tensors: SafetensorsContents["tensors"]): SafetensorsDType {
  const storages = new Set(tensors.filter((t) => !isOptimizerState(t.name)).map((t) => t.dtype));
  return storages.has("F16") ? "F16" : storages.has("F64") ? "F64" : "F32";
}

/**
 * Copies the file's tensors into a freshly built model of the stored architecture, checking that
 * every name, dtype and shape fits.
 */
export function decodeModel<M extends SavableModel>(
  bytes: Uint8Array,
  fileName: string,
  build: ModelBuilder<M>,
): LoadedModel<M> {
  const contents = decodeSafetensors(bytes, fileName, { finite: true });
  const info = modelInfo(contents, fileName);
  let model: M;
  try {
    model = build(info.spec, info.dtype, info.graph);
  } catch (e) {
    throw new ModelFileError(
      `${fileName}: cannot build its "${info.spec.kind}" model: ${(e as Error).message}`,
    );
  }
  const stored = storedTensors(model);
  const names = stored.map((t) => t.name);
  const byName = new Map(contents.tensors.map((t) => [t.name, t]));
  const missing = names.filter((n) => !byName.has(n));
  const extra = contents.tensors.map((t) => t.name).filter((n) => !names.includes(n) && !isOptimizerState(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new ModelFileError(
      `${fileName}: tensors do not match the "${info.spec.kind}" architecture` +
        (missing.length ? `; missing: ${missing.join(", ")}` : "") +
        (extra.length ? `; unexpected: ${extra.join(", ")}` : ""),
    );
  }
  const expectedStorage = info.dtype === "float64" ? "F64" : "F32";
  for (const target of stored) {
    const t = byName.get(target.name)!;
    if (t.dtype !== expectedStorage && t.dtype !== "F16") {
      throw new ModelFileError(
        `${fileName}: tensor "${t.name}" is ${t.dtype}, expected ${expectedStorage} (or F16) for a ${info.dtype} model`,
      );
    }
    const shape = target.value.shape;
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
      throw new ModelFileError(
        `${fileName}: tensor "${t.name}" has shape [${t.shape.join(", ")}], ` +
          `the "${info.spec.kind}" architecture expects [${shape.join(", ")}]`,
      );
    }
    const value = NDArray.zeros(shape, info.dtype);
    value.data.set(t.data);
    target.set(value);
  }
  const optimizerTensors = contents.tensors.filter((t) => isOptimizerState(t.name));
  if (optimizerTensors.length === 0) return { model, info };
  const optimizerState: Record<string, Floats> = {};
  for (const t of optimizerTensors) {
    const data = allocFloats(info.dtype, t.data.length);
    data.set(t.data);
    optimizerState[t.name.slice(OPTIMIZER_PREFIX.length)] = data;
  }
  return { model, info, optimizerState };
}

/**
 * Builds the model of a file's architecture: from its graph (format 2) when there is one, else
 * from the recipe `spec` (format 1). Its weights are overwritten from the file afterwards.
 */
export type ModelBuilder<M> = (spec: SavableModel["spec"], dtype: DType, graph?: GraphSpec) => M;

/** A model read from a file; a training checkpoint also brings its optimizer's buffers. */
export interface LoadedModel<M> {
  model: M;
  info: ModelFileInfo;
  optimizerState?: Record<string, Floats>;
}

/**
 * Writes the model atomically (temporary file, fsync, rename) and verifies the result by reading
 * it back, so an interrupted save never leaves a half-written model under the real name.
 */
export async function saveModel(
  path: string,
  model: SavableModel,
  record: ModelRecord = {},
  options: SaveOptions = {},
): Promise<void> {
  // On a device backend (WebGPU) the weights live on the GPU: bring them home first.
  for (const t of storedTensors(model)) await t.value.read();
  await writeSafetensorsVerified(path, encodeModel(model, record, options));
}

/** Writes safetensors bytes atomically and reads them back: the same bytes, and they parse. */
export async function writeSafetensorsVerified(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
  const back = await readFile(path);
  if (back.length !== bytes.length || !back.equals(bytes)) {
    throw new Error(`${path}: verification failed: the file read back differs from what was written`);
  }
  decodeSafetensors(back, path); // and it parses
}

/** Reads a model file and rebuilds its model with `build` (normally `createModel`). */
export async function loadModelWith<M extends SavableModel>(
  path: string,
  build: ModelBuilder<M>,
): Promise<LoadedModel<M>> {
  return decodeModel(await readModelBytes(path), path, build);
}

/**
 * Reads a zerodl model file and rebuilds the model from its graph (format 2), or with
 * `createModel` from its recipe (format 1); every tensor's name, dtype and shape is checked
 * against that architecture.
 */
export async function loadModel(path: string): Promise<LoadedModel<Model>> {
  return loadModelWith(path, buildStoredModel);
}

/** The builder of `loadModel` (the rng only initializes weights that are overwritten at once). */
export function buildStoredModel(spec: SavableModel["spec"], dtype: DType, graph?: GraphSpec): Model {
  if (graph)
    return Graph.build(graph, new Rng(0), dtype, spec.kind === "graph" ? {} : { spec: spec as ModelSpec });
  return createModel(spec as ModelSpec, new Rng(0), dtype);
}

/** The stored information only (no model is built): for `zerodl info`. */
export async function readModelInfo(path: string): Promise<ModelFileInfo> {
  return modelInfo(decodeSafetensors(await readModelBytes(path), path), path);
}

async function readModelBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ModelFileError(`model file ${path} not found`);
    if (code === "EISDIR") throw new ModelFileError(`${path} is a directory, not a model file`);
    throw e;
  }
}

// Re-exported so callers catching file errors need one import.
export { SafetensorsError };
