/**
 * ONNX export: a zerodl model as an ONNX graph (opset 13) that ONNX Runtime runs with the same
 * logits. Each layer becomes the ONNX operators that compute what its eval-mode forward computes;
 * where zerodl's convention differs from ONNX's default, the export writes the difference out
 * (docs/formats.md lists each one):
 *
 * - Affine's W is (in, out): Gemm with transB = 0, the weights as they are. An N-D input is
 *   flattened first (zerodl's Affine flattens by itself).
 * - the book's dropout (not inverted) scales by 1 − ratio at inference: a Mul by that constant.
 *   Inverted dropout is an ONNX Dropout (the identity at inference).
 * - batch normalization's eps (the book's 1e-6) goes into `epsilon`; running mean and variance are
 *   the layer's.
 * - pooling padding never wins a max (ONNX MaxPool's rule) and counts as 0 in an average
 *   (`count_include_pad = 1`); output sizes are floored (`ceil_mode = 0`).
 *
 * Pure and browser-safe: bytes out, no file system.
 */
import { create } from "@bufbuild/protobuf";
import { Add } from "../../layers/add.js";
import { Affine } from "../../layers/affine.js";
import { Concat } from "../../layers/concat.js";
import { GlobalAveragePooling } from "../../layers/global-average-pooling.js";
import { BatchNormalization } from "../../layers/batch-normalization.js";
import { Convolution } from "../../layers/convolution.js";
import { Deconvolution } from "../../layers/deconvolution.js";
import { Dropout } from "../../layers/dropout.js";
import { Flatten } from "../../layers/flatten.js";
import type { Layer, MergeLayer, Param } from "../../layers/layer.js";
import { LeakyRelu } from "../../layers/leaky-relu.js";
import { LRN } from "../../layers/lrn.js";
import { Pooling } from "../../layers/pooling.js";
import { Relu } from "../../layers/relu.js";
import { Reshape } from "../../layers/reshape.js";
import { Sigmoid } from "../../layers/sigmoid.js";
import { Tanh } from "../../layers/tanh.js";
import { shapeSize } from "../../ndarray.js";
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./onnx_pb.js";
import {
  DataType,
  OnnxError,
  attributes,
  encodeModelProto,
  floatTensor,
  int64Tensor,
  type AttributeValues,
} from "./proto.js";

/** The opset the export writes (every operator it uses has had its current form since 13). */
export const ONNX_OPSET = 13;
/** IR version 7 goes with opset 13 (ONNX's versioning table), so older runtimes read the files too. */
const IR_VERSION = 7n;

/** The input and output names of an exported model. */
export const ONNX_INPUT = "input";
export const ONNX_OUTPUT = "logits";
/** A generator's output: images (N, C, H, W). */
export const ONNX_IMAGES = "images";

/** A layer with a name and the tensors it reads: a graph's node, or one step of a chain. */
export interface ExportNode {
  readonly name: string;
  readonly layer: Layer | MergeLayer;
  readonly inputs: readonly string[];
  /** File names of the layer's tensors by key ("running_mean" → "bn1.running_mean"). */
  readonly params?: Readonly<Record<string, string>>;
}

/**
 * The spec fields the export reads: a classifier's (ModelSpec, a DQN agent's Q-network: `outputSize`
 * scores) or a GAN generator's (kind "generator": latent vectors to images in `outputRange`).
 */
export interface ExportSpec {
  readonly kind: string;
  readonly inputShape: readonly number[];
  readonly outputSize?: number;
  readonly outputRange?: readonly [number, number];
  /** A generator's categorical code (InfoGAN, AC-GAN): its categories, and its classes when conditional. */
  readonly categories?: number;
  readonly classes?: readonly string[];
}

/**
 * What the export needs from a model: its params (under their file names, in node order), its
 * spec, and its nodes (a graph) or a chain of layers.
 */
export interface OnnxExportable {
  readonly spec: ExportSpec;
  readonly params: readonly Param[];
  readonly layers: readonly (Layer | MergeLayer)[];
  readonly nodes?: readonly ExportNode[];
  readonly inputNames?: readonly string[];
  readonly outputNames?: readonly string[];
}

/** The model as nodes reading named tensors: a graph's own, or a chain's layers one after another. */
export function exportNodes(model: OnnxExportable): {
  nodes: readonly ExportNode[];
  input: string;
  output: string;
} {
  if (model.nodes !== undefined) {
    const inputs = model.inputNames ?? ["x"];
    if (inputs.length !== 1) {
      throw new OnnxError(
        `export: the graph has ${inputs.length} inputs (${inputs.join(", ")}); a classifier has one`,
      );
    }
    const output = model.outputNames?.[0] ?? model.nodes.at(-1)!.name;
    return { nodes: model.nodes, input: inputs[0], output };
  }
  const nodes = model.layers.map((layer, i) => ({
    name: `layer${i + 1}`,
    layer,
    inputs: [i === 0 ? "x" : `layer${i}`],
  }));
  return { nodes, input: "x", output: nodes.at(-1)?.name ?? "x" };
}

export interface OnnxExportOptions {
  /** The model's name in the metadata (default: its kind, e.g. "simple-conv"). */
  name?: string;
  /** Class names, in output order (default "0", "1", …). */
  classes?: readonly string[];
  /** Written as producer_version (the CLI passes zerodl's version). */
  producerVersion?: string;
}

/**
 * The model as ONNX bytes: input "input" (N, …inputShape), output "logits" (N, classes) — or, for
 * a generator, "images" (N, C, H, W) — the weights as float32 initializers under their model-file
 * names (W1, b1, …), and metadata `name`, `input_shape` (JSON, without the batch axis),
 * `zerodl_spec` (the architecture, so `importOnnx` rebuilds the same kind of model) and `classes`
 * (JSON list) or, for a generator, `output_shape` and `output_range`.
 */
export function exportOnnx(model: OnnxExportable, options: OnnxExportOptions = {}): Uint8Array {
  const spec = model.spec;
  const generator = spec.kind === "generator";
  const outputName = generator ? ONNX_IMAGES : ONNX_OUTPUT;
  const graph = new GraphWriter(model.params);
  const { nodes, input, output } = exportNodes(model);
  // Each zerodl tensor's ONNX name and per-sample shape; the first input is "input".
  const tensors = new Map<string, { onnx: string; shape: number[] }>([
    [input, { onnx: ONNX_INPUT, shape: [...spec.inputShape] }],
  ]);
  const readers = (name: string) => nodes.filter((n) => n.inputs.includes(name)).length;
  for (const node of nodes) {
    const ins = node.inputs.map((name) => {
      const t = tensors.get(name);
      if (t === undefined)
        throw new OnnxError(`exportOnnx: node "${node.name}" reads "${name}", made by no node before it`);
      return t;
    });
    // The graph's output is named "logits" (or "images"), unless other nodes read it too.
    const onnxName = node.name === output && readers(output) === 0 ? outputName : null;
    const made = graph.layer(
      node,
      ins.map((t) => t.onnx),
      ins.map((t) => t.shape),
      onnxName,
    );
    tensors.set(node.name, made);
  }
  const result = tensors.get(output)!;
  if (result.onnx !== outputName) graph.node("Identity", [result.onnx], outputName, {}, "output");
  const shape = result.shape;
  const name = options.name ?? spec.kind;
  const about = generator ? generatorOutput(spec, shape) : classifierOutput(spec, shape, options.classes);
  return encodeModelProto(
    modelProto(graph, {
      name,
      doc: `${name}: a zerodl ${spec.kind} model; ${about.doc}`,
      inputs: [valueInfo(ONNX_INPUT, ["N", ...spec.inputShape])],
      outputs: [valueInfo(outputName, ["N", ...shape])],
      metadata: {
        name,
        ...about.metadata,
        input_shape: JSON.stringify(spec.inputShape),
        zerodl_spec: JSON.stringify(spec),
      },
      producerVersion: options.producerVersion,
    }),
  );
}

/** A classifier's (or Q-network's) output: one score per class, with the class names. */
function classifierOutput(spec: ExportSpec, shape: readonly number[], names?: readonly string[]) {
  const outputSize = spec.outputSize ?? shape[0];
  if (shape.length !== 1 || shape[0] !== outputSize) {
    throw new OnnxError(`exportOnnx: the model ends in (${shape.join(", ")}), not ${outputSize} scores`);
  }
  const classes = names ?? Array.from({ length: outputSize }, (_, i) => String(i));
  if (classes.length !== outputSize) {
    throw new OnnxError(`exportOnnx: ${classes.length} class names for a model with ${outputSize} outputs`);
  }
  return {
    doc: `output "${ONNX_OUTPUT}" are class scores (apply softmax for probabilities)`,
    metadata: { classes: JSON.stringify(classes) },
  };
}

/** A generator's output: images (C, H, W) in its output range. */
function generatorOutput(spec: ExportSpec, shape: readonly number[]) {
  const range = spec.outputRange ?? [-1, 1];
  const K = spec.categories ?? 0;
  const latent =
    K === 0
      ? "latent vectors z ~ N(0, I)"
      : `latent vectors: ${spec.inputShape[0] - K} values z ~ N(0, I), then a one-hot code of ${K} categories` +
        (spec.classes ? ` (category k draws class classes[k])` : "");
  return {
    doc: `input "${ONNX_INPUT}" are ${latent}, output "${ONNX_IMAGES}" images (${shape.join(", ")}) with values in [${range.join(", ")}]`,
    metadata: {
      output_shape: JSON.stringify(shape),
      output_range: JSON.stringify(range),
      ...(K > 0 ? { latent_categories: String(K) } : {}),
      ...(spec.classes ? { classes: JSON.stringify(spec.classes) } : {}),
    },
  };
}

/** A model proto around a written graph: opset, producer, inputs and outputs, metadata. */
export function modelProto(
  graph: GraphWriter,
  about: {
    name: string;
    doc: string;
    inputs: ValueInfoProto[];
    outputs: ValueInfoProto[];
    metadata: Record<string, string>;
    producerVersion?: string;
  },
): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(ONNX_OPSET) })],
    producerName: "zerodl",
    producerVersion: about.producerVersion ?? "",
    docString: about.doc,
    graph: create(GraphProtoSchema, {
      name: about.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: about.inputs,
      output: about.outputs,
    }),
    metadataProps: Object.entries(about.metadata).map(([key, value]) =>
      create(StringStringEntryProtoSchema, { key, value }),
    ),
  });
}

/** A tensor's type (float unless given) and shape; a string dimension is symbolic (the batch). */
export function valueInfo(
  name: string,
  dims: readonly (number | string)[],
  elemType: DataType = DataType.FLOAT,
): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: "tensorType",
        value: {
          elemType,
          shape: {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value:
                  typeof d === "string"
                    ? { case: "dimParam", value: d }
                    : { case: "dimValue", value: BigInt(d) },
              }),
            ),
          },
        },
      },
    }),
  });
}

/** Collects nodes and initializers; names nodes by their layer type and count (convolution1, relu2, …). */
export class GraphWriter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #counts = new Map<string, number>();
  readonly #params: readonly Param[];
  #next = 0;
  #batchNorms = 0;

  constructor(params: readonly Param[]) {
    this.#params = params;
  }

  /** A fresh node name for a kind of layer: "relu" → relu1, relu2, … */
  name(kind: string): string {
    const k = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, k);
    return `${kind}${k}`;
  }

  node(op: string, inputs: readonly string[], output: string, attrs: AttributeValues, name: string): string {
    this.nodes.push(
      create(NodeProtoSchema, {
        opType: op,
        name,
        input: [...inputs],
        output: [output],
        attribute: attributes(attrs),
      }),
    );
    return output;
  }

  /**
   * Adds a layer's next param (in model order) as an initializer under the model's name for it;
   * `onnx` gives its values in an ONNX operator's layout where that differs from zerodl's.
   */
  param(p: Param, onnx?: { dims: readonly number[]; data: ArrayLike<number> }): string {
    const named = this.#params[this.#next++];
    if (named === undefined || named.value !== p.value) {
      throw new OnnxError(`exportOnnx: the model's params do not follow its layers (at param ${p.name})`);
    }
    this.initializers.push(floatTensor(named.name, onnx?.dims ?? p.value.shape, onnx?.data ?? p.value.data));
    return named.name;
  }

  constant(name: string, dims: readonly number[], data: ArrayLike<number>): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** An int64 constant (axes, shapes). */
  int64Constant(name: string, dims: readonly number[], data: readonly number[]): string {
    this.initializers.push(int64Tensor(name, dims, data));
    return name;
  }

  /**
   * Writes one node reading the ONNX tensors `inputs` of per-sample `shapes`; its result is named
   * `output` (or after the node). Returns the result's ONNX name and per-sample shape.
   */
  layer(
    node: ExportNode,
    inputs: readonly string[],
    shapes: readonly number[][],
    output: string | null,
  ): { onnx: string; shape: number[] } {
    const layer = node.layer;
    let x = inputs[0];
    const shape = shapes[0];
    const unary = (op: string, kind: string, attrs: AttributeValues = {}, outShape = shape) => {
      const name = this.name(kind);
      return { onnx: this.node(op, [x], output ?? name, attrs, name), shape: outShape };
    };
    if (layer instanceof Affine) {
      // Affine flattens (N, …) to (N, D) itself; Gemm needs the 2-D form.
      if (shape.length > 1) {
        const name = this.name("flatten");
        x = this.node("Flatten", [x], name, { axis: 1 }, name);
      }
      const name = this.name("affine");
      const W = this.param(layer.W);
      const b = this.param(layer.b);
      // zerodl's W is (in, out), so no transpose (PyTorch's Linear weight is (out, in): transB = 1).
      this.node(
        "Gemm",
        [x, W, b],
        output ?? name,
        { transA: 0, transB: 0, alpha: { float: 1 }, beta: { float: 1 } },
        name,
      );
      return { onnx: output ?? name, shape: [layer.W.value.shape[1]] };
    }
    if (layer instanceof Convolution) {
      const name = this.name("convolution");
      const [FN, , FH, FW] = layer.W.value.shape;
      const W = this.param(layer.W);
      const b = this.param(layer.b);
      const { stride: s, pad: p } = layer;
      this.node(
        "Conv",
        [x, W, b],
        output ?? name,
        { kernel_shape: [FH, FW], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group: 1 },
        name,
      );
      const [, , OH, OW] = layer.outputShape([1, ...shape]);
      return { onnx: output ?? name, shape: [FN, OH, OW] };
    }
    if (layer instanceof Deconvolution) {
      // W (C, FN, FH, FW) is ConvTranspose's layout (group 1); pad crops every side, as ONNX's pads.
      const name = this.name("deconvolution");
      const [, FN, FH, FW] = layer.W.value.shape;
      const W = this.param(layer.W);
      const b = this.param(layer.b);
      const { stride: s, pad: p, outputPadding: op } = layer;
      this.node(
        "ConvTranspose",
        [x, W, b],
        output ?? name,
        {
          kernel_shape: [FH, FW],
          strides: [s, s],
          pads: [p, p, p, p],
          output_padding: [op, op],
          dilations: [1, 1],
          group: 1,
        },
        name,
      );
      const [, , OH, OW] = layer.outputShape([1, ...shape]);
      return { onnx: output ?? name, shape: [FN, OH, OW] };
    }
    if (layer instanceof Pooling) {
      const { ph, pw, stride: s, pad: p, kind } = layer;
      if (p >= Math.min(ph, pw)) {
        // Windows of padding only: ONNX allows pads smaller than the window, and ONNX Runtime fuses
        // a separate zero Pad node back into the pooling, so there is no form it runs.
        throw new OnnxError(
          `exportOnnx: ${kind} pooling ${ph}×${pw} with pad ${p}: ONNX needs padding smaller than the window`,
        );
      }
      const common = { kernel_shape: [ph, pw], strides: [s, s], pads: [p, p, p, p], ceil_mode: 0 };
      const outShape = layer.outputShape([1, ...shape]).slice(1);
      return kind === "max"
        ? unary("MaxPool", "maxpool", common, outShape)
        : unary("AveragePool", "avgpool", { ...common, count_include_pad: 1 }, outShape);
    }
    if (layer instanceof Relu) return unary("Relu", "relu");
    if (layer instanceof LeakyRelu) return unary("LeakyRelu", "leakyrelu", { alpha: { float: layer.alpha } });
    if (layer instanceof Reshape) {
      // (N, …) → (N, ...shape); −1 keeps whatever batch size comes.
      const name = this.name("reshape");
      const to = this.int64Constant(`${name}.shape`, [layer.shape.length + 1], [-1, ...layer.shape]);
      return { onnx: this.node("Reshape", [x, to], output ?? name, {}, name), shape: [...layer.shape] };
    }
    if (layer instanceof Sigmoid) return unary("Sigmoid", "sigmoid");
    if (layer instanceof Tanh) return unary("Tanh", "tanh");
    if (layer instanceof Flatten) return unary("Flatten", "flatten", { axis: 1 }, [shapeSize(shape)]);
    if (layer instanceof Dropout) {
      const name = this.name("dropout");
      if (layer.inverted) {
        // Inverted dropout is the identity at inference, as ONNX's Dropout.
        const ratio = this.constant(`${name}.ratio`, [], [layer.ratio]);
        return { onnx: this.node("Dropout", [x, ratio], output ?? name, {}, name), shape };
      }
      // The book's dropout keeps every unit at inference and scales it by 1 − ratio.
      const scale = this.constant(`${name}.scale`, [], [1 - layer.ratio]);
      this.node("Mul", [x, scale], output ?? name, {}, name);
      this.nodes.at(-1)!.docString = `${DROPOUT_DOC} ${layer.ratio}`;
      return { onnx: output ?? name, shape };
    }
    if (layer instanceof BatchNormalization) {
      const name = this.name("batchnorm");
      const k = ++this.#batchNorms;
      const inputs = [
        x,
        this.param(layer.gamma),
        this.param(layer.beta),
        // A graph names them per node; a chain numbers them like gamma (running_mean1 beside gamma1).
        this.constant(
          node.params?.running_mean ?? `running_mean${k}`,
          layer.runningMean.shape,
          layer.runningMean.data,
        ),
        this.constant(
          node.params?.running_var ?? `running_var${k}`,
          layer.runningVar.shape,
          layer.runningVar.data,
        ),
      ];
      // ONNX's momentum weighs the old running value, as zerodl's (the book's 0.9).
      this.node(
        "BatchNormalization",
        inputs,
        output ?? name,
        { epsilon: { float: layer.eps }, momentum: { float: layer.momentum } },
        name,
      );
      return { onnx: output ?? name, shape };
    }
    if (layer instanceof LRN) {
      // zerodl's LRN divides α by n as ONNX does (Caffe's form).
      return unary("LRN", "lrn", {
        size: layer.n,
        alpha: { float: layer.alpha },
        beta: { float: layer.beta },
        bias: { float: layer.k },
      });
    }
    // The graph's merges (book §8.2: ResNet's skips, GoogLeNet's branches) and its head.
    if (layer instanceof Add) {
      const name = this.name("add");
      // Add is a sum of any number of tensors; ONNX's Add takes two (Sum takes many).
      return {
        onnx: this.node(inputs.length === 2 ? "Add" : "Sum", inputs, output ?? name, {}, name),
        shape,
      };
    }
    if (layer instanceof Concat) {
      const name = this.name("concat");
      const channels = shapes.reduce((c, s) => c + s[0], 0);
      return {
        onnx: this.node("Concat", inputs, output ?? name, { axis: 1 }, name),
        shape: [channels, ...shape.slice(1)],
      };
    }
    if (layer instanceof GlobalAveragePooling) {
      // (N, C, H, W) → (N, C, 1, 1) in ONNX, flattened to zerodl's (N, C).
      const name = this.name("globalavgpool");
      x = this.node("GlobalAveragePool", [x], name, {}, name);
      return unary("Flatten", "flatten", { axis: 1 }, [shape[0]]);
    }
    throw new OnnxError(
      `exportOnnx: no ONNX form for layer ${layer.constructor.name}; exportable: Affine, Convolution, Deconvolution, Pooling, Relu, LeakyRelu, Sigmoid, Tanh, Flatten, Reshape, Dropout, BatchNormalization, LRN, Add, Concat, GlobalAveragePooling`,
    );
  }
}

/**
 * The doc string on the Mul that stands for the book's dropout (followed by the ratio), so that
 * `importOnnx` reads it back as a dropout layer rather than refusing a Mul.
 */
export const DROPOUT_DOC = "zerodl: the book's dropout at inference (x · (1 − ratio)), ratio";
