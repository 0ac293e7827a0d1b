/**
 * Worker threads that share the kernels' WebAssembly memory.
 *
 * Dispatch goes through a control block in that memory, not through messages (a message costs tens
 * of microseconds; a kernel call may take less). The main thread writes the job into one of two
 * argument slots, resets the claim counter (tagged with the job's generation), publishes the
 * generation and notifies. Every thread, the main one included, then claims chunks of the job from
 * the counter until none are left (assembly/kernels.as `runJob`: even threads from the front, odd
 * ones from the back, so that each keeps to its end of the batch from job to job and reads what it
 * wrote from its own cache), and the main thread spins until all
 * chunks are finished. Workers spin briefly before they block in `Atomics.wait`, since back-to-back
 * kernels are common. Chunks are cut from the job's shape only, so results do not depend on the
 * thread count, and a worker the OS deschedules delays nobody: the others take its chunks.
 *
 * The worker body is a plain-JavaScript string, so it runs unchanged from the TypeScript sources
 * (vitest, tsx), from dist/ and from a bundle: Node evaluates it in `worker_threads`; a
 * cross-origin-isolated page starts it as a Web Worker from a Blob URL (`attachHost`). A page's main
 * thread may not block in `Atomics.wait`, so there the caller only spins.
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

/**
 * The worker's loop, shared by both hosts; `module, memory, ctrl, pack` (its own matmul scratch),
 * `index, spin` (ms) and `ready()`
 * are bound by the host's prologue.
 */
const workerLoop = `
const instance = new WebAssembly.Instance(module, { env: { memory } });
const runJob = instance.exports.runJob;
const word = new Int32Array(memory.buffer, ctrl, 8);
let seen = Atomics.load(word, 0);
ready();
for (;;) {
  let spins = 0;
  let since = 0;
  while (Atomics.load(word, 0) === seen) {
    if ((++spins & 255) !== 0) continue;
    const now = performance.now();
    if (since === 0) since = now;
    else if (now - since > spin) Atomics.wait(word, 0, seen);
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
    // The main thread may be blocked waiting for the last chunk.
    Atomics.notify(word, 4);
  }
}
`;

/** Node: an eval'd worker_threads script receiving its setup as workerData. */
const nodeWorkerBody = `
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, ctrl, pack, index, spin } = workerData;
const ready = () => parentPort.postMessage("ready");
${workerLoop}`;

/** Browser: a Web Worker (from a Blob URL) receiving its setup as its first message. */
const browserWorkerBody = `
self.onmessage = (event) => {
  const { module, memory, ctrl, pack, index, spin } = event.data;
  const ready = () => self.postMessage("ready");
  ${workerLoop}
};`;

/**
 * How long (ms) a waiting thread polls before it blocks in Atomics.wait. A training step issues
 * kernels with 10–100 µs of JavaScript between them; a worker that slept through that gap wakes
 * late for the next job (measured on TwoLayerNet, whose kernels take tens of µs: 0.54 ms per step
 * with a ~9 µs poll, 0.39–0.42 ms with 1 ms). When the machine is oversubscribed and a worker loses
 * its core mid-chunk, the straggler backoff (`#adapt`) takes over.
 */
const SPIN_MS = 1;
/** A blocked main thread re-checks this often (ms), should a notify be missed. */
const WAIT_MS = 1;

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
  readonly #packOf: (thread: number) => number;
  readonly #runJob: RunJob;
  readonly #workers: HostedWorker[] = [];
  #ready = 0;
  #wanted = 1;
  #generation = 0;
  /** Jobs still to run on the calling thread alone after a straggler, and the next such penalty. */
  #backoff = 0;
  #penalty = 1;
  #spawn: ((index: number) => HostedWorker) | null = null;
  /** Whether the calling thread may block in Atomics.wait (not a page's main thread). */
  #canBlock = true;
  #word: Int32Array;
  #counter: BigInt64Array;

  /** `packOf(t)`: thread t's matmul scratch (made before the thread starts). */
  constructor(
    memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    ctrl: number,
    packOf: (thread: number) => number,
    runJob: RunJob,
  ) {
    this.#memory = memory;
    this.#module = module;
    this.#ctrl = ctrl;
    // Views made once, not per job: the control block sits at a fixed offset, and a view of a shared
    // memory stays valid when the memory grows (an unshared one detaches: `run` re-makes them then).
    this.#word = new Int32Array(memory.buffer, ctrl, 8);
    this.#counter = new BigInt64Array(memory.buffer, ctrl, 2);
    this.#packOf = packOf;
    this.#runJob = runJob;
  }

  /**
   * Finds a way to start workers: Node's worker_threads, else Web Workers in a cross-origin-isolated
   * page. False where there is none (then only the calling thread runs).
   */
  async attachHost(): Promise<boolean> {
    if (typeof SharedArrayBuffer === "undefined" || !(this.#memory.buffer instanceof SharedArrayBuffer)) {
      return false;
    }
    const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    return node ? this.#attachNodeHost() : this.#attachBrowserHost();
  }

  #setup(index: number) {
    return {
      module: this.#module,
      memory: this.#memory,
      ctrl: this.#ctrl,
      pack: this.#packOf(index),
      index,
      spin: SPIN_MS,
    };
  }

  #attachBrowserHost(): boolean {
    const page = globalThis as { crossOriginIsolated?: boolean; Worker?: typeof Worker };
    if (!page.crossOriginIsolated || typeof page.Worker !== "function") return false;
    const url = URL.createObjectURL(new Blob([browserWorkerBody], { type: "text/javascript" }));
    this.#canBlock = false;
    this.#spawn = (index) => {
      const worker = new Worker(url);
      worker.postMessage(this.#setup(index));
      const hosted: HostedWorker = {
        unref: () => {},
        terminate: async () => {
          worker.terminate();
          return 0;
        },
        once: (event: "message" | "error", listener: (value: never) => void) => {
          worker.addEventListener(
            event,
            (e) =>
              listener((e instanceof MessageEvent ? e.data : new Error((e as ErrorEvent).message)) as never),
            { once: true },
          );
          return hosted;
        },
      };
      return hosted;
    };
    return true;
  }

  async #attachNodeHost(): Promise<boolean> {
    let Worker: typeof import("node:worker_threads").Worker;
    try {
      // A variable specifier: browser bundlers leave it alone (the import fails there, as it should).
      const specifier = "node:worker_threads";
      ({ Worker } = (await import(/* @vite-ignore */ specifier)) as typeof import("node:worker_threads"));
    } catch {
      return false;
    }
    this.#spawn = (index) => new Worker(nodeWorkerBody, { eval: true, workerData: this.#setup(index) });
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
    if (this.#word.length === 0) {
      // An unshared memory grew: its old buffer, and the views on it, are detached.
      this.#word = new Int32Array(this.#memory.buffer, this.#ctrl, 8);
      this.#counter = new BigInt64Array(this.#memory.buffer, this.#ctrl, 2);
    }
    const word = this.#word;
    const gen = this.#generation;
    Atomics.store(word, CTRL.finished, 0);
    Atomics.store(word, CTRL.failed, 0);
    Atomics.store(this.#counter, CTRL.counter64, BigInt(gen) << 32n);
    const shared = threads > 1 && this.#ready > 0 && this.#backoff === 0;
    if (this.#backoff > 0) this.#backoff--;
    if (shared) {
      Atomics.store(word, CTRL.threads, threads);
      Atomics.store(word, CTRL.generation, gen);
      Atomics.notify(word, CTRL.generation);
    }
    // A trap here leaves the job unfinished for the workers; they stop at its end all the same.
    const start = performance.now();
    const chunks = this.#runJob(this.#ctrl, gen, 0, this.#packOf(0));
    if (shared) {
      // The last chunks are running on other threads: spin briefly, then block and free the core.
      const own = performance.now();
      for (;;) {
        const finished = Atomics.load(word, CTRL.finished);
        if (finished >= chunks || Atomics.load(word, CTRL.failed)) break;
        if (this.#canBlock && performance.now() - own > SPIN_MS) {
          Atomics.wait(word, CTRL.finished, finished, WAIT_MS);
        }
      }
      this.#adapt(own - start, performance.now() - own);
      if (Atomics.load(word, CTRL.failed)) throw new Error("wasm kernel trapped in a worker thread");
    }
  }

  /**
   * Straggler backoff. On an oversubscribed machine the OS preempts a worker in the middle of a chunk
   * and the calling thread waits for it for a whole time slice (measured at load 7 on 2 cores: 2
   * threads ran SimpleConvNet 1.8× slower than 1). When the wait outlasts the calling thread's own
   * share, the next `penalty` jobs run on the calling thread alone, the penalty doubling while
   * stragglers recur and halving when a shared job goes well. Chunks never change, so results do not.
   */
  #adapt(ownMs: number, waitedMs: number): void {
    if (waitedMs > Math.max(0.25, ownMs)) {
      this.#backoff = this.#penalty;
      this.#penalty = Math.min(this.#penalty * 2, 1024);
    } else {
      this.#penalty = Math.max(1, this.#penalty >> 1);
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
