/**
 * Worker threads that share the kernels' WebAssembly memory.
 *
 * Dispatch goes through a control block in that memory, not through messages (a message costs tens
 * of microseconds; a kernel call may take less): the main thread writes the job's op and arguments,
 * bumps the generation word and notifies; every worker runs `runJob(ctrl, t, T)` for its index t and
 * bumps the done word; the main thread runs share 0 itself and spins until the others are done.
 * Workers spin briefly before they block in `Atomics.wait`, since back-to-back kernels are common.
 *
 * The worker body is a plain-JavaScript string evaluated by the worker, so it runs unchanged from the
 * TypeScript sources (vitest, tsx) and from dist/. A browser would start the same body in Web Workers
 * (`new Worker(URL.createObjectURL(new Blob([...])))` receiving {module, memory} by postMessage): the
 * `WorkerHost` seam below is where that goes; only the Node host is implemented.
 */

/** Control block words (Int32 indices); the byte layout is mirrored in assembly/kernels.as. */
export const CTRL = {
  generation: 0,
  done: 1,
  op: 2,
  threads: 3,
  failed: 4,
} as const;
/** Bytes of the control block: 24 int32 args from byte 32, 8 float64 args from byte 128. */
export const CTRL_BYTES = 192;

const workerBody = `
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, ctrl, index, spin } = workerData;
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
  const T = Atomics.load(word, 3);
  if (T < 0) break;
  if (index < T) {
    try {
      runJob(ctrl, index, T);
    } catch (e) {
      Atomics.store(word, 4, 1);
    }
    Atomics.add(word, 1, 1);
  }
}
`;

/** Spins (Atomics.load polls) a worker makes before it blocks: roughly 50–100 µs. */
const SPIN = 20000;

/** The minimum a worker host must do; Node's `worker_threads.Worker` fits it. */
interface HostedWorker {
  unref(): void;
  terminate(): Promise<number>;
  once(event: "message", listener: (value: unknown) => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
}

export class ThreadPool {
  readonly #memory: WebAssembly.Memory;
  readonly #module: WebAssembly.Module;
  readonly #ctrl: number;
  readonly #runJob: (ctrl: number, t: number, T: number) => void;
  readonly #workers: HostedWorker[] = [];
  #ready = 0;
  #wanted = 1;
  #spawn: ((index: number) => HostedWorker) | null = null;

  constructor(
    memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    ctrl: number,
    runJob: (ctrl: number, t: number, T: number) => void,
  ) {
    this.#memory = memory;
    this.#module = module;
    this.#ctrl = ctrl;
    this.#runJob = runJob;
  }

  /** Loads Node's worker_threads; false where there is none (a browser without a host). */
  async attachNodeHost(): Promise<boolean> {
    let Worker: typeof import("node:worker_threads").Worker;
    try {
      ({ Worker } = await import("node:worker_threads"));
    } catch {
      return false;
    }
    this.#spawn = (index) =>
      new Worker(workerBody, {
        eval: true,
        workerData: { module: this.#module, memory: this.#memory, ctrl: this.#ctrl, index, spin: SPIN },
      });
    return true;
  }

  /** Threads the next jobs may use (the calling thread included). */
  get threads(): number {
    return Math.min(this.#wanted, this.#ready + 1);
  }

  /** Asks for n threads; starts missing workers. Resolves when they are ready. */
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

  /**
   * Runs the job already written into the control block on `threads` threads (1 runs it here only).
   * Workers beyond `threads` skip it. Throws if any share trapped.
   */
  run(threads: number): void {
    const word = new Int32Array(this.#memory.buffer, this.#ctrl, 8);
    word[CTRL.threads] = threads;
    word[CTRL.failed] = 0;
    if (threads <= 1) {
      this.#runJob(this.#ctrl, 0, 1);
      return;
    }
    Atomics.store(word, CTRL.done, 0);
    Atomics.add(word, CTRL.generation, 1);
    Atomics.notify(word, CTRL.generation);
    let error: unknown = null;
    try {
      this.#runJob(this.#ctrl, 0, threads);
    } catch (e) {
      error = e;
    }
    while (Atomics.load(word, CTRL.done) < threads - 1) {
      // spin: the other shares are running now
    }
    if (error) throw error;
    if (Atomics.load(word, CTRL.failed)) throw new Error("wasm kernel trapped in a worker thread");
  }

  /** Stops every worker (the pool is unusable afterwards). */
  async close(): Promise<void> {
    const word = new Int32Array(this.#memory.buffer, this.#ctrl, 8);
    Atomics.store(word, CTRL.threads, -1);
    Atomics.add(word, CTRL.generation, 1);
    Atomics.notify(word, CTRL.generation);
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
    this.#ready = 0;
  }
}
