import { NDArray, type Floats, type HostMemory, type Storage } from "../ndarray.js";
import type { Kernels } from "./kernels.js";
import { reference } from "./reference.js";
import { CTRL_BYTES, ThreadPool } from "./threads.js";
import {
  wasmMaximumPages,
  wasmShared,
  wasmSharedRelaxed,
  wasmSingle,
  wasmSingleRelaxed,
} from "./wasm-binary.js";

/**
 * The fast backend: the reference kernels, with the hot float32 ones overridden by AssemblyScript
 * SIMD kernels (src/backend/assembly/kernels.as) that run on every core.
 *
 * Data movement: with threads (a shared memory), a model's arrays live in the WASM memory itself
 * (`Resident`): the outputs and gradients made during a model's step (ndarray.ts `deviceStep`), its
 * params and its optimizer's state. Kernels read and write those where they are (`use` / `out`);
 * any other array (a data batch, a standalone layer's output) is copied into a per-call scratch
 * arena and back, as every array was before (about 20 % of a SimpleConvNet step with the unfused
 * layers, the copies on the calling thread alone). Lifetimes need no disposal: a step's arrays go
 * back when the model starts its next step (the pattern WebGPU's device memory follows), lasting
 * ones when collected. An unshared memory (one thread, a page without cross-origin isolation)
 * detaches its views when it grows, so there every array is copied.
 *
 * The fused convolution kernels (convForward/Backward, convReluPoolForward/Backward) run a whole
 * convolution image by image inside WASM (bench/README.md has the numbers). A 3×3 stride-1
 * convolution with 5 or more input channels runs as Winograd F(4×4, 3×3) (36 multiply-adds per 4×4
 * outputs and channel instead of 144), or F(2×2, 3×3) (16 per 2×2 instead of 36) where 4×4 tiles
 * would cover much more than the output (14×14), forward and both backward passes. F(2×2, 3×3)'s
 * float32 error is that of the direct sums, F(4×4, 3×3)'s about 10× larger (a few 1e-6 of the
 * output's largest magnitude; bench/winograd-error.ts).
 *
 * Float64 calls go to the reference kernels. Every overridden kernel is tested against the reference
 * for 1, 2 and 3 threads in test/kernel-parity.test.ts.
 */

/** Op codes of `runJob` in assembly/kernels.as. */
const Op = {
  matmul: 1,
  addBias: 2,
  sumRows: 3,
  transpose: 4,
  relu: 5,
  reluBackward: 6,
  sigmoid: 7,
  sigmoidBackward: 8,
  axpby: 9,
  mul: 10,
  softmax: 11,
  softmaxCrossEntropyBackward: 12,
  im2col: 13,
  col2im: 14,
  maxPool: 15,
  maxPoolBackward: 16,
  avgPool: 17,
  avgPoolBackward: 18,
  sgdUpdate: 19,
  momentumUpdate: 20,
  adagradUpdate: 21,
  rmspropUpdate: 22,
  adamUpdate: 23,
  matmulSplitK: 24,
  matmulReduce: 25,
  matmulHalf: 26,
  convForward: 27,
  convBackward: 28,
  // The recurrent kernels start at 40, clear of the convolution's.
  lstmForward: 40,
  lstmBackward: 41,
  // Batch normalization from 50.
  batchNormStats: 50,
  batchNormForward: 51,
  batchNormBackwardSums: 52,
  batchNormBackwardDx: 53,
  // Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions: 70–73.
  winogradFilter: 70,
  winogradForward: 71,
  winogradBackward: 72,
  winogradFilterGrad: 73,
  deconvForward: 60,
  deconvBackward: 61,
  leakyRelu: 62,
  leakyReluBackward: 63,
  // Zero-filling a new resident array, split over the threads.
  zeroFill: 64,
} as const;

/**
 * A product aᵀ·b with a tall k (a convolution's dW: m = filters, k = N·OH·OW) has too few output
 * tiles to share between threads; from this k on (and m ≤ 128, n ≤ 1024) its k is cut into slices
 * of KSLICE rows (as in kernels.as) whose partial products are summed in slice order.
 */
const SPLIT_MIN_K = 8192;
const KSLICE = 2048;

/**
 * A product a·b (neither transposed) whose b has few columns but does not fit matmul's B buffer
 * packed whole (k·⌈n/8⌉·8 > 65,536 floats: an Affine layer's forward on a flattened convolution
 * output, SimpleConvNet's 100×4320·4320×100) is cut in two along k (kernels.as `matmulHalf`), at
 * k / 2 whatever the thread count: each thread packs half of b instead of all of it.
 */
const halvesK = (k: number, n: number, transA: boolean, transB: boolean): boolean =>
  !transA && !transB && n < 128 && k >= 1024 && k * (Math.ceil(n / 8) * 8) > 65536;
/** Images per chunk of the convolution's backward (CONV_GROUP in kernels.as): one partial dW each. */
const CONV_GROUP = 2;
/** Images per chunk of the transposed convolution's backward (DECONV_GROUP in kernels.as). */
const DECONV_GROUP = 4;

const opNames: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k]));

/** Wall time per WASM job (op), when profiling (bench/profile.ts); null when not. */
let jobTimes: Map<string, { calls: number; ms: number }> | null = null;

/** Starts (true: from zero) or stops timing every WASM job; returns the times so far. */
export function profileWasmJobs(on: boolean): Map<string, { calls: number; ms: number }> {
  const times = jobTimes ?? new Map();
  jobTimes = on ? new Map() : null;
  return times;
}

/** Below this much work (elements, or multiply-adds / 32) a job runs on the calling thread only. */
const PARALLEL_MIN_WORK = 1 << 16;
let parallelMinWork = PARALLEL_MIN_WORK;

/**
 * Sets the least work a job needs to be split over threads (default 65,536 elements, or 2M
 * multiply-adds); null restores the default. Tests set 0 so that even tiny shapes run split.
 */
export function setParallelMinWork(work: number | null): void {
  parallelMinWork = work ?? PARALLEL_MIN_WORK;
}

let poisonUnzeroed = false;

/**
 * Test hook: fills the blocks handed out without zeroing (`kernelOutput` arrays) with NaN (index
 * arrays: −2³¹) instead of leaving what they held, so that a kernel that leaves part of such an
 * output unwritten shows in its results. Off by default.
 */
export function setPoisonUnzeroed(on: boolean): void {
  poisonUnzeroed = on;
}
const PAGE = 65536;

interface Exports {
  heapBase(): number;
  zero(at: number, bytes: number): void;
  packBytes(): number;
  runJob(ctrl: number, gen: number, t: number, pack: number): number;
  winogradScratch(c: number, h: number, w: number, fn: number, pad: number, m: number): number;
  winogradGroups(n: number, c: number, h: number, w: number, fn: number, pad: number, m: number): number;
  winogradFilterFloats(c: number, fn: number, m: number): number;
  winogradPartial(c: number, fn: number, m: number): number;
  convForwardScratch(...geometry: number[]): number;
}

/**
 * How the fused convolution kernels compute a 3×3 stride-1 convolution: "auto" (Winograd
 * F(4×4, 3×3) from WINOGRAD_MIN_CHANNELS input channels on, else im2col), or always one of them:
 * "winograd" is F(2×2, 3×3), "winograd4x4" F(4×4, 3×3).
 */
export type ConvAlgorithm = "auto" | "im2col" | "winograd" | "winograd4x4";
let convAlgorithm: ConvAlgorithm = "auto";

/**
 * Input channels from which "auto" takes Winograd: below it the products are too short (k = c,
 * rounded up to 4) for the transforms to pay. Measured in instructions (callgrind, 10 images,
 * forward + backward, im2col / Winograd): c = 3, 32×32, 64 filters 50 M / 61 M; c = 4, 16×16, 16
 * filters 7.7 M / 8.4 M; c = 8, the same 18.8 M / 8.6 M.
 */
const WINOGRAD_MIN_CHANNELS = 5;

/** Multiply-adds of direct convolution per Winograd one, by output tile size (0: im2col), for the work estimate. */
const WINOGRAD_GAIN: Record<0 | 2 | 4, number> = { 0: 1, 2: 2.25, 4: 4 };

/** Chooses the 3×3 convolution algorithm (tests and benchmarks compare them); "auto" by default. */
export function setConvAlgorithm(algorithm: ConvAlgorithm): void {
  convAlgorithm = algorithm;
}

/**
 * The output tile size m of the Winograd F(m×m, 3×3) the fused kernels run this convolution
 * through (2 or 4), or 0 for im2col.
 */
function winogradTile(g: ConvGeometry): 0 | 2 | 4 {
  if (g.fh !== 3 || g.fw !== 3 || g.stride !== 1 || convAlgorithm === "im2col") return 0;
  if (convAlgorithm === "winograd") return 2;
  if (convAlgorithm === "winograd4x4") return 4;
  if (g.c < WINOGRAD_MIN_CHANNELS) return 0;
  // The outputs each tiling computes (its tiles cover the output rounded up to m): F(4×4, 3×3)
  // unless its tiles cover over 15 % more than F(2×2, 3×3)'s (14×14 outputs: 16×16 against 14×14).
  const [oh, ow] = [outSize(g.h, 3, 1, g.pad), outSize(g.w, 3, 1, g.pad)];
  const covered = (m: number) => Math.ceil(oh / m) * Math.ceil(ow / m) * m * m;
  return covered(4) <= 1.15 * covered(2) ? 4 : 2;
}

/** A tiny module using one v128 instruction: validates only where WebAssembly SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
  11,
]);

export function simdSupported(): boolean {
  return validates(SIMD_PROBE);
}

/** A tiny module using f32x4.relaxed_madd: validates only where relaxed SIMD is supported. */
export const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0,
  253, 15, 65, 0, 253, 15, 253, 133, 2, 11,
]);

/**
 * Whether the engine has relaxed SIMD (Chromium 114+, Node 22+; Node 20 only behind
 * --experimental-wasm-relaxed-simd). Where it does, the kernels' products use its fused
 * multiply-add (`f32x4.relaxed_madd`); ZERODL_RELAXED_SIMD=0 keeps the plain SIMD module.
 */
export function relaxedSimdSupported(): boolean {
  return validates(RELAXED_PROBE);
}

function validates(bytes: Uint8Array): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

/** Whether ZERODL_RELAXED_SIMD=0 asks for the plain SIMD module (Node; never in a browser). */
export function relaxedSimdRefused(): boolean {
  return (typeof process !== "undefined" ? process.env?.ZERODL_RELAXED_SIMD : undefined) === "0";
}

/** Whether the module with relaxed SIMD runs: where the engine has it, unless ZERODL_RELAXED_SIMD=0. */
export function relaxedSimdChosen(): boolean {
  return !relaxedSimdRefused() && relaxedSimdSupported();
}

function decodeBase64(text: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(text, "base64"));
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function defaultThreads(): number {
  const env = typeof process !== "undefined" ? process.env?.ZERODL_THREADS : undefined;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`ZERODL_THREADS must be a positive integer, got "${env}"`);
    }
    return n;
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

async function cpuCount(): Promise<number> {
  // Not Node: a browser would try to fetch "node:os" (and log the failure).
  if (typeof process === "undefined" || !process.versions?.node) return defaultThreads();
  try {
    const specifier = "node:os"; // a variable, so browser bundlers leave it alone
    const os = (await import(/* @vite-ignore */ specifier)) as typeof import("node:os");
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return defaultThreads();
  }
}

/**
 * The WASM instance, its memory and the thread pool. The memory above the module's own data holds,
 * from the bottom: blocks that outlast a kernel call (each thread's matmul pack scratch, and resident
 * arrays: see `Resident`), then the per-call scratch arena, which starts where the blocks end. A
 * block is taken from the free blocks of its size or from the arena's bottom (the arena is empty
 * between calls, so it simply starts higher).
 */
class Runtime {
  readonly memory: WebAssembly.Memory;
  readonly exports: Exports;
  readonly pool: ThreadPool;
  /** Each thread's matmul pack scratch (a block each; the pool reads it). */
  readonly packs: number[];
  #arenaBase: number;
  #top = 0;
  /** Released blocks by size in bytes. */
  readonly #free = new Map<number, number[]>();
  /** Every buffer object the memory has shown (a shared memory shows a new one after each growth). */
  readonly #buffers = new WeakSet<ArrayBufferLike>();
  #f32: Float32Array;
  #i32: Int32Array;
  #f64: Float64Array;

  constructor(memory: WebAssembly.Memory, exports: Exports, pool: ThreadPool, base: number, packs: number[]) {
    this.memory = memory;
    this.packs = packs;
    this.exports = exports;
    this.pool = pool;
    this.#f32 = new Float32Array(memory.buffer);
    this.#i32 = new Int32Array(memory.buffer);
    this.#f64 = new Float64Array(memory.buffer);
    this.#buffers.add(memory.buffer);
    this.#arenaBase = base;
    this.reservePack(1);
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Pack scratch for threads 0 … n − 1. */
  reservePack(n: number): void {
    while (this.packs.length < n) this.packs.push(this.reserve(this.exports.packBytes()));
  }

  /** A block of `bytes` below the arena, kept until `release`; returns its byte offset. */
  reserve(bytes: number): number {
    const size = align(bytes);
    const reused = this.#free.get(size)?.pop();
    if (reused !== undefined) return reused;
    const at = this.#arenaBase;
    this.#arenaBase = at + size;
    this.#ensure(this.#arenaBase);
    return at;
  }

  /** Gives back a block from `reserve`. */
  release(at: number, bytes: number): void {
    const size = align(bytes);
    const list = this.#free.get(size);
    if (list) list.push(at);
    else this.#free.set(size, [at]);
  }

  /** A float32 (or int32) view of `len` values at byte offset `at`. */
  view(at: number, len: number, int = false): Float32Array | Int32Array {
    const buffer = this.memory.buffer;
    this.#buffers.add(buffer);
    return int ? new Int32Array(buffer, at, len) : new Float32Array(buffer, at, len);
  }

  /** The byte offset of `a` in this memory if it is a view of it (a resident array), else −1. */
  offsetOf(a: Floats | Int32Array): number {
    return this.#buffers.has(a.buffer) ? a.byteOffset : -1;
  }

  /** Starts a call: the arena is empty again. */
  begin(): void {
    this.#top = this.#arenaBase;
  }

  /** Scratch for `len` 4-byte values; returns its byte offset. */
  alloc(len: number): number {
    const at = this.#top;
    this.#top = align(at + len * 4);
    this.#ensure(this.#top);
    return at;
  }

  /** Copies the first len values of src (float32 or int32) into the arena. */
  put(src: Floats | Int32Array, len: number = src.length): number {
    const at = this.alloc(len);
    const part = src.length === len ? src : src.subarray(0, len);
    this.#view(src).set(part, at >> 2);
    return at;
  }

  /**
   * An input the job only reads: a resident array where it is, anything else copied in (`put`).
   * (Kernels that write into an input's place, or that were written for copies, use `put`.)
   */
  use(src: Floats | Int32Array, len: number = src.length): number {
    const at = this.offsetOf(src);
    return at >= 0 ? at : this.put(src, len);
  }

  /** Where the job writes output `dst`: in place if resident, else arena scratch (then `get`). */
  out(dst: Floats | Int32Array, len: number = dst.length): number {
    const at = this.offsetOf(dst);
    return at >= 0 ? at : this.alloc(len);
  }

  /** Copies len values at byte offset `at` out into dst (nothing to do if dst is them). */
  get(dst: Floats | Int32Array, at: number, len: number): void {
    if (this.offsetOf(dst) === at) return;
    dst.set(this.#view(dst).subarray(at >> 2, (at >> 2) + len));
  }

  /** The memory view of an array's element type; float64 never gets here (see `float32Only`). */
  #view(a: Floats | Int32Array): Float32Array | Int32Array {
    if (a instanceof Float64Array)
      throw new TypeError("wasm backend: a float64 array reached a float32 kernel");
    return a instanceof Int32Array ? this.#i32 : this.#f32;
  }

  /** Writes the job and runs it; threads only when there is enough work to share. */
  run(op: number, ints: readonly number[], floats: readonly number[], work: number): void {
    const slot = this.pool.nextSlot();
    this.#i32[slot >> 2] = op;
    for (let i = 0; i < ints.length; i++) this.#i32[(slot >> 2) + 1 + i] = ints[i];
    for (let i = 0; i < floats.length; i++) this.#f64[((slot + 128) >> 3) + i] = floats[i];
    const t0 = jobTimes ? performance.now() : 0;
    this.pool.run(work >= parallelMinWork ? this.threads : 1);
    if (jobTimes) {
      const name = opNames[op];
      const e = jobTimes.get(name) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += performance.now() - t0;
      jobTimes.set(name, e);
    }
  }

  #ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > wasmMaximumPages) {
        throw new RangeError(
          `wasm backend: a kernel call needs ${end} bytes of scratch, over the ${wasmMaximumPages * PAGE}-byte maximum`,
        );
      }
      this.memory.grow(pages);
    }
    if (this.#f32.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.#f32 = new Float32Array(this.memory.buffer);
      this.#i32 = new Int32Array(this.memory.buffer);
      this.#f64 = new Float64Array(this.memory.buffer);
      this.#buffers.add(this.memory.buffer);
    }
  }
}

/** What one model's step made in resident memory: arrays, and bare index blocks (byte offset, bytes). */
interface StepMade {
  storages: Set<Storage>;
  blocks: [number, number][];
}

/**
 * Resident arrays (ndarray.ts `HostMemory`): float32 arrays that live in the WASM memory itself, so
 * that kernels read and write them where they are, with no copies in or out and no garbage for the
 * collector (blocks of the same sizes come back every step). Only over a shared memory: an unshared
 * one detaches every view of itself when it grows.
 *
 * - An array made (`NDArray.zeros`) during a model's step (a layer's output, a gradient) or an
 *   argmax made then is owned by that step; when the model starts its next step, the block goes back
 *   and the array refuses to be read (`Storage.released`). Arrays made outside steps stay ordinary.
 * - `keep` (a model's return value) moves an array back to ordinary memory.
 * - At each of its steps, a model's params (`owner.params`) move here for good (their Storage's
 *   `host` becomes a resident view with the same values), as do lasting arrays (an optimizer's
 *   buffers); their blocks go back when the garbage collector finalizes the views.
 */
class Resident implements HostMemory {
  readonly #rt: Runtime;
  readonly #steps = new WeakMap<object, StepMade>();
  readonly #madeIn = new WeakMap<Storage, StepMade>();
  #recording: StepMade | null = null;
  readonly #finalizer: FinalizationRegistry<[number, number]>;
  /**
   * A model's last step holds its activations here until its next step; when the model itself is
   * collected, there is no next step, so they go back then (without this, every model a process made
   * and dropped kept its last step's blocks: a loop training ResNets ran out of the 2 GiB memory).
   */
  readonly #stepFinalizer: FinalizationRegistry<StepMade>;

  constructor(rt: Runtime) {
    this.#rt = rt;
    this.#finalizer = new FinalizationRegistry(([at, bytes]) => rt.release(at, bytes));
    this.#stepFinalizer = new FinalizationRegistry((made) => this.#recycle(made));
  }

  adopt(s: Storage): void {
    if (this.#recording !== null && s.kind === "float32") this.#madeIn.set(s, this.#recording);
  }

  alloc(s: Storage): Float32Array | null {
    const step = this.#madeIn.get(s);
    if (step === undefined || s.size === 0) return null;
    step.storages.add(s);
    return this.#zeros(s.size, false, s.unzeroed) as Float32Array;
  }

  indices(size: number, unzeroed = false): Int32Array | null {
    const step = this.#recording;
    if (step === null || size === 0) return null;
    const values = this.#zeros(size, true, unzeroed) as Int32Array;
    step.blocks.push([values.byteOffset, values.byteLength]);
    return values;
  }

  step<T>(owner: object, fresh: boolean, fn: () => T): T {
    let made = this.#steps.get(owner);
    if (made === undefined) {
      made = { storages: new Set(), blocks: [] };
      this.#steps.set(owner, made);
      this.#stepFinalizer.register(owner, made);
    } else if (fresh) {
      this.#recycle(made);
    }
    if (fresh) this.#settle(owner);
    const outer = this.#recording;
    this.#recording = made;
    try {
      return fn();
    } finally {
      this.#recording = outer;
    }
  }

  keep(s: Storage): void {
    const step = this.#madeIn.get(s);
    if (step === undefined) return;
    step.storages.delete(s);
    this.#madeIn.delete(s);
    const host = s.host;
    if (host !== null && this.#rt.offsetOf(host) >= 0) {
      s.host = host.slice();
      this.#rt.release(host.byteOffset, host.byteLength);
    }
  }

  lasting(size: number): Float32Array {
    const values = this.#zeros(size, false) as Float32Array;
    if (size > 0) this.#finalizer.register(values, [values.byteOffset, values.byteLength]);
    return values;
  }

  #zeros(size: number, int: boolean, unzeroed = false): Float32Array | Int32Array {
    if (size === 0) return int ? new Int32Array(0) : new Float32Array(0);
    const at = this.#rt.reserve(size * 4);
    if (unzeroed) {
      // Left as the block was (a kernel is about to write all of it), or poisoned by the test hook.
      const values = this.#rt.view(at, size, int);
      if (poisonUnzeroed) values.fill(int ? -(2 ** 31) : NaN);
      return values;
    }
    // A large block (a batch's activations or gradients) is zeroed by every thread, a small one here.
    if (size >= parallelMinWork && this.#rt.threads > 1) this.#rt.run(Op.zeroFill, [at, size], [], size);
    else this.#rt.exports.zero(at, size * 4);
    return this.#rt.view(at, size, int);
  }

  #recycle(made: StepMade): void {
    // (Storages the step made but never gave values stay in #madeIn: they get values, and a step,
    // only if used later; then the step that made them owns them, as it would have.)
    for (const s of made.storages) {
      const host = s.host;
      if (host !== null && this.#rt.offsetOf(host) >= 0) {
        this.#rt.release(host.byteOffset, host.byteLength);
        s.host = null;
        s.released = true;
      }
      this.#madeIn.delete(s);
    }
    made.storages.clear();
    for (const [at, bytes] of made.blocks) this.#rt.release(at, bytes);
    made.blocks.length = 0;
  }

  /** Moves the float32 params of a model (`owner.params`) here, values and all. */
  #settle(owner: object): void {
    const params = (owner as { params?: unknown }).params;
    if (!Array.isArray(params)) return;
    for (const p of params as { value?: unknown }[]) {
      if (!(p.value instanceof NDArray)) continue;
      const s = p.value.storage;
      const host = s.host;
      if (s.kind !== "float32" || s.released || s.device !== null) continue;
      if (host !== null && this.#rt.offsetOf(host) >= 0) continue;
      const values = this.lasting(s.size);
      if (host !== null) values.set(host);
      s.host = values;
      this.#madeIn.delete(s);
    }
  }
}

function align(bytes: number): number {
  return (bytes + 63) & ~63;
}

/**
 * Arrays a kernel is given empty on purpose, by argument position: an empty batch is not meant (that
 * goes to the reference), only "nothing to write here": a first layer's dx, argmax without pooling.
 */
const OPTIONAL_EMPTY: Partial<Record<keyof Kernels, readonly number[]>> = {
  convBackward: [0],
  convReluPoolForward: [1],
  convReluPoolBackward: [0, 5],
  deconvBackward: [0],
};

/**
 * The WASM kernels compute in float32. Each override goes through this: a call with any float64
 * array (a float64 model, or a gradient check) runs the reference kernel of the same name instead,
 * and so does a call with an empty array (an empty batch: nothing to speed up, and the WASM
 * kernels divide their work by its sizes).
 */
function float32Only<T extends Partial<Kernels>>(fast: T): T {
  const wrapped: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, kernel] of Object.entries(fast)) {
    const run = kernel as (...args: unknown[]) => unknown;
    const slow = reference[name as keyof typeof reference] as (...args: unknown[]) => unknown;
    const optional = OPTIONAL_EMPTY[name as keyof Kernels] ?? [];
    wrapped[name] = (...args) =>
      args.some(
        (a, i) =>
          a instanceof Float64Array || (ArrayBuffer.isView(a) && a.byteLength === 0 && !optional.includes(i)),
      )
        ? slow(...args)
        : run(...args);
  }
  return wrapped as unknown as T;
}

function outSize(size: number, filter: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - filter) / stride) + 1;
}

/** A convolution's sizes: x (n, c, h, w), W (fn, c, fh, fw). */
interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  fn: number;
  fh: number;
  fw: number;
  stride: number;
  pad: number;
}

/** A pooling's window: ph × pw, stride, pad. */
interface PoolGeometry {
  ph: number;
  pw: number;
  stride: number;
  pad: number;
}

/** The fast kernels over one runtime: reference spread, float32 overrides; resident arrays if shared. */
function fastKernels(rt: Runtime, shared: boolean) {
  /**
   * Element-wise op over `inputs`, result into `out` (which may alias any of them: each lane is read
   * before it is written).
   */
  const elementwise = (op: number, out: Floats, inputs: Floats[], floats: number[] = []) => {
    const len = inputs[0].length;
    rt.begin();
    const ptrs = inputs.map((x) => rt.use(x, len));
    const po = rt.out(out, len);
    rt.run(op, [po, ...ptrs, len], floats, len);
    rt.get(out, po, len);
  };
  /** In-place update of w and its state arrays from g. */
  const update = (op: number, inout: Floats[], g: Floats, floats: number[]) => {
    const len = inout[0].length;
    rt.begin();
    const ptrs = inout.map((x) => rt.use(x, len));
    const pg = rt.use(g, len);
    rt.run(op, [...ptrs, pg, len], floats, len);
    inout.forEach((x, i) => rt.get(x, ptrs[i], len));
  };

  /** The matmul jobs for operands already in the arena (after rt.begin): one, or k-split + reduce. */
  const matmulJobs = (
    po: number,
    pa: number,
    pb: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
  ): void => {
    // Work in element-equivalents: a multiply-add costs about 1/32 of an element-wise op's copies.
    const work = (m * n * k) / 32;
    if (transA && !transB && k >= SPLIT_MIN_K && m <= 128 && n <= 1024) {
      const slices = Math.ceil(k / KSLICE);
      const partials = rt.alloc(slices * m * n);
      rt.run(Op.matmulSplitK, [partials, pa, pb, m, k, n], [], work);
      rt.run(Op.matmulReduce, [po, partials, m * n, slices, +accumulate], [], m * n * slices);
      return;
    }
    if (halvesK(k, n, transA, transB)) {
      const part = rt.alloc(m * n);
      rt.run(Op.matmulHalf, [po, part, pa, pb, m, k, n, +accumulate], [], work);
      rt.run(Op.matmulReduce, [po, part, m * n, 1, 1], [], m * n);
      return;
    }
    rt.run(Op.matmul, [po, pa, pb, m, k, n, +transA, +transB, +accumulate, rt.threads], [], work);
  };

  /**
   * Per-thread scratch for one image's colᵀ ((c·fh·fw) × (oh·ow)); returns its arena offset. A 1×1
   * filter with stride 1 and no padding needs none: the kernels read the image as its colᵀ.
   */
  const colScratch = (g: ConvGeometry): number =>
    rt.alloc(
      (g.fh === 1 && g.fw === 1 && g.stride === 1 && g.pad === 0 ? 0 : rt.threads) *
        g.c *
        g.fh *
        g.fw *
        outSize(g.h, g.fh, g.stride, g.pad) *
        outSize(g.w, g.fw, g.stride, g.pad),
    );

  /**
   * Convolution forward inside the arena (after rt.begin), image by image: im2col (as colᵀ) →
   * W·colᵀ → bias (and ReLU when `rectify`), straight into the (n, fn, oh, ow) output at `py`, then
   * (when `pool` is given) that image's max pooling into `pooled` and `argmax` while it is in cache.
   * The final output (and argmax) is written straight into `target`'s arrays where they are resident.
   */
  const convForwardJobs = (
    x: Floats,
    W: Floats,
    b: Floats,
    g: ConvGeometry,
    rectify: boolean,
    pool?: PoolGeometry,
    target?: { out: Floats; argmax: Int32Array },
  ): { py: number; pooled: number; argmax: number } => {
    const { n, c, h, w, fn, fh, fw, stride, pad } = g;
    const [oh, ow] = [outSize(h, fh, stride, pad), outSize(w, fw, stride, pad)];
    const px = rt.use(x, n * c * h * w);
    const pw_ = rt.use(W, fn * c * fh * fw);
    const pb = rt.use(b, fn);
    const py = target && !pool ? rt.out(target.out) : rt.alloc(n * fn * oh * ow);
    const p = pool ?? { ph: 0, pw: 0, stride: 1, pad: 0 };
    const pooledLen = pool
      ? n * fn * outSize(oh, p.ph, p.stride, p.pad) * outSize(ow, p.pw, p.stride, p.pad)
      : 0;
    const pooled = target && pool ? rt.out(target.out, pooledLen) : rt.alloc(pooledLen);
    const argmax = target && pool ? rt.out(target.argmax, pooledLen) : rt.alloc(pooledLen);
    const pooling = [pooled, argmax, p.ph, p.pw, p.stride, p.pad];
    const work = (n * oh * ow * c * fh * fw * fn) / 32;
    const m = winogradTile(g);
    if (m > 0) {
      const pu = winogradFilters(pw_, fn, c, m);
      const scratch = rt.alloc(rt.threads * rt.exports.winogradScratch(c, h, w, fn, pad, m));
      const args = [py, px, pu, pb, n, c, h, w, fn, pad, +rectify, scratch];
      rt.run(Op.winogradForward, [...args, ...pooling, m], [], work / WINOGRAD_GAIN[m]);
      return { py, pooled, argmax };
    }
    // Per thread: one image's colᵀ, and for a 2×2 pooling the product before it is pooled.
    const perThread = rt.exports.convForwardScratch(
      c,
      h,
      w,
      fn,
      fh,
      fw,
      stride,
      pad,
      +rectify,
      p.ph,
      p.pw,
      p.stride,
      p.pad,
    );
    const scratch = rt.alloc(rt.threads * perThread);
    const args = [py, px, pw_, pb, n, c, h, w, fn, fh, fw, stride, pad, +rectify, scratch];
    rt.run(Op.convForward, [...args, ...pooling], [], work);
    return { py, pooled, argmax };
  };

  /**
   * What followed the convolution, for its backward: "none" (dout is the convolution's gradient),
   * "relu" (the ReLU's gradient at `dout` masked where its output y is not positive, into the
   * backward's own dout), "relu-pool" (dout is the max
   * pooling's gradient, routed to the winners argmax where the pooled value y is positive; `pool2x2`:
   * 2×2/2 windows, which F(4×4, 3×3) routes inside its dout transform).
   */
  type After =
    | { kind: "none" }
    | { kind: "relu"; y: number; dout: number }
    | {
        kind: "relu-pool";
        y: number;
        pooled: number;
        argmax: number;
        pooledPixels: number;
        pool2x2: boolean;
      };

  /**
   * Convolution backward inside the arena (after rt.begin), by groups of CONV_GROUP images: each
   * image's gradient dy (n, fn, oh, ow) at `pdy` is made from `after`, its dWᵀ and db go to the
   * group's partial, its dx (skipped when dx is empty) straight to dx; then the partials are summed
   * in group order. Copies dx, dW and db out.
   */
  /** The filters W (fn, c, 3, 3) at `pw` transformed for Winograd (U and Uᵀ); returns their offset. */
  const winogradFilters = (pw: number, fn: number, c: number, m: number): number => {
    const len = rt.exports.winogradFilterFloats(c, fn, m);
    const pu = rt.alloc(len);
    rt.run(Op.winogradFilter, [pu, pw, fn, c, m], [], len);
    return pu;
  };

  const convBackwardJobs = (
    dx: Floats,
    dW: Floats,
    db: Floats,
    pdy: number,
    x: Floats,
    W: Floats,
    g: ConvGeometry,
    after: After,
  ): void => {
    const { n, c, h, w, fn, fh, fw, stride, pad } = g;
    const pixels = outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
    const cols = c * fh * fw;
    const px = rt.use(x, n * c * h * w);
    const pw_ = rt.use(W, fn * cols);
    const withDx = dx.length > 0;
    const pdx = withDx ? rt.out(dx, n * c * h * w) : 0;
    const work = (n * pixels * cols * fn * (withDx ? 2 : 1)) / 32;
    const mode =
      after.kind === "none"
        ? [0, 0, 0, 0, 0]
        : after.kind === "relu"
          ? [1, after.y, after.dout, 0, 0]
          : [after.pool2x2 ? 3 : 2, after.y, after.pooled, after.argmax, after.pooledPixels];
    // Each group's partial dW (in the algorithm's own layout) and db, summed in group order.
    const m = winogradTile(g);
    const winograd = m > 0;
    const groups = winograd ? rt.exports.winogradGroups(n, c, h, w, fn, pad, m) : Math.ceil(n / CONV_GROUP);
    const partial = winograd ? rt.exports.winogradPartial(c, fn, m) : cols * fn + fn;
    const dwLen = partial - fn;
    const partials = rt.alloc(groups * partial);
    if (winograd) {
      const pu = withDx ? winogradFilters(pw_, fn, c, m) : 0;
      const scratch = rt.alloc(rt.threads * rt.exports.winogradScratch(c, h, w, fn, pad, m));
      const args = [pdx, partials, pdy, px, pu, n, c, h, w, fn, pad, +withDx, scratch];
      rt.run(Op.winogradBackward, [...args, ...mode, m], [], work / WINOGRAD_GAIN[m]);
    } else {
      const scratch = colScratch(g);
      const args = [pdx, partials, pdy, px, pw_, n, c, h, w, fn, fh, fw, stride, pad, +withDx, scratch];
      rt.run(Op.convBackward, [...args, ...mode], [], work);
    }
    const sum = rt.alloc(partial);
    rt.run(Op.matmulReduce, [sum, partials, partial, groups, 0], [], partial * groups);
    // dW from the summed partial: dWᵀ transposed, or Winograd's dU transformed back (Gᵀ dU G).
    const pdw = rt.out(dW, fn * cols);
    if (winograd) rt.run(Op.winogradFilterGrad, [pdw, sum, fn, c, m], [], dwLen);
    else rt.run(Op.transpose, [pdw, sum, 1, cols, fn], [], cols * fn);
    if (withDx) rt.get(dx, pdx, n * c * h * w);
    rt.get(dW, pdw, fn * cols);
    rt.get(db, sum + dwLen * 4, fn);
  };

  const fast = {
    matmul(out, a, b, m, k, n, transA, transB, accumulate = false) {
      rt.begin();
      const pa = rt.use(a, m * k);
      const pb = rt.use(b, k * n);
      const po = accumulate ? rt.use(out, m * n) : rt.out(out, m * n);
      matmulJobs(po, pa, pb, m, k, n, transA, transB, accumulate);
      rt.get(out, po, m * n);
    },

    addBias(out, x, bias, rows, cols) {
      rt.begin();
      const px = rt.use(x, rows * cols);
      const pb = rt.use(bias, cols);
      const po = rt.out(out, rows * cols);
      rt.run(Op.addBias, [po, px, pb, rows, cols], [], rows * cols);
      rt.get(out, po, rows * cols);
    },

    sumRows(out, x, rows, cols) {
      rt.begin();
      const px = rt.use(x, rows * cols);
      const po = rt.out(out, cols);
      rt.run(Op.sumRows, [po, px, rows, cols], [], rows * cols);
      rt.get(out, po, cols);
    },

    transpose(out, x, batch, rows, cols) {
      const len = batch * rows * cols;
      rt.begin();
      const px = rt.use(x, len);
      const po = rt.out(out, len);
      rt.run(Op.transpose, [po, px, batch, rows, cols], [], len);
      rt.get(out, po, len);
    },

    relu(out, x) {
      elementwise(Op.relu, out, [x]);
    },

    reluBackward(dx, dout, x) {
      elementwise(Op.reluBackward, dx, [dout, x]);
    },

    sigmoid(out, x) {
      elementwise(Op.sigmoid, out, [x]);
    },

    sigmoidBackward(dx, dout, y) {
      elementwise(Op.sigmoidBackward, dx, [dout, y]);
    },

    axpby(out, a, x, b, y) {
      elementwise(Op.axpby, out, [x, y], [a, b]);
    },

    mul(out, x, y) {
      elementwise(Op.mul, out, [x, y]);
    },

    softmax(out, x, rows, cols) {
      rt.begin();
      const px = rt.use(x, rows * cols);
      const po = rt.out(out, rows * cols);
      rt.run(Op.softmax, [po, px, rows, cols], [], rows * cols * 8);
      rt.get(out, po, rows * cols);
    },

    softmaxCrossEntropy(loss, probs, x, labels, rows, cols) {
      fast.softmax(probs, x, rows, cols);
      // The loss is a sum over rows: summed here, in float64 and row order, as the reference does.
      let sum = 0;
      for (let r = 0; r < rows; r++) sum -= Math.log(probs[r * cols + labels[r]] + 1e-7);
      loss[0] = sum;
    },

    softmaxCrossEntropyBackward(dx, probs, labels, rows, cols, scale) {
      rt.begin();
      const pp = rt.use(probs, rows * cols);
      const pl = rt.use(labels, rows);
      const pdx = rt.out(dx, rows * cols);
      rt.run(Op.softmaxCrossEntropyBackward, [pdx, pp, pl, rows, cols], [scale], rows * cols);
      rt.get(dx, pdx, rows * cols);
    },

    im2col(col, x, n, c, h, w, fh, fw, stride, pad) {
      const len = n * outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad) * c * fh * fw;
      rt.begin();
      const px = rt.use(x, n * c * h * w);
      const pc = rt.out(col, len);
      rt.run(Op.im2col, [pc, px, n, c, h, w, fh, fw, stride, pad], [], len);
      rt.get(col, pc, len);
    },

    col2im(dx, col, n, c, h, w, fh, fw, stride, pad) {
      const len = n * outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad) * c * fh * fw;
      rt.begin();
      const pc = rt.use(col, len);
      const px = rt.out(dx, n * c * h * w);
      rt.run(Op.col2im, [px, pc, n, c, h, w, fh, fw, stride, pad], [], len);
      rt.get(dx, px, n * c * h * w);
    },

    // The fused convolution: the same jobs as the layer's im2col → matmul → addBias → transpose
    // chain, run back to back inside the arena, so col and the intermediates never cross into JS.
    convForward(out, x, W, b, n, c, h, w, fn, fh, fw, stride, pad) {
      rt.begin();
      const geometry = { n, c, h, w, fn, fh, fw, stride, pad };
      const { py } = convForwardJobs(x, W, b, geometry, false, undefined, { out, argmax: new Int32Array(0) });
      rt.get(out, py, out.length);
    },

    convBackward(dx, dW, db, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad) {
      rt.begin();
      const pdout = rt.use(dout, dout.length);
      const geometry = { n, c, h, w, fn, fh, fw, stride, pad };
      convBackwardJobs(dx, dW, db, pdout, x, W, geometry, { kind: "none" });
    },

    // Convolution → ReLU (→ max pooling): the ReLU runs in the convolution's epilogue and each
    // image is pooled while it is in cache; only the pooled output (a quarter of it for 2×2
    // windows) and argmax come back.
    convReluPoolForward(out, argmax, x, W, b, n, c, h, w, fn, fh, fw, stride, pad, ph, pw, pstride, ppad) {
      rt.begin();
      const geometry = { n, c, h, w, fn, fh, fw, stride, pad };
      const pool = ph > 0 ? { ph, pw, stride: pstride, pad: ppad } : undefined;
      const jobs = convForwardJobs(x, W, b, geometry, true, pool, { out, argmax });
      rt.get(out, pool ? jobs.pooled : jobs.py, out.length);
      if (pool) rt.get(argmax, jobs.argmax, out.length);
    },

    convReluPoolBackward(
      dx,
      dW,
      db,
      dout,
      out,
      argmax,
      x,
      W,
      n,
      c,
      h,
      w,
      fn,
      fh,
      fw,
      stride,
      pad,
      ph,
      pw,
      pstride,
      ppad,
    ) {
      rt.begin();
      // Without pooling, dout and out are the ReLU's: dout is masked image by image inside the
      // convolution's backward, into scratch (the caller's dout stays as it was). With it, they
      // are the pooling's: routed to the winners there.
      const len = dout.length;
      const pd = rt.use(dout, len);
      const pout = rt.use(out, len);
      const geometry = { n, c, h, w, fn, fh, fw, stride, pad };
      if (ph === 0) {
        convBackwardJobs(dx, dW, db, rt.alloc(len), x, W, geometry, { kind: "relu", y: pout, dout: pd });
        return;
      }
      const [oh, ow] = [outSize(h, fh, stride, pad), outSize(w, fw, stride, pad)];
      const pooledPixels = outSize(oh, ph, pstride, ppad) * outSize(ow, pw, pstride, ppad);
      const pa = rt.use(argmax, len);
      const pool2x2 = ph === 2 && pw === 2 && pstride === 2 && ppad === 0;
      const after: After = { kind: "relu-pool", y: pd, pooled: pout, argmax: pa, pooledPixels, pool2x2 };
      convBackwardJobs(dx, dW, db, rt.alloc(n * fn * oh * ow), x, W, geometry, after);
    },

    maxPool(out, argmax, x, n, c, h, w, ph, pw, stride, pad) {
      const len = n * c * outSize(h, ph, stride, pad) * outSize(w, pw, stride, pad);
      rt.begin();
      const px = rt.use(x, n * c * h * w);
      const po = rt.out(out, len);
      const pa = rt.out(argmax, len);
      rt.run(Op.maxPool, [po, pa, px, n, c, h, w, ph, pw, stride, pad], [], len * ph * pw);
      rt.get(out, po, len);
      rt.get(argmax, pa, len);
    },

    maxPoolBackward(dx, dout, argmax, n, c, h, w, ph, pw, stride, pad) {
      const len = n * c * outSize(h, ph, stride, pad) * outSize(w, pw, stride, pad);
      rt.begin();
      const pd = rt.use(dout, len);
      const pa = rt.use(argmax, len);
      const px = rt.out(dx, n * c * h * w);
      rt.run(Op.maxPoolBackward, [px, pd, pa, n, c, h, w, ph, pw, stride, pad], [], n * c * h * w);
      rt.get(dx, px, n * c * h * w);
    },

    avgPool(out, x, n, c, h, w, ph, pw, stride, pad) {
      const len = n * c * outSize(h, ph, stride, pad) * outSize(w, pw, stride, pad);
      rt.begin();
      const px = rt.use(x, n * c * h * w);
      const po = rt.out(out, len);
      rt.run(Op.avgPool, [po, px, n, c, h, w, ph, pw, stride, pad], [], len * ph * pw);
      rt.get(out, po, len);
    },

    avgPoolBackward(dx, dout, n, c, h, w, ph, pw, stride, pad) {
      const len = n * c * outSize(h, ph, stride, pad) * outSize(w, pw, stride, pad);
      rt.begin();
      const pd = rt.use(dout, len);
      const px = rt.out(dx, n * c * h * w);
      rt.run(Op.avgPoolBackward, [px, pd, n, c, h, w, ph, pw, stride, pad], [], len * ph * pw);
      rt.get(dx, px, n * c * h * w);
    },

    // Batch normalization: per-channel sums and one multiply-add pass per value, over (n, c, hw).
    batchNormStats(mean, variance, x, n, c, hw) {
      const len = n * c * hw;
      rt.begin();
      const px = rt.use(x, len);
      const pm = rt.out(mean, c);
      const pv = rt.out(variance, c);
      rt.run(Op.batchNormStats, [pm, pv, px, n, c, hw], [], 2 * len);
      rt.get(mean, pm, c);
      rt.get(variance, pv, c);
    },

    batchNormForward(out, x, mean, variance, gamma, beta, n, c, hw, eps, relu) {
      const len = n * c * hw;
      rt.begin();
      const px = rt.use(x, len);
      const [pm, pv, pg, pb] = [mean, variance, gamma, beta].map((v) => rt.use(v, c));
      const po = rt.out(out, len);
      rt.run(Op.batchNormForward, [po, px, pm, pv, pg, pb, n, c, hw, +relu], [eps], len);
      rt.get(out, po, len);
    },

    // The parameter gradients (per-channel sums) first, then dx from them.
    batchNormBackward(dx, dgamma, dbeta, dy, x, mean, variance, gamma, n, c, hw, eps, train) {
      const len = n * c * hw;
      rt.begin();
      const pd = rt.use(dy, len);
      const px = rt.use(x, len);
      const [pm, pv, pg] = [mean, variance, gamma].map((v) => rt.use(v, c));
      const pdg = rt.out(dgamma, c);
      const pdb = rt.out(dbeta, c);
      const pdx = rt.out(dx, len);
      rt.run(Op.batchNormBackwardSums, [pdg, pdb, pd, px, pm, pv, n, c, hw], [eps], 2 * len);
      rt.run(Op.batchNormBackwardDx, [pdx, pd, px, pm, pv, pg, pdg, pdb, n, c, hw, +train], [eps], 2 * len);
      rt.get(dx, pdx, len);
      rt.get(dgamma, pdg, c);
      rt.get(dbeta, pdb, c);
    },

    sgdUpdate(w, g, lr) {
      update(Op.sgdUpdate, [w], g, [lr]);
    },

    momentumUpdate(w, v, g, lr, momentum) {
      update(Op.momentumUpdate, [w, v], g, [lr, momentum]);
    },

    adagradUpdate(w, h, g, lr, eps) {
      update(Op.adagradUpdate, [w, h], g, [lr, eps]);
    },

    rmspropUpdate(w, h, g, lr, decay, eps) {
      update(Op.rmspropUpdate, [w, h], g, [lr, decay, eps]);
    },

    adamUpdate(w, m, v, g, lrT, beta1, beta2, eps) {
      update(Op.adamUpdate, [w, m, v], g, [lrT, beta1, beta2, eps]);
    },

    // The LSTM cell's gates with a 4-lane exp (exp, σ, tanh within a few ulp of the reference's).
    lstmForward(gates, c, hNext, a, cPrev, n, h) {
      const units = n * h;
      rt.begin();
      const pa = rt.use(a, 4 * units);
      const pcp = rt.use(cPrev, units);
      const [pg, pc, ph] = [rt.out(gates, 4 * units), rt.out(c, units), rt.out(hNext, units)];
      rt.run(Op.lstmForward, [pg, pc, ph, pa, pcp, n, h], [], units * 16);
      rt.get(gates, pg, 4 * units);
      rt.get(c, pc, units);
      rt.get(hNext, ph, units);
    },

    lstmBackward(da, dcPrev, dh, dc, gates, cPrev, c, n, h) {
      const units = n * h;
      rt.begin();
      // dc copied: dcPrev may be dc itself.
      const [pdh, pdc, pg] = [rt.use(dh, units), rt.put(dc, units), rt.use(gates, 4 * units)];
      const [pcp, pc] = [rt.use(cPrev, units), rt.use(c, units)];
      const [pda, pdcp] = [rt.out(da, 4 * units), rt.out(dcPrev, units)];
      rt.run(Op.lstmBackward, [pda, pdcp, pdh, pdc, pg, pcp, pc, n, h], [], units * 16);
      rt.get(da, pda, 4 * units);
      rt.get(dcPrev, pdcp, units);
    },

    // The transposed convolution, image by image (see kernels.as): the forward reads Wᵀ, transposed
    // once per call; the backward's per-group dW and db partials are summed in group order.
    deconvForward(out, x, W, b, n, c, h, w, fn, fh, fw, stride, pad, outPad) {
      const cols = fn * fh * fw;
      rt.begin();
      const px = rt.put(x, n * c * h * w);
      const pw_ = rt.put(W, c * cols);
      const pb = rt.put(b, fn);
      const pwt = rt.alloc(cols * c);
      rt.run(Op.transpose, [pwt, pw_, 1, c, cols], [], cols * c);
      const po = rt.alloc(out.length);
      const scratch = rt.alloc(rt.threads * cols * h * w);
      const args = [po, px, pwt, pb, n, c, h, w, fn, fh, fw, stride, pad, outPad, scratch];
      rt.run(Op.deconvForward, args, [], (n * h * w * c * cols) / 32);
      rt.get(out, po, out.length);
    },

    deconvBackward(dx, dW, db, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad, outPad) {
      const cols = fn * fh * fw;
      const groups = Math.ceil(n / DECONV_GROUP);
      const partial = c * cols + fn;
      const withDx = dx.length > 0;
      rt.begin();
      const pd = rt.put(dout, dout.length);
      const px = rt.put(x, n * c * h * w);
      const pw_ = rt.put(W, c * cols);
      const partials = rt.alloc(groups * partial);
      const pdx = withDx ? rt.alloc(n * c * h * w) : 0;
      const scratch = rt.alloc(rt.threads * cols * h * w);
      const args = [pdx, partials, pd, px, pw_, n, c, h, w, fn, fh, fw, stride, pad, outPad];
      const work = (n * h * w * c * cols * (withDx ? 2 : 1)) / 32;
      rt.run(Op.deconvBackward, [...args, +withDx, scratch], [], work);
      const sum = rt.alloc(partial);
      rt.run(Op.matmulReduce, [sum, partials, partial, groups, 0], [], partial * groups);
      if (withDx) rt.get(dx, pdx, n * c * h * w);
      rt.get(dW, sum, c * cols);
      rt.get(db, sum + c * cols * 4, fn);
    },

    leakyRelu(out, x, alpha) {
      elementwise(Op.leakyRelu, out, [x], [alpha]);
    },

    leakyReluBackward(dx, dout, x, alpha) {
      elementwise(Op.leakyReluBackward, dx, [dout, x], [alpha]);
    },
  } satisfies Partial<Kernels>;

  const hostMemory = shared ? new Resident(rt) : undefined;
  return { ...reference, name: "wasm", ...float32Only(fast), hostMemory } satisfies Kernels;
}

export interface WasmOptions {
  /** Threads (the calling one included); default ZERODL_THREADS, else the number of cores. */
  threads?: number;
}

/** A running WASM backend: its runtime, its kernels, and whether it is the relaxed-SIMD build. */
interface Started {
  rt: Runtime;
  kernels: Kernels;
  relaxed: boolean;
}

let runtime: Promise<Started | null> | null = null;

async function instantiate(shared: boolean): Promise<Started> {
  const relaxed = relaxedSimdChosen();
  const bytes = decodeBase64(
    shared ? (relaxed ? wasmSharedRelaxed : wasmShared) : relaxed ? wasmSingleRelaxed : wasmSingle,
  );
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: wasmMaximumPages, shared });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const exports = instance.exports as unknown as Exports;
  const ctrl = align(exports.heapBase());
  const blocks = align(ctrl + CTRL_BYTES);
  // The pool gives each thread its pack scratch, which the runtime reserves before threads start.
  const packs: number[] = [];
  const pool = new ThreadPool(memory, module, ctrl, (t) => packs[t], exports.runJob);
  if (shared) await pool.attachHost();
  const rt = new Runtime(memory, exports, pool, blocks, packs);
  return { rt, kernels: fastKernels(rt, shared), relaxed };
}

async function start(): Promise<Started | null> {
  if (!simdSupported()) return null;
  // Threads need a shared memory (SharedArrayBuffer): always in Node, in a browser only when the
  // page is cross-origin isolated. Otherwise (or if reserving a shared memory fails) the
  // single-thread module runs.
  if (typeof SharedArrayBuffer !== "undefined") {
    try {
      return await instantiate(true);
    } catch {
      // fall through to the unshared module
    }
  }
  return instantiate(false);
}

/**
 * A separate single-thread instance over an ordinary (unshared) memory: what a browser page without
 * cross-origin isolation runs. For tests; applications use initWasm. Null without SIMD.
 */
export async function createSingleThreadWasm(): Promise<Kernels | null> {
  return simdSupported() ? (await instantiate(false)).kernels : null;
}

/**
 * Instantiates the WASM kernels (once; later calls reuse them and only set the thread count) and
 * returns them. Without WebAssembly SIMD it returns the reference kernels.
 */
export async function initWasm(options: WasmOptions = {}): Promise<Kernels> {
  runtime ??= start();
  const started = await runtime;
  if (!started) return reference;
  const threads = options.threads ?? requestedThreads ?? (await threadsDefault());
  await setWasmThreads(threads);
  return started.kernels;
}

/** The last count asked of setWasmThreads, kept for an initWasm that comes later. */
let requestedThreads: number | null = null;

async function threadsDefault(): Promise<number> {
  const env = typeof process !== "undefined" ? process.env?.ZERODL_THREADS : undefined;
  return env !== undefined && env !== "" ? defaultThreads() : cpuCount();
}

/**
 * Sets the WASM backend's thread count, the calling thread included (resolves once the workers are
 * running). Before initWasm, the count is kept for it.
 */
export async function setWasmThreads(n: number): Promise<void> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads must be a positive integer, got ${n}`);
  requestedThreads = n;
  const started = runtime ? await runtime : null;
  if (!started) return;
  const { rt } = started;
  rt.reservePack(n);
  await rt.pool.setThreads(n);
}

/**
 * Bytes of the WASM backend's memory now (0 when it is not running): resident params, optimizer
 * buffers and step activations, and the per-call scratch. It grows as needed up to 2 GiB and never
 * shrinks; blocks that are given back (a model's step activations at its next step, or when the
 * model is collected) are reused.
 */
export async function wasmMemoryBytes(): Promise<number> {
  const started = runtime ? await runtime : null;
  return started ? started.rt.memory.buffer.byteLength : 0;
}

/**
 * Whether the running WASM backend is the relaxed-SIMD build (its products use fused multiply-add);
 * false when it runs plain SIMD or is not running.
 */
export async function wasmRelaxedSimd(): Promise<boolean> {
  const started = runtime ? await runtime : null;
  return started?.relaxed ?? false;
}

/** Threads the WASM backend uses now (0 when it is not running). */
export async function wasmThreads(): Promise<number> {
  const started = runtime ? await runtime : null;
  return started ? started.rt.threads : 0;
}
