/**
 * The IDX file format of MNIST (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
 *
 *   magic    4 bytes: 0, 0, element type, number of dimensions
 *   sizes    one big-endian uint32 per dimension
 *   data     the elements, row-major, big-endian
 *
 * Label files have magic 2049 (0x00000801: unsigned bytes, 1 dimension) and image files 2051
 * (0x00000803: unsigned bytes, 3 dimensions). The parser reads any IDX file and checks the exact
 * length; the MNIST readers below add what the dataset promises (28×28 images, labels in range).
 */
import { gunzip, isGzip } from "./bytes.js";
import { DataError } from "./errors.js";

/** Element types of the IDX format and the typed arrays that hold them. */
export type IdxType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: its element type, its dimensions, and its elements in row-major order. */
export interface IdxArray {
  type: IdxType;
  shape: number[];
  data: IdxData;
}

export const bytesPerElement: Record<IdxType, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

export const LABELS_MAGIC = 2049;
export const IMAGES_MAGIC = 2051;

const typeCodes: Record<number, IdxType> = {
  0x08: "uint8",
  0x09: "int8",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/** Parses an uncompressed IDX file. `name` (the file's name) starts every error message. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (isGzip(bytes)) {
    throw new DataError(`${name}: is gzip-compressed; decompress it first (decodeIdx does)`);
  }
  if (bytes.length < 4) throw new DataError(`${name}: truncated: ${bytes.length} bytes, no IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = typeCodes[bytes[2]];
  const ndim = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || ndim === 0) {
    throw new DataError(
      `${name}: wrong magic number 0x${hex(magic)}: not an IDX file ` +
        `(labels have ${LABELS_MAGIC} = 0x${hex(LABELS_MAGIC)}, images ${IMAGES_MAGIC} = 0x${hex(IMAGES_MAGIC)})`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${name}: truncated: magic 0x${hex(magic)} announces ${ndim} dimensions (${headerBytes}-byte header), file has ${bytes.length} bytes`,
    );
  }
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i));

  const count = shape.reduce((p, d) => p * d, 1);
  const dataBytes = count * bytesPerElement[type];
  const found = bytes.length - headerBytes;
  if (found !== dataBytes) {
    const what = found < dataBytes ? "truncated" : "trailing bytes";
    throw new DataError(
      `${name}: ${what}: header says ${shape.join("×")} = ${dataBytes} bytes of ${dataKind(magic)}, file has ${found}`,
    );
  }
  return { type, shape, data: readElements(view, headerBytes, type, count) };
}

/** Parses an IDX file that may be gzip-compressed (as the published MNIST files are). */
export async function decodeIdx(bytes: Uint8Array, name: string): Promise<IdxArray> {
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, name) : bytes, name);
}

/** MNIST images: unsigned bytes, (count, height, width), of the given size. */
export function mnistImages(idx: IdxArray, name: string, height = 28, width = 28): Uint8Array {
  if (idx.type !== "uint8" || idx.shape.length !== 3) {
    throw new DataError(
      `${name}: not an image file: ${idx.type} data of ${idx.shape.length} dimensions, expected uint8 (count, height, width) with magic ${IMAGES_MAGIC}`,
    );
  }
  const [, h, w] = idx.shape;
  if (h !== height || w !== width) {
    throw new DataError(`${name}: wrong image size: ${h}×${w}, expected ${height}×${width}`);
  }
  return idx.data as Uint8Array;
}

/** MNIST labels: unsigned bytes, one per image, each below `classes`. */
export function mnistLabels(idx: IdxArray, name: string, classes = 10): Uint8Array {
  if (idx.type !== "uint8" || idx.shape.length !== 1) {
    throw new DataError(
      `${name}: not a label file: ${idx.type} data of ${idx.shape.length} dimensions, expected uint8 (count,) with magic ${LABELS_MAGIC}`,
    );
  }
  const labels = idx.data as Uint8Array;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) {
      throw new DataError(`${name}: label ${labels[i]} at index ${i} is out of range 0..${classes - 1}`);
    }
  }
  return labels;
}

function readElements(view: DataView, offset: number, type: IdxType, count: number): IdxData {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, count * bytesPerElement[type]);
  switch (type) {
    case "uint8":
      return bytes.slice(); // a copy, so the (large) file buffer can be freed
    case "int8":
      return new Int8Array(bytes.slice().buffer);
    case "int16":
      return readBigEndian(count, (i) => view.getInt16(offset + 2 * i), Int16Array);
    case "int32":
      return readBigEndian(count, (i) => view.getInt32(offset + 4 * i), Int32Array);
    case "float32":
      return readBigEndian(count, (i) => view.getFloat32(offset + 4 * i), Float32Array);
    case "float64":
      return readBigEndian(count, (i) => view.getFloat64(offset + 8 * i), Float64Array);
  }
}

function readBigEndian<T extends Int16Array | Int32Array | Float32Array | Float64Array>(
  count: number,
  get: (i: number) => number,
  Kind: new (n: number) => T,
): T {
  const out = new Kind(count);
  for (let i = 0; i < count; i++) out[i] = get(i);
  return out;
}

function dataKind(magic: number): string {
  if (magic === IMAGES_MAGIC) return "pixels";
  if (magic === LABELS_MAGIC) return "labels";
  return "data";
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}
