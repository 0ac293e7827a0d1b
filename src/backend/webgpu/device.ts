import { Storage, type Device, type DeviceCopy, type Floats } from "../../ndarray.js";

/**
 * The WebGPU device as zerodl's arrays see it: where their values live on the GPU, how they get
 * there and back, and how GPU memory is recycled. The kernels (kernels.ts) run through `dispatch`.
 *
 * Memory model (docs/webgpu.md):
 * - An array's values live on the host, on the GPU, or in both (ndarray.ts `Storage`). A kernel
 *   that reads an array uploads it once (the host copy stays); a kernel that writes one leaves its
 *   values on the GPU only. Reading `data` of a GPU-only array is an error; `await a.read()` copies
 *   the values home (WebGPU has no synchronous read-back).
 * - GPU buffers come from a pool and go back to it; none is destroyed while the device lives.
 *   (Chromium's SwiftShader keeps the memory of a destroyed buffer mapped: creating a buffer per
 *   array grew the GPU process by the size of every buffer ever made. Reuse keeps it at the peak.)
 * - A model runs each forward/backward as a step (`step`): the arrays made in it are recycled when
 *   the model starts its next step, so training runs in bounded memory without anyone disposing
 *   anything. Arrays made outside steps go back to the pool when the garbage collector finalizes
 *   them.
 * - Commands are recorded into one command encoder and submitted at the end of a model step, before
 *   an upload (queue writes run ahead of unsubmitted commands), before a read, and when the page
 *   yields (a microtask), so the GPU works while JavaScript records the next step.
 */

const STORAGE = 0x80; // GPUBufferUsage.STORAGE, spelt out: the constant exists only where WebGPU does
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const UNIFORM = 0x40;
const MAP_MODE_READ = 0x01;

/** Bytes of parameters one dispatch may take (and the uniform offset alignment). */
export const PARAM_BYTES = 256;
/** Dispatches recorded before the encoder is submitted without waiting for a natural boundary. */
const MAX_PENDING = 256;

/** A GPU buffer holding an array's values. */
class GpuCopy implements DeviceCopy {
  constructor(
    readonly device: GpuDevice,
    readonly buffer: GPUBuffer,
  ) {}
}

/**
 * What kernels receive for an array on the device (`NDArray.buf`): an empty typed array of the
 * contract's type (so it passes where the contract says Floats, and any host read of it finds
 * nothing) that names the array's storage. Only this device's kernels look inside.
 */
export class FloatHandle extends Float32Array {
  static get [Symbol.species]() {
    return Float32Array;
  }
  constructor(readonly storage: Storage) {
    super(0);
  }
}

/** The same for an index array (max pooling's argmax). */
export class IndexHandle extends Int32Array {
  static get [Symbol.species]() {
    return Int32Array;
  }
  constructor(readonly storage: Storage<Int32Array>) {
    super(0);
  }
}

export type Access = "read" | "write" | "readwrite";
type AnyStorage = Storage<Floats | Int32Array>;

/** One binding of a dispatch: an array (handle, or a host array to upload) and how it is used. */
export interface Binding {
  array: Floats | Int32Array;
  access: Access;
}

export class GpuDevice implements Device {
  readonly name = "WebGPU";
  readonly gpu: GPUDevice;
  readonly adapterInfo: { vendor: string; architecture: string; description: string };
  /** Free buffers by byte size. */
  readonly #pool = new Map<number, GPUBuffer[]>();
  /** Free read-back buffers by byte size. */
  readonly #staging = new Map<number, GPUBuffer[]>();
  #liveBytes = 0;
  #peakBytes = 0;
  readonly #handles = new WeakMap<AnyStorage, FloatHandle | IndexHandle>();
  /** Storages made outside any step: their buffers return to the pool when they are collected. */
  readonly #finalizer = new FinalizationRegistry<GPUBuffer>((buffer) => this.#free(buffer));
  readonly #steps = new WeakMap<object, Set<AnyStorage>>();
  /** The step that made each storage (while it holds it). */
  readonly #madeIn = new WeakMap<AnyStorage, Set<AnyStorage>>();
  #recording: Set<AnyStorage> | null = null;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #pending = 0;
  /** Parameters of the recorded dispatches, written to `#uniforms` when the encoder is submitted. */
  #params = new ArrayBuffer(MAX_PENDING * PARAM_BYTES);
  #uniforms: GPUBuffer;
  #flushQueued = false;
  /** Bound where a kernel has no array to bind (an empty dx). */
  readonly #empty: GPUBuffer;
  /** What has crossed between host and GPU so far, and how many dispatches ran (tests, the bench). */
  readonly counts = { dispatches: 0, uploads: 0, uploadBytes: 0, reads: 0, readBytes: 0, buffersCreated: 0 };
  /** The first error the GPU reported (a validation error, a lost device); later calls throw it. */
  #failure: string | null = null;

  /** Whether the adapter runs on the CPU (SwiftShader): tuned apart (see webgpuKernels). */
  readonly cpuAdapter: boolean;

  constructor(
    gpu: GPUDevice,
    adapterInfo: { vendor: string; architecture: string; description: string },
    cpuAdapter = adapterInfo.architecture === "swiftshader",
  ) {
    this.gpu = gpu;
    this.adapterInfo = adapterInfo;
    this.cpuAdapter = cpuAdapter;
    this.#uniforms = gpu.createBuffer({ size: MAX_PENDING * PARAM_BYTES, usage: UNIFORM | COPY_DST });
    this.#empty = gpu.createBuffer({ size: 16, usage: STORAGE | COPY_SRC | COPY_DST });
  }

  /**
   * Records what went wrong on the GPU. WebGPU reports errors asynchronously, so the next dispatch
   * or read throws it instead of computing on.
   */
  fail(message: string): void {
    this.#failure ??= message;
  }

  #check(): void {
    if (this.#failure !== null) throw new Error(`webgpu: ${this.#failure}`);
  }

  /** GPU memory held by arrays now, and the most it has held (bytes), pooled buffers excluded. */
  memory(): { liveBytes: number; peakBytes: number; pooledBytes: number } {
    let pooled = 0;
    for (const [bytes, list] of this.#pool) pooled += bytes * list.length;
    return { liveBytes: this.#liveBytes, peakBytes: this.#peakBytes, pooledBytes: pooled };
  }

  // ---- Device (ndarray.ts) -----------------------------------------------------------------------

  handle(s: Storage): Floats {
    let h = this.#handles.get(s);
    if (h === undefined) {
      h = new FloatHandle(s);
      this.#handles.set(s, h);
    }
    return h as FloatHandle;
  }

  indices(size: number): Int32Array {
    const s = new Storage<Int32Array>("int32", size, null);
    this.adopt(s);
    return this.indexHandle(s);
  }

  /** What kernels take for an index storage. */
  indexHandle(s: Storage<Int32Array>): Int32Array {
    let h = this.#handles.get(s);
    if (h === undefined) {
      h = new IndexHandle(s);
      this.#handles.set(s, h);
    }
    return h as IndexHandle;
  }

  adopt(s: AnyStorage): void {
    const step = this.#recording;
    if (step === null) return;
    step.add(s);
    this.#madeIn.set(s, step);
  }

  step<T>(owner: object, fresh: boolean, fn: () => T): T {
    let made = this.#steps.get(owner);
    if (made === undefined) {
      made = new Set();
      this.#steps.set(owner, made);
    } else if (fresh) {
      for (const s of made) this.#recycle(s);
      made.clear();
    }
    const outer = this.#recording;
    this.#recording = made;
    try {
      return fn();
    } finally {
      this.#recording = outer;
      this.flush();
    }
  }

  keep(s: AnyStorage): void {
    this.#madeIn.get(s)?.delete(s);
    this.#madeIn.delete(s);
  }

  drop(s: AnyStorage): void {
    const copy = s.device as GpuCopy | null;
    if (copy === null) return;
    s.device = null;
    this.#finalizer.unregister(s);
    this.#free(copy.buffer);
  }

  async read(s: AnyStorage): Promise<void> {
    await this.readValues(s);
  }

  /**
   * A snapshot of the values of `s` as they are once the recorded commands have run. If `s` is
   * unchanged meanwhile, its values move home (host set, GPU buffer back to the pool).
   */
  async readValues(s: AnyStorage): Promise<Floats | Int32Array> {
    this.#check();
    if (s.released) throw new Error("read: the array was recycled at its model's next step");
    const copy = s.device as GpuCopy | null;
    const bytes = s.size * 4;
    const make = (buffer: ArrayBuffer) =>
      s.kind === "int32" ? new Int32Array(buffer) : new Float32Array(buffer);
    if (copy === null) {
      if (s.host !== null) return s.host;
      return make(new ArrayBuffer(bytes)); // zeros never made anywhere
    }
    if (bytes === 0) return make(new ArrayBuffer(0));
    const size = bucket(bytes);
    const staging =
      this.#staging.get(size)?.pop() ?? this.gpu.createBuffer({ size, usage: MAP_READ | COPY_DST });
    this.#endPass();
    this.#commands().copyBufferToBuffer(copy.buffer, 0, staging, 0, align4(bytes));
    this.counts.reads++;
    this.counts.readBytes += bytes;
    this.flush();
    await staging.mapAsync(MAP_MODE_READ, 0, align4(bytes));
    this.#check();
    const values = make(staging.getMappedRange(0, align4(bytes)).slice(0, bytes));
    staging.unmap();
    pushTo(this.#staging, size, staging);
    if (s.device === copy && s.host === null) {
      s.host = values as never;
      this.drop(s);
    }
    return values;
  }

  // ---- kernels' side -----------------------------------------------------------------------------

  /** The storage behind a handle, or null for a host array. */
  storageOf(a: Floats | Int32Array): AnyStorage | null {
    return a instanceof FloatHandle || a instanceof IndexHandle ? a.storage : null;
  }

  /** Whether `a` and `b` are the same array (an output aliasing an input). */
  same(a: Floats | Int32Array, b: Floats | Int32Array): boolean {
    const s = this.storageOf(a);
    return a === b || (s !== null && s === this.storageOf(b));
  }

  /** The number of values of a handle's array or a host array. */
  sizeOf(a: Floats | Int32Array): number {
    return this.storageOf(a)?.size ?? a.length;
  }

  /** The compute pipeline for a WGSL source (compiled once). */
  pipeline(code: string): GPUComputePipeline {
    let p = this.#pipelines.get(code);
    if (p === undefined) {
      p = this.gpu.createComputePipeline({
        layout: "auto",
        compute: { module: this.gpu.createShaderModule({ code }), entryPoint: "main" },
      });
      this.#pipelines.set(code, p);
    }
    return p;
  }

  /**
   * Records one dispatch of `code` over `groups` workgroups (x, y, z) with `bindings` at @binding(1…)
   * and `params` (u32/i32/f32 words) in the uniform at @binding(0). Arrays the dispatch writes keep
   * their values on the GPU only; an array bound twice (an output aliasing an input) must be passed
   * once with access "readwrite".
   */
  dispatch(
    code: string,
    groups: readonly [number, number?, number?],
    bindings: readonly Binding[],
    params: ArrayBuffer,
  ): void {
    this.#check();
    if ((groups[0] ?? 0) === 0 || (groups[1] ?? 1) === 0 || (groups[2] ?? 1) === 0) return;
    if (this.#pending === MAX_PENDING) this.flush();
    const transient: GPUBuffer[] = [];
    const buffers = bindings.map((b) => this.#bind(b, transient));
    const pipeline = this.pipeline(code);
    const offset = this.#pending * PARAM_BYTES;
    new Uint8Array(this.#params, offset, PARAM_BYTES).set(new Uint8Array(params, 0, params.byteLength));
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.#uniforms, offset, size: PARAM_BYTES } },
      ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
    ];
    const group = this.gpu.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    this.#pending++;
    this.counts.dispatches++;
    // Back to the pool once recorded (not while binding: another binding could be given it).
    for (const buffer of transient) this.#free(buffer);
    for (const b of bindings) if (b.access !== "read") this.#written(b.array);
    this.#scheduleFlush();
  }

  /** A scratch array of `size` floats on the GPU for one kernel's intermediates. */
  scratch(size: number): FloatHandle {
    const s = new Storage<Floats>("float32", size, null);
    return new FloatHandle(s);
  }

  /** Returns a scratch array's buffer to the pool (later commands may reuse it). */
  freeScratch(h: FloatHandle): void {
    this.drop(h.storage);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.#encoder === null) return;
    this.#endPass();
    if (this.#pending > 0)
      this.gpu.queue.writeBuffer(this.#uniforms, 0, this.#params, 0, this.#pending * PARAM_BYTES);
    this.gpu.queue.submit([this.#encoder.finish()]);
    this.#encoder = null;
    this.#pending = 0;
  }

  /** Resolves when the GPU has run everything submitted (and flushes first). */
  async idle(): Promise<void> {
    this.flush();
    await this.gpu.queue.onSubmittedWorkDone();
  }

  // ---- internals ---------------------------------------------------------------------------------

  #bind({ array, access }: Binding, transient: GPUBuffer[]): GPUBuffer {
    const s = this.storageOf(array);
    if (s === null) {
      if (access !== "read") {
        throw new Error(
          "webgpu kernels write only to arrays on the device (NDArray.buf); a host typed array reached an output",
        );
      }
      return this.#uploadTransient(array, transient);
    }
    if (s.released) {
      throw new Error(
        "a kernel was given an array recycled at its model's next step: copy what you need before the model's next forward",
      );
    }
    if (s.size === 0) return this.#empty;
    let copy = s.device as GpuCopy | null;
    if (copy === null) {
      copy = new GpuCopy(this, this.#alloc(s.size * 4));
      s.device = copy;
      // Back to the pool when the array is collected, unless its step recycles it first.
      this.#finalizer.register(s, copy.buffer, s);
      if (access !== "write") {
        if (s.host !== null) this.#upload(copy.buffer, s.host);
        else {
          this.#endPass();
          this.#commands().clearBuffer(copy.buffer, 0, align4(s.size * 4));
        }
      }
    }
    return copy.buffer;
  }

  /** After a dispatch wrote `a`: its values are on the GPU only. */
  #written(a: Floats | Int32Array): void {
    const s = this.storageOf(a);
    if (s !== null && s.size > 0) s.host = null;
  }

  #recycle(s: AnyStorage): void {
    const copy = s.device as GpuCopy | null;
    if (copy === null) return;
    if (s.host === null) s.released = true;
    this.drop(s);
  }

  #alloc(bytes: number): GPUBuffer {
    const size = bucket(bytes);
    const free = this.#pool.get(size);
    const buffer = free?.pop() ?? this.#create(size);
    this.#liveBytes += size;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    return buffer;
  }

  #create(size: number): GPUBuffer {
    const max = this.gpu.limits.maxStorageBufferBindingSize;
    if (size > max) {
      throw new RangeError(
        `webgpu: an array of ${size} bytes is over this device's ${max}-byte limit for one buffer`,
      );
    }
    this.counts.buffersCreated++;
    return this.gpu.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
  }

  #free(buffer: GPUBuffer): void {
    this.#liveBytes -= buffer.size;
    pushTo(this.#pool, buffer.size, buffer);
  }

  #upload(buffer: GPUBuffer, values: Floats | Int32Array): void {
    // A queue write runs before commands recorded but not yet submitted: submit them first.
    this.flush();
    const bytes = values.byteLength;
    if (values instanceof Float64Array)
      throw new TypeError("webgpu: a float64 array reached a float32 kernel");
    this.gpu.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, bytes - (bytes % 4));
    this.counts.uploads++;
    this.counts.uploadBytes += bytes;
  }

  /**
   * A host array read by one dispatch (labels): uploaded into a pooled buffer that goes back to the
   * pool when the dispatch is recorded; later commands may reuse it, as they run after this one.
   */
  #uploadTransient(values: Floats | Int32Array, transient: GPUBuffer[]): GPUBuffer {
    if (values.length === 0) return this.#empty;
    const buffer = this.#alloc(values.length * 4);
    this.#upload(buffer, values);
    transient.push(buffer);
    return buffer;
  }

  #commands(): GPUCommandEncoder {
    this.#encoder ??= this.gpu.createCommandEncoder();
    return this.#encoder;
  }

  #computePass(): GPUComputePassEncoder {
    this.#pass ??= this.#commands().beginComputePass();
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.flush();
    });
  }
}

function pushTo(pool: Map<number, GPUBuffer[]>, size: number, buffer: GPUBuffer): void {
  let free = pool.get(size);
  if (free === undefined) {
    free = [];
    pool.set(size, free);
  }
  free.push(buffer);
}

function align4(bytes: number): number {
  return (bytes + 3) & ~3;
}

/** Buffer sizes are rounded up so that arrays of nearly the same size share pooled buffers. */
function bucket(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 4096) return (b + 255) & ~255;
  // Above 4 KiB: steps of 1/16 of the size's power of two (at most ~6 % unused).
  const step = 2 ** (Math.floor(Math.log2(b)) - 4);
  return Math.ceil(b / step) * step;
}
