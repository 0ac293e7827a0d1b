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

// ---- where values live -------------------------------------------------------------------------

/** A device backend's copy of an array's values (WebGPU: a GPU buffer). Opaque here. */
export interface DeviceCopy {
  readonly device: Device;
}

/**
 * Where an array's values live. Views of one array (`reshape`) share its Storage, so moving the
 * values moves them for every view.
 * - `host`: the values as a typed array, or null while they live only on a device (or are not made yet).
 * - `device`: a device backend's copy, or null. Both set: the same values in both places.
 * - Both null: zeros not yet allocated; an op's output is allocated where its kernel runs.
 * - `released`: a device recycled the memory (a model's intermediate value from an earlier step).
 *
 * The CPU backends only ever see `host`. docs/webgpu.md has the whole memory model.
 */
export class Storage<A extends Floats | Int32Array = Floats> {
  host: A | null;
  device: DeviceCopy | null = null;
  released = false;
  /**
   * A kernel writes every value before anything reads one (`kernelOutput`): a CPU backend's own
   * memory may hand it a block without zeroing it.
   */
  unzeroed = false;
  readonly kind: DType | "int32";
  readonly size: number;

  constructor(kind: DType | "int32", size: number, host: A | null) {
    this.kind = kind;
    this.size = size;
    this.host = host;
  }
}

/**
 * A device backend (WebGPU) as arrays see it. Installed with `setDevice` while its kernels are the
 * current ones; null for the CPU backends, whose arrays are plain typed arrays.
 */
export interface Device {
  readonly name: string;
  /** What this device's kernels take for `s` (`NDArray.buf`): a handle; no values move until a kernel runs. */
  handle(s: Storage): Floats;
  /** An index array (max pooling's argmax) that kernels write and read on the device. */
  indices(size: number): Int32Array;
  /** Called for every Storage made while the device is active (a model step records its own). */
  adopt(s: Storage<Floats | Int32Array>): void;
  /** Brings the values of `s` home: `s.host` set, the device copy dropped. */
  read(s: Storage<Floats | Int32Array>): Promise<void>;
  /** Drops the device copy of `s` whose `host` holds the same values (the host is about to write). */
  drop(s: Storage<Floats | Int32Array>): void;
  /** Runs `fn` as part of `owner`'s step (see `deviceStep`). */
  step<T>(owner: object, fresh: boolean, fn: () => T): T;
  /** `s` leaves the step that made it: its caller owns it now. */
  keep(s: Storage<Floats | Int32Array>): void;
}

let activeDevice: Device | null = null;

/** Makes `d` the device whose kernels run (null: a CPU backend). Called by the backend switch. */
export function setDevice(d: Device | null): void {
  activeDevice = d;
}

/**
 * Runs `fn` as part of a step of `owner` (a model): on a device backend, every array made meanwhile
 * belongs to the step, and when `owner` starts a `fresh` step the previous one's device memory is
 * recycled (those arrays then refuse to be read). The device copy of `input` (a batch the caller
 * made on the host; or each of several inputs) is recycled with the step too; its host values stay. Nothing happens on the CPU
 * backends.
 */
export function deviceStep<T>(
  owner: object,
  fresh: boolean,
  fn: () => T,
  input?: NDArray | readonly NDArray[],
): T {
  const d = activeDevice;
  if (d !== null) {
    return d.step(owner, fresh, () => {
      for (const a of input instanceof NDArray ? [input] : (input ?? [])) {
        if (a.storage.host) d.adopt(a.storage);
      }
      return fn();
    });
  }
  return hostMemory === null ? fn() : hostMemory.step(owner, fresh, fn);
}

/** `a` leaves the device step that made it (a model's return value): the caller owns it. */
export function keepFromStep(a: NDArray): NDArray {
  activeDevice?.keep(a.storage);
  hostMemory?.keep(a.storage);
  return a;
}

/**
 * An index array for kernels to fill and read (max pooling's argmax) next to `dtype` values: a typed
 * array on the CPU backends, a handle to device memory on a device backend. Only kernels read it.
 */
export function allocIndices(size: number, dtype: DType, unzeroed = false): Int32Array {
  if (activeDevice !== null && dtype !== "float64") return activeDevice.indices(size);
  return (dtype === "float32" ? hostMemory?.indices(size, unzeroed) : null) ?? new Int32Array(size);
}

/**
 * An array that a kernel is about to write whole (the fused convolution's output, argmax and dx, the
 * transposed convolution's output and dx):
 * made as `zeros`, but its values are unspecified until that kernel runs, as a CPU backend's own
 * memory may hand it a block without zeroing it (DeepConvNet's step zeroed 25 MB that its kernels
 * then overwrote). Only for kernels that write every element on every backend; anything else takes
 * `zeros`.
 */
export function kernelOutput(shape: Shape, dtype: DType = "float32"): NDArray {
  const a = NDArray.zeros(shape, dtype);
  a.storage.unzeroed = true;
  return a;
}

// ---- a CPU backend's own memory ----------------------------------------------------------------

/**
 * A CPU backend's own memory (the WASM backend's, when its threads share it), where its kernels read
 * and write float32 arrays in place instead of copying them in and out. Arrays live there by the
 * lifetimes a device's memory has (`deviceStep`): a float32 array made by `zeros` during a model's
 * step lives there, from its first use, until that model starts its next step, and reading it afterwards is an error that
 * says so; a model's return values leave the step (`keepFromStep`: moved back to ordinary memory);
 * lasting state (an optimizer's buffers, `NDArray.lasting`) and the params of a model that runs steps
 * stay, until the garbage collector finalizes them. A layer that keeps an array from one step for a
 * later one (running statistics, a recurrent state) passes it through `keepFromStep`.
 */
export interface HostMemory {
  /** Called for every lazily made Storage (`NDArray.zeros`): one made in a step belongs to it. */
  adopt(s: Storage): void;
  /**
   * Zeros for `s` in this memory if a step made it (that step owns them), else null; unspecified
   * values when `s.unzeroed`.
   */
  alloc(s: Storage): Float32Array | null;
  /** An index array in this memory (zeros, unless `unzeroed`), owned by the running step; null outside steps. */
  indices(size: number, unzeroed?: boolean): Int32Array | null;
  step<T>(owner: object, fresh: boolean, fn: () => T): T;
  keep(s: Storage): void;
  /** Zeros in this memory that last until collected. */
  lasting(size: number): Float32Array;
}

let hostMemory: HostMemory | null = null;

/** Installs the current CPU kernels' own memory (null: ordinary typed arrays). Called by the backend switch. */
export function setHostMemory(m: HostMemory | null): void {
  hostMemory = m;
}

/** The host values of `s`, made (zeros), kept, or refused when they live only on a device. */
function hostValues(s: Storage, shape: Shape): Floats {
  if (s.released) {
    throw new Error(
      `NDArray ${formatShape(shape)} was a model's intermediate value from an earlier step, and its ${hostMemory === null ? "device " : ""}memory has been reused: copy what you need before the model's next step`,
    );
  }
  if (s.device === null) {
    s.host ??=
      (s.kind === "float32" ? hostMemory?.alloc(s) : null) ??
      allocFloats(s.kind === "float64" ? "float64" : "float32", s.size);
    return s.host;
  }
  if (s.host === null) {
    throw new Error(
      `NDArray ${formatShape(shape)} lives on the ${s.device.device.name} device, which sends values back asynchronously: \`await a.read()\` first`,
    );
  }
  s.device.device.drop(s); // the caller may write: the host copy becomes the only one
  return s.host;
}

/** A dense row-major array of floats. No math lives here: see `ops/`. */
export class NDArray {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Where the values live, shared by views (see `Storage`). Kernels reach it through `buf`. */
  readonly storage: Storage;

  /** Over `data` (not copied), or over a Storage shared with other views. */
  constructor(data: Floats | Storage, shape: Shape) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${formatShape(shape)}`);
    }
    const size = data instanceof Storage ? data.size : data.length;
    if (shapeSize(shape) !== size) {
      throw new ShapeError(`shape ${formatShape(shape)} needs ${shapeSize(shape)} values, got ${size}`);
    }
    if (data instanceof Storage) {
      this.storage = data;
    } else {
      this.storage = new Storage(dtypeOf(data), size, data);
      activeDevice?.adopt(this.storage);
    }
    this.dtype = this.storage.kind === "float64" ? "float64" : "float32";
    this.size = size;
    this.shape = Object.freeze([...shape]);
  }

  /**
   * The values on the host, as a typed array to read and write. On a device backend an array that
   * lives on the device must be brought home first (`await a.read()`); reading `data` of one that
   * lives in both places keeps the host copy only, as the caller may write to it.
   */
  get data(): Floats {
    const s = this.storage;
    const host = s.host;
    if (host !== null && s.device === null) return host;
    return hostValues(s, this.shape);
  }

  /**
   * The values as the current kernels take them: `data` on the CPU backends; on a device backend a
   * handle to the device copy (values move when a kernel runs). Ops pass `buf` to kernels; all
   * other code reads `data`.
   */
  get buf(): Floats {
    const d = activeDevice;
    return d === null || this.dtype === "float64" ? this.data : d.handle(this.storage);
  }

  /**
   * The values on the host once a device has sent them back (at once on the CPU backends); after
   * it `data` reads them synchronously.
   */
  async read(): Promise<Floats> {
    const s = this.storage;
    if (s.device !== null && s.host === null && !s.released) await s.device.device.read(s);
    return this.data;
  }

  /** Zeros, allocated where first used (on the host, or on a device by the kernel that fills it). */
  static zeros(shape: Shape, dtype: DType = "float32"): NDArray {
    const storage = new Storage<Floats>(dtype, shapeSize(shape), null);
    activeDevice?.adopt(storage);
    hostMemory?.adopt(storage);
    return new NDArray(storage, shape);
  }

  /**
   * Zeros that outlive model steps (an optimizer's state): in the backend's own memory where it has
   * one (WASM with threads), so kernels update them in place; else the same as `zeros`.
   */
  static lasting(shape: Shape, dtype: DType = "float32"): NDArray {
    if (hostMemory === null || dtype !== "float32") return NDArray.zeros(shape, dtype);
    return new NDArray(hostMemory.lasting(shapeSize(shape)), shape);
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
      return new NDArray(this.storage, out);
    }
    if (shapeSize(s) !== this.size) {
      throw new ShapeError(`cannot reshape ${formatShape(this.shape)} to ${formatShape(s)}`);
    }
    return new NDArray(this.storage, s);
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
