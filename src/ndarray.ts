import { ShapeError, formatShape } from "./errors.js";

export type Floats = Float32Array | Float64Array;
export type DType = "float32" | "float64";
export type Shape = readonly number[];
/** Class indices, one per sample. One-hot targets are converted at the data edge. */
export type Labels = Int32Array;

export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function dtypeOf(data: Floats): DType {
  return data instanceof Float64Array ? "float64" : "float32";
}

/**
 * Where float buffers come from. The reference backend uses plain typed arrays; a fast backend may
 * install an allocator that places them in its own (WASM) memory so kernels run without copies.
 */
export interface Allocator {
  float32(size: number): Float32Array;
}
const heapAllocator: Allocator = { float32: (size) => new Float32Array(size) };
let allocator: Allocator = heapAllocator;

export function setAllocator(a: Allocator | null): void {
  allocator = a ?? heapAllocator;
}

export function allocFloats(dtype: DType, size: number): Floats {
  return dtype === "float64" ? new Float64Array(size) : allocator.float32(size);
}

/** A dense row-major array of floats. No math lives here: see `ops/`. */
export class NDArray {
  readonly data: Floats;
  readonly shape: Shape;

  constructor(data: Floats, shape: Shape) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${formatShape(shape)}`);
    }
    if (shapeSize(shape) !== data.length) {
      throw new ShapeError(
        `shape ${formatShape(shape)} needs ${shapeSize(shape)} values, got ${data.length}`,
      );
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  static zeros(shape: Shape, dtype: DType = "float32"): NDArray {
    return new NDArray(allocFloats(dtype, shapeSize(shape)), shape);
  }

  static full(shape: Shape, value: number, dtype: DType = "float32"): NDArray {
    const a = NDArray.zeros(shape, dtype);
    a.data.fill(value);
    return a;
  }

  /** From a flat list of numbers (shape defaults to 1-D) or nested arrays (shape inferred). */
  static from(values: ArrayLike<number> | NestedNumbers, shape?: Shape, dtype: DType = "float32"): NDArray {
    const { flat, inferred } = flatten(values);
    const a = NDArray.zeros(shape ?? inferred, dtype);
    if (flat.length !== a.size) {
      throw new ShapeError(`shape ${formatShape(a.shape)} needs ${a.size} values, got ${flat.length}`);
    }
    a.data.set(flat);
    return a;
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }
  get size(): number {
    return this.data.length;
  }
  get ndim(): number {
    return this.shape.length;
  }

  /** A view with another shape over the same data; one dimension may be -1. */
  reshape(...shape: number[]): NDArray {
    const s = shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as unknown as number[]) : shape;
    const free = s.indexOf(-1);
    if (free >= 0) {
      const known = s.reduce((p, d, i) => (i === free ? p : p * d), 1);
      const out = [...s];
      out[free] = known === 0 ? 0 : this.size / known;
      if (!Number.isInteger(out[free])) {
        throw new ShapeError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(s)}`);
      }
      return new NDArray(this.data, out);
    }
    if (shapeSize(s) !== this.size) {
      throw new ShapeError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(s)}`);
    }
    return new NDArray(this.data, s);
  }

  /** Rows × features view: the first axis kept, the rest flattened (as Affine sees N-D input). */
  flatten2d(): NDArray {
    if (this.ndim === 0) return this.reshape(1, this.size);
    // The features from the shape, not size / N: an empty batch (0, 784) still has 784 per row.
    return this.reshape(this.shape[0], shapeSize(this.shape.slice(1)));
  }

  clone(): NDArray {
    const a = NDArray.zeros(this.shape, this.dtype);
    a.data.set(this.data);
    return a;
  }

  /** A copy in another precision. */
  astype(dtype: DType): NDArray {
    const a = NDArray.zeros(this.shape, dtype);
    a.data.set(this.data);
    return a;
  }

  /** A copy of rows [start, end) along the first axis. */
  sliceRows(start: number, end: number): NDArray {
    const row = this.shape.length === 0 ? 1 : this.size / (this.shape[0] || 1);
    const a = NDArray.zeros([end - start, ...this.shape.slice(1)], this.dtype);
    a.data.set(this.data.subarray(start * row, end * row));
    return a;
  }

  /** A copy of the given rows (first axis), in order. */
  takeRows(indices: ArrayLike<number>): NDArray {
    const row = this.size / (this.shape[0] || 1);
    const a = NDArray.zeros([indices.length, ...this.shape.slice(1)], this.dtype);
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      a.data.set(this.data.subarray(r * row, (r + 1) * row), i * row);
    }
    return a;
  }

  get(...index: number[]): number {
    return this.data[this.offset(index)];
  }

  set(value: number, ...index: number[]): void {
    this.data[this.offset(index)] = value;
  }

  private offset(index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ShapeError(`index of ${index.length} axes into shape ${formatShape(this.shape)}`);
    }
    let off = 0;
    for (let i = 0; i < index.length; i++) {
      if (index[i] < 0 || index[i] >= this.shape[i]) {
        throw new RangeError(
          `index [${index.join(", ")}] out of bounds for shape ${formatShape(this.shape)}`,
        );
      }
      off = off * this.shape[i] + index[i];
    }
    return off;
  }

  /** Nested plain arrays, for printing and tests. */
  toArray(): NestedNumbers {
    const build = (axis: number, off: number): NestedNumbers => {
      if (axis === this.shape.length) return [this.data[off]] as NestedNumbers;
      const stride = shapeSize(this.shape.slice(axis + 1));
      const out: NestedNumbers[] = [];
      for (let i = 0; i < this.shape[axis]; i++) {
        out.push(
          axis === this.shape.length - 1 ? (this.data[off + i] as never) : build(axis + 1, off + i * stride),
        );
      }
      return out as NestedNumbers;
    };
    return this.shape.length === 0 ? ([this.data[0]] as NestedNumbers) : build(0, 0);
  }

  toString(): string {
    return `NDArray${formatShape(this.shape)} ${this.dtype}`;
  }
}

export type NestedNumbers = number[] | NestedNumbers[];

function flatten(values: ArrayLike<number> | NestedNumbers): { flat: number[]; inferred: number[] } {
  const inferred: number[] = [];
  let v: unknown = values;
  while (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const arr = v as ArrayLike<unknown>;
    inferred.push(arr.length);
    v = arr[0];
  }
  const flat: number[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (Array.isArray(x) || ArrayBuffer.isView(x)) {
      const arr = x as ArrayLike<unknown>;
      if (arr.length !== inferred[depth]) {
        throw new ShapeError(
          `ragged nested array: length ${arr.length} at depth ${depth}, expected ${inferred[depth]}`,
        );
      }
      for (let i = 0; i < arr.length; i++) walk(arr[i], depth + 1);
    } else {
      if (depth !== inferred.length) throw new ShapeError(`ragged nested array at depth ${depth}`);
      flat.push(x as number);
    }
  };
  walk(values, 0);
  return { flat, inferred };
}
