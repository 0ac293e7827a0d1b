/**
 * The image captioner (book §8.4.3; src/models/captioner.ts) in ONNX and back.
 *
 * The export is the captioner's teacher-forced forward, the function it is trained as: inputs
 * `image` (N, C, H, W) float and `words` (N, T) int64 (`<start> w1 … w(T−1)`), output `scores`
 * (N, T, V), the next word's scores after each prefix. A runtime captions greedily by calling it
 * with `<start>`, appending the best word, and calling again until `<end>` or `max_length` words
 * (docs/formats.md shows the loop); beam search runs the same way over several prefixes. The graph:
 *
 *   image → the encoder's layers (as exportOnnx writes them) → Affine → Tanh = h0 (N, H)
 *   words → Gather (the Embedding's W) → Transpose to time-major (T, N, D)
 *         → LSTM (initial_h = h0, initial_c = 0) → (T, 1, N, H) → Squeeze, Transpose → (N, T, H)
 *         → MatMul, Add (the TimeAffine) → scores
 *
 * A peeky captioner (spec `peeky`) also puts h0 after the word vectors (Concat on the last axis:
 * the LSTM's input is D + H wide) and after the LSTM's hs (the output's input is 2H wide); h0 is
 * repeated over the steps by Unsqueeze to (N, 1, H) and Expand to [1, T, 1], T from Shape(words).
 *
 * The LSTM's weights are stored in ONNX's layout under zerodl's names (Wx1, Wh1, b…): zerodl's
 * Wx (D, 4H) and Wh (H, 4H) hold the gate blocks f, g, i, o side by side as columns (the sequel's
 * order); ONNX's W (1, 4H, D) and R (1, 4H, H) hold them as rows in the order i, o, f, c, and its B
 * (1, 8H) is the input bias then a recurrent bias, here zeros. The import undoes each of these.
 * Metadata: `name`, `tokens` (JSON, by id), `input_shape`, `max_length`, `zerodl_spec`.
 *
 * Pure and browser-safe: bytes in and out.
 */
import { Captioner, type CaptionerSpec } from "../../models/captioner.js";
import { BatchNormalization } from "../../layers/batch-normalization.js";
import type { NDArray, DType } from "../../ndarray.js";
import { Rng } from "../../rng.js";
import { GraphWriter, modelProto, valueInfo } from "./export.js";
import type { GraphProto } from "./onnx_pb.js";
import {
  DataType,
  OnnxError,
  attributeValue,
  decodeModelProto,
  encodeModelProto,
  readTensor,
  type Constant,
} from "./proto.js";

/** The captioner's input and output names in ONNX. */
export const CAPTIONER_IMAGE = "image";
export const CAPTIONER_WORDS = "words";
export const CAPTIONER_SCORES = "scores";

/** ONNX's LSTM gates i, o, f, c as zerodl's gate blocks (f = 0, g = 1, i = 2, o = 3). */
const ONNX_GATES = [2, 3, 0, 1];

/** zerodl's (K, 4H) gate columns as ONNX's (1, 4H, K) gate rows. */
function gatesToOnnx(w: NDArray, H: number): { dims: number[]; data: Float32Array } {
  const K = w.shape[0];
  const data = new Float32Array(4 * H * K);
  ONNX_GATES.forEach((block, k) => {
    for (let j = 0; j < H; j++) {
      for (let r = 0; r < K; r++) data[(k * H + j) * K + r] = w.data[r * 4 * H + block * H + j];
    }
  });
  return { dims: [1, 4 * H, K], data };
}

/** ONNX's (1, 4H, K) gate rows back to zerodl's (K, 4H) gate columns. */
function gatesFromOnnx(c: Constant, out: NDArray, H: number): void {
  const K = out.shape[0];
  ONNX_GATES.forEach((block, k) => {
    for (let j = 0; j < H; j++) {
      for (let r = 0; r < K; r++) out.data[r * 4 * H + block * H + j] = c.data[(k * H + j) * K + r];
    }
  });
}

export interface CaptionerOnnxOptions {
  /** The model's name in the metadata (default "captioner"). */
  name?: string;
  producerVersion?: string;
}

/** The captioner as ONNX bytes (opset 13): image and words in, next-word scores out. */
export function exportCaptionerOnnx(model: Captioner, options: CaptionerOnnxOptions = {}): Uint8Array {
  const spec = model.spec;
  const H = spec.hiddenSize;
  const V = spec.tokens.length;
  const graph = new GraphWriter(model.params);
  let x = CAPTIONER_IMAGE;
  let shape = [...spec.inputShape];
  model.encoder.forEach((layer, i) => {
    ({ onnx: x, shape } = graph.layer({ name: `encoder${i + 1}`, layer, inputs: [x] }, [x], [shape], null));
  });
  // (N, H) → (1, N, H): ONNX's LSTM state has a directions axis. The cell starts at zero: h0 · 0
  // (h0 is a tanh, always finite) keeps the batch size without a shape computation.
  const h0 = graph.node("Unsqueeze", [x, graph.int64Constant("axis0", [1], [0])], "h0", {}, "h0");
  const c0 = graph.node("Mul", [h0, graph.constant("zero", [], [0])], "c0", {}, "c0");
  // (N, T) ids → (N, T, D) → time-major (T, N, D).
  const E = graph.param(model.embedding.W);
  graph.node("Gather", [E, CAPTIONER_WORDS], "embedding", { axis: 0 }, "embedding");
  let lstmInput = "embedding";
  if (model.peeky) {
    // (N, H) → (N, T, H): h0 at every step.
    graph.node("Shape", [CAPTIONER_WORDS], "words_shape", {}, "words_shape");
    const [from1, to2] = [graph.int64Constant("from1", [1], [1]), graph.int64Constant("to2", [1], [2])];
    graph.node("Slice", ["words_shape", from1, to2], "steps", {}, "steps");
    const one = graph.int64Constant("one", [1], [1]);
    graph.node("Concat", [one, "steps", one], "peek_shape", { axis: 0 }, "peek_shape");
    const axis1 = graph.int64Constant("peek_axis", [1], [1]);
    graph.node("Unsqueeze", [x, axis1], "h0_step", {}, "h0_step");
    graph.node("Expand", ["h0_step", "peek_shape"], "peek", {}, "peek");
    graph.node("Concat", ["embedding", "peek"], "lstm_input", { axis: 2 }, "lstm_input");
    lstmInput = "lstm_input";
  }
  graph.node("Transpose", [lstmInput], "time_major", { perm: [1, 0, 2] }, "time_major");
  const { Wx, Wh, b } = model.lstm;
  const W = graph.param(Wx, gatesToOnnx(Wx.value, H));
  const R = graph.param(Wh, gatesToOnnx(Wh.value, H));
  const bias = new Float32Array(8 * H);
  bias.set(gatesToOnnx(b.value.reshape(1, 4 * H), H).data);
  const B = graph.param(b, { dims: [1, 8 * H], data: bias });
  // (T, 1, N, H) → (T, N, H) → (N, T, H).
  graph.node("LSTM", ["time_major", W, R, B, "", h0, c0], "lstm", { hidden_size: H }, "lstm");
  graph.node("Squeeze", ["lstm", graph.int64Constant("axis1", [1], [1])], "hs_time_major", {}, "squeeze");
  graph.node("Transpose", ["hs_time_major"], "hs", { perm: [1, 0, 2] }, "batch_major");
  const Wo = graph.param(model.output.W);
  const bo = graph.param(model.output.b);
  if (model.peeky) graph.node("Concat", ["hs", "peek"], "output_input", { axis: 2 }, "output_input");
  graph.node("MatMul", [model.peeky ? "output_input" : "hs", Wo], "output_matmul", {}, "output_matmul");
  graph.node("Add", ["output_matmul", bo], CAPTIONER_SCORES, {}, "output_add");
  const name = options.name ?? spec.kind;
  return encodeModelProto(
    modelProto(graph, {
      name,
      doc:
        `${name}: a zerodl image captioner. Input "${CAPTIONER_IMAGE}" (N, ${spec.inputShape.join(", ")}), ` +
        `"${CAPTIONER_WORDS}" (N, T) int64 token ids beginning with <start> (0); output "${CAPTIONER_SCORES}" ` +
        `(N, T, ${V}): the next word's scores after each prefix. Caption greedily by appending the best ` +
        `word until <end> (1) or max_length words; tokens by id in the metadata.`,
      inputs: [
        valueInfo(CAPTIONER_IMAGE, ["N", ...spec.inputShape]),
        valueInfo(CAPTIONER_WORDS, ["N", "T"], DataType.INT64),
      ],
      outputs: [valueInfo(CAPTIONER_SCORES, ["N", "T", V])],
      metadata: {
        name,
        tokens: JSON.stringify(spec.tokens),
        input_shape: JSON.stringify(spec.inputShape),
        max_length: String(spec.maxLength),
        zerodl_spec: JSON.stringify(spec),
      },
      producerVersion: options.producerVersion,
    }),
  );
}

/** The spec a zerodl-exported ONNX file stores (metadata `zerodl_spec`), if any. */
export function storedZerodlSpec(bytes: Uint8Array, fileName: string): { kind: string } | null {
  const proto = decodeModelProto(bytes, fileName);
  const json = proto.metadataProps.find((p) => p.key === "zerodl_spec")?.value;
  if (json === undefined) return null;
  try {
    const spec: unknown = JSON.parse(json);
    return typeof spec === "object" && spec !== null && typeof (spec as { kind?: unknown }).kind === "string"
      ? (spec as { kind: string })
      : null;
  } catch {
    return null;
  }
}

/**
 * Reads a captioner that `exportCaptionerOnnx` wrote: the architecture from its `zerodl_spec`, the
 * weights from its initializers (ONNX's LSTM layout undone). The graph must be exactly the one
 * that architecture exports to; anything else is refused with the first difference named.
 */
export function importCaptionerOnnx(
  bytes: Uint8Array,
  fileName: string,
  options: { dtype?: DType } = {},
): Captioner {
  const proto = decodeModelProto(bytes, fileName);
  const graph = proto.graph;
  if (graph === undefined) throw new OnnxError(`${fileName}: the ONNX model has no graph`);
  const spec = storedZerodlSpec(bytes, fileName);
  if (spec?.kind !== "captioner") {
    throw new OnnxError(
      `${fileName}: not a zerodl captioner (its metadata "zerodl_spec" is ${spec === null ? "missing" : `a "${spec.kind}" model`})`,
    );
  }
  let model: Captioner;
  try {
    model = new Captioner(spec as CaptionerSpec, new Rng(0), options.dtype ?? "float32");
  } catch (e) {
    throw new OnnxError(`${fileName}: cannot build its captioner: ${(e as Error).message}`);
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const read = (name: string, dims: readonly number[]): Constant => {
    const t = initializers.get(name);
    if (t === undefined) throw new OnnxError(`${fileName}: no initializer "${name}"`);
    const c = readTensor(t, fileName);
    if (c.dims.join() !== dims.join()) {
      throw new OnnxError(
        `${fileName}: initializer "${name}" has shape [${c.dims.join(", ")}], the captioner needs [${dims.join(", ")}]`,
      );
    }
    return c;
  };
  const H = model.spec.hiddenSize;
  const { Wx, Wh, b } = model.lstm;
  for (const p of model.params) {
    const target = model.lstm.params.find((q) => q.value === p.value);
    if (target === Wx || target === Wh) {
      gatesFromOnnx(read(p.name, [1, 4 * H, p.value.shape[0]]), p.value, H);
    } else if (target === b) {
      const c = read(p.name, [1, 8 * H]);
      if (c.data.slice(4 * H).some((v) => v !== 0)) {
        throw new OnnxError(
          `${fileName}: the LSTM's recurrent bias (B[4H:]) is not zero, as zerodl's export writes it`,
        );
      }
      gatesFromOnnx(c, p.value.reshape(1, 4 * H), H);
    } else {
      p.value.data.set(read(p.name, p.value.shape).data);
    }
  }
  // Batch norm statistics in the encoder, named as GraphWriter names them.
  model.encoder
    .filter((l) => l instanceof BatchNormalization)
    .forEach((layer, i) => {
      const stats = [
        [`running_mean${i + 1}`, layer.runningMean],
        [`running_var${i + 1}`, layer.runningVar],
      ] as const;
      for (const [name, value] of stats) value.data.set(read(name, value.shape).data);
    });
  const expected = decodeModelProto(exportCaptionerOnnx(model), fileName).graph!;
  const difference = graphDifference(graph, expected);
  if (difference !== null) {
    throw new OnnxError(
      `${fileName}: not the graph zerodl's captioner export writes for its spec (${difference})`,
    );
  }
  return model;
}

/**
 * The first difference between two graphs' nodes (operator, inputs, outputs, attributes) and
 * initializers (name and shape), or null: whether a file is what zerodl would export.
 */
export function graphDifference(a: GraphProto, b: GraphProto): string | null {
  const node = (n: GraphProto["node"][number]) =>
    JSON.stringify([n.opType, n.input, n.output, n.attribute.map((x) => [x.name, attributeValue(x)])]);
  for (let i = 0; i < Math.max(a.node.length, b.node.length); i++) {
    const [x, y] = [a.node[i], b.node[i]];
    if (x === undefined || y === undefined) return `${a.node.length} nodes, expected ${b.node.length}`;
    if (node(x) !== node(y)) return `node ${i + 1} is ${node(x)}, expected ${node(y)}`;
  }
  const init = (g: GraphProto) => g.initializer.map((t) => `${t.name} [${t.dims.join(", ")}]`).sort();
  const [x, y] = [init(a), init(b)];
  const missing = y.find((t) => !x.includes(t));
  if (missing !== undefined) return `no initializer ${missing}`;
  const extra = x.find((t) => !y.includes(t));
  if (extra !== undefined) return `an unexpected initializer ${extra}`;
  return null;
}
