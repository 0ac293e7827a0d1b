/**
 * The PyTorch hand-off (book §8.3.3: training beyond one machine is a distributed engine's job):
 * a zerodl model as a folder PyTorch runs as it is, and the way back.
 *
 *   model.py             the network in plain torch.nn (a chain: an nn.Sequential of named modules;
 *                        a graph: an nn.Module with a forward line per node), with a
 *                        dependency-free safetensors reader/writer and a self-check
 *   weights.safetensors  the weights under PyTorch's names (conv1.weight, fc1.weight, bn1.running_mean…)
 *                        in PyTorch's layouts; the architecture rides along in the metadata
 *   train.py             the same training with torchrun and DistributedDataParallel (gloo on
 *                        CPUs, nccl on GPUs), writing the trained weights back as safetensors
 *   check.json           an input and zerodl's logits for it, which `python3 model.py` reproduces
 *
 * Conventions converted (docs/formats.md): Affine's W (in, out) is Linear's weight (out, in);
 * the book's dropout (scaled at inference) is the small `BookDropout` module, inverted dropout is
 * nn.Dropout; batch norm keeps its eps and its momentum becomes PyTorch's 1 − momentum; pooling
 * padding that PyTorch's pooling cannot take (more than half the window) is an explicit pad.
 * `importPytorchWeights` reads such a weights file back into the zerodl model (the same mapping,
 * inverted). Pure: file contents out, no file system.
 */
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Convolution } from "../layers/convolution.js";
import { Deconvolution } from "../layers/deconvolution.js";
import { Dropout } from "../layers/dropout.js";
import { Add } from "../layers/add.js";
import { Concat } from "../layers/concat.js";
import { Flatten } from "../layers/flatten.js";
import { GlobalAveragePooling } from "../layers/global-average-pooling.js";
import type { Layer, MergeLayer, Param } from "../layers/layer.js";
import { LeakyRelu } from "../layers/leaky-relu.js";
import { LRN } from "../layers/lrn.js";
import { Pooling } from "../layers/pooling.js";
import { Relu } from "../layers/relu.js";
import { Reshape } from "../layers/reshape.js";
import { Sigmoid } from "../layers/sigmoid.js";
import { Tanh } from "../layers/tanh.js";
import { LayerChain, type ChainSpec } from "../models/layer-chain.js";
import { createModel, type Model, type ModelSpec } from "../models/model.js";
import { QNetwork, type QNetworkSpec } from "../rl/q-network.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { decodeSafetensors, encodeSafetensors, type DecodedTensor } from "./safetensors.js";

/** The weights file's name in an exported folder. */
export const PYTORCH_WEIGHTS = "weights.safetensors";

type ChainModel = Model & TorchExportable;

/**
 * A model the hand-off writes: a classifier (any zerodl Model of layers), a DQN agent's Q-network,
 * or a GAN's generator (a LayerChain: latent vectors to images).
 */
export type PytorchModel = ChainModel | QNetwork | LayerChain;

/** What the model computes, which decides its model.py's description and whether it gets a train.py. */
type Purpose = "classifier" | "q-network" | "generator";
const purposeOf = (kind: string): Purpose =>
  kind === "generator" ? "generator" : kind === "q-network" ? "q-network" : "classifier";

/** The model's eval-mode output for x (a generator's forward, the others' predict). */
function evaluate(model: PytorchModel, x: NDArray): NDArray {
  return model instanceof LayerChain ? model.forward(x, "eval") : model.predict(x, "eval");
}

/** A model of the architecture `spec` describes (fresh weights, which the file's replace). */
function modelOf(spec: { kind: string }): PytorchModel {
  const rng = new Rng(0);
  switch (purposeOf(spec.kind)) {
    case "generator":
      return LayerChain.fromSpec(spec as ChainSpec, rng, "float32");
    case "q-network":
      return new QNetwork(spec as QNetworkSpec, rng, "float32");
    case "classifier":
      return createModel(spec as ModelSpec, rng, "float32") as ChainModel;
  }
}

/** Thrown for a model PyTorch export cannot express, or weights that do not fit a model. */
export class PytorchError extends Error {
  override name = "PytorchError";
}

/** One zerodl tensor under its PyTorch name: `get` gives PyTorch's layout, `set` takes it back. */
export interface TorchTensor {
  name: string;
  shape: number[];
  get(): Float32Array | Float64Array;
  set(data: ArrayLike<number>): void;
}

/** One torch.nn module of the Sequential: its name, its Python constructor, its tensors. */
export interface TorchModule {
  name: string;
  code: string;
  tensors: TorchTensor[];
  /** Its weight takes the book's weight decay (Affine and Convolution W). */
  decayed?: string;
}

/** A zerodl tensor under a PyTorch name, as it is. */
export function direct(name: string, get: () => NDArray, set: (v: NDArray) => void): TorchTensor {
  return {
    name,
    shape: [...get().shape],
    get: () => get().data,
    set: (data) => {
      const v = NDArray.zeros(get().shape, get().dtype);
      v.data.set(data);
      set(v);
    },
  };
}

/** A param (a weight, a bias, batch norm's γ or β) under a PyTorch name, as it is. */
export function paramTensor(name: string, param: Param): TorchTensor {
  return direct(
    name,
    () => param.value,
    (v) => (param.value = v),
  );
}

/** Affine's W (in, out) as Linear's weight (out, in). */
export function transposed(name: string, layer: { readonly W: Param; readonly b: Param }): TorchTensor {
  const [inSize, outSize] = layer.W.value.shape;
  return {
    name,
    shape: [outSize, inSize],
    get: () => {
      const W = layer.W.value.data;
      const out = new Float32Array(W.length);
      for (let i = 0; i < inSize; i++)
        for (let j = 0; j < outSize; j++) out[j * inSize + i] = W[i * outSize + j];
      return out;
    },
    set: (data) => {
      const W = NDArray.zeros([inSize, outSize], layer.W.value.dtype);
      for (let i = 0; i < inSize; i++)
        for (let j = 0; j < outSize; j++) W.data[i * outSize + j] = data[j * inSize + i];
      layer.W.value = W;
    },
  };
}

export const pyFloat = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));

/** One step of the forward in PyTorch: a node's modules applied in order, or a merge's expression. */
export interface TorchStep {
  /** The Python variable the step assigns. */
  name: string;
  /** The Python variables it reads. */
  inputs: string[];
  modules: TorchModule[];
  /** A merge (Add, Concat) or a parameter-free reshape, in terms of `inputs`. */
  expression?: string;
}

/** What a model gives the PyTorch export: its spec, layers, and its graph's nodes if it has them. */
export interface TorchExportable {
  readonly spec: { readonly inputShape: readonly number[] };
  readonly layers: readonly (Layer | MergeLayer)[];
  readonly nodes?: readonly {
    readonly name: string;
    readonly layer: Layer | MergeLayer;
    readonly inputs: readonly string[];
  }[];
  readonly inputNames?: readonly string[];
  readonly outputNames?: readonly string[];
}

/** A node's name as a Python variable: "block1.add" → t_block1_add. */
const pyName = (name: string) => `t_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;

/**
 * The network as torch.nn modules and the steps of its forward, following per-sample shapes from
 * `inputShape`. Module names count each kind (conv1, relu1, pool1, fc1, bn1, …); tensor names are
 * `module.weight` etc. `chain` says whether every step reads the one before (an nn.Sequential).
 */
export function torchSteps(model: TorchExportable): { steps: TorchStep[]; output: string; chain: boolean } {
  const counts = new Map<string, number>();
  const named = (kind: string) => {
    const k = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, k);
    return `${kind}${k}`;
  };
  const input = model.inputNames?.[0] ?? "x";
  const nodes =
    model.nodes ??
    model.layers.map((layer, i) => ({
      name: `layer${i + 1}`,
      layer,
      inputs: [i === 0 ? input : `layer${i}`],
    }));
  if ((model.inputNames?.length ?? 1) !== 1) {
    throw new PytorchError(
      `PyTorch export: the network has ${model.inputNames!.length} inputs; a classifier has one`,
    );
  }
  const shapes = new Map<string, number[]>([[input, [...model.spec.inputShape]]]);
  const vars = new Map<string, string>([[input, "x"]]);
  const steps: TorchStep[] = [];
  for (const node of nodes) {
    const layer = node.layer;
    const inputs = node.inputs.map((n) => vars.get(n)!);
    const inShapes = node.inputs.map((n) => shapes.get(n)!);
    let shape = [...inShapes[0]];
    const modules: TorchModule[] = [];
    let expression: string | undefined;
    if (layer instanceof Add) {
      expression = inputs.join(" + ");
    } else if (layer instanceof Concat) {
      expression = `torch.cat([${inputs.join(", ")}], 1)`;
      shape = [inShapes.reduce((c, s) => c + s[0], 0), ...shape.slice(1)];
    } else if (layer instanceof GlobalAveragePooling) {
      expression = `${inputs[0]}.mean(dim=(2, 3))`;
      shape = [shape[0]];
    } else if ("merge" in layer) {
      throw new PytorchError(`PyTorch export: no torch form for merge layer ${layer.constructor.name}`);
    } else {
      shape = layerModules(layer, shape, named, modules);
    }
    vars.set(node.name, pyName(node.name));
    shapes.set(node.name, shape);
    steps.push({ name: pyName(node.name), inputs, modules, expression });
  }
  const output = vars.get(model.outputNames?.[0] ?? nodes.at(-1)?.name ?? input)!;
  const chain =
    steps.every(
      (s, i) =>
        s.expression === undefined &&
        s.inputs.length === 1 &&
        s.inputs[0] === (i === 0 ? "x" : steps[i - 1].name),
    ) && output === (steps.at(-1)?.name ?? "x");
  return { steps, output, chain };
}

/** The network's torch.nn modules, in order (their tensors are the weights file's). */
export function torchModules(model: TorchExportable): TorchModule[] {
  return torchSteps(model).steps.flatMap((s) => s.modules);
}

/** Appends the modules one layer becomes (reading per-sample `shape`) and returns its output shape. */
function layerModules(
  layer: Layer,
  shape: number[],
  named: (kind: string) => string,
  modules: TorchModule[],
): number[] {
  {
    if (layer instanceof Affine) {
      const [inSize, outSize] = layer.W.value.shape;
      if (shape.length > 1) {
        modules.push({ name: named("flatten"), code: "nn.Flatten()", tensors: [] });
      }
      const name = named("fc");
      modules.push({
        name,
        code: `nn.Linear(${inSize}, ${outSize})`,
        tensors: [transposed(`${name}.weight`, layer), paramTensor(`${name}.bias`, layer.b)],
        decayed: `${name}.weight`,
      });
      shape = [outSize];
    } else if (layer instanceof Convolution) {
      const [FN, C, FH, FW] = layer.W.value.shape;
      const name = named("conv");
      modules.push({
        name,
        code: `nn.Conv2d(${C}, ${FN}, kernel_size=(${FH}, ${FW}), stride=${layer.stride}, padding=${layer.pad})`,
        tensors: [paramTensor(`${name}.weight`, layer.W), paramTensor(`${name}.bias`, layer.b)],
        decayed: `${name}.weight`,
      });
      shape = layer.outputShape([1, ...shape]).slice(1);
    } else if (layer instanceof Deconvolution) {
      // W (C, FN, FH, FW) is ConvTranspose2d's weight layout; padding crops, as zerodl's pad.
      const [C, FN, FH, FW] = layer.W.value.shape;
      const name = named("deconv");
      modules.push({
        name,
        code: `nn.ConvTranspose2d(${C}, ${FN}, kernel_size=(${FH}, ${FW}), stride=${layer.stride}, padding=${layer.pad}, output_padding=${layer.outputPadding})`,
        tensors: [paramTensor(`${name}.weight`, layer.W), paramTensor(`${name}.bias`, layer.b)],
        decayed: `${name}.weight`,
      });
      shape = layer.outputShape([1, ...shape]).slice(1);
    } else if (layer instanceof Pooling) {
      const { ph, pw, stride, pad, kind } = layer;
      const pool = kind === "max" ? "nn.MaxPool2d" : "nn.AvgPool2d";
      // PyTorch's pooling pads at most half the window; beyond, pad explicitly (−inf never wins a max,
      // zeros count in an average: zerodl's rule either way).
      if (kind === "max" && pad >= Math.min(ph, pw)) {
        // Windows of padding only: zerodl pools them to 0, PyTorch to −∞.
        throw new PytorchError(
          `PyTorch export: max pooling ${ph}×${pw} with pad ${pad}: windows of padding only`,
        );
      }
      const fits = 2 * pad <= Math.min(ph, pw);
      const code = fits
        ? `${pool}(kernel_size=(${ph}, ${pw}), stride=${stride}, padding=${pad})`
        : `nn.Sequential(nn.ConstantPad2d(${pad}, ${kind === "max" ? 'float("-inf")' : "0.0"}), ${pool}(kernel_size=(${ph}, ${pw}), stride=${stride}))`;
      modules.push({ name: named("pool"), code, tensors: [] });
      shape = layer.outputShape([1, ...shape]).slice(1);
    } else if (layer instanceof Relu) {
      modules.push({ name: named("relu"), code: "nn.ReLU()", tensors: [] });
    } else if (layer instanceof LeakyRelu) {
      modules.push({ name: named("leakyrelu"), code: `nn.LeakyReLU(${pyFloat(layer.alpha)})`, tensors: [] });
    } else if (layer instanceof Reshape) {
      // (N, D) → (N, ...shape); an N-D input is flattened first, as zerodl's Reshape reads it.
      const to = `(${layer.shape.join(", ")}${layer.shape.length === 1 ? "," : ""})`;
      const code =
        shape.length === 1 ? `nn.Unflatten(1, ${to})` : `nn.Sequential(nn.Flatten(), nn.Unflatten(1, ${to}))`;
      modules.push({ name: named("reshape"), code, tensors: [] });
      shape = [...layer.shape];
    } else if (layer instanceof Sigmoid) {
      modules.push({ name: named("sigmoid"), code: "nn.Sigmoid()", tensors: [] });
    } else if (layer instanceof Tanh) {
      modules.push({ name: named("tanh"), code: "nn.Tanh()", tensors: [] });
    } else if (layer instanceof Flatten) {
      modules.push({ name: named("flatten"), code: "nn.Flatten()", tensors: [] });
      shape = [shape.reduce((p, d) => p * d, 1)];
    } else if (layer instanceof Dropout) {
      const code = layer.inverted ? `nn.Dropout(p=${layer.ratio})` : `BookDropout(p=${layer.ratio})`;
      modules.push({ name: named("dropout"), code, tensors: [] });
    } else if (layer instanceof BatchNormalization) {
      const name = named("bn");
      const features = layer.gamma.value.size;
      const kind = shape.length === 1 ? "nn.BatchNorm1d" : "nn.BatchNorm2d";
      // PyTorch's momentum weighs the new batch statistic; zerodl's (the book's) the old running value.
      modules.push({
        name,
        code: `${kind}(${features}, eps=${layer.eps}, momentum=${pyFloat(roundDecimal(1 - layer.momentum))})`,
        tensors: [
          paramTensor(`${name}.weight`, layer.gamma),
          paramTensor(`${name}.bias`, layer.beta),
          direct(
            `${name}.running_mean`,
            () => layer.runningMean,
            (v) => (layer.runningMean = v),
          ),
          direct(
            `${name}.running_var`,
            () => layer.runningVar,
            (v) => (layer.runningVar = v),
          ),
        ],
      });
    } else if (layer instanceof LRN) {
      // PyTorch divides alpha by size, as zerodl does.
      modules.push({
        name: named("lrn"),
        code: `nn.LocalResponseNorm(${layer.n}, alpha=${layer.alpha}, beta=${layer.beta}, k=${pyFloat(layer.k)})`,
        tensors: [],
      });
    } else {
      throw new PytorchError(
        `PyTorch export: no torch.nn form for layer ${layer.constructor.name}; exportable: Affine, Convolution, Deconvolution, Pooling, Relu, LeakyRelu, Sigmoid, Tanh, Flatten, Reshape, Dropout, BatchNormalization, LRN, Add, Concat, GlobalAveragePooling`,
      );
    }
  }
  return shape;
}

/** 1 − 0.9 as 0.1, not 0.09999999999999998. */
function roundDecimal(v: number): number {
  return Number(v.toPrecision(12));
}

/** A class name for the module: simple-conv → SimpleConvNet's style, "SimpleConv". */
function className(kind: string): string {
  const words = kind.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  return /^[A-Za-z]/.test(name) ? `${name}Net`.replace(/NetNet$/, "Net") : `Net${name}`;
}

/** The line that opens every generated file's docstring. */
export function generatedHeader(name: string, version?: string): string {
  return `Generated by zerodl${version ? ` ${version}` : ""} from the model "${name}" (\`zerodl export --format pytorch\`).`;
}

/** The weights file: the tensors in PyTorch's layout, as float32, with the metadata. */
export function encodeWeights(tensors: readonly TorchTensor[], metadata: Record<string, string>): Uint8Array {
  return encodeSafetensors(
    tensors.map((t) => ({ name: t.name, data: Float32Array.from(t.get()), shape: t.shape })),
    metadata,
  );
}

/** A deterministic input any language can make: x[i] = ((i·7919) mod 1000) / 1000. */
export function checkInput(n: number, shape: readonly number[]): NDArray {
  const x = NDArray.zeros([n, ...shape]);
  for (let i = 0; i < x.size; i++) x.data[i] = ((i * 7919) % 1000) / 1000;
  return x;
}

export interface PytorchExportOptions {
  /** The model's name (default its kind). */
  name?: string;
  classes?: readonly string[];
  /** The model file's training record: train.py's defaults come from it (optimizer, lr, batch size, epochs, weight decay). */
  training?: Record<string, unknown>;
  /** zerodl's version, for the generated files' headers. */
  version?: string;
}

/** The training settings train.py starts from: the model's own, else the CLI's defaults. */
function trainDefaults(model: PytorchModel, training: Record<string, unknown> = {}) {
  const spec = model.spec as { weightDecayLambda?: number };
  return {
    optimizer: typeof training.optimizer === "string" ? training.optimizer : "adam",
    lr: typeof training.lr === "number" ? training.lr : 0.001,
    batchSize: typeof training.batchSize === "number" ? training.batchSize : 100,
    epochs: typeof training.epochs === "number" ? training.epochs : 5,
    weightDecay:
      typeof training.weightDecay === "number" ? training.weightDecay : (spec.weightDecayLambda ?? 0),
    seed: typeof training.seed === "number" ? training.seed : 1,
  };
}

/**
 * The folder's files by name: model.py, weights.safetensors, check.json, and for a classifier
 * train.py. A Q-network's and a generator's training stays in zerodl (a DQN's loop is bound to
 * its environment, a GAN's to its discriminator, which the generator file does not hold): their
 * folders carry the network to run, check and fine-tune in PyTorch.
 */
export function exportPytorch(
  model: PytorchModel,
  options: PytorchExportOptions = {},
): Record<string, string | Uint8Array> {
  const graph = torchSteps(model);
  const modules = graph.steps.flatMap((s) => s.modules);
  const spec = model.spec;
  const purpose = purposeOf(spec.kind);
  const name = options.name ?? spec.kind;
  const outputs = evaluate(model, checkInput(1, spec.inputShape)).shape.slice(1);
  const classes =
    purpose === "generator"
      ? []
      : (options.classes ?? Array.from({ length: outputs[0] }, (_, i) => String(i)));
  const cls = className(spec.kind);
  const header = generatedHeader(name, options.version);
  const metadata: Record<string, string> = {
    format: "pt",
    zerodl_spec: JSON.stringify(spec),
    name,
    ...(purpose === "generator" ? {} : { classes: JSON.stringify(classes) }),
    // An agent's recipe (environment, frames stacked): imported back, the file plays again.
    ...(purpose === "q-network" && options.training
      ? { zerodl_training: JSON.stringify(options.training) }
      : {}),
  };
  const weights = encodeWeights(
    modules.flatMap((m) => m.tensors),
    metadata,
  );
  const x = checkInput(2, spec.inputShape);
  const check = {
    note: `x[i] = ((i * 7919) % 1000) / 1000 over the flattened (2, ...input_shape) batch; ${CHECK_KEY[purpose]} from zerodl in eval mode`,
    input_shape: [2, ...spec.inputShape],
    [CHECK_KEY[purpose]]: Array.from(evaluate(model, x).data),
  };
  const needsBookDropout = model.layers.some((l) => l instanceof Dropout && !l.inverted);
  const about: ModelAbout = { purpose, spec, outputs, classes, training: options.training };
  return {
    "model.py": modelPy(cls, header, graph, about, needsBookDropout),
    ...(purpose === "classifier"
      ? { "train.py": trainPy(cls, header, trainDefaults(model, options.training)) }
      : {}),
    [PYTORCH_WEIGHTS]: weights,
    "check.json": JSON.stringify(check, null, 1) + "\n",
  };
}

/** check.json's name for the outputs model.py must reproduce. */
const CHECK_KEY: Record<Purpose, string> = {
  classifier: "logits",
  "q-network": "values",
  generator: "images",
};

/** What model.py says about the model beyond its modules. */
interface ModelAbout {
  purpose: Purpose;
  spec: PytorchModel["spec"];
  /** One sample's output shape. */
  outputs: readonly number[];
  /** Class or action names (none for a generator). */
  classes: readonly string[];
  training?: Record<string, unknown>;
}

/**
 * Reads PyTorch weights (from `exportPytorch`'s folder, or written back by its train.py) into a
 * zerodl model of the architecture in the file's metadata, or of `like` when given.
 */
export function importPytorchWeights(
  bytes: Uint8Array,
  fileName: string,
  like?: PytorchModel,
): { model: PytorchModel; training: Record<string, unknown> } {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  let model: PytorchModel;
  if (like !== undefined) {
    model = modelOf(like.spec);
  } else {
    if (metadata.zerodl_spec === undefined) {
      throw new PytorchError(
        `${fileName}: no zerodl architecture in the safetensors metadata (zerodl_spec); pass --like MODEL.safetensors, a zerodl model of the same architecture`,
      );
    }
    model = modelOf(JSON.parse(metadata.zerodl_spec) as { kind: string });
  }
  const expected = torchModules(model).flatMap((m) => m.tensors);
  const byName = matchTensors(expected, tensors, fileName, `the "${model.spec.kind}" architecture`);
  for (const e of expected) e.set(byName.get(e.name)!.data);
  let training = pytorchTraining(metadata);
  if (metadata.zerodl_training !== undefined) {
    // An agent's recipe, as its file held it (the environment `zerodl rl play` needs).
    try {
      training = { ...(JSON.parse(metadata.zerodl_training) as Record<string, unknown>), ...training };
    } catch {
      // Not JSON: no recipe.
    }
  }
  if (metadata.classes !== undefined && purposeOf(model.spec.kind) === "classifier") {
    try {
      training.classNames = JSON.parse(metadata.classes) as unknown;
    } catch {
      // Not JSON: no class names.
    }
  }
  return { model, training };
}

/**
 * A weights file's tensors by name, checked against those `expected` (of `what`, for the message):
 * each one there with its shape, and no others. All differences are named in one error.
 */
export function matchTensors(
  expected: readonly TorchTensor[],
  tensors: readonly DecodedTensor[],
  fileName: string,
  what: string,
): Map<string, DecodedTensor> {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  // num_batches_tracked is PyTorch's bookkeeping (int64), not part of the zerodl model.
  const extra = tensors
    .map((t) => t.name)
    .filter((n) => !expected.some((e) => e.name === n) && !n.endsWith(".num_batches_tracked"));
  const missing = expected.filter((e) => !byName.has(e.name)).map((e) => e.name);
  const misshapen = expected.filter(
    (e) => byName.has(e.name) && byName.get(e.name)!.shape.join() !== e.shape.join(),
  );
  if (missing.length > 0 || extra.length > 0 || misshapen.length > 0) {
    throw new PytorchError(
      `${fileName}: the tensors do not match ${what}` +
        (missing.length ? `; missing: ${missing.join(", ")}` : "") +
        (extra.length ? `; unexpected: ${extra.join(", ")}` : "") +
        misshapen
          .map(
            (e) =>
              `; ${e.name} is [${byName.get(e.name)!.shape.join(", ")}], expected [${e.shape.join(", ")}]`,
          )
          .join(""),
    );
  }
  return byName;
}

/** The training record PyTorch's train.py wrote into the metadata, as `{ pytorch: … }`, or {}. */
export function pytorchTraining(metadata: Record<string, string>): Record<string, unknown> {
  if (metadata.training === undefined) return {};
  try {
    return { pytorch: JSON.parse(metadata.training) as unknown };
  } catch {
    return { pytorch: metadata.training };
  }
}

/** model.py's safetensors reader and writer and its weight loading, in Python needing only torch. */
export const PY_WEIGHTS_IO = `
_DTYPES = {"F16": torch.float16, "F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


def read_safetensors(path):
    """(tensors by name, metadata) of a safetensors file; no dependency beyond torch."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        buffer = bytearray(data[8 + n + begin : 8 + n + end])
        tensors[name] = torch.frombuffer(buffer, dtype=_DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes float32 tensors and string metadata as safetensors, atomically."""
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name, t in tensors.items():
        values = t.detach().to("cpu", torch.float32).contiguous().flatten().tolist()
        chunk = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    temp = f"{path}.tmp"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def load_weights(model, path):
    """Loads zerodl-exported (or train.py-written) weights; returns the file's metadata."""
    tensors, metadata = read_safetensors(path)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")
    return metadata


def save_weights(model, path, metadata):
    """Writes the weights under the same names (num_batches_tracked, PyTorch's own counter, left out)."""
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_safetensors(path, state, metadata)

`;

/** A chain: an nn.Sequential of its named modules. */
function sequentialClass(cls: string, lines: readonly string[]): string {
  return `class ${cls}(nn.Sequential):
    def __init__(self):
        super().__init__(
            OrderedDict([
${lines.join("\n")}
            ])
        )
`;
}

/** A graph: its modules as attributes, and a forward with one line per node (merges as expressions). */
function graphClass(cls: string, graph: ReturnType<typeof torchSteps>): string {
  const modules = graph.steps.flatMap((s) => s.modules);
  const forward = graph.steps.map((s) => {
    const value = s.expression ?? s.modules.reduce((x, m) => `self.${m.name}(${x})`, s.inputs[0]);
    return `        ${s.name} = ${value}`;
  });
  return `class ${cls}(nn.Module):
    """zerodl's graph: each line of forward is one node; a tensor read by several nodes is shared."""

    def __init__(self):
        super().__init__()
${modules.map((m) => `        self.${m.name} = ${m.code}`).join("\n")}

    def forward(self, x):
${forward.join("\n")}
        return ${graph.output}
`;
}

/** model.py's lines that depend on what the model computes: its input, output and constants. */
function modelPurpose({ purpose, spec, outputs, classes, training }: ModelAbout) {
  const input = `(N, ${spec.inputShape.join(", ")})`;
  const output = `(N, ${outputs.join(", ")})`;
  const tuple = (v: readonly number[]) => `(${v.join(", ")}${v.length === 1 ? "," : ""})`;
  switch (purpose) {
    case "classifier":
      return {
        io: `Input: float32 ${input} in [0, 1]; output: ${output} class scores (logits).`,
        constants: `CLASSES = ${JSON.stringify(classes)}`,
        what: "logits",
      };
    case "q-network": {
      const env = (training?.env ?? {}) as { name?: string; frames?: number };
      const seen = env.name
        ? `observations of zerodl's "${env.name}" environment${env.frames && env.frames > 1 ? ` (the last ${env.frames} frames stacked)` : ""}`
        : "observations";
      return {
        io: `Input: float32 ${input}, ${seen}; output: ${output} action values Q(s, a), one per
action of ACTIONS; the greedy action is their argmax (a DQN agent's Q-network, book section 8.5.3).`,
        constants: `ACTIONS = ${JSON.stringify(classes)}`,
        what: "values",
      };
    }
    case "generator": {
      const { outputRange: range = [-1, 1], categories = 0, classes } = spec as ChainSpec;
      const latent =
        categories === 0
          ? `latent vectors z ~ N(0, I), float32 ${input}`
          : `latent vectors, float32 ${input}: ${spec.inputShape[0] - categories} values z ~ N(0, I),
then a one-hot code of CATEGORIES = ${categories} categories` +
            (classes ? ` (class-conditional: category k draws CLASSES[k])` : ` (InfoGAN)`);
      const sample =
        categories === 0
          ? `

def generate(model, n, seed=0):
    """n images from latent vectors z ~ N(0, I) drawn with the seed (eval mode: running batch norm statistics)."""
    z = torch.randn((n, *LATENT_SHAPE), generator=torch.Generator().manual_seed(seed))`
          : `
CATEGORIES = ${categories}${classes ? `\nCLASSES = ${JSON.stringify(classes)}` : ""}


def generate(model, n, seed=0, code=None):
    """n images from z ~ N(0, I) and a code (category \`code\`, or each drawn uniformly), eval mode."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((n, LATENT_SHAPE[0] - CATEGORIES), generator=g)
    codes = torch.randint(CATEGORIES, (n,), generator=g) if code is None else torch.full((n,), code)
    z = torch.cat([z, torch.nn.functional.one_hot(codes, CATEGORIES).float()], dim=1)`;
      return {
        io: `Input: ${latent}; output: images ${output} with values
in [${range.join(", ")}] ((y + 1) / 2 gives [0, 1] pixels). A DCGAN generator (book section 8.5.2):
ConvTranspose2d weights are zerodl's Deconvolution W as they are (in, out, kH, kW).`,
        constants: `LATENT_SHAPE = ${tuple(spec.inputShape)}
OUTPUT_SHAPE = ${tuple(outputs)}
OUTPUT_RANGE = (${range.map(pyFloat).join(", ")})${sample}
    model.eval()
    with torch.no_grad():
        return model(z)`,
        what: "images",
      };
    }
  }
}

function modelPy(
  cls: string,
  header: string,
  graph: ReturnType<typeof torchSteps>,
  about: ModelAbout,
  needsBookDropout: boolean,
): string {
  const spec = about.spec;
  const { io, constants, what } = modelPurpose(about);
  const bookDropout = `

class BookDropout(nn.Module):
    """The book's dropout (Deep Learning from Scratch, section 6.4.3), as zerodl trains it.

    Training keeps each unit with probability 1 - p, unscaled; inference keeps every unit and
    scales it by 1 - p. nn.Dropout is the inverted form (scaled by 1 / (1 - p) in training, the
    identity at inference): the same expectation, but weights trained one way need the other's
    inference, so the book's form is kept.
    """

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.training:
            return x * (torch.rand_like(x) > self.p).to(x.dtype)
        return x * (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"
`;
  const modules = graph.steps.flatMap((s) => s.modules);
  const lines = modules.map((m) => `                ("${m.name}", ${m.code}),`);
  return `"""${cls}: the zerodl "${spec.kind}" model in plain torch.nn.

${header}
Weights: ${PYTORCH_WEIGHTS} beside this file, under PyTorch's names (load_weights).
${io}
Conventions kept from zerodl: Linear weights are zerodl's Affine W transposed; batch norm eps as
trained; pooling floors output sizes and its padding never wins a max. \`python3 model.py\`
checks this file against zerodl's own ${what} (check.json).
"""
import json
import os
import struct
from collections import OrderedDict

import torch
from torch import nn

INPUT_SHAPE = (${spec.inputShape.join(", ")}${spec.inputShape.length === 1 ? "," : ""})
${constants}
# Weights that take the book's L2 weight decay (Affine and Convolution W, not biases).
DECAYED = ${JSON.stringify(modules.flatMap((m) => (m.decayed ? [m.decayed] : [])))}
${needsBookDropout ? bookDropout : ""}

${graph.chain ? sequentialClass(cls, lines) : graphClass(cls, graph)}

Net = ${cls}
${PY_WEIGHTS_IO}
${pySelfCheck(cls, what)}`;
}

/**
 * model.py's `__main__`: loads the weights beside it, runs check.json's input (and `moreInputs`,
 * Python reading `check`) through the model and compares with zerodl's `what`, within 1e-4.
 */
export function pySelfCheck(cls: string, what: string, moreInputs = ""): string {
  return `if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    model = ${cls}()
    load_weights(model, os.path.join(here, "${PYTORCH_WEIGHTS}"))
    model.eval()
    with open(os.path.join(here, "check.json")) as f:
        check = json.load(f)
    shape = check["input_shape"]
    size = 1
    for d in shape:
        size *= d
    x = torch.tensor([((i * 7919) % 1000) / 1000 for i in range(size)], dtype=torch.float32).reshape(shape)
    with torch.no_grad():
        ${what} = model(x${moreInputs}).flatten().tolist()
    diff = max(abs(a - b) for a, b in zip(${what}, check["${what}"]))
    print(model)
    print(f"${what} match zerodl's within {diff:.2e}" if diff <= 1e-4 else f"MISMATCH: ${what} differ by {diff:.2e}")
    raise SystemExit(0 if diff <= 1e-4 else 1)
`;
}

/** train.py's docstring lines on starting it. */
export const PY_TORCHRUN_USAGE = `One process per CPU or GPU, started by torchrun:

    torchrun --nproc_per_node 2 train.py --data DIR --out trained.safetensors      # CPU (gloo)
    torchrun --nproc_per_node 8 train.py --data DIR --out trained.safetensors      # 8 GPUs (nccl)
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv_endpoint HOST:29500 train.py ...  # 2 machines
`;

/** train.py's MNIST reader (needs gzip, os, struct, torch). */
export const PY_READ_IDX = `

def read_idx(path):
    """An IDX file (MNIST's format) as a uint8 tensor of its shape; .gz read as well."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)
`;

/** The first lines of train.py's main(): its parser with the options every train.py has. */
export const PY_TRAIN_ARGS = `    p = argparse.ArgumentParser(description=__doc__.split("\\n")[0])
    p.add_argument("--data", required=True, help="folder with the MNIST-format files")
    p.add_argument("--weights", default=os.path.join(HERE, "${PYTORCH_WEIGHTS}"), help="starting weights")
    p.add_argument("--out", default="trained.safetensors", help="where rank 0 writes the trained weights")
`;

/** train.py's process group: gloo on CPUs, nccl on GPUs, one device per process, the batch split. */
export const PY_DDP_SETUP = `    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if args.batch_size % world != 0:
        raise SystemExit(f"--batch-size {args.batch_size} does not split evenly over {world} processes")
`;

function trainPy(cls: string, header: string, d: ReturnType<typeof trainDefaults>): string {
  return `"""Train ${cls} with PyTorch DistributedDataParallel, then hand the weights back to zerodl.

${header}
${PY_TORCHRUN_USAGE}
DIR holds the MNIST-format files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not), e.g. zerodl's data/mnist.
The defaults are the zerodl model's own training settings; --batch-size is the global batch,
split across the processes, so a run on any number of processes takes the same steps.
Then: zerodl import trained.safetensors --out model.safetensors
"""
import argparse
import gzip
import json
import os
import struct
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from model import DECAYED, INPUT_SHAPE, ${cls}, load_weights, save_weights

HERE = os.path.dirname(os.path.abspath(__file__))
${PY_READ_IDX}

def load_split(data_dir, prefix, limit=None):
    """Images scaled to [0, 1] in the model's input shape (zerodl's normalize), labels as int64."""
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte")).float() / 255.0
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte")).long()
    if limit:
        x, y = x[:limit], y[:limit]
    return TensorDataset(x.reshape(len(x), *INPUT_SHAPE), y)


def make_optimizer(name, model, lr, weight_decay):
    """zerodl's optimizers with the book's settings; weight decay (L2, as the book) on W only."""
    decayed = [p for n, p in model.named_parameters() if n in DECAYED]
    others = [p for n, p in model.named_parameters() if n not in DECAYED]
    groups = [{"params": decayed, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9)
    if name == "nesterov":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
    if name == "adagrad":
        return torch.optim.Adagrad(groups, lr=lr, eps=1e-7)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=0.99, eps=1e-7)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-7)
    raise ValueError(f"unknown optimizer {name}")


def evaluate(model, dataset, device, batch_size=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
    model.train()
    return correct / len(dataset)


def main():
${PY_TRAIN_ARGS}    p.add_argument("--epochs", type=int, default=${d.epochs})
    p.add_argument("--batch-size", type=int, default=${d.batchSize}, help="global batch, split across processes")
    p.add_argument("--optimizer", default="${d.optimizer}", choices=["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
    p.add_argument("--lr", type=float, default=${pyFloat(d.lr)})
    p.add_argument("--weight-decay", type=float, default=${pyFloat(d.weightDecay)}, help="the book's L2 lambda, on weights only")
    p.add_argument("--seed", type=int, default=${d.seed})
    p.add_argument("--limit", type=int, default=None, help="use only the first n training images")
    args = p.parse_args()

${PY_DDP_SETUP}    torch.manual_seed(args.seed + rank)  # dropout masks differ per process, as they would per batch

    model = ${cls}()
    metadata = load_weights(model, args.weights)
    if cuda and world > 1:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # batch statistics over the global batch
    model.to(device)
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    train = load_split(args.data, "train", args.limit)
    test = load_split(args.data, "t10k")
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
    optimizer = make_optimizer(args.optimizer, model, args.lr, args.weight_decay)
    loss_fn = nn.CrossEntropyLoss()  # zerodl's SoftmaxWithLoss
    if rank == 0:
        print(f"{world} process(es) on {'cuda' if cuda else 'cpu'}, {len(train)} training images, global batch {args.batch_size}, {args.optimizer} lr {args.lr}")

    history = []
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        start, total, batches = time.time(), torch.zeros(1, device=device), 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = loss_fn(ddp(x), y)
            optimizer.zero_grad()
            loss.backward()  # DDP averages the gradients over every process here
            optimizer.step()
            total += loss.detach()
            batches += 1
        dist.all_reduce(total)
        mean_loss = total.item() / (batches * world)
        if rank == 0:
            acc = evaluate(model, test, device)
            history.append({"epoch": epoch, "loss": mean_loss, "testAcc": acc, "seconds": time.time() - start})
            print(f"epoch {epoch}/{args.epochs}  loss {mean_loss:.4f}  test {100 * acc:.2f} %  ({time.time() - start:.1f} s)")

    if rank == 0:
        if cuda and world > 1:
            model = model.cpu()
        metadata = dict(metadata)
        metadata["training"] = json.dumps({
            "engine": f"pytorch {torch.__version__} DistributedDataParallel",
            "processes": world,
            "device": "cuda" if cuda else "cpu",
            "epochs": args.epochs,
            "batchSize": args.batch_size,
            "optimizer": args.optimizer,
            "lr": args.lr,
            "weightDecay": args.weight_decay,
            "limit": args.limit,
            "history": history,
        })
        save_weights(model, args.out, metadata)
        print(f"wrote {args.out}; back to zerodl: zerodl import {args.out} --out model.safetensors")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}
