/**
 * What the fuzz tests feed, to which reader: for each file kind, seed files derived from real ones,
 * the reader, the error classes a bad file may raise, format-aware mutations, and a check of what
 * a file that loads gave back.
 */
import { readFileSync } from "node:fs";
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { decodeIdx, mnistImages, mnistLabels } from "../../src/data/idx.js";
import { parseMnistCsv } from "../../src/data/csv.js";
import { DataError } from "../../src/data/errors.js";
import { MAX_IMAGE_PIXELS, crc32, decodePicture } from "../../src/io/image-decode.js";
import { ModelFileError, decodeModel, encodeModel, modelInfo } from "../../src/io/model-file.js";
import { SafetensorsError, decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { createModel, type Model, type ModelSpec } from "../../src/models/model.js";
import { Rng } from "../../src/rng.js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { exportOnnx, type OnnxExportable } from "../../src/io/onnx/export.js";
import { importOnnx, importableOperators } from "../../src/io/onnx/import.js";
import { OnnxError } from "../../src/io/onnx/proto.js";
import {
  AttributeProto_AttributeType,
  ModelProtoSchema,
  TensorProto_DataType,
  type ModelProto,
} from "../../src/io/onnx/onnx_pb.js";
import { NDArray } from "../../src/ndarray.js";
import { genericMutators, join, type Mutator } from "./mutate.js";

export interface FuzzTarget {
  name: string;
  /** The file name every error message must start with. */
  fileName: string;
  seeds: readonly Uint8Array[];
  mutators: readonly Mutator[];
  /** Reads the file; resolves to a problem with what it returned, or null when that is sound. */
  read(bytes: Uint8Array, fileName: string): Promise<string | null> | string | null;
  /** The errors a bad file may raise (their messages must start with the file name). */
  errors: readonly (abstract new (...args: never[]) => Error)[];
}

const root = new URL("../../", import.meta.url);
const file = (path: string) => new Uint8Array(readFileSync(new URL(path, root)));
const product = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

// ---------------------------------------------------------------------------------------------
// Model files (safetensors)

/** Specs of the seed models: a file whose spec is one of these is also rebuilt into its model. */
const buildableSpecs = new Set<string>();

function modelSeeds(): Uint8Array[] {
  // The shipped TwoLayerNet, its history cut to 20 iterations so that a case costs ~1 ms.
  const real = decodeSafetensors(file("models/two-layer.safetensors"), "two-layer.safetensors");
  const history = JSON.parse(real.metadata.history) as { loss: number[] };
  const metadata = {
    ...real.metadata,
    history: JSON.stringify({ ...history, loss: history.loss.slice(0, 20) }),
  };
  const twoLayer = encodeSafetensors(
    real.tensors.map((t) => ({ name: t.name, data: t.data, shape: t.shape, dtype: t.dtype })),
    metadata,
  );
  buildableSpecs.add(real.metadata.spec);

  // Small networks of other kinds, with batch norm statistics, float16 storage, optimizer state.
  const rng = new Rng(5);
  const extend = createModel(
    {
      kind: "multi-layer-extend",
      inputShape: [6],
      outputSize: 3,
      hiddenSizeList: [5, 4],
      useBatchnorm: true,
      useDropout: true,
      dropoutRatio: 0.3,
    } as ModelSpec,
    rng,
  );
  const conv = createModel(
    {
      kind: "simple-conv",
      inputShape: [1, 6, 6],
      outputSize: 2,
      filterNum: 2,
      filterSize: 3,
      hiddenSize: 4,
    } as ModelSpec,
    rng,
  );
  for (const m of [extend, conv]) buildableSpecs.add(JSON.stringify(m.spec));
  const record = { training: { lr: 0.1, epochs: 2 }, results: { testAcc: 0.5 } };
  return [
    twoLayer,
    encodeModel(extend, record, { half: true }),
    encodeModel(conv, record, { optimizerState: { "W1/m": new Float32Array(18).fill(0.25) } }),
  ];
}

/** Edits of the JSON header as text, with the 8-byte length rewritten to fit (most of the time). */
const headerMutator: Mutator = (bytes, rng) => {
  if (bytes.length < 8) return { bytes, what: "no header to edit" };
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n > bytes.length - 8) return { bytes, what: "header length beyond the file" };
  let text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const edits = [
    () => {
      // A number changed: sizes, offsets, shapes.
      const numbers = [...text.matchAll(/\d+/g)];
      if (numbers.length === 0) return "no number";
      const m = numbers[rng.int(numbers.length)];
      const value = [0, 1, 2, 3, 4, 7, 8, 255, 65536, 2 ** 31, 2 ** 53, Number(m[0]) + 1, Number(m[0]) - 1][
        rng.int(13)
      ];
      text = text.slice(0, m.index) + String(value) + text.slice(m.index + m[0].length);
      return `number ${m[0]} → ${value}`;
    },
    () => {
      // A tensor's entry repeated under the same name.
      const entry = text.match(/"[^"]+":\{"dtype":[^}]*\}/);
      if (!entry) return "no entry";
      text = text.replace(/\}\s*$/, `,${entry[0]}}`);
      return `entry ${entry[0].slice(0, 20)}… repeated`;
    },
    () => {
      const dtypes = ["F16", "F32", "F64", "BF16", "I64", "U8", "F8_E4M3", "f32", ""];
      const to = dtypes[rng.int(dtypes.length)];
      text = text.replace(/"dtype":"[^"]*"/, `"dtype":"${to}"`);
      return `a dtype → "${to}"`;
    },
    () => {
      // A key of the metadata or of an entry renamed, repeated or given another type.
      const keys = [...text.matchAll(/"([a-z_]+)":/g)];
      if (keys.length === 0) return "no key";
      const k = keys[rng.int(keys.length)];
      const to = ['"shape":', '"data_offsets":', '"__metadata__":', '"x":', '"dtype":'][rng.int(5)];
      text = text.slice(0, k.index) + to + text.slice(k.index + k[0].length);
      return `key ${k[1]} → ${to}`;
    },
    () => {
      const at = rng.int(text.length + 1);
      const ins = ['"', "{", "}", "[", "]", ",", ":", "null", "1e400", "-1", "\\u0000", "NaN"][rng.int(12)];
      text = text.slice(0, at) + ins + text.slice(at);
      return `${ins} inserted at ${at}`;
    },
  ];
  const what = edits[rng.int(edits.length)]();
  const header = new TextEncoder().encode(text);
  const keepLength = rng.uniform() < 0.15;
  const out = new Uint8Array(8 + header.length + (bytes.length - 8 - n));
  new DataView(out.buffer).setBigUint64(0, BigInt(keepLength ? n : header.length), true);
  out.set(header, 8);
  out.set(bytes.subarray(8 + n), 8 + header.length);
  return { bytes: out, what: `header: ${what}${keepLength ? " (old length kept)" : ""}` };
};

export function modelFileTarget(): FuzzTarget {
  return {
    name: "safetensors model files",
    fileName: "m.safetensors",
    seeds: modelSeeds(),
    mutators: [...genericMutators, headerMutator, headerMutator, headerMutator],
    errors: [SafetensorsError, ModelFileError],
    read(bytes, name) {
      const contents = decodeSafetensors(bytes, name, { finite: true });
      for (const t of contents.tensors) {
        if (t.data.length !== product(t.shape))
          return `tensor ${t.name}: ${t.data.length} values for [${t.shape}]`;
        if (t.data.some((v) => !Number.isFinite(v))) return `tensor ${t.name} holds a non-finite value`;
      }
      const info = modelInfo(contents, name);
      if (!Number.isFinite(info.parameterCount)) return `parameter count ${info.parameterCount}`;
      // Rebuilding is bounded only for known architectures (a mutated spec could ask for any size).
      if (buildableSpecs.has(JSON.stringify(info.spec))) {
        const { model } = decodeModel(bytes, name, (spec, dtype) =>
          createModel(spec as ModelSpec, new Rng(0), dtype),
        );
        if (model.params.some((p) => p.value.data.some((v) => !Number.isFinite(v))))
          return "non-finite weights";
      }
      return null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// IDX (MNIST's format), plain and gzip

function idxSeeds(): Uint8Array[] {
  // The first 20 test images and labels of the real MNIST files, with the counts set to 20.
  const images = realIdx("data/mnist/t10k-images-idx3-ubyte.gz", 16 + 20 * 784);
  new DataView(images.buffer).setUint32(4, 20);
  const labels = realIdx("data/mnist/t10k-labels-idx1-ubyte.gz", 8 + 20);
  new DataView(labels.buffer).setUint32(4, 20);
  // An int32 file (type 0x0c) of two dimensions, big-endian.
  const ints = new Uint8Array(4 + 8 + 6 * 4);
  const view = new DataView(ints.buffer);
  view.setUint32(0, 0x0c02);
  view.setUint32(4, 2);
  view.setUint32(8, 3);
  for (let i = 0; i < 6; i++) view.setInt32(12 + 4 * i, (i - 3) * 100_000);
  return [images, labels, ints, new Uint8Array(gzipSync(labels)), new Uint8Array(gzipSync(images))];
}

/** The first `bytes` bytes of one of the bundled (gzip) MNIST files, uncompressed. */
function realIdx(path: string, bytes: number): Uint8Array {
  return new Uint8Array(gunzipSync(file(path))).slice(0, bytes);
}

const idxHeaderMutator: Mutator = (bytes, rng) => {
  const out = Uint8Array.from(bytes);
  if (out.length < 8 || out[0] === 0x1f) return { bytes: out, what: "no IDX header" };
  const view = new DataView(out.buffer);
  const field = rng.int(4);
  if (field === 0) out[2] = [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0a, 0x00][rng.int(8)];
  else if (field === 1) out[3] = rng.int(6);
  else {
    const dims = Math.min(out[3], (out.length - 4) >> 2);
    if (dims === 0) return { bytes: out, what: "no dimension" };
    const d = rng.int(dims);
    const old = view.getUint32(4 + 4 * d);
    view.setUint32(4 + 4 * d, [0, 1, old + 1, old - 1, old * 2, 0xffffffff, 28, 784][rng.int(8)] >>> 0);
  }
  return { bytes: out, what: `IDX header field ${field} changed` };
};

export function idxTarget(): FuzzTarget {
  return {
    name: "IDX files",
    fileName: "t10k-images-idx3-ubyte",
    seeds: idxSeeds(),
    mutators: [...genericMutators, idxHeaderMutator, idxHeaderMutator],
    errors: [DataError],
    async read(bytes, name) {
      const idx = await decodeIdx(bytes, name);
      if (idx.data.length !== product(idx.shape)) return `${idx.data.length} values for ${idx.shape}`;
      if (idx.type === "uint8" && idx.shape.length === 1) mnistLabels(idx, name);
      if (idx.type === "uint8" && idx.shape.length === 3) mnistImages(idx, name, 28, 28);
      return null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PNG and JPEG pictures

const pngCrcFixer: Mutator = (bytes, rng, others) => {
  // A generic mutation, then every chunk's CRC made right again, so the reader looks further.
  const m = genericMutators[rng.int(genericMutators.length)](bytes, rng, others);
  const out = Uint8Array.from(m.bytes);
  const view = new DataView(out.buffer);
  for (let at = 8; at + 12 <= out.length;) {
    const length = view.getUint32(at);
    if (at + 12 + length > out.length) break;
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
  return { bytes: out, what: `${m.what}, CRCs fixed` };
};

/** Bytes of the inflated scanlines changed (filter bytes too), then deflated into one valid IDAT. */
const pngPixelMutator: Mutator = (bytes, rng) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) return { bytes, what: "cut chunk" };
    chunks.push({
      type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)),
      data: bytes.subarray(at + 8, at + 8 + length),
    });
    at += 12 + length;
  }
  const idat = chunks.filter((c) => c.type === "IDAT");
  if (idat.length === 0) return { bytes, what: "no IDAT" };
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(join(...idat.map((c) => c.data))));
  } catch {
    return { bytes, what: "IDAT does not inflate" };
  }
  const k = 1 + rng.int(4);
  for (let i = 0; i < k && raw.length > 0; i++)
    raw[rng.int(raw.length)] = rng.uniform() < 0.5 ? rng.int(8) : rng.int(256);
  if (rng.uniform() < 0.2) raw = raw.slice(0, rng.int(raw.length + 1));
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let wroteIdat = false;
  for (const c of chunks) {
    if (c.type === "IDAT") {
      if (wroteIdat) continue;
      wroteIdat = true;
    }
    const data = c.type === "IDAT" ? new Uint8Array(deflateSync(raw)) : c.data;
    const chunk = new Uint8Array(12 + data.length);
    const v = new DataView(chunk.buffer);
    v.setUint32(0, data.length);
    chunk.set(new TextEncoder().encode(c.type), 4);
    chunk.set(data, 8);
    v.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
    parts.push(chunk);
  }
  return { bytes: join(...parts), what: `${k} scanline bytes changed, re-deflated` };
};

const ihdrMutator: Mutator = (bytes, rng) => {
  const out = Uint8Array.from(bytes);
  if (out.length < 33) return { bytes: out, what: "no IHDR" };
  const view = new DataView(out.buffer);
  const field = rng.int(5);
  if (field < 2) view.setUint32(16 + 4 * field, [0, 1, 27, 29, 65535, 1 << 20, 0x7fffffff][rng.int(7)]);
  else out[24 + field - 2] = rng.int(20); // bit depth, colour type, compression
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return { bytes: out, what: `IHDR field ${field} changed, CRC fixed` };
};

export function pngTarget(): FuzzTarget {
  return pictureTarget(
    "PNG pictures",
    "x.png",
    [
      "digit7-gray.png",
      "digit2-palette.png",
      "digit1-1bit.png",
      "digit0-16bit.png",
      "digit7-rgb.png",
      "digit2-la.png",
    ],
    [
      ...genericMutators,
      pngCrcFixer,
      pngCrcFixer,
      pngCrcFixer,
      ihdrMutator,
      pngPixelMutator,
      pngPixelMutator,
    ],
  );
}

const sofMutator: Mutator = (bytes, rng) => {
  const out = Uint8Array.from(bytes);
  const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] >= 0xc0 && out[i + 1] <= 0xc2);
  if (sof < 0 || sof + 10 > out.length) return { bytes: out, what: "no frame header" };
  const field = rng.int(4);
  const value = [0, 1, 8, 27, 255, 4096, 65535][rng.int(7)];
  if (field < 2) out.set([value >> 8, value & 255], sof + 5 + 2 * field);
  else if (field === 2)
    out[sof + 9] = value & 7; // components
  else out[sof + 1] = 0xc0 + rng.int(16);
  return { bytes: out, what: `frame header field ${field} → ${value}` };
};

export function jpegTarget(): FuzzTarget {
  return pictureTarget(
    "JPEG pictures",
    "x.jpg",
    ["digit7-gray.jpg", "digit0-rgb.jpg", "digit7-progressive.jpg"],
    [...genericMutators, sofMutator],
  );
}

function pictureTarget(name: string, fileName: string, seeds: string[], mutators: Mutator[]): FuzzTarget {
  return {
    name,
    fileName,
    seeds: seeds.map((f) => file(`test/fixtures/images/${f}`)),
    mutators,
    errors: [DataError],
    read(bytes, shownName) {
      const image = decodePicture(bytes, shownName);
      const { width, height, data } = image;
      if (!(width >= 1 && height >= 1 && width * height <= MAX_IMAGE_PIXELS))
        return `size ${width}×${height}`;
      if (data.length !== 4 * width * height) return `${data.length} bytes for ${width}×${height}`;
      return null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MNIST CSV

function csvSeeds(): Uint8Array[] {
  const images = realIdx("data/mnist/t10k-images-idx3-ubyte.gz", 16 + 4 * 784).subarray(16);
  const labels = realIdx("data/mnist/t10k-labels-idx1-ubyte.gz", 8 + 4).subarray(8);
  const rows = Array.from(labels, (label, i) =>
    [label, ...images.subarray(i * 784, (i + 1) * 784)].join(","),
  );
  const header = ["label", ...Array.from({ length: 784 }, (_, k) => `${1 + (k >> 5)}x${1 + (k % 28)}`)].join(
    ",",
  );
  const encode = (s: string) => new TextEncoder().encode(s);
  return [encode(`${rows.slice(0, 2).join("\n")}\n`), encode(`${header}\r\n${rows.slice(2).join("\r\n")}`)];
}

const csvTextMutator: Mutator = (bytes, rng) => {
  const text = new TextDecoder().decode(bytes);
  const at = rng.int(text.length + 1);
  const pieces = [",", "\n", "\r\n", "-", ".", "e", '"', " ", "\0", "é", "256", "1e1", "0x1", ",,", "\uFEFF"];
  const piece = pieces[rng.int(pieces.length)];
  const edits = [
    () => [text.slice(0, at) + piece + text.slice(at), `"${piece}" inserted at ${at}`],
    () => [text.slice(0, at) + piece + text.slice(at + 1), `character ${at} → "${piece}"`],
    () => {
      const lines = text.split("\n");
      const k = rng.int(lines.length);
      lines.splice(k, 0, lines[rng.int(lines.length)]);
      return [lines.join("\n"), `line copied to ${k}`];
    },
  ];
  const [out, what] = edits[rng.int(edits.length)]();
  return { bytes: new TextEncoder().encode(out), what };
};

export function csvTarget(): FuzzTarget {
  return {
    name: "MNIST CSV files",
    fileName: "train.csv",
    seeds: csvSeeds(),
    mutators: [...genericMutators, csvTextMutator, csvTextMutator, csvTextMutator],
    errors: [DataError],
    read(bytes, name) {
      // As loadMnistCsv reads a file: UTF-8, bad sequences replaced.
      const ds = parseMnistCsv(new TextDecoder().decode(bytes), name);
      const n = ds.labels.length;
      if (ds.x.size !== n * 784) return `${ds.x.size} values for ${n} rows`;
      if (ds.x.data.some((v) => !(v >= 0 && v <= 1))) return "a pixel outside [0, 1]";
      if (ds.labels.some((l) => !(l >= 0 && l <= 9))) return "a label outside 0..9";
      return null;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// ONNX models

/**
 * zerodl's own exports of two small networks (with its `zerodl_spec` metadata), and PyTorch's export
 * of the MLP in shared/fixtures/onnx (torch.onnx.export: Flatten, Gemm with transB, Sigmoid, Tanh)
 * cut down to 4×4 inputs: its input's shape and its first weight's columns, nothing else changed.
 */
function onnxSeeds(): Uint8Array[] {
  const rng = new Rng(6);
  const own = [
    {
      kind: "multi-layer-extend",
      inputShape: [6],
      outputSize: 3,
      hiddenSizeList: [5, 4],
      useBatchnorm: true,
      useDropout: true,
      dropoutRatio: 0.3,
    },
    { kind: "simple-conv", inputShape: [1, 6, 6], outputSize: 2, filterNum: 2, filterSize: 3, hiddenSize: 4 },
  ].map((spec) => exportOnnx(createModel(spec as ModelSpec, rng) as Model & OnnxExportable));
  const mlp = fromBinary(ModelProtoSchema, file("../shared/fixtures/onnx/mlp.onnx"));
  const graph = mlp.graph!;
  const dims = graph.input[0].type!.value.value as {
    shape?: { dim: { value: { case: string; value: unknown } }[] };
  };
  dims.shape!.dim[2].value = { case: "dimValue", value: 4n };
  dims.shape!.dim[3].value = { case: "dimValue", value: 4n };
  const w = graph.initializer.find((t) => t.name === "1.weight")!;
  const [rows, cols] = w.dims.map(Number);
  const cut = new Uint8Array(rows * 16 * 4);
  for (let r = 0; r < rows; r++) cut.set(w.rawData.subarray(r * cols * 4, (r * cols + 16) * 4), r * 16 * 4);
  w.rawData = cut;
  w.dims = [BigInt(rows), 16n];
  return [...own, toBinary(ModelProtoSchema, mlp)];
}

const EDGE_INTS = [0n, 1n, 2n, -1n, 3n, 7n, 1000n, 1n << 31n, -(1n << 62n), 1n << 40n];

/** Edits of the decoded model: a field set to an edge value, a node or tensor changed, then encoded again. */
const onnxStructureMutator: Mutator = (bytes, rng) => {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch {
    return { bytes, what: "not decodable" };
  }
  const graph = model.graph;
  if (!graph || graph.node.length === 0) return { bytes, what: "no graph" };
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[rng.int(xs.length)] : undefined);
  const edge = () => EDGE_INTS[rng.int(EDGE_INTS.length)];
  const edits: (() => string)[] = [
    () => {
      const node = pick(graph.node)!;
      const a = pick(node.attribute);
      if (!a) return `node ${node.name}: no attribute`;
      if (a.ints.length > 0) {
        const i = rng.int(a.ints.length);
        a.ints[i] = edge();
        if (rng.uniform() < 0.3) a.ints.pop();
        return `${node.opType} ${a.name}[${i}] → ${a.ints[i]}`;
      }
      if (rng.uniform() < 0.2) a.type = AttributeProto_AttributeType.STRING;
      a.i = edge();
      a.f = [0, -1, 1e30, NaN, Infinity, 0.5][rng.int(6)];
      return `${node.opType} ${a.name} → i ${a.i}, f ${a.f}, type ${a.type}`;
    },
    () => {
      const t = pick(graph.initializer);
      if (!t) return "no initializer";
      const what = rng.int(5);
      if (what === 0 && t.dims.length) t.dims[rng.int(t.dims.length)] = edge();
      else if (what === 1) t.dims = rng.uniform() < 0.5 ? t.dims.slice(1) : [...t.dims, 1n];
      else if (what === 2) t.dataType = [0, 1, 2, 6, 7, 10, 11, 16, 99][rng.int(9)] as TensorProto_DataType;
      else if (what === 3) t.rawData = t.rawData.slice(0, rng.int(t.rawData.length + 1));
      else if (t.rawData.length >= 4) {
        const at = 4 * rng.int(t.rawData.length >> 2);
        const raw = Uint8Array.from(t.rawData);
        new DataView(raw.buffer).setFloat32(at, [NaN, Infinity, -Infinity, 3e38][rng.int(4)], true);
        t.rawData = raw;
      }
      return `initializer ${t.name}: ${["a size", "the rank", "the data type", "the data cut", "a value"][what]} changed`;
    },
    () => {
      const node = pick(graph.node)!;
      const ops = [...importableOperators, "Concat", "GlobalAveragePool", "Elu", ""];
      const from = node.opType;
      node.opType = ops[rng.int(ops.length)];
      return `node ${node.name}: ${from} → ${node.opType}`;
    },
    () => {
      const node = pick(graph.node)!;
      const names = [
        ...graph.node.flatMap((n) => [...n.input, ...n.output]),
        ...graph.initializer.map((t) => t.name),
        "",
      ];
      const list = rng.uniform() < 0.5 ? node.input : node.output;
      if (list.length === 0 || rng.uniform() < 0.2) list.push(pick(names)!);
      else list[rng.int(list.length)] = pick(names)!;
      return `node ${node.name}: an input or output renamed`;
    },
    () => {
      const i = rng.int(graph.node.length);
      if (rng.uniform() < 0.5) graph.node.splice(i, 1);
      else graph.node.splice(rng.int(graph.node.length + 1), 0, graph.node[i]);
      return `node ${i} removed or repeated`;
    },
    () => {
      const input = pick(graph.input);
      const shape = (
        input?.type?.value.value as
          { shape?: { dim: { value: { case: string; value: unknown } }[] } } | undefined
      )?.shape;
      if (!shape || shape.dim.length === 0) return "no input shape";
      const d = shape.dim[rng.int(shape.dim.length)];
      d.value = rng.uniform() < 0.2 ? { case: "dimParam", value: "n" } : { case: "dimValue", value: edge() };
      return `input dim → ${String(d.value.value)}`;
    },
    () => {
      const o = pick(model.opsetImport);
      if (o) o.version = [0n, 6n, 7n, 11n, 13n, 18n, 1n << 40n][rng.int(7)];
      return `opset → ${o?.version}`;
    },
    () => {
      const p = pick(model.metadataProps);
      if (!p) return "no metadata";
      p.value = [
        "",
        "[]",
        '["a"]',
        "{",
        "null",
        p.value.replace(/\d+/, "0"),
        p.value.replace(/\d+/, "99999"),
      ][rng.int(7)];
      return `metadata ${p.key} → ${p.value.slice(0, 30)}`;
    },
  ];
  const what = edits[rng.int(edits.length)]();
  return { bytes: toBinary(ModelProtoSchema, model), what };
};

export function onnxTarget(): FuzzTarget {
  return {
    name: "ONNX models",
    fileName: "m.onnx",
    seeds: onnxSeeds(),
    // Most byte-level changes break the protobuf encoding at once; edits of the decoded model reach the importer.
    mutators: [...genericMutators, ...Array<Mutator>(8).fill(onnxStructureMutator)],
    errors: [OnnxError],
    read(bytes, name) {
      const { model, info } = importOnnx(bytes, name);
      if (!info.inputShape.every((d) => Number.isInteger(d) && d >= 1))
        return `input shape [${info.inputShape}]`;
      for (const p of model.params) {
        if (p.value.data.some((v) => !Number.isFinite(v))) return `param ${p.name} holds a non-finite value`;
      }
      if (product(info.inputShape) > 4096) return null; // sound; too large to predict on in a fuzz case
      const x = NDArray.zeros([2, ...info.inputShape]);
      const y = model.predict(x);
      if (y.shape.join() !== `2,${model.spec.outputSize}`) return `predict gave (${y.shape}) for 2 samples`;
      return null;
    },
  };
}

export const fuzzTargets = {
  safetensors: modelFileTarget,
  idx: idxTarget,
  png: pngTarget,
  jpeg: jpegTarget,
  csv: csvTarget,
  onnx: onnxTarget,
} as const;

export type FuzzTargetName = keyof typeof fuzzTargets;
