import { kernels } from "../backend/index.js";
import { OptionError, ShapeError, formatShape, unknownOption } from "../errors.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Dropout } from "../layers/dropout.js";
import { fuseNodes, type FusedStep } from "../layers/fused-convolution.js";
import { IdentityWithLoss } from "../layers/identity-with-loss.js";
import type { Layer, LossLayer, MergeLayer, Mode, Param } from "../layers/layer.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { NDArray, deviceStep, keepFromStep, type DType, type Labels } from "../ndarray.js";
import { accuracySteps, finishNow } from "../train/accuracy.js";
import { axpby } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { assertFinite, findNonFinite } from "../ops/check.js";
import type { Rng, RngState } from "../rng.js";
import { numericalGradient } from "../testing/gradcheck.js";
import { buildLayer, describeLayer, layerKeys, layerTypes, type LayerSpec } from "./layer-spec.js";
import type { Model, ModelSpec } from "./model.js";
import { specOptions } from "./spec.js";

/**
 * A network as a directed acyclic graph of layers (book §8.2: GoogLeNet's branches, ResNet's
 * skips). Nodes are kept in topological order, each a layer with named inputs; forward walks the
 * list, backward walks it in reverse, and a tensor read by several nodes receives the sum of their
 * gradients — the book's rule for a branch (§5.3: a value copied to several places gets the sum of
 * the gradients that flow back). `Sequential` is the case of one input per node.
 *
 * The spec is data: `architecture()` is plain JSON (inputs, nodes with their settings and edges,
 * outputs, loss) that model files carry, so a file alone rebuilds its network (docs/model-format.md).
 */

/** The loss on a graph's first output: the book's SoftmaxWithLoss, or the identity with MSE (regression). */
export type LossSpec = { type: "softmax-cross-entropy" } | { type: "mean-squared-error" };
export type LossType = LossSpec["type"];
export const lossTypes: readonly LossType[] = ["softmax-cross-entropy", "mean-squared-error"];

/**
 * One node of a graph spec: a layer spec with the node's name and the names of the tensors it reads
 * (graph inputs or earlier nodes). `params` names the file tensors of its weights and state
 * (default `<node>.<key>`, e.g. "conv1.W", "bn1.running_mean").
 */
export type NodeSpec = LayerSpec & {
  name: string;
  inputs: string[];
  params?: Record<string, string>;
};

/** A graph as plain JSON: what model files carry, and what `Graph.build` builds. */
export interface GraphSpec {
  /** The named inputs and each one's per-sample shape (without the batch axis): [{ name: "x", shape: [1, 28, 28] }]. */
  inputs: { name: string; shape: number[] }[];
  /** In topological order: a node reads only inputs and nodes listed before it. */
  nodes: NodeSpec[];
  /** What `run` returns; the loss (if any) reads the first. Default: the last node. */
  outputs?: string[];
  /** Default softmax-cross-entropy; null for a graph without a loss (a GAN's generator, a feature extractor). */
  loss?: LossSpec | null;
  /** L2 weight decay λ on every Affine and Convolution weight W: ½λΣW² joins the loss (book §6.4.1). */
  weightDecayLambda?: number;
}

/** The recipe of a graph built from a GraphSpec (its `spec` as a Model): the graph itself. */
export type GraphModelSpec = {
  kind: "graph";
  /** The first input's per-sample shape and the first output's size (what a classifier's CLI uses). */
  inputShape: number[];
  outputSize: number;
  graph: GraphSpec;
};

/**
 * The layers of a spec, built for its input shapes with fresh weights from `rng`, wired as it
 * says: what `new Graph(…)` takes (Graph.build, and the named networks' constructors).
 */
export function buildGraphParts(spec: GraphSpec, rng: Rng, dtype: DType = "float32"): GraphParts {
  checkGraphSpec(spec);
  const shapes = new Map<string, readonly number[]>(spec.inputs.map((i) => [i.name, i.shape]));
  const nodes: GraphNode[] = spec.nodes.map((node, i) => {
    const { name, inputs, params, ...layerSpec } = node;
    const where = `node ${i} "${name}" (${layerSpec.type})`;
    const built = buildLayer(
      layerSpec as LayerSpec,
      inputs.map((input) => shapes.get(input)!),
      rng,
      dtype,
      where,
    );
    shapes.set(name, built.outputShape);
    return { name, layer: built.layer, inputs, params, spec: layerSpec as LayerSpec };
  });
  const loss = spec.loss === undefined ? { type: "softmax-cross-entropy" as const } : spec.loss;
  return { inputs: spec.inputs, nodes, outputs: spec.outputs, loss: loss && lossLayerOf(loss) };
}

/** Builds a `{ kind: "graph" }` recipe: the graph it carries (inputShape and outputSize are derived, and checked). */
export function graphFromSpec(spec: GraphModelSpec, rng: Rng, dtype: DType = "float32"): Graph {
  const { graph, inputShape, outputSize } = specOptions(spec, "graph", ["graph"]);
  const model = Graph.build(graph, rng, dtype);
  const derived = model.spec as GraphModelSpec;
  if (derived.inputShape.join() !== inputShape.join() || derived.outputSize !== outputSize) {
    throw new OptionError(
      `graph model spec: inputShape ${formatShape(inputShape)} and outputSize ${outputSize} do not match its graph's ${formatShape(derived.inputShape)} and ${derived.outputSize}`,
    );
  }
  return model;
}

/** A node of a built graph: a layer and the names of what it reads. */
export interface GraphNode {
  readonly name: string;
  readonly layer: Layer | MergeLayer;
  readonly inputs: readonly string[];
  /**
   * File tensor names of the layer's params and state, by key (default `<name>.<key>`). In a built
   * Graph's `nodes` every key is filled in, given or default.
   */
  readonly params?: Readonly<Record<string, string>>;
  /** The spec the layer was built from (its weight initialization is kept in `architecture()`). */
  readonly spec?: LayerSpec;
}

export interface GraphParts {
  /** Input names and per-sample shapes; a shape may be unknown (null) for a graph that is never saved. */
  inputs: readonly { name: string; shape: readonly number[] | null }[];
  nodes: readonly GraphNode[];
  /** Default: the last node. */
  outputs?: readonly string[];
  /** On the first output; default SoftmaxWithLoss; null: no loss. */
  loss?: LossLayer | IdentityWithLoss | null;
}

export interface GraphOptions {
  /** L2 weight decay λ: ½λΣW² joins the loss and λW each W's gradient (book §6.4.1). */
  weightDecayLambda?: number;
  /** The recipe these layers were built from (e.g. `{ kind: "resnet", … }`), saved with the model. */
  spec?: ModelSpec;
  /**
   * Run each Convolution → ReLU (→ max Pooling) whose intermediate values nobody else reads as one
   * fused step (default true): the same values, fewer passes over the activations.
   */
  fuse?: boolean;
}

/** A tensor a model file stores: a param's value, or state such as batch norm's running mean. */
export interface NamedTensor {
  name: string;
  value: NDArray;
  set(value: NDArray): void;
}

/** What the engine runs: a layer (or a fused block of them) producing the tensor `output`. */
interface Step {
  output: string;
  layer: Layer | MergeLayer;
  inputs: readonly string[];
  /** Whether backward runs it: something it reads needs a gradient, or it has trainable params. */
  backward: boolean;
  /** Tensors whose last reader this step is: forward drops them after it. */
  release: readonly string[];
}

/** The inputs of a run: one array for a graph of one input, else arrays by input name. */
export type GraphInputs = NDArray | Readonly<Record<string, NDArray>>;

export class Graph implements Model {
  readonly nodes: readonly GraphNode[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly lossLayer: LossLayer | IdentityWithLoss | null;
  /** Every param, named as in model files (the layers' own Params, seen under those names). */
  readonly params: readonly Param[];
  readonly weightDecayLambda: number;
  readonly #inputShapes: readonly (readonly number[] | null)[];
  readonly #tensors: readonly NamedTensor[];
  readonly #fuse: boolean;
  /** The W of every Affine and Convolution (by the layer's own param name "W"), for weight decay. */
  readonly #decayed: ReadonlySet<Param>;
  readonly #recipe: ModelSpec | undefined;
  /** Frozen params (their named views). */
  #frozen = new Set<Param>();
  /** Each layer's own Param → its named view; each view → its node's name. */
  readonly #own = new Map<Param, Param>();
  readonly #owner = new Map<Param, string>();
  #outputSize: number | null = null;
  #inputGradients = false;
  #steps: Step[] = [];

  constructor(parts: GraphParts, options: GraphOptions = {}) {
    const { weightDecayLambda = 0, spec, fuse = true } = options;
    if (!(weightDecayLambda >= 0) || !Number.isFinite(weightDecayLambda)) {
      throw new OptionError(`weightDecayLambda must be a finite number ≥ 0, got ${weightDecayLambda}`);
    }
    this.weightDecayLambda = weightDecayLambda;
    this.#recipe = spec;
    this.#fuse = fuse;
    this.inputNames = parts.inputs.map((i) => i.name);
    this.#inputShapes = parts.inputs.map((i) => i.shape);
    checkWiring(this.inputNames, parts.nodes);
    const last = parts.nodes.at(-1);
    this.outputNames = parts.outputs ?? (last ? [last.name] : []);
    if (this.outputNames.length === 0) throw new OptionError("a graph needs at least one output");
    const known = new Set([...this.inputNames, ...parts.nodes.map((n) => n.name)]);
    for (const o of this.outputNames) {
      if (!known.has(o)) throw new OptionError(`graph output "${o}" is not an input or node of the graph`);
    }
    this.lossLayer = parts.loss === undefined ? new SoftmaxWithLoss() : parts.loss;

    const params: Param[] = [];
    // Files list the params first, then state (as format 1 did).
    const tensors: NamedTensor[] = [];
    const state: NamedTensor[] = [];
    const decayed = new Set<Param>();
    // Each node keeps the file names of all its tensors, given or default, so that whoever writes
    // them (model files, the ONNX export) names them alike however the graph was built.
    this.nodes = parts.nodes.map((node) => {
      const named = layerTensors(node.layer);
      const names = node.params ?? {};
      const keys = named.map((t) => t.key);
      for (const key of Object.keys(names)) {
        if (!keys.includes(key)) {
          throw new OptionError(
            `node "${node.name}": params names "${key}", but its layer has ${keys.length ? keys.join(", ") : "no tensors"}`,
          );
        }
      }
      const fileNames: Record<string, string> = {};
      for (const t of named) {
        const name = names[t.key] ?? `${node.name}.${t.key}`;
        fileNames[t.key] = name;
        (t.param ? tensors : state).push({
          name,
          get value() {
            return t.get();
          },
          set: t.set,
        });
        if (t.param) {
          const view = renamed(t.param, name);
          params.push(view);
          this.#own.set(t.param, view);
          this.#owner.set(view, node.name);
          if (t.key === "W") decayed.add(view);
        }
      }
      return { ...node, params: fileNames };
    });
    tensors.push(...state);
    const seen = new Set<string>();
    for (const t of tensors) {
      if (seen.has(t.name)) throw new OptionError(`two tensors of the graph are both named "${t.name}"`);
      seen.add(t.name);
    }
    this.params = params;
    this.#tensors = tensors;
    this.#decayed = decayed;
    this.#plan();
  }

  /** Builds the graph a spec describes, with fresh weights from `rng`. */
  static build(spec: GraphSpec, rng: Rng, dtype: DType = "float32", options: GraphOptions = {}): Graph {
    return new Graph(buildGraphParts(spec, rng, dtype), {
      ...options,
      weightDecayLambda: spec.weightDecayLambda ?? options.weightDecayLambda,
    });
  }

  /** The recipe the graph was built from (model files store it): a named network's, or the graph itself. */
  get spec(): ModelSpec {
    if (this.#recipe) return this.#recipe;
    const graph = this.architecture();
    const spec: GraphModelSpec = {
      kind: "graph",
      inputShape: graph.inputs[0].shape,
      outputSize: this.#firstOutputSize(),
      graph,
    };
    return spec;
  }

  /** The per-sample size of the first output, from one pass over a zero sample (once). */
  #firstOutputSize(): number {
    if (this.#outputSize === null) {
      const dtype = this.params[0]?.value.dtype ?? "float32";
      const zeros = Object.fromEntries(
        this.inputNames.map((name, i) => [name, NDArray.zeros([1, ...(this.#inputShapes[i] ?? [])], dtype)]),
      );
      this.#outputSize = this.predict(zeros, "eval").size;
    }
    return this.#outputSize;
  }

  /**
   * The graph as JSON, every setting that changes results written out (and each tensor's file
   * name), so it rebuilds this network anywhere: what model files carry as `graph`.
   */
  architecture(): GraphSpec {
    const inputs = this.inputNames.map((name, i) => {
      const shape = this.#inputShapes[i];
      if (!shape) {
        throw new Error(
          `this network was built from layer objects without the shape of its input "${name}", so it has no spec to save; build it from a spec (Sequential.fromLayerSpecs, Graph.build) or give the input's shape`,
        );
      }
      return { name, shape: [...shape] };
    });
    const nodes = this.nodes.map((node): NodeSpec => {
      const described = describeLayer(node.layer);
      const init = node.spec && "weightInit" in node.spec ? node.spec.weightInit : undefined;
      const spec = {
        name: node.name,
        ...described,
        ...(init !== undefined ? { weightInit: init } : {}),
        inputs: [...node.inputs],
      } as NodeSpec;
      if (Object.keys(node.params ?? {}).length > 0) spec.params = { ...node.params };
      return spec;
    });
    return {
      inputs,
      nodes,
      outputs: [...this.outputNames],
      loss: this.lossLayer && lossSpecOf(this.lossLayer),
      weightDecayLambda: this.weightDecayLambda,
    };
  }

  /** Every tensor a model file stores, by file name: the params, then state (batch norm statistics). */
  tensors(): NamedTensor[] {
    return [...this.#tensors];
  }

  /** The layers of the nodes, in order. */
  get layers(): readonly (Layer | MergeLayer)[] {
    return this.nodes.map((n) => n.layer);
  }

  /** The node of this name. */
  node(name: string): GraphNode {
    const found = this.nodes.find((n) => n.name === name);
    if (!found) throw new OptionError(`the graph has no node "${name}"`);
    return found;
  }

  /**
   * Whether backward computes the gradients of the graph's inputs (default false: a classifier has
   * no use for them, and the first layers skip that work). A GAN's discriminator needs them.
   */
  get inputGradients(): boolean {
    return this.#inputGradients;
  }

  set inputGradients(on: boolean) {
    this.#inputGradients = on;
    this.#plan();
  }

  /**
   * Freezes the params whose file name is one of `names` or starts with `<name>.` or equals a node
   * name's tensors (transfer learning, book §8.2.3): they are left out of `trainableParams`, and a
   * frozen part of the graph that no trainable layer depends on is not backpropagated at all.
   * Returns the names frozen; `unfreeze()` thaws everything.
   */
  freeze(names: readonly string[]): string[] {
    const frozen: string[] = [];
    for (const name of names) {
      const matches = this.params.filter(
        (p) => p.name === name || p.name.startsWith(`${name}.`) || this.#owner.get(p) === name,
      );
      if (matches.length === 0) {
        const nodes = this.nodes.filter((n) => n.layer.params.length > 0).map((n) => n.name);
        throw new OptionError(
          `nothing to freeze called "${name}": give node names (${nodes.slice(0, 8).join(", ")}${nodes.length > 8 ? ", …" : ""}), their prefixes, or param names`,
        );
      }
      for (const p of matches) {
        if (!this.#frozen.has(p)) frozen.push(p.name);
        this.#frozen.add(p);
      }
    }
    this.#plan();
    return frozen;
  }

  unfreeze(): void {
    this.#frozen.clear();
    this.#plan();
  }

  /** The params an optimizer updates: all but the frozen. */
  get trainableParams(): readonly Param[] {
    return this.#frozen.size === 0 ? this.params : this.params.filter((p) => !this.#frozen.has(p));
  }

  /**
   * Runs the graph forward; returns every output by name. `inputs` is one array for a graph of one
   * input, else an object with an array per input name.
   */
  run(inputs: GraphInputs, mode: Mode = "eval"): Record<string, NDArray> {
    const outputs = this.#forward(inputs, mode);
    for (const y of Object.values(outputs)) keepFromStep(y);
    return outputs;
  }

  /** The nodes' forward as a new step of this model (a device recycles the previous step's arrays). */
  #forward(inputs: GraphInputs, mode: Mode): Record<string, NDArray> {
    return deviceStep(this, true, () => this.#walk(inputs, mode), this.#inputArrays(inputs));
  }

  #walk(inputs: GraphInputs, mode: Mode): Record<string, NDArray> {
    const values = new Map<string, NDArray>(Object.entries(this.#inputsByName(inputs)));
    for (const step of this.#steps) {
      const layer = step.layer;
      const y =
        "merge" in layer
          ? layer.forward(
              step.inputs.map((name) => values.get(name)!),
              mode,
            )
          : layer.forward(values.get(step.inputs[0])!, mode);
      values.set(step.output, y);
      for (const name of step.release) values.delete(name);
    }
    return Object.fromEntries(this.outputNames.map((name) => [name, values.get(name)!]));
  }

  /**
   * Backward from the gradients of (some of) the outputs, after `run`: fills every trainable
   * param's grad (zeros where no gradient reaches) and returns the inputs' gradients when
   * `inputGradients` is on. A tensor read by several nodes gets the sum of their gradients.
   */
  backpropagate(outputGrads: Readonly<Record<string, NDArray>>): Record<string, NDArray> {
    return deviceStep(this, false, () => this.#backpropagate(outputGrads));
  }

  #backpropagate(outputGrads: Readonly<Record<string, NDArray>>): Record<string, NDArray> {
    const grads = new Map<string, NDArray>();
    /** Gradient arrays this pass allocated itself: the only ones it may add into in place. */
    const owned = new Set<NDArray>();
    const accumulate = (name: string, g: NDArray) => {
      const before = grads.get(name);
      if (before === undefined) {
        grads.set(name, g);
        return;
      }
      if (before.size !== g.size) {
        throw new ShapeError(
          `gradients of "${name}" do not agree: ${formatShape(before.shape)} and ${formatShape(g.shape)}`,
        );
      }
      if (owned.has(before)) {
        kernels().axpby(before.buf, 1, before.buf, 1, g.buf);
      } else {
        const sum = NDArray.zeros(before.shape, before.dtype);
        kernels().axpby(sum.buf, 1, before.buf, 1, g.buf);
        owned.add(sum);
        grads.set(name, sum);
      }
    };
    for (const [name, g] of Object.entries(outputGrads)) {
      if (!this.outputNames.includes(name)) {
        throw new OptionError(
          `"${name}" is not an output of the graph (outputs: ${this.outputNames.join(", ")})`,
        );
      }
      accumulate(name, g);
    }
    const steps = this.#steps;
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i];
      if (!step.backward) continue;
      const dout = grads.get(step.output);
      grads.delete(step.output);
      if (dout === undefined) {
        // Nothing downstream depends on this step: its params get zero gradients.
        for (const p of step.layer.params) p.grad = NDArray.zeros(p.value.shape, p.value.dtype);
        continue;
      }
      const layer = step.layer;
      if ("merge" in layer) {
        const dxs = layer.backward(dout);
        step.inputs.forEach((name, k) => {
          if (this.#wantsGrad(name)) accumulate(name, dxs[k]);
        });
      } else {
        const dx = layer.backward(dout);
        if (this.#wantsGrad(step.inputs[0])) accumulate(step.inputs[0], dx);
      }
    }
    this.#applyWeightDecay();
    if (!this.#inputGradients) return {};
    return Object.fromEntries(
      this.inputNames.map((name, k) => {
        const shape = this.#inputShapes[k];
        return [name, grads.get(name) ?? NDArray.zeros(shape ? [0, ...shape] : [0])];
      }),
    );
  }

  /** The arrays of a run by input name, checked: one array for a graph of one input, else one per name. */
  /** The input arrays, for the device step that adopts their device copies. */
  #inputArrays(inputs: GraphInputs): NDArray[] {
    return inputs instanceof NDArray ? [inputs] : Object.values(inputs);
  }

  #inputsByName(inputs: GraphInputs): Record<string, NDArray> {
    if (inputs instanceof NDArray) {
      if (this.inputNames.length !== 1) {
        throw new OptionError(
          `this graph has ${this.inputNames.length} inputs (${this.inputNames.join(", ")}): pass an object with an array for each`,
        );
      }
      return { [this.inputNames[0]]: inputs };
    }
    for (const name of this.inputNames) {
      if (!(inputs[name] instanceof NDArray)) {
        throw new OptionError(
          `graph input "${name}" is missing; got ${Object.keys(inputs).join(", ") || "no inputs"}`,
        );
      }
    }
    return Object.fromEntries(this.inputNames.map((name) => [name, inputs[name]]));
  }

  /**
   * Scores of the first output; "eval" by default (dropout off, batch norm on running statistics).
   * Refuses an input holding NaN or ±Infinity (NonFiniteError).
   */
  predict(x: GraphInputs, mode: Mode = "eval"): NDArray {
    if (x instanceof NDArray) assertFinite("predict: the input", x);
    else for (const [name, value] of Object.entries(x)) assertFinite(`predict: the input "${name}"`, value);
    return this.run(x, mode)[this.outputNames[0]];
  }

  /**
   * `loss` as a (1,) array: on a device backend it stays on the device until read
   * (`await a.read()`), so a training step is recorded whole before anything waits for the GPU.
   */
  lossArray(x: GraphInputs, t: Labels, mode: Mode = "train"): NDArray {
    const lossLayer = this.#needLoss();
    if (lossLayer instanceof IdentityWithLoss) {
      return NDArray.from([this.loss(x, t, mode)], [1], this.params[0]?.value.dtype);
    }
    return keepFromStep(
      deviceStep(
        this,
        true,
        () => {
          const scores = this.#walk(x, mode)[this.outputNames[0]];
          const loss =
            lossLayer.lossArray?.(scores, t) ??
            NDArray.from([lossLayer.forward(scores, t)], [1], scores.dtype);
          if (this.weightDecayLambda === 0) return loss;
          // ½λΣW², each ΣW² as the product of W flattened with itself
          let sum = loss;
          for (const p of this.#decayed) {
            const w = p.value.reshape(1, p.value.size);
            sum = axpby(1, sum, 0.5 * this.weightDecayLambda, matmul(w, w, { transB: true }).reshape(1));
          }
          return sum;
        },
        this.#inputArrays(x),
      ),
    );
  }

  /** Which node a param belongs to, for messages: `node "stage1.conv1" (Convolution)`. */
  describeParam(name: string): string | undefined {
    const node = this.#owner.get(this.params.find((p) => p.name === name)!);
    const i = this.nodes.findIndex((n) => n.name === node);
    return i < 0 ? undefined : this.describeNode(i);
  }

  /** How messages name node `i`. */
  protected describeNode(i: number): string {
    const node = this.nodes[i];
    return `node "${node.name}" (${node.layer.constructor.name})`;
  }

  /**
   * The per-sample shape of every input and every node's output, from one evaluation pass over a
   * zero sample of the declared input shapes.
   */
  nodeShapes(): Map<string, number[]> {
    const dtype = this.params[0]?.value.dtype ?? "float32";
    const shapes = new Map<string, number[]>();
    const values = new Map<string, NDArray>();
    this.inputNames.forEach((name, i) => {
      const shape = this.#inputShapes[i];
      if (!shape) throw new Error(`nodeShapes: the shape of input "${name}" is not known`);
      values.set(name, NDArray.zeros([1, ...shape], dtype));
      shapes.set(name, [...shape]);
    });
    for (const node of this.nodes) {
      const layer = node.layer;
      const y =
        "merge" in layer
          ? layer.forward(
              node.inputs.map((n) => values.get(n)!),
              "eval",
            )
          : layer.forward(values.get(node.inputs[0])!, "eval");
      values.set(node.name, y);
      shapes.set(node.name, y.shape.slice(1));
    }
    return shapes;
  }

  /**
   * Runs `x` through the nodes one at a time (unfused, in `mode`) and names the first whose output
   * holds a NaN or ±Infinity, for the message after a non-finite loss; undefined if none does.
   */
  locateNonFinite(x: GraphInputs, mode: Mode = "train"): string | undefined {
    const values = new Map<string, NDArray>(Object.entries(this.#inputsByName(x)));
    for (const [i, node] of this.nodes.entries()) {
      const layer = node.layer;
      const y =
        "merge" in layer
          ? layer.forward(
              node.inputs.map((n) => values.get(n)!),
              mode,
            )
          : layer.forward(values.get(node.inputs[0])!, mode);
      if (findNonFinite(y.data) >= 0) return this.describeNode(i);
      values.set(node.name, y);
    }
    return undefined;
  }

  /**
   * The loss of the first output against `t` (class labels for softmax-cross-entropy, target
   * arrays for mean-squared-error), plus weight decay; "train" by default.
   */
  loss(x: GraphInputs, t: Labels | NDArray, mode: Mode = "train"): number {
    if (kernels().device) throw asyncOnly("loss");
    const loss = this.#needLoss();
    // The input is not scanned here (the Trainer checks its data sets once, and every loss).
    const y = this.#forward(x, mode)[this.outputNames[0]];
    let data: number;
    if (loss instanceof IdentityWithLoss) {
      if (!(t instanceof NDArray))
        throw new OptionError("a mean-squared-error graph takes target arrays, not labels");
      data = loss.forward(y, t);
    } else {
      if (t instanceof NDArray)
        throw new OptionError("a softmax-cross-entropy graph takes class labels (Int32Array), not arrays");
      data = loss.forward(y, t);
    }
    return data + this.#weightDecay();
  }

  /** After loss(): fills every param's grad, the book's backward from the loss layer. */
  backward(): void {
    deviceStep(this, false, () => {
      const dy = this.#needLoss().backward();
      this.#backpropagate({ [this.outputNames[0]]: dy });
    });
  }

  /** The fraction of samples classified right, in eval mode, `batchSize` samples at a time. */
  accuracy(x: NDArray, t: Labels, batchSize = 100): number {
    if (kernels().device) throw asyncOnly("accuracy");
    assertFinite("accuracy: the input", x); // once, not once per batch as predict would
    const scores = { predict: (batch: NDArray) => this.#forward(batch, "eval")[this.outputNames[0]] };
    return finishNow(accuracySteps(scores, x, t, batchSize));
  }

  /** The book's `gradient(x, t)`: loss and backward, then each param's gradient by name. */
  gradient(x: GraphInputs, t: Labels | NDArray): Record<string, NDArray> {
    this.loss(x, t);
    this.backward();
    // Kept: the caller may hold these past the model's next step.
    return Object.fromEntries(this.params.map((p) => [p.name, keepFromStep(p.grad as NDArray)]));
  }

  /**
   * The book's `numerical_gradient(x, t)`: central differences of the loss for every weight —
   * slow (two forward passes per weight) and only meaningful in float64; for gradient checks.
   */
  numericalGradient(x: GraphInputs, t: Labels | NDArray, h = 1e-4): Record<string, NDArray> {
    return Object.fromEntries(
      this.params.map((p) => [p.name, numericalGradient(() => this.loss(x, t), p.value, h)]),
    );
  }

  /** The state of every random generator the layers draw from in training (dropout masks), in order. */
  randomState(): RngState[] {
    return this.#randomLayers().map((layer) => layer.rng.getState());
  }

  /** Restores what `randomState()` returned, so training continues with the same masks. */
  setRandomState(states: readonly RngState[]): void {
    const layers = this.#randomLayers();
    if (states.length !== layers.length) {
      throw new RangeError(`setRandomState: ${states.length} states for ${layers.length} random layers`);
    }
    layers.forEach((layer, i) => layer.rng.setState(states[i]));
  }

  #randomLayers(): Dropout[] {
    return this.nodes.map((n) => n.layer).filter((layer): layer is Dropout => layer instanceof Dropout);
  }

  #needLoss(): LossLayer | IdentityWithLoss {
    if (!this.lossLayer) throw new OptionError("this graph has no loss layer; use run() and backpropagate()");
    return this.lossLayer;
  }

  /** Whether backward needs the gradient of tensor `name` (a graph input, or a node's output). */
  #wantsGrad(name: string): boolean {
    if (this.inputNames.includes(name)) return this.#inputGradients;
    return this.#needsBackward.get(name) ?? false;
  }

  #needsBackward = new Map<string, boolean>();

  /**
   * Plans the steps: which nodes backward runs (those with trainable params, or reading something
   * that needs a gradient), each layer told whether its dx is needed, fusable Convolution → ReLU
   * (→ max Pooling) chains fused, and when forward may drop each tensor.
   */
  #plan(): void {
    const needs = new Map<string, boolean>();
    const wants = (name: string) =>
      this.inputNames.includes(name) ? this.#inputGradients : (needs.get(name) ?? false);
    for (const node of this.nodes) {
      const inputNeeds = node.inputs.some(wants);
      const trainable = node.layer.params.some((p) => !this.#frozen.has(this.#own.get(p)!));
      needs.set(node.name, inputNeeds || trainable);
      const layer = node.layer as Layer;
      if (!("merge" in node.layer) && layer.needsInputGrad !== undefined) layer.needsInputGrad = inputNeeds;
    }
    this.#needsBackward = needs;

    const isOutput = (name: string) => this.outputNames.includes(name);
    const steps: FusedStep[] = this.#fuse
      ? fuseNodes(this.nodes, this.outputNames)
      : this.nodes.map((n) => ({ output: n.name, layer: n.layer, inputs: n.inputs, covers: [n.name] }));
    // Forward keeps a tensor until its last reader has run (outputs to the end).
    const lastReader = new Map<string, number>();
    steps.forEach((s, k) => s.inputs.forEach((i) => lastReader.set(i, k)));
    this.#steps = steps.map((s, k) => ({
      output: s.output,
      layer: s.layer,
      inputs: s.inputs,
      backward: s.covers.some((name) => needs.get(name)),
      release: [...new Set(s.inputs)].filter((i) => lastReader.get(i) === k && !isOutput(i)),
    }));
  }

  /** dW += λW for every trainable weight (in place: the grad array is the one backward just made). */
  #applyWeightDecay(): void {
    const lambda = this.weightDecayLambda;
    if (lambda === 0) return;
    for (const p of this.#decayed) {
      if (this.#frozen.has(p) || p.grad === null) continue;
      kernels().axpby(p.grad.buf, 1, p.grad.buf, lambda, p.value.buf);
    }
  }

  /** ½λΣW² over every weight matrix and filter bank. */
  #weightDecay(): number {
    if (this.weightDecayLambda === 0) return 0;
    let sum = 0;
    for (const p of this.#decayed) {
      const w = p.value.data;
      for (let i = 0; i < w.length; i++) sum += w[i] * w[i];
    }
    return 0.5 * this.weightDecayLambda * sum;
  }
}

/** A layer's tensors by key: its params (W, b, gamma, beta) and its state (batch norm's running statistics). */
function layerTensors(
  layer: Layer | MergeLayer,
): { key: string; param?: Param; get(): NDArray; set(v: NDArray): void }[] {
  const out: { key: string; param?: Param; get(): NDArray; set(v: NDArray): void }[] = layer.params.map(
    (p) => ({
      key: p.name,
      param: p,
      get: () => p.value,
      set: (v: NDArray) => p.value.data.set(v.data),
    }),
  );
  if (layer instanceof BatchNormalization) {
    out.push(
      { key: "running_mean", get: () => layer.runningMean, set: (v) => (layer.runningMean = v) },
      { key: "running_var", get: () => layer.runningVar, set: (v) => (layer.runningVar = v) },
    );
  }
  return out;
}

/**
 * Node names unique, no node named like an input, every node reading only what comes before it;
 * for built nodes also the arity (a merge reads 2 or more tensors, any other layer one).
 */
function checkWiring(
  inputs: readonly string[],
  nodes: readonly { name: string; inputs: readonly string[]; layer?: Layer | MergeLayer }[],
): void {
  const defined = new Set<string>();
  if (inputs.length === 0) throw new OptionError("a graph needs at least one input");
  for (const name of inputs) {
    if (typeof name !== "string" || name === "") {
      throw new OptionError(`graph input names must be non-empty strings, got ${JSON.stringify(name)}`);
    }
    if (defined.has(name)) throw new OptionError(`two graph inputs are both named "${name}"`);
    defined.add(name);
  }
  nodes.forEach((node, i) => {
    if (typeof node.name !== "string" || node.name === "") {
      throw new OptionError(`node ${i}: name must be a non-empty string, got ${JSON.stringify(node.name)}`);
    }
    if (defined.has(node.name)) {
      throw new OptionError(`node ${i}: the name "${node.name}" is taken by an earlier input or node`);
    }
    if (!Array.isArray(node.inputs) || node.inputs.length === 0) {
      throw new OptionError(
        `node "${node.name}": inputs must name at least one tensor, got ${JSON.stringify(node.inputs)}`,
      );
    }
    if (node.layer) {
      const merges = "merge" in node.layer;
      if (merges ? node.inputs.length < 2 : node.inputs.length !== 1) {
        throw new OptionError(
          `node "${node.name}": ${merges ? "reads 2 or more tensors" : "reads exactly one tensor"}, got inputs ${JSON.stringify(node.inputs)}`,
        );
      }
    }
    for (const input of node.inputs) {
      if (!defined.has(input)) {
        throw new OptionError(
          `node "${node.name}" reads "${input}", which is not a graph input or an earlier node (nodes must be in topological order)`,
        );
      }
    }
    defined.add(node.name);
  });
}

/** Checks the JSON shape of a spec read from outside, so errors name the field (layers check their own settings). */
export function checkGraphSpec(spec: GraphSpec): void {
  const fail = (what: string) => {
    throw new OptionError(`graph spec: ${what}`);
  };
  if (typeof spec !== "object" || spec === null) fail(`expected an object, got ${JSON.stringify(spec)}`);
  const valid = ["inputs", "nodes", "outputs", "loss", "weightDecayLambda"];
  for (const key of Object.keys(spec))
    if (!valid.includes(key)) fail(`no field "${key}"; valid: ${valid.join(", ")}`);
  if (!Array.isArray(spec.inputs) || spec.inputs.length === 0)
    fail("inputs must be a non-empty list of { name, shape }");
  for (const input of spec.inputs) {
    const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
    if (
      typeof input?.name !== "string" ||
      !Array.isArray(input.shape) ||
      input.shape.length === 0 ||
      !input.shape.every(positive)
    ) {
      fail(`each input needs a name and a shape of positive integers, got ${JSON.stringify(input)}`);
    }
  }
  if (!Array.isArray(spec.nodes)) fail("nodes must be a list");
  spec.nodes.forEach((node, i) => {
    if (typeof node !== "object" || node === null) fail(`node ${i} is not an object`);
    const type = node.type;
    if (!layerTypes.includes(type))
      throw unknownOption(`layer type of node ${i} "${node.name}":`, type, layerTypes);
    const keys = ["name", "type", "inputs", "params", ...layerKeys[type]];
    for (const key of Object.keys(node)) {
      if (!keys.includes(key))
        fail(`node ${i} "${node.name}" (${type}) has no setting "${key}"; valid: ${keys.join(", ")}`);
    }
    if (!Array.isArray(node.inputs) || !node.inputs.every((s) => typeof s === "string")) {
      fail(`node ${i} "${node.name}": inputs must be a list of names`);
    }
    if (
      node.params !== undefined &&
      (typeof node.params !== "object" ||
        node.params === null ||
        !Object.values(node.params).every((v) => typeof v === "string"))
    ) {
      fail(`node ${i} "${node.name}": params must map keys to tensor names`);
    }
  });
  checkWiring(
    spec.inputs.map((i) => i.name),
    spec.nodes,
  );
  if (
    spec.outputs !== undefined &&
    (!Array.isArray(spec.outputs) || !spec.outputs.every((s) => typeof s === "string"))
  ) {
    fail("outputs must be a list of names");
  }
  if (spec.loss !== undefined && spec.loss !== null) {
    if (
      typeof spec.loss !== "object" ||
      !lossTypes.includes(spec.loss.type) ||
      Object.keys(spec.loss).length !== 1
    ) {
      fail(
        `loss must be null or one of ${lossTypes.map((t) => `{ "type": "${t}" }`).join(", ")}, got ${JSON.stringify(spec.loss)}`,
      );
    }
  }
  if (
    spec.weightDecayLambda !== undefined &&
    !(Number.isFinite(spec.weightDecayLambda) && spec.weightDecayLambda >= 0)
  ) {
    fail(`weightDecayLambda must be a finite number ≥ 0, got ${JSON.stringify(spec.weightDecayLambda)}`);
  }
}

function lossLayerOf(spec: LossSpec): LossLayer | IdentityWithLoss {
  const type: LossType = spec.type;
  switch (type) {
    case "softmax-cross-entropy":
      return new SoftmaxWithLoss();
    case "mean-squared-error":
      return new IdentityWithLoss();
    default: {
      const unknown: never = type;
      throw unknownOption("loss type", unknown, lossTypes);
    }
  }
}

function lossSpecOf(layer: LossLayer | IdentityWithLoss): LossSpec {
  if (layer instanceof SoftmaxWithLoss) return { type: "softmax-cross-entropy" };
  if (layer instanceof IdentityWithLoss) return { type: "mean-squared-error" };
  throw new OptionError(
    `a ${layer.constructor.name} loss has no spec type (types: ${lossTypes.join(", ")}), so its network cannot be saved`,
  );
}

/** The error for a method that returns a number, called while the kernels' values live on a device. */
function asyncOnly(method: string): Error {
  return new Error(
    `${method}(): the ${kernels().name} backend sends values back asynchronously; use the Trainer's runAsync/stepsAsync, accuracyAsync, or \`await model.lossArray(x, t).read()\``,
  );
}

/** A Param under another name that reads and writes the layer's own value and grad. */
export function renamed(p: Param, name: string): Param {
  return {
    name,
    get value() {
      return p.value;
    },
    set value(v: NDArray) {
      p.value = v;
    },
    get grad() {
      return p.grad;
    },
    set grad(g: NDArray | null) {
      p.grad = g;
    },
  };
}
