/**
 * ONNX protobuf messages: the official onnx.proto (ONNX 1.12, IR version 8, beside this file)
 * compiled to TypeScript by protoc-gen-es for @bufbuild/protobuf (scripts/gen-onnx-proto.sh), and
 * the few helpers both directions need: tensors to and from float arrays, attributes by name.
 * Pure and browser-safe.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType as DataType,
  TensorProtoSchema,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "./onnx_pb.js";

export { AttrType, DataType };
export type { AttributeProto, ModelProto, NodeProto, TensorProto };

/** Thrown for an ONNX file zerodl cannot read or a graph it cannot import; the message names the file. */
export class OnnxError extends Error {
  override name = "OnnxError";
}

export function encodeModelProto(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}

export function decodeModelProto(bytes: Uint8Array, fileName: string): ModelProto {
  try {
    return fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new OnnxError(`${fileName}: not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
}

/** A float32 tensor with raw little-endian data, as ONNX Runtime and PyTorch write them. */
export function floatTensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: DataType.FLOAT,
    rawData: bytes,
  });
}

/** An int64 tensor (axes, shapes) with raw little-endian data. */
export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorProto {
  const bytes = new Uint8Array(data.length * 8);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: DataType.INT64,
    rawData: bytes,
  });
}

/** A constant read from a file: its shape and values as numbers (float or integer). */
export interface Constant {
  dims: number[];
  data: Float32Array | Float64Array | number[];
}

/** The values of a tensor proto (float, double, int32/64 in raw or typed fields). */
export function readTensor(t: TensorProto, where: string): Constant {
  const dims = t.dims.map(Number);
  const size = dims.reduce((p, d) => p * d, 1);
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new OnnxError(
      `${where}: tensor "${t.name}" keeps its data in an external file, which zerodl does not read`,
    );
  }
  const raw = t.rawData;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const fromRaw = <T>(bytes: number, read: (offset: number) => T): T[] | null => {
    if (raw.length === 0) return null;
    if (raw.length !== size * bytes) {
      throw new OnnxError(
        `${where}: tensor "${t.name}" has ${raw.length} bytes of data, its shape [${dims.join(", ")}] needs ${size * bytes}`,
      );
    }
    return Array.from({ length: size }, (_, i) => read(i * bytes));
  };
  let data: Float32Array | Float64Array | number[];
  switch (t.dataType) {
    case DataType.FLOAT:
      data = Float32Array.from(fromRaw(4, (o) => view.getFloat32(o, true)) ?? t.floatData);
      break;
    case DataType.DOUBLE:
      data = Float64Array.from(fromRaw(8, (o) => view.getFloat64(o, true)) ?? t.doubleData);
      break;
    case DataType.INT64:
      data = fromRaw(8, (o) => Number(view.getBigInt64(o, true))) ?? t.int64Data.map(Number);
      break;
    case DataType.INT32:
      data = fromRaw(4, (o) => view.getInt32(o, true)) ?? [...t.int32Data];
      break;
    default:
      throw new OnnxError(
        `${where}: tensor "${t.name}" has data type ${DataType[t.dataType] ?? t.dataType}; zerodl reads FLOAT, DOUBLE, INT32 and INT64`,
      );
  }
  if (data.length !== size) {
    throw new OnnxError(
      `${where}: tensor "${t.name}" has ${data.length} values, its shape [${dims.join(", ")}] needs ${size}`,
    );
  }
  return { dims, data };
}

/** Node attributes to write, by name: a number is an INT (integer) or FLOAT, an array INTS. */
export type AttributeValues = Record<string, number | readonly number[] | string | { float: number }>;

export function attributes(values: AttributeValues): AttributeProto[] {
  return Object.entries(values).map(([name, v]) => {
    if (typeof v === "string") {
      return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(v) });
    }
    if (typeof v === "object" && "float" in v) {
      return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: v.float });
    }
    if (typeof v === "number") {
      if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; pass { float }`);
      return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(v) });
    }
    return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: v.map(BigInt) });
  });
}

/** An attribute's value as a number, a list of numbers or a string. */
export function attributeValue(a: AttributeProto): number | number[] | string | null {
  switch (a.type) {
    case AttrType.INT:
      return Number(a.i);
    case AttrType.FLOAT:
      return roundFloat32(a.f);
    case AttrType.INTS:
      return a.ints.map(Number);
    case AttrType.FLOATS:
      return a.floats.map(roundFloat32);
    case AttrType.STRING:
      return new TextDecoder().decode(a.s);
    default:
      return null;
  }
}

/**
 * A float32 value as the shortest decimal that rounds to it, since attributes are stored in float32:
 * PyTorch's eps 1e-5 reads 1e-5, not 9.999999747378752e-6.
 */
export function roundFloat32(v: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const r = Number(v.toPrecision(digits));
    if (Math.fround(r) === Math.fround(v)) return r;
  }
  return v;
}
