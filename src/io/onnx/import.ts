/**
 * ONNX import: an ONNX classifier (PyTorch's exporter, zerodl's own, …) as a zerodl model that
 * evaluates, fine-tunes and saves like any other. Each operator is read into the zerodl layer that
 * computes the same thing, converting conventions on the way (docs/formats.md):
 *
 * - Gemm with transB = 1 (PyTorch's Linear, W (out, in)) → Affine with W transposed to (in, out);
 *   alpha and beta are folded into W and b. MatMul by a constant, then Add of a constant → Affine.
 * - BatchNormalization keeps the file's epsilon (PyTorch: 1e-5) and running statistics.
 * - Dropout (inverted, identity at inference) → zerodl's inverted dropout with the file's ratio,
 *   so fine-tuning drops units as the original did; the Mul that zerodl's export writes for the
 *   book's dropout → the book's dropout.
 * - Pad with zeros before a Conv or AveragePool (PyTorch's form of count_include_pad) → that
 *   layer's pad. Only symmetric padding is read: zerodl pads every side alike.
 * - A final Softmax is folded into the loss: predict returns scores, as every zerodl classifier.
 *
 * Everything the importer cannot read is collected first, then reported in one error that names
 * each operator or attribute and its node. Pure and browser-safe: bytes in, a model out.
 */
import type { Layer, MergeLayer } from "../../layers/layer.js";
import { Graph, type GraphSpec, type NodeSpec } from "../../models/graph.js";
import { Affine } from "../../layers/affine.js";
import { BatchNormalization } from "../../layers/batch-normalization.js";
import { Convolution } from "../../layers/convolution.js";
import { Deconvolution } from "../../layers/deconvolution.js";
import { formatShape } from "../../errors.js";
import { buildLayers, type LayerSpec } from "../../models/layer-spec.js";
import { LayerChain, type ChainSpec } from "../../models/layer-chain.js";
import { createModel, type Model, type ModelSpec } from "../../models/model.js";
import { Sequential, type SequentialSpec } from "../../models/sequential.js";
import { NDArray, shapeSize, type DType } from "../../ndarray.js";
import { Rng } from "../../rng.js";
import { DROPOUT_DOC, exportOnnx, type OnnxExportable } from "./export.js";
import type { GraphProto } from "./onnx_pb.js";
import {
  AttrType,
  DataType,
  OnnxError,
  attributeValue,
  decodeModelProto,
  readTensor,
  roundFloat32,
  type AttributeProto,
  type Constant,
  type NodeProto,
} from "./proto.js";

/** The ONNX operators importOnnx reads (in the default ai.onnx domain). */
export const importableOperators = [
  "Gemm",
  "MatMul",
  "Add",
  "Conv",
  "ConvTranspose",
  "MaxPool",
  "AveragePool",
  "Relu",
  "LeakyRelu",
  "Sigmoid",
  "Tanh",
  "Flatten",
  "Reshape",
  "BatchNormalization",
  "Dropout",
  "LRN",
  "Softmax",
  "Sum",
  "Concat",
  "GlobalAveragePool",
  "Pad",
  "Constant",
  "Identity",
] as const;

/**
 * The most values one input sample may have (as the image readers' 64 megapixels): a size beyond it
 * is a corrupt file, and the layers built for it would not fit in memory.
 */
const MAX_SAMPLE_VALUES = 64_000_000;

/** The types ONNX gives the attributes read here: a file with another is refused, never misread. */
const attributeTypes: Partial<Record<string, AttrType>> = {
  ...Object.fromEntries(
    ["kernel_shape", "strides", "pads", "dilations", "output_padding", "output_shape"].map((n) => [
      n,
      AttrType.INTS,
    ]),
  ),
  ...Object.fromEntries(
    [
      "allowzero",
      "transA",
      "transB",
      "axis",
      "training_mode",
      "spatial",
      "group",
      "seed",
      "is_test",
      "size",
      "ceil_mode",
      "count_include_pad",
      "storage_order",
    ].map((n) => [n, AttrType.INT]),
  ),
  ...Object.fromEntries(
    ["alpha", "beta", "bias", "epsilon", "momentum", "ratio", "value"].map((n) => [n, AttrType.FLOAT]),
  ),
  auto_pad: AttrType.STRING,
  mode: AttrType.STRING,
  // Constant's value attributes ("value" itself is a TENSOR there, a FLOAT in Pad before opset 11).
  value_float: AttrType.FLOAT,
  value_int: AttrType.INT,
  value_floats: AttrType.FLOATS,
  value_ints: AttrType.INTS,
};

export interface OnnxImportOptions {
  /** The precision of the imported model (default float32, as ONNX files store). */
  dtype?: DType;
}

/** What a file says about its model besides the graph. */
export interface OnnxModelInfo {
  /** The metadata's `name`, else the graph's name. */
  name: string;
  /** The metadata's `classes` (a JSON list), if any. */
  classes?: string[];
  /** One sample's shape, without the batch axis. */
  inputShape: number[];
  /** The exporter, e.g. "pytorch 1.13.0". */
  producer: string;
  opset: number;
  /** Conversions worth knowing (a folded Softmax, a fallback from the stored zerodl spec, …). */
  notes: string[];
}

export interface ImportedOnnx {
  model: Model & { readonly layers: readonly (Layer | MergeLayer)[] };
  info: OnnxModelInfo;
}

/** One zerodl layer read from one or more ONNX nodes, with its weights in zerodl's layout. */
interface ImportedLayer {
  spec: LayerSpec;
  weights: Partial<Record<WeightKey, Constant>>;
  /** The node it came from (for errors), the tensors it reads and the tensor it makes. */
  node: string;
  inputs: string[];
  output: string;
}
type WeightKey = "W" | "b" | "gamma" | "beta" | "running_mean" | "running_var";

/** A file's graph read into zerodl layers, with what the file says beside it. */
function readOnnx(bytes: Uint8Array, fileName: string) {
  const proto = decodeModelProto(bytes, fileName);
  const graph = proto.graph;
  if (graph === undefined) throw new OnnxError(`${fileName}: the ONNX model has no graph`);
  const metadata: Record<string, string | undefined> = Object.fromEntries(
    proto.metadataProps.map((p) => [p.key, p.value]),
  );
  const opset = Number(
    proto.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 0,
  );
  if (opset < 7) {
    throw new OnnxError(`${fileName}: opset ${opset}; zerodl reads ONNX opset 7 or newer`);
  }
  const read = new GraphReader(graph, fileName, opset).read();
  // A spec whose numbers exceed the graph's largest size is never built (see `rebuild`).
  const largest = Math.max(
    16,
    ...read.inputShape,
    ...read.layers.flatMap((l) => Object.values(l.weights).flatMap((w) => w?.dims ?? [])),
  );
  const info = (notes: string[]) => ({
    name: metadata.name ?? graph.name,
    inputShape: read.inputShape,
    producer: [proto.producerName, proto.producerVersion].filter((s) => s !== "").join(" "),
    opset,
    notes,
  });
  return { ...read, graph, metadata, largest, info };
}

/**
 * Reads an ONNX model into a zerodl model. A file that zerodl exported (metadata `zerodl_spec`)
 * comes back as the same kind of model (a "simple-conv" stays one); any other file becomes a
 * "sequential" model of the layers its graph computes.
 */
export function importOnnx(
  bytes: Uint8Array,
  fileName: string,
  options: OnnxImportOptions = {},
): ImportedOnnx {
  const dtype = options.dtype ?? "float32";
  const { layers, inputShape, notes, chain, output, graph, metadata, largest, info } = readOnnx(
    bytes,
    fileName,
  );

  let model: ChainOrGraph;
  try {
    // The rng only initializes weights that the file's replace.
    model = chain ? buildChain(inputShape, layers, dtype) : buildGraph(inputShape, layers, output, dtype);
  } catch (e) {
    throw new OnnxError(`${fileName}: the imported layers do not fit together: ${(e as Error).message}`);
  }
  if (model.spec.outputSize <= 0) {
    throw new OnnxError(`${fileName}: the graph does not end in (classes,) scores`);
  }
  assignWeights(model.layers, layers, fileName);
  const stored = metadata.zerodl_spec;
  if (stored !== undefined) {
    // zerodl's own export: rebuild the original kind of model if exporting it gives this graph.
    const original = rebuild(stored, largest, (spec) => {
      const built = createModel(spec as ModelSpec, new Rng(0), dtype);
      return "layers" in built ? (built as ChainOrGraph) : null;
    });
    if (original !== null && sameGraph(graph, original)) {
      assignWeights(original.layers, layers, fileName);
      model = original;
    } else if (original === null) {
      const kind = /"kind"\s*:\s*"([^"]*)"/.exec(stored)?.[1] ?? "unreadable";
      notes.push(
        `the stored zerodl spec is a "${String(kind)}" model, not a classifier; imported as a "${model.spec.kind}" model of its layers`,
      );
    } else {
      notes.push(`the stored zerodl spec does not match the graph; imported as a "${model.spec.kind}" model`);
    }
  }
  const outputSize = model.spec.outputSize;
  let classes: string[] | undefined;
  if (metadata.classes !== undefined) {
    try {
      const parsed: unknown = JSON.parse(metadata.classes);
      if (Array.isArray(parsed) && parsed.length === outputSize) classes = parsed.map(String);
    } catch {
      // Not JSON: no class names.
    }
    if (classes === undefined)
      notes.push(`metadata "classes" is not a JSON list of ${outputSize} names; ignored`);
  }
  return { model, info: { ...info(notes), classes } };
}

/**
 * Reads an ONNX image generator (a GAN's: latent vectors (N, D) in, images (N, C, H, W) out, as
 * zerodl exports its DCGAN generator) into a zerodl generator (a LayerChain of kind "generator").
 * A file zerodl exported comes back from its stored spec, with bit-identical weights.
 */
export function importGeneratorOnnx(
  bytes: Uint8Array,
  fileName: string,
  options: OnnxImportOptions = {},
): { generator: LayerChain; info: OnnxModelInfo } {
  const dtype = options.dtype ?? "float32";
  const { layers, inputShape, notes, chain, graph, metadata, largest, info } = readOnnx(bytes, fileName);
  if (!chain) {
    throw new OnnxError(`${fileName}: the graph branches; zerodl's generators are chains of layers`);
  }
  let outputRange: [number, number] | undefined;
  try {
    const range: unknown = JSON.parse(metadata.output_range ?? "null");
    if (Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === "number")) {
      outputRange = range as [number, number];
    }
  } catch {
    // Not JSON: no range.
  }
  // A categorical code (zerodl's own export writes these; a code another tool describes otherwise is not read).
  const categories = Number(metadata.latent_categories ?? 0);
  let classes: string[] | undefined;
  try {
    const names: unknown = JSON.parse(metadata.classes ?? "null");
    if (Array.isArray(names) && names.length === categories && names.every((c) => typeof c === "string")) {
      classes = names as string[];
    }
  } catch {
    // Not JSON: no classes.
  }
  let generator: LayerChain;
  try {
    generator = LayerChain.fromSpec(
      {
        kind: "generator",
        inputShape,
        layers: layers.map((l) => l.spec),
        ...(outputRange ? { outputRange } : {}),
        ...(Number.isInteger(categories) && categories >= 2 ? { categories } : {}),
        ...(classes && categories >= 2 ? { classes } : {}),
      },
      new Rng(0),
      dtype,
    );
  } catch (e) {
    throw new OnnxError(`${fileName}: the imported layers do not fit together: ${(e as Error).message}`);
  }
  if (inputShape.length !== 1 || generator.outputShape.length !== 3) {
    throw new OnnxError(
      `${fileName}: maps samples of shape ${formatShape(inputShape)} to ${formatShape(generator.outputShape)}; a generator maps latent vectors (D,) to images (C, H, W)`,
    );
  }
  assignWeights(generator.layers, layers, fileName);
  const stored = metadata.zerodl_spec;
  if (stored !== undefined) {
    const original = rebuild(stored, largest, (spec) =>
      spec.kind === "generator" ? LayerChain.fromSpec(spec as ChainSpec, new Rng(0), dtype) : null,
    );
    if (original !== null && sameGraph(graph, original)) {
      assignWeights(original.layers, layers, fileName);
      generator = original;
    } else {
      notes.push(`the stored zerodl spec does not match the graph; imported from the graph's layers`);
    }
  }
  return { generator, info: info(notes) };
}

/**
 * Whether a file holds an image generator rather than a classifier: zerodl's export of one (its
 * stored spec says so), or a graph from one vector to one image per sample.
 */
export function isGeneratorOnnx(bytes: Uint8Array, fileName: string): boolean {
  const proto = decodeModelProto(bytes, fileName);
  const stored = proto.metadataProps.find((p) => p.key === "zerodl_spec")?.value;
  if (stored !== undefined) return /"kind"\s*:\s*"generator"/.test(stored);
  const rank = (v: GraphProto["input"][number] | undefined) =>
    v?.type?.value.case === "tensorType" ? (v.type.value.value.shape?.dim.length ?? 0) : 0;
  const initializers = new Set(proto.graph?.initializer.map((t) => t.name));
  const inputs = proto.graph?.input.filter((i) => !initializers.has(i.name)) ?? [];
  return inputs.length === 1 && rank(inputs[0]) === 2 && rank(proto.graph?.output[0]) === 4;
}

type ChainOrGraph = Model & { readonly layers: readonly (Layer | MergeLayer)[] };

/** A chain of layers as a "sequential" model (the book's form). */
function buildChain(inputShape: number[], layers: readonly ImportedLayer[], dtype: DType): ChainOrGraph {
  const specs = layers.map((l) => l.spec);
  const outShape = buildLayers(inputShape, specs, new Rng(0), dtype).outputShape;
  if (outShape.length !== 1) {
    throw new OnnxError(`the graph ends in samples of shape ${formatShape(outShape)}, not (classes,) scores`);
  }
  const spec: SequentialSpec = { kind: "sequential", inputShape, outputSize: outShape[0], layers: specs };
  return Sequential.fromLayerSpecs(spec, new Rng(0), dtype);
}

/** Layers that branch and merge as a graph: nodes named by type and count, wired as in the file. */
function buildGraph(
  inputShape: number[],
  layers: readonly ImportedLayer[],
  output: string,
  dtype: DType,
): ChainOrGraph {
  const counts = new Map<string, number>();
  const names = new Map<string, string>([["", "x"]]);
  const nodeName = (tensor: string) => names.get(tensor) ?? "x";
  const nodes: NodeSpec[] = layers.map((layer) => {
    const type = layer.spec.type;
    const k = (counts.get(type) ?? 0) + 1;
    counts.set(type, k);
    const node = { ...layer.spec, name: `${type}${k}`, inputs: layer.inputs.map(nodeName) } as NodeSpec;
    names.set(layer.output, node.name);
    return node;
  });
  const spec: GraphSpec = { inputs: [{ name: "x", shape: inputShape }], nodes, outputs: [nodeName(output)] };
  return Graph.build(spec, new Rng(0), dtype);
}

/**
 * The model a stored zerodl spec describes (`build` makes it, or refuses with null), or null. Only
 * a spec whose numbers are at most `largest` (the graph's largest size) is built: building
 * allocates and initializes its weights before they can be compared with the graph's, and a spec
 * edited to ask for huge layers would take minutes.
 */
function rebuild<M>(json: string, largest: number, build: (spec: { kind: string }) => M | null): M | null {
  try {
    let tooLarge = false;
    const spec = JSON.parse(json, (_, v: unknown) => {
      if (typeof v === "number" && !(v <= largest)) tooLarge = true;
      return v;
    }) as { kind: string };
    if (tooLarge) return null;
    return build(spec);
  } catch {
    return null;
  }
}

/** Whether exporting `model` gives `graph`'s nodes and initializer names and shapes (weights aside). */
function sameGraph(graph: GraphProto, model: OnnxExportable): boolean {
  let exported: GraphProto | undefined;
  try {
    exported = decodeModelProto(exportOnnx(model), "").graph;
  } catch {
    return false;
  }
  const nodes = (g: GraphProto) =>
    JSON.stringify(
      g.node.map((n) => [
        n.opType,
        n.input,
        n.output,
        n.docString,
        n.attribute.map((a) => [a.name, attributeValue(a)]),
      ]),
    );
  const initializers = (g: GraphProto) =>
    JSON.stringify(g.initializer.map((t) => [t.name, t.dims.map(Number)]));
  return (
    exported !== undefined &&
    nodes(exported) === nodes(graph) &&
    initializers(exported) === initializers(graph)
  );
}

/** Copies the imported weights into the built layers, checking every shape. */
function assignWeights(
  built: readonly (Layer | MergeLayer)[],
  imported: readonly ImportedLayer[],
  fileName: string,
): void {
  // Layers with weights, in order on both sides (a Flatten more or less changes nothing).
  const withWeights = imported.filter((l) => Object.keys(l.weights).length > 0);
  built
    .filter((l) => l.params.length > 0)
    .forEach((layer, i) => {
      const { weights, node } = withWeights[i];
      const set = (key: WeightKey, target: NDArray): NDArray => {
        const w = weights[key];
        if (w === undefined) throw new OnnxError(`${fileName}: node ${node} has no ${key}`);
        if (
          shapeSize(w.dims) !== target.size ||
          (w.dims.length > 1 && w.dims.join() !== target.shape.join())
        ) {
          throw new OnnxError(
            `${fileName}: node ${node}: ${key} has shape ${formatShape(w.dims)}, the layer needs ${formatShape(target.shape)}`,
          );
        }
        const value = NDArray.zeros(target.shape, target.dtype);
        value.data.set(w.data);
        // As a model file's weights (model-file.ts): a NaN or infinity would only surface as NaN scores.
        const bad = value.data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          throw new OnnxError(
            `${fileName}: node ${node}: ${key} holds ${value.data[bad]} at index ${bad}; weights must be finite`,
          );
        }
        return value;
      };
      if (layer instanceof Affine || layer instanceof Convolution || layer instanceof Deconvolution) {
        layer.W.value = set("W", layer.W.value);
        layer.b.value = set("b", layer.b.value);
      } else if (layer instanceof BatchNormalization) {
        layer.gamma.value = set("gamma", layer.gamma.value);
        layer.beta.value = set("beta", layer.beta.value);
        layer.runningMean = set("running_mean", layer.runningMean);
        layer.runningVar = set("running_var", layer.runningVar);
      }
    });
}

/** Walks a graph's nodes into zerodl layers, collecting every problem before reporting. */
class GraphReader {
  readonly #graph: GraphProto;
  readonly #file: string;
  readonly #opset: number;
  readonly #constants = new Map<string, Constant>();
  /** Tensors that are another tensor under a new name (Identity, inference Dropout without ratio). */
  readonly #aliases = new Map<string, string>();
  /** Outputs of zero Pad nodes: the tensor padded and by how much on every spatial side. */
  readonly #pads = new Map<string, { source: string; pad: number; node: NodeProto; read: boolean }>();
  readonly #problems: string[] = [];
  readonly #notes: string[] = [];
  readonly #layers: ImportedLayer[] = [];
  readonly #outputs: Set<string>;

  constructor(graph: GraphProto, fileName: string, opset: number) {
    this.#graph = graph;
    this.#file = fileName;
    this.#opset = opset;
    for (const t of graph.initializer) this.#constants.set(t.name, readTensor(t, fileName));
    this.#outputs = new Set(graph.output.map((o) => o.name));
  }

  read(): { layers: ImportedLayer[]; inputShape: number[]; notes: string[]; chain: boolean; output: string } {
    const inputs = this.#graph.input.filter((i) => !this.#constants.has(i.name));
    if (inputs.length !== 1) {
      throw new OnnxError(
        `${this.#file}: ${inputs.length} graph inputs (${inputs.map((i) => i.name).join(", ")}); zerodl imports models of one input`,
      );
    }
    if (this.#graph.output.length !== 1) {
      throw new OnnxError(
        `${this.#file}: ${this.#graph.output.length} graph outputs; zerodl imports models of one output`,
      );
    }
    const input = inputs[0];
    const inputShape = this.#inputShape(input);
    this.#graph.node.forEach((node, i) => this.#node(node, i));
    for (const { node, read } of this.#pads.values()) {
      if (!read)
        this.#problem(node, `padding that no Conv or AveragePool reads (zerodl pads inside those layers)`);
    }
    if (this.#problems.length > 0) {
      throw new OnnxError(
        `${this.#file}: cannot import: ${this.#problems.join("; ")}. ` +
          `zerodl imports these ONNX operators: ${importableOperators.join(", ")}`,
      );
    }
    const chain = this.#wire(input.name);
    return {
      layers: this.#layers,
      inputShape,
      notes: this.#notes,
      chain,
      output: this.#resolve(this.#graph.output[0].name),
    };
  }

  #inputShape(input: GraphProto["input"][number]): number[] {
    const type = input.type?.value;
    if (type?.case !== "tensorType" || type.value.elemType !== DataType.FLOAT) {
      throw new OnnxError(`${this.#file}: input "${input.name}" is not a float tensor`);
    }
    const dims = type.value.shape?.dim ?? [];
    const sample = dims.slice(1).map((d) => (d.value.case === "dimValue" ? Number(d.value.value) : null));
    if (dims.length < 2 || sample.some((d) => d === null || d <= 0)) {
      const shown = dims.map((d) =>
        d.value.case === "dimValue" ? String(d.value.value) : (d.value.value ?? "?"),
      );
      throw new OnnxError(
        `${this.#file}: input "${input.name}" has shape (${shown.join(", ")}); zerodl needs (batch, …) with every other size fixed`,
      );
    }
    const size = (sample as number[]).reduce((p, d) => p * d, 1);
    if (size > MAX_SAMPLE_VALUES) {
      throw new OnnxError(
        `${this.#file}: input "${input.name}" has ${size} values per sample (${sample.join(" × ")}); zerodl imports models of at most ${MAX_SAMPLE_VALUES}`,
      );
    }
    return sample as number[];
  }

  /**
   * Resolves what each layer reads (through Identity nodes and folded Softmax) and checks that it is
   * the graph input or an earlier layer's output, and that a layer makes the graph output. Returns
   * whether the layers form a chain (each reads the one before, the last is the output).
   */
  #wire(input: string): boolean {
    const made = new Set([input]);
    let chain = true;
    let previous = input;
    for (const layer of this.#layers) {
      layer.inputs = layer.inputs.map((name) => this.#resolve(name));
      const unknown = layer.inputs.find((name) => !made.has(name));
      if (unknown !== undefined) {
        throw new OnnxError(
          `${this.#file}: node ${layer.node} reads "${unknown}", which no node before it makes`,
        );
      }
      if (layer.inputs.length !== 1 || layer.inputs[0] !== previous) chain = false;
      made.add(layer.output);
      previous = layer.output;
    }
    const output = this.#resolve(this.#graph.output[0].name);
    if (!made.has(output) || output === input) {
      throw new OnnxError(`${this.#file}: the graph output "${output}" is not made by a layer`);
    }
    return chain && output === previous;
  }

  #resolve(name: string): string {
    let n = name;
    const seen = new Set<string>();
    while (this.#aliases.has(n)) {
      // Identity nodes that name each other in a cycle: a corrupt graph, not a chain to follow forever.
      if (seen.has(n))
        throw new OnnxError(`${this.#file}: tensor "${name}" is an Identity of itself (a cycle)`);
      seen.add(n);
      n = this.#aliases.get(n)!;
    }
    return n;
  }

  #problem(node: NodeProto, what: string): void {
    this.#problems.push(`${node.opType} node "${node.name || node.output[0] || "(unnamed)"}": ${what}`);
  }

  #wrongType(node: NodeProto, a: AttributeProto, type: AttrType): void {
    this.#problem(node, `attribute "${a.name}" is ${AttrType[a.type]}; ONNX defines it as ${AttrType[type]}`);
  }

  /** The node's attributes by name, refusing any not in `known` or of another type than ONNX's. */
  #attributes(node: NodeProto, known: readonly string[]): Map<string, ReturnType<typeof attributeValue>> {
    const out = new Map<string, ReturnType<typeof attributeValue>>();
    for (const a of node.attribute) {
      const type = attributeTypes[a.name];
      if (!known.includes(a.name)) this.#problem(node, `attribute "${a.name}" is not supported`);
      else if (type !== undefined && a.type !== type) this.#wrongType(node, a, type);
      else out.set(a.name, attributeValue(a));
    }
    return out;
  }

  #constant(node: NodeProto, index: number, what: string): Constant | null {
    const name = node.input[index];
    const c = name === undefined || name === "" ? undefined : this.#constants.get(name);
    if (c === undefined)
      this.#problem(node, `its ${what} (input ${index}) must be a constant (an initializer)`);
    return c ?? null;
  }

  #add(
    node: NodeProto,
    spec: LayerSpec,
    weights: ImportedLayer["weights"] = {},
    inputs = [node.input[0]],
  ): void {
    this.#layers.push({
      spec,
      weights,
      node: `"${node.name || node.output[0] || "(unnamed)"}"`,
      inputs,
      output: node.output[0],
    });
  }

  #node(node: NodeProto, index: number): void {
    if (node.domain !== "" && node.domain !== "ai.onnx") {
      this.#problem(node, `operator domain "${node.domain}" is not supported (only the default ai.onnx)`);
      return;
    }
    if (!node.output[0]) {
      this.#problem(node, "no output");
      return;
    }
    if (node.output.length > 1 && node.output.slice(1).some((o) => o !== "") && node.opType !== "Dropout") {
      this.#problem(node, `${node.output.length} outputs (zerodl layers make one)`);
      return;
    }
    switch (node.opType) {
      case "Constant":
        return this.#constantNode(node);
      case "Identity":
        this.#aliases.set(node.output[0], node.input[0]);
        return;
      case "Pad":
        return this.#padNode(node);
      case "Gemm":
        return this.#gemm(node);
      case "MatMul":
        return this.#matmul(node);
      case "Add":
        return this.#addNode(node);
      case "Conv":
        return this.#conv(node);
      case "MaxPool":
      case "AveragePool":
        return this.#pool(node);
      case "ConvTranspose":
        return this.#convTranspose(node);
      case "Relu":
        this.#attributes(node, []);
        return this.#add(node, { type: "relu" });
      case "LeakyRelu": {
        const alpha = (this.#attributes(node, ["alpha"]).get("alpha") as number | undefined) ?? 0.01;
        if (!(alpha >= 0 && alpha < 1)) return this.#problem(node, `alpha=${alpha} (zerodl's is in [0, 1))`);
        return this.#add(node, { type: "leaky-relu", alpha });
      }
      case "Sigmoid":
        this.#attributes(node, []);
        return this.#add(node, { type: "sigmoid" });
      case "Tanh":
        this.#attributes(node, []);
        return this.#add(node, { type: "tanh" });
      case "Flatten": {
        const axis = this.#attributes(node, ["axis"]).get("axis") ?? 1;
        if (axis !== 1) return this.#problem(node, `axis=${axis} (zerodl flattens to (N, −1): axis 1)`);
        return this.#add(node, { type: "flatten" });
      }
      case "Reshape":
        return this.#reshape(node);
      case "BatchNormalization":
        return this.#batchNorm(node);
      case "Dropout":
        return this.#dropout(node);
      case "Mul":
        return this.#mul(node);
      case "LRN": {
        const a = this.#attributes(node, ["size", "alpha", "beta", "bias"]);
        const n = a.get("size") as number | undefined;
        if (n === undefined) return this.#problem(node, "size missing");
        if (n % 2 !== 1)
          return this.#problem(node, `size=${n} (zerodl's LRN window is centred: an odd size)`);
        return this.#add(node, {
          type: "lrn",
          n,
          alpha: (a.get("alpha") as number | undefined) ?? 1e-4,
          beta: (a.get("beta") as number | undefined) ?? 0.75,
          k: (a.get("bias") as number | undefined) ?? 1,
        });
      }
      case "Softmax":
        return this.#softmax(node, index);
      case "Concat": {
        const axis = this.#attributes(node, ["axis"]).get("axis");
        if (axis !== 1) return this.#problem(node, `axis=${axis} (zerodl concatenates channels: axis 1)`);
        return this.#add(node, { type: "concat" }, {}, [...node.input]);
      }
      case "Sum":
        // What zerodl's export writes for an Add of more than two tensors.
        this.#attributes(node, []);
        if (node.input.some((name) => this.#constants.has(name)))
          return this.#problem(node, `sums a constant`);
        return this.#add(node, { type: "add" }, {}, [...node.input]);
      case "GlobalAveragePool":
        this.#attributes(node, []);
        // ONNX keeps (N, C, 1, 1), zerodl's layer gives (N, C): a Flatten after it changes nothing.
        return this.#add(node, { type: "global-average-pooling" });
      default:
        this.#problem(node, `operator ${node.opType} is not supported`);
    }
  }

  #constantNode(node: NodeProto): void {
    const a = node.attribute[0];
    if (node.attribute.length !== 1) return this.#problem(node, `needs exactly one value attribute`);
    if (a.type === AttrType.TENSOR && a.t !== undefined) {
      this.#constants.set(node.output[0], readTensor(a.t, this.#file));
    } else if (a.name.startsWith("value_") && attributeTypes[a.name] !== a.type) {
      this.#wrongType(node, a, attributeTypes[a.name] ?? AttrType.UNDEFINED);
    } else if (a.name === "value_float" || a.name === "value_int") {
      this.#constants.set(node.output[0], { dims: [], data: [attributeValue(a) as number] });
    } else if (a.name === "value_floats" || a.name === "value_ints") {
      const v = attributeValue(a) as number[];
      this.#constants.set(node.output[0], { dims: [v.length], data: v });
    } else {
      this.#problem(node, `attribute "${a.name}" is not supported`);
    }
  }

  #padNode(node: NodeProto): void {
    const attributes = this.#attributes(node, ["mode", "pads", "value"]);
    const mode = attributes.get("mode") ?? "constant";
    if (mode !== "constant") return this.#problem(node, `mode="${mode}" (only zero padding is read)`);
    // Opset ≥ 11: pads and value are inputs; before, attributes.
    const padsAttr = node.attribute.find((a) => a.name === "pads");
    const pads = padsAttr ? (attributeValue(padsAttr) as number[]) : this.#constant(node, 1, "pads")?.data;
    if (pads === undefined || pads === null) return;
    const value = node.input[2] ? this.#constant(node, 2, "value")?.data[0] : (attributes.get("value") ?? 0);
    if (value !== 0) return this.#problem(node, `pads with ${value}, not 0`);
    const p = Array.from(pads);
    // (N, C, H, W): begins then ends; zerodl pads only H and W, all sides alike.
    if (
      p.length !== 8 ||
      p[0] ||
      p[1] ||
      p[4] ||
      p[5] ||
      !p.slice(2).every((v, i) => i === 2 || i === 3 || v === p[2])
    ) {
      return this.#problem(
        node,
        `pads [${p.join(", ")}] (zerodl reads equal padding of H and W on all sides of (N, C, H, W))`,
      );
    }
    this.#pads.set(node.output[0], { source: node.input[0], pad: p[2], node, read: false });
  }

  /** A Conv's or pool's input and extra padding, looking through a zero Pad node before it. */
  #padded(node: NodeProto): { input: string; extra: number } {
    const padded = this.#pads.get(this.#resolve(node.input[0]));
    if (padded === undefined) return { input: node.input[0], extra: 0 };
    padded.read = true;
    return { input: padded.source, extra: padded.pad };
  }

  /** Equal strides and symmetric, equal pads, as zerodl's layers take them. */
  #window(
    node: NodeProto,
    a: Map<string, ReturnType<typeof attributeValue>>,
  ): { stride: number; pad: number } | null {
    const strides = (a.get("strides") as number[] | undefined) ?? [1, 1];
    const pads = (a.get("pads") as number[] | undefined) ?? [0, 0, 0, 0];
    const dilations = (a.get("dilations") as number[] | undefined) ?? [1, 1];
    const autoPad = a.get("auto_pad") ?? "NOTSET";
    let ok = true;
    if (autoPad !== "NOTSET" && autoPad !== "VALID") {
      this.#problem(node, `auto_pad=${autoPad} (zerodl reads explicit pads)`);
      ok = false;
    }
    if (strides.length !== 2 || strides[0] !== strides[1]) {
      this.#problem(
        node,
        `strides [${strides.join(", ")}] (zerodl uses one stride for H and W of 2-D windows)`,
      );
      ok = false;
    }
    if (pads.length !== 4 || !pads.every((p) => p === pads[0])) {
      this.#problem(node, `pads [${pads.join(", ")}] (zerodl pads every side of H and W alike)`);
      ok = false;
    }
    if (!dilations.every((d) => d === 1)) {
      this.#problem(node, `dilations [${dilations.join(", ")}] (zerodl windows are not dilated)`);
      ok = false;
    }
    return ok ? { stride: strides[0], pad: pads[0] } : null;
  }

  #conv(node: NodeProto): void {
    const a = this.#attributes(node, ["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"]);
    const group = a.get("group") ?? 1;
    if (group !== 1) this.#problem(node, `group=${group} (zerodl convolutions are not grouped)`);
    const window = this.#window(node, a);
    const W = this.#constant(node, 1, "weight");
    if (W === null || window === null || group !== 1) return;
    if (W.dims.length !== 4)
      return this.#problem(node, `weight of shape ${formatShape(W.dims)} (2-D convolutions only)`);
    const [FN, , FH, FW] = W.dims;
    const b = node.input[2] ? this.#constant(node, 2, "bias") : { dims: [FN], data: new Float32Array(FN) };
    if (b === null) return;
    const { input, extra } = this.#padded(node);
    this.#add(
      node,
      { type: "convolution", filters: FN, fh: FH, fw: FW, stride: window.stride, pad: window.pad + extra },
      { W, b },
      [input],
    );
  }

  /** A transposed convolution (a DCGAN generator's upsampling) → zerodl's Deconvolution, W as it is. */
  #convTranspose(node: NodeProto): void {
    const a = this.#attributes(node, [
      "kernel_shape",
      "strides",
      "pads",
      "output_padding",
      "dilations",
      "group",
      "auto_pad",
    ]);
    const group = a.get("group") ?? 1;
    if (group !== 1) this.#problem(node, `group=${group} (zerodl deconvolutions are not grouped)`);
    const window = this.#window(node, a);
    const outputPadding = (a.get("output_padding") as number[] | undefined) ?? [0, 0];
    if (outputPadding.length !== 2 || outputPadding[0] !== outputPadding[1]) {
      return this.#problem(
        node,
        `output_padding [${outputPadding.join(", ")}] (zerodl adds the same rows and columns)`,
      );
    }
    if (window !== null && outputPadding[0] >= window.stride) {
      return this.#problem(node, `output_padding ${outputPadding[0]} (must be smaller than the stride)`);
    }
    const W = this.#constant(node, 1, "weight");
    if (W === null || window === null || group !== 1) return;
    if (W.dims.length !== 4)
      return this.#problem(node, `weight of shape ${formatShape(W.dims)} (2-D deconvolutions only)`);
    // (C, FN, FH, FW): input channels first, as zerodl's Deconvolution.
    const [, FN, FH, FW] = W.dims;
    const b = node.input[2] ? this.#constant(node, 2, "bias") : { dims: [FN], data: new Float32Array(FN) };
    if (b === null) return;
    this.#add(
      node,
      {
        type: "deconvolution",
        filters: FN,
        fh: FH,
        fw: FW,
        stride: window.stride,
        pad: window.pad,
        outputPadding: outputPadding[0],
      },
      { W, b },
    );
  }

  #pool(node: NodeProto): void {
    const max = node.opType === "MaxPool";
    const known = ["kernel_shape", "strides", "pads", "ceil_mode", "dilations", "auto_pad"];
    const a = this.#attributes(node, max ? [...known, "storage_order"] : [...known, "count_include_pad"]);
    const kernel = a.get("kernel_shape") as number[] | undefined;
    if (kernel === undefined || kernel.length !== 2) {
      return this.#problem(
        node,
        `kernel_shape ${kernel ? `[${kernel.join(", ")}]` : "missing"} (2-D pooling only)`,
      );
    }
    if ((a.get("ceil_mode") ?? 0) !== 0) this.#problem(node, `ceil_mode=1 (zerodl floors output sizes)`);
    const window = this.#window(node, a);
    const { input, extra } = this.#padded(node);
    if (max && extra > 0) {
      // A zero Pad before MaxPool lets the zeros win over negative values; zerodl's padding never wins.
      this.#problem(node, `reads a zero Pad node (zerodl's max pooling padding never wins a max)`);
    }
    if (!max && (window?.pad ?? 0) > 0 && (a.get("count_include_pad") ?? 0) === 0) {
      this.#problem(node, `count_include_pad=0 with pads (zerodl's average counts padding as 0 values)`);
    }
    if (window === null || (a.get("ceil_mode") ?? 0) !== 0) return;
    this.#add(
      node,
      {
        type: "pooling",
        ph: kernel[0],
        pw: kernel[1],
        stride: window.stride,
        pad: window.pad + extra,
        kind: max ? "max" : "avg",
      },
      {},
      [input],
    );
  }

  #gemm(node: NodeProto): void {
    const a = this.#attributes(node, ["alpha", "beta", "transA", "transB"]);
    if ((a.get("transA") ?? 0) !== 0) return this.#problem(node, `transA=1 (the input must be (N, in))`);
    const B = this.#constant(node, 1, "weight");
    if (B === null) return;
    if (B.dims.length !== 2) return this.#problem(node, `weight of shape ${formatShape(B.dims)}`);
    const transB = (a.get("transB") ?? 0) !== 0;
    const [inSize, outSize] = transB ? [B.dims[1], B.dims[0]] : B.dims;
    const alpha = (a.get("alpha") as number | undefined) ?? 1;
    const beta = (a.get("beta") as number | undefined) ?? 1;
    // W (in, out): PyTorch's (out, in) is transposed.
    const W = new Float32Array(inSize * outSize);
    for (let i = 0; i < inSize; i++) {
      for (let j = 0; j < outSize; j++)
        W[i * outSize + j] = alpha * B.data[transB ? j * inSize + i : i * outSize + j];
    }
    let b = new Float32Array(outSize);
    if (node.input[2]) {
      const C = this.#constant(node, 2, "bias");
      if (C === null) return;
      if (shapeSize(C.dims) !== outSize) {
        return this.#problem(node, `bias of shape ${formatShape(C.dims)} (one value per output, ${outSize})`);
      }
      b = Float32Array.from(C.data, (v) => beta * v);
    }
    this.#add(
      node,
      { type: "affine", outputSize: outSize },
      { W: { dims: [inSize, outSize], data: W }, b: { dims: [outSize], data: b } },
    );
  }

  #matmul(node: NodeProto): void {
    this.#attributes(node, []);
    const B = this.#constant(node, 1, "weight (MatMul of the input by a constant matrix)");
    if (B === null) return;
    if (B.dims.length !== 2) return this.#problem(node, `weight of shape ${formatShape(B.dims)}`);
    const [, outSize] = B.dims;
    this.#add(
      node,
      { type: "affine", outputSize: outSize },
      { W: B, b: { dims: [outSize], data: new Float32Array(outSize) } },
    );
  }

  /** Add of a constant right after a MatMul is its bias; an Add of two tensors is a branch merge. */
  #addNode(node: NodeProto): void {
    this.#attributes(node, []);
    const last = this.#layers.at(-1);
    const [x, y] = node.input;
    const biasName = this.#constants.has(y) ? y : this.#constants.has(x) ? x : null;
    const data = biasName === x ? y : x;
    if (biasName === null) return this.#add(node, { type: "add" }, {}, [...node.input]); // a residual connection
    const bias = this.#constants.get(biasName)!;
    const fromMatMul =
      last !== undefined && last.output === this.#resolve(data) && last.spec.type === "affine";
    const outSize = last?.spec.type === "affine" ? last.spec.outputSize : -1;
    const onlyZeros = fromMatMul && Array.from(last.weights.b!.data).every((v) => v === 0);
    if (!fromMatMul || !onlyZeros || shapeSize(bias.dims) !== outSize || bias.dims.length > 2) {
      return this.#problem(node, `adds a constant that is not the bias of a MatMul right before it`);
    }
    last.weights.b = { dims: [outSize], data: bias.data };
    last.output = node.output[0];
  }

  #reshape(node: NodeProto): void {
    const allowZero = (this.#attributes(node, ["allowzero"]).get("allowzero") ?? 0) !== 0;
    const shape = this.#constant(node, 1, "shape");
    if (shape === null) return;
    const s = Array.from(shape.data);
    // The batch axis kept: copied (0, unless allowzero makes it a size) or inferred (−1).
    const batch = s[0] === -1 || (s[0] === 0 && !allowZero);
    // (N, −1), written as [0, −1] or [−1, D].
    if (s.length === 2 && batch && (s[0] === 0 ? s[1] === -1 : s[1] > 0)) {
      return this.#add(node, { type: "flatten" });
    }
    // (N, C, H, W) and other sample shapes: a Reshape layer.
    if (s.length > 2 && batch && s.slice(1).every((d) => Number.isInteger(d) && d > 0)) {
      return this.#add(node, { type: "reshape", shape: s.slice(1) });
    }
    this.#problem(
      node,
      `shape [${s.join(", ")}] (zerodl reads a Reshape that keeps the batch: to (N, −1) or (N, d1, d2, …))`,
    );
  }

  #batchNorm(node: NodeProto): void {
    const a = this.#attributes(node, ["epsilon", "momentum", "training_mode", "spatial"]);
    if ((a.get("training_mode") ?? 0) !== 0)
      return this.#problem(node, `training_mode=1 (export in inference mode)`);
    if ((a.get("spatial") ?? 1) !== 1) return this.#problem(node, `spatial=0`);
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) =>
      this.#constant(node, i, ["scale", "bias", "mean", "var"][i - 1]),
    );
    if (gamma === null || beta === null || mean === null || variance === null) return;
    this.#add(
      node,
      {
        type: "batchnorm",
        // ONNX's defaults (PyTorch's eps is 1e-5; the book's 1e-6).
        eps: (a.get("epsilon") as number | undefined) ?? 1e-5,
        momentum: (a.get("momentum") as number | undefined) ?? 0.9,
      },
      { gamma, beta, running_mean: mean, running_var: variance },
    );
  }

  #dropout(node: NodeProto): void {
    const a = this.#attributes(node, ["ratio", "seed", "is_test"]);
    let ratio = (a.get("ratio") as number | undefined) ?? 0.5;
    if (node.input[1]) {
      const r = this.#constant(node, 1, "ratio");
      if (r === null) return;
      ratio = r.data[0];
    }
    if (node.input[2]) {
      const training = this.#constant(node, 2, "training_mode");
      if (training === null) return;
      if (training.data[0] !== 0)
        return this.#problem(node, `training_mode is true (export in inference mode)`);
    }
    if (node.output.length > 1 && node.output[1] !== "") {
      return this.#problem(node, `its mask output "${node.output[1]}" is used`);
    }
    // ONNX's Dropout is inverted (the identity at inference); zerodl's inverted dropout is the same.
    this.#add(node, { type: "dropout", ratio: roundFloat32(ratio), inverted: true });
  }

  /** The Mul that zerodl's export writes for the book's dropout, read back by its doc string. */
  #mul(node: NodeProto): void {
    const ratio = node.docString.startsWith(DROPOUT_DOC)
      ? Number(node.docString.slice(DROPOUT_DOC.length))
      : NaN;
    const scale = this.#constants.get(node.input[1]);
    if (!(ratio >= 0 && ratio < 1) || scale === undefined || shapeSize(scale.dims) !== 1) {
      return this.#problem(
        node,
        `operator Mul is not supported (only zerodl's own export of the book's dropout)`,
      );
    }
    this.#add(node, { type: "dropout", ratio, inverted: false });
  }

  #softmax(node: NodeProto, index: number): void {
    const axis = this.#attributes(node, ["axis"]).get("axis") ?? (this.#opset >= 13 ? -1 : 1);
    const last = index === this.#graph.node.length - 1 && this.#outputs.has(node.output[0]);
    if (!last) return this.#problem(node, `a Softmax that does not end the graph`);
    if (axis !== 1 && axis !== -1) return this.#problem(node, `axis=${axis} (the class axis is 1)`);
    this.#aliases.set(node.output[0], node.input[0]);
    this.#notes.push(
      `the final Softmax is folded into the loss (SoftmaxWithLoss): predict returns scores; softmax them for the file's probabilities`,
    );
  }
}
