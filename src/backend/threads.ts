/**
 * Worker threads that share the kernels' WebAssembly memory.
 *
 * Dispatch goes through a control block in that memory, not through messages (a message costs tens
 * of microseconds; a kernel call may take less). The main thread writes the job into one of two
 * argument slots, resets the claim counter (tagged with the job's generation), publishes the
 * generation and notifies. Every thread, the main one included, then claims chunks of the job from
 * the counter until none are left (assembly/kernels.as `runJob`), and the main thread spins until all
 * chunks are finished. Workers spin briefly before they block in `Atomics.wait`, since back-to-back
 * kernels are common. Chunks are cut from the job's shape only, so results do not depend on the
 * thread count, and a worker the OS deschedules delays nobody: the others take its chunks.
 *
 * The worker body is a plain-JavaScript string evaluated by the worker, so it runs unchanged from the
 * TypeScript sources (vitest, tsx) and from dist/. A browser would start the same body in Web Workers
 * (`new Worker(URL.createObjectURL(new Blob([...])))`, receiving {module, memory, …} by postMessage):
 * `attachNodeHost` is the seam where such a host goes; only the Node host is implemented.
 */

/** Control block words (Int32 indices); the layout is mirrored in assembly/kernels.as. */
export const CTRL = {
  generation: 0,
  failed: 1,
  /** The int64 claim counter is at byte 8 (BigInt64 index 1). */
  counter64: 1,
  finished: 4,
  threads: 5,
  /** Argument slots: two of SLOT_BYTES from byte SLOTS; op at +0, int32 args from +4, float64 from +128. */
  slots: 64,
  slotBytes: 192,
} as const;
export const CTRL_BYTES = 64 + 2 * 192;

const workerBody = `
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, ctrl, pack, index, spin } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const runJob = instance.exports.runJob;
const word = new Int32Array(memory.buffer, ctrl, 8);
let seen = Atomics.load(word, 0);
parentPort.postMessage("ready");
for (;;) {
  let spins = 0;
  while (Atomics.load(word, 0) === seen) {
    if (++spins > spin) Atomics.wait(word, 0, seen);
  }
  seen = Atomics.load(word, 0);
  const threads = Atomics.load(word, 5);
  if (threads < 0) break;
  if (index < threads) {
    try {
      runJob(ctrl, seen, index, pack);
    } catch (e) {
      Atomics.store(word, 1, 1);
    }
  }
}
`;

/** Spins (Atomics.load polls) a worker makes before it blocks: roughly 50–100 µs. */
const SPIN = 20000;

/** What the pool needs of a worker; Node's `worker_threads.Worker` fits. */
interface HostedWorker {
  unref(): void;
  terminate(): Promise<number>;
  once(event: "message", listener: (value: unknown) => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
}

type RunJob = (ctrl: number, gen: number, t: number, pack: number) => number;

export class ThreadPool {
  readonly #memory: WebAssembly.Memory;
  readonly #module: WebAssembly.Module;
  readonly #ctrl: number;
  readonly #pack: number;
  readonly #runJob: RunJob;
  readonly #workers: HostedWorker[] = [];
  #ready = 0;
  #wanted = 1;
  #generation = 0;
  #spawn: ((index: number) => HostedWorker) | null = null;

  /** `pack`: base of the per-thread matmul scratch (thread t uses pack + t·packBytes). */
  constructor(
    memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    ctrl: number,
    pack: number,
    runJob: RunJob,
  ) {
    this.#memory = memory;
    this.#module = module;
    this.#ctrl = ctrl;
    this.#pack = pack;
    this.#runJob = runJob;
  }

  /** Uses Node's worker_threads; false where there are none (then only the calling thread runs). */
  async attachNodeHost(): Promise<boolean> {
    if (typeof SharedArrayBuffer === "undefined" || !(this.#memory.buffer instanceof SharedArrayBuffer)) {
      return false;
    }
    let Worker: typeof import("node:worker_threads").Worker;
    try {
      ({ Worker } = await import("node:worker_threads"));
    } catch {
      return false;
    }
    this.#spawn = (index) =>
      new Worker(workerBody, {
        eval: true,
        workerData: {
          module: this.#module,
          memory: this.#memory,
          ctrl: this.#ctrl,
          pack: this.#pack,
          index,
          spin: SPIN,
        },
      });
    return true;
  }

  /** Threads the next jobs may use (the calling thread included). */
  get threads(): number {
    return Math.min(this.#wanted, this.#ready + 1);
  }

  /** Asks for n threads; starts missing workers and resolves when they are ready. */
  async setThreads(n: number): Promise<void> {
    this.#wanted = n;
    const starting: Promise<void>[] = [];
    while (this.#spawn && this.#workers.length < n - 1) {
      const worker = this.#spawn(this.#workers.length + 1);
      // Idle workers block in Atomics.wait; unref lets the process exit regardless.
      worker.unref();
      this.#workers.push(worker);
      starting.push(
        new Promise<void>((resolve, reject) => {
          worker.once("message", () => {
            this.#ready++;
            resolve();
          });
          worker.once("error", reject);
        }),
      );
    }
    await Promise.all(starting);
  }

  /** The argument slot (byte offset) the next job must be written to; call `run` right after. */
  nextSlot(): number {
    this.#generation = (this.#generation + 1) & 0x7fffffff;
    return this.#ctrl + CTRL.slots + (this.#generation & 1) * CTRL.slotBytes;
  }

  /** Runs the job just written to `nextSlot()` on up to `threads` threads. Throws if a chunk trapped. */
  run(threads: number): void {
    const buffer = this.#memory.buffer;
    const word = new Int32Array(buffer, this.#ctrl, 8);
    const gen = this.#generation;
    Atomics.store(word, CTRL.finished, 0);
    Atomics.store(word, CTRL.failed, 0);
    Atomics.store(new BigInt64Array(buffer, this.#ctrl, 2), CTRL.counter64, BigInt(gen) << 32n);
    const shared = threads > 1 && this.#ready > 0;
    if (shared) {
      Atomics.store(word, CTRL.threads, threads);
      Atomics.store(word, CTRL.generation, gen);
      Atomics.notify(word, CTRL.generation);
    }
    // A trap here leaves the job unfinished for the workers; they stop at its end all the same.
    const chunks = this.#runJob(this.#ctrl, gen, 0, this.#pack);
    if (shared) {
      while (Atomics.load(word, CTRL.finished) < chunks && !Atomics.load(word, CTRL.failed)) {
        // spin: the last chunks are running on other threads
      }
      if (Atomics.load(word, CTRL.failed)) throw new Error("wasm kernel trapped in a worker thread");
    }
  }

  /** Stops every worker (the pool is unusable afterwards). */
  async close(): Promise<void> {
    const word = new Int32Array(this.#memory.buffer, this.#ctrl, 8);
    Atomics.store(word, CTRL.threads, -1);
    Atomics.store(word, CTRL.generation, (this.#generation = (this.#generation + 1) & 0x7fffffff));
    Atomics.notify(word, CTRL.generation);
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
    this.#ready = 0;
  }
}
