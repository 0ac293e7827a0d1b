/**
 * The safetensors format (https://huggingface.co/docs/safetensors), pure and browser-safe:
 *
 *   8 bytes   N, the header length, unsigned little-endian 64-bit
 *   N bytes   UTF-8 JSON: { "__metadata__": {string: string}, name: {dtype, shape, data_offsets: [begin, end]}, … }
 *             padded with spaces so the data starts 8-byte aligned
 *   rest      the tensors' bytes, little-endian, contiguous, in header order, no holes
 *
 * Offsets are relative to the start of the data section. Decoding checks every one of these rules
 * and names the file in its errors, because a model file is the thing users pass around.
 */

export type SafetensorsDType = "F16" | "F32" | "F64";
const DTYPE_BYTES: Record<SafetensorsDType, number> = { F16: 2, F32: 4, F64: 8 };
const KNOWN_DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDType[];
/** dtypes of the spec that zerodl does not read (named in the error so it is clear the file is valid). */
const OTHER_SPEC_DTYPES = [
  "BOOL",
  "U8",
  "I8",
  "I16",
  "U16",
  "BF16",
  "I32",
  "U32",
  "I64",
  "U64",
  "F8_E4M3",
  "F8_E5M2",
];
/** What a tensor's entry in the header holds. */
const TENSOR_FIELDS = ["dtype", "shape", "data_offsets"];
/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length is usually huge). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorToEncode {
  name: string;
  data: Float32Array | Float64Array;
  shape: readonly number[];
  /** Storage type; defaults to the array's own precision (F32 or F64). F16 rounds to nearest even. */
  dtype?: SafetensorsDType;
}

export interface DecodedTensor {
  name: string;
  /** The dtype as stored in the file. */
  dtype: SafetensorsDType;
  shape: number[];
  /** F64 → Float64Array; F32 and F16 → Float32Array (every float16 is exact in float32). */
  data: Float32Array | Float64Array;
}

export interface SafetensorsContents {
  /** In file order (ascending data offsets). */
  tensors: DecodedTensor[];
  metadata: Record<string, string>;
}

/** Thrown for a file that is not valid safetensors; the message starts with the file name. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

export function encodeSafetensors(
  tensors: readonly TensorToEncode[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        throw new TypeError(`safetensors metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const layout: { t: TensorToEncode; dtype: SafetensorsDType; begin: number }[] = [];
  for (const t of tensors) {
    if (t.name === "__metadata__") throw new Error(`"__metadata__" is reserved and cannot name a tensor`);
    if (t.name in header) throw new Error(`duplicate tensor name "${t.name}"`);
    const size = t.shape.reduce((p, d) => p * d, 1);
    if (size !== t.data.length) {
      throw new Error(
        `tensor "${t.name}": shape [${t.shape.join(", ")}] needs ${size} values, got ${t.data.length}`,
      );
    }
    const dtype = t.dtype ?? (t.data instanceof Float64Array ? "F64" : "F32");
    const bytes = size * DTYPE_BYTES[dtype];
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    layout.push({ t, dtype, begin: offset });
    offset += bytes;
  }

  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20); // spaces: still valid JSON, as the spec allows
    p.set(json);
    json = p;
  }

  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const { t, dtype, begin } of layout) writeData(view, base + begin, t.data, dtype);
  return out;
}

export interface DecodeOptions {
  /** Refuse NaN and ±Infinity values (a model's weights must be finite). Default false. */
  finite?: boolean;
}

export function decodeSafetensors(
  bytes: Uint8Array,
  fileName: string,
  options: DecodeOptions = {},
): SafetensorsContents {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${fileName}: ${what}`);
  };
  if (bytes.length < 8) {
    fail(`truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(
      `header length ${headerLength} goes beyond the file (${bytes.length} bytes): truncated or not safetensors`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} is over the 100 MB limit`);
  const n = Number(headerLength);
  if (n < 2 || bytes[8] !== 0x7b /* { */) fail(`header does not start with "{": not a safetensors file`);

  let header: unknown;
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail(`header is not a JSON object`);
  // JSON.parse keeps the last of two equal keys silently: two tensors of one name would be one.
  const twice = duplicateKey(text);
  if (twice)
    fail(
      `header has the key ${JSON.stringify(twice.key)} twice${twice.in ? ` in ${JSON.stringify(twice.in)}` : ""}`,
    );

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] =
    [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        fail(`__metadata__ is not an object`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof info !== "object" || info === null || Array.isArray(info))
      fail(`tensor "${name}": entry is not an object`);
    const unknown = Object.keys(info!).filter((k) => !TENSOR_FIELDS.includes(k));
    if (unknown.length > 0) {
      fail(
        `tensor "${name}": unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} (an entry has ${TENSOR_FIELDS.join(", ")})`,
      );
    }
    const { dtype, shape, data_offsets: offsets } = info!;
    if (typeof dtype !== "string" || !(KNOWN_DTYPES as string[]).includes(dtype)) {
      const known = typeof dtype === "string" && OTHER_SPEC_DTYPES.includes(dtype);
      fail(
        `tensor "${name}": ${known ? "unsupported" : "unknown"} dtype ${JSON.stringify(dtype)}; ` +
          `zerodl reads ${KNOWN_DTYPES.join(", ")}`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end] with begin ≤ end`);
    }
    const [begin, end] = offsets as number[];
    const s = shape as number[];
    const needed = s.reduce((p, d) => p * d, 1) * DTYPE_BYTES[dtype as SafetensorsDType];
    if (end - begin !== needed) {
      fail(
        `tensor "${name}": shape [${s.join(", ")}] of ${dtype} needs ${needed} bytes, ` +
          `but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: s, begin, end });
  }

  // The data section must be covered exactly: sorted by offset, each tensor starts where the last ended.
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin < expected)
      fail(`tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] overlap the previous tensor`);
    if (e.begin > expected)
      fail(`gap in the data before tensor "${e.name}" (bytes ${expected}–${e.begin} unused)`);
    expected = e.end;
  }
  if (expected > dataLength) {
    fail(`truncated: the tensors need ${expected} data bytes, the file has ${dataLength}`);
  }
  if (expected < dataLength) fail(`${dataLength - expected} bytes after the last tensor are not indexed`);

  const tensors = entries.map((e): DecodedTensor => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    data: readData(view, dataStart + e.begin, e.end - e.begin, e.dtype),
  }));
  if (options.finite) {
    for (const t of tensors) {
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        let count = 0;
        for (const v of t.data) if (!Number.isFinite(v)) count++;
        fail(
          `tensor "${t.name}" has ${count} non-finite value${count > 1 ? "s" : ""} (the first, ${t.data[bad]}, at index ${bad})`,
        );
      }
    }
  }
  return { tensors, metadata };
}

/**
 * The first key that appears twice in one object of `json` (valid JSON text), and the key of the
 * object it is in (undefined at the top level); null when every object's keys are distinct.
 */
function duplicateKey(json: string): { key: string; in?: string } | null {
  // One entry per open object (its keys so far, and its own key) or array (null).
  const open: ({ keys: Set<string>; name?: string } | null)[] = [];
  let lastKey: string | undefined;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      let k = j + 1;
      while (k < json.length && " \t\n\r".includes(json[k])) k++;
      const top = open[open.length - 1];
      if (top && json[k] === ":") {
        const key = JSON.parse(json.slice(i, j + 1)) as string; // "\u0061" and "a" are one key
        if (top.keys.has(key)) return { key, in: top.name };
        top.keys.add(key);
        lastKey = key;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push({ keys: new Set(), name: lastKey });
    } else if (c === 0x5b /* [ */) {
      open.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
    }
  }
  return null;
}

function writeData(
  view: DataView,
  at: number,
  data: Float32Array | Float64Array,
  dtype: SafetensorsDType,
): void {
  switch (dtype) {
    case "F64":
      for (let i = 0; i < data.length; i++) view.setFloat64(at + 8 * i, data[i], true);
      return;
    case "F32":
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i], true);
      return;
    case "F16":
      for (let i = 0; i < data.length; i++) view.setUint16(at + 2 * i, toFloat16Bits(data[i]), true);
      return;
  }
}

function readData(
  view: DataView,
  at: number,
  bytes: number,
  dtype: SafetensorsDType,
): Float32Array | Float64Array {
  switch (dtype) {
    case "F64": {
      const out = new Float64Array(bytes / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(at + 8 * i, true);
      return out;
    }
    case "F32": {
      const out = new Float32Array(bytes / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(at + 4 * i, true);
      return out;
    }
    case "F16": {
      const out = new Float32Array(bytes / 2);
      for (let i = 0; i < out.length; i++) out[i] = fromFloat16Bits(view.getUint16(at + 2 * i, true));
      return out;
    }
  }
}

/**
 * IEEE 754 binary16 bits of `x`, rounded to nearest, ties to even (so a float32 or float64 input is
 * rounded once, never twice). Overflow gives ±Infinity, NaN gives the quiet NaN 0x7e00.
 */
export function toFloat16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal: a = m · 2^-24 with m < 1024. m = 1024 after rounding is the smallest normal, 0x0400.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a)
    e--; // log2 can be off by one just below a power of two
  else if (2 ** (e + 1) <= a) e++;
  if (e > 15) return sign | 0x7c00;
  let m = roundHalfEven((a / 2 ** e) * 1024) - 1024; // a / 2^e in [1, 2): scaling by powers of 2 is exact
  if (m === 1024) {
    m = 0; // rounded up into the next binade
    e++;
    if (e > 15) return sign | 0x7c00;
  }
  return sign | ((e + 15) << 10) | m;
}

/** The number a binary16 bit pattern stands for. */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f; // exact for the magnitudes used here
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
