/**
 * `npx tsx bench/interleaved.ts [--base DIR] [--models simple-conv,deep-conv] [--rounds N] [--no-python]`:
 * one thread per contestant, every contestant measured in short alternating blocks, CPU time per
 * training step and per 100 inference images. For a host so loaded that whole-process runs
 * (`npm run bench -- --peers`) neither finish nor compare fairly: the blocks of one round run
 * within seconds of each other, so they see the same machine, and each block's CPU time (not its
 * wall time) is what it cost.
 *
 * Contestants, per model: zerodl from this checkout; zerodl from `--base DIR` (another checkout of
 * zerodl, e.g. main's, with its node_modules and built WASM binary), loaded into this same process
 * as a second copy of the library; ONNX Runtime Web (inference, in this process, on zerodl's own
 * ONNX export of the same seeded network); PyTorch (`bench/pytorch_peer.py --serve`) and the book's
 * NumPy code (`bench/numpy_peer.py --serve`, OpenBLAS on one thread) as persistent child processes
 * that run a block when asked. Each block's zerodl CPU time is this process's (one thread: the
 * caller; the other contestants are idle meanwhile).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { gunzipSync } from "node:zlib";
import { enableRelaxedSimd } from "../src/backend/node-relaxed.js";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const models = (option("--models") ?? "simple-conv,deep-conv").split(",");
const rounds = Number(option("--rounds") ?? 5);
const base = option("--base");
const python = !args.includes("--no-python");
// Relaxed SIMD as the CLI runs it (its V8 flag is process-wide: both checkouts get it, as they are
// instantiated later); ZERODL_RELAXED_SIMD=0 measures plain SIMD.
const relaxed = enableRelaxedSimd();

/** Steps per training block and batches of 100 per inference block, per model. */
const BLOCK: Record<string, { train: number; infer: number }> = {
  "simple-conv": { train: 10, infer: 20 },
  "deep-conv": { train: 2, infer: 4 },
};

interface Contestant {
  name: string;
  train?: (model: string, k: number) => Promise<number>;
  infer: (model: string, k: number) => Promise<number>;
}

/** What this script uses of a zerodl model (from either checkout: two copies of the classes). */
interface Net {
  loss(x: unknown, t: Int32Array): number;
  backward(): unknown;
  predict(x: unknown): unknown;
  params: unknown;
}
interface OrtSession {
  inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<unknown>;
}

/** CPU ms of this process per unit while `f` runs k units. */
async function cpuPer(k: number, f: () => Promise<void> | void): Promise<number> {
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / k;
}

const root = new URL("../", import.meta.url).pathname;
const images = gunzipSync(readFileSync(`${root}data/mnist/train-images-idx3-ubyte.gz`));
const labelBytes = gunzipSync(readFileSync(`${root}data/mnist/train-labels-idx1-ubyte.gz`));
const COUNT = 1000;
const pixels = Float32Array.from({ length: COUNT * 784 }, (_, i) => images[16 + i] / 255);
const labels = Int32Array.from({ length: COUNT }, (_, i) => labelBytes[8 + i]);

/** zerodl from the checkout at `dir` (its own module graph, WASM runtime and resident memory). */
async function zerodl(name: string, dir: string): Promise<Contestant> {
  const load = (path: string) => import(`${dir}/src/${path}`);
  const { initWasm } = await load("backend/wasm.ts");
  const { setKernels } = await load("backend/index.ts");
  const { NDArray } = await load("ndarray.ts");
  const { Rng } = await load("rng.ts");
  const { Adam } = await load("optimizers/index.ts");
  const { SimpleConvNet } = await load("models/simple-conv-net.ts");
  const { DeepConvNet } = await load("models/deep-conv-net.ts");
  const kernels = await initWasm({ threads: 1 });
  const nets = new Map<string, { model: Net; optimizer: { step(params: unknown): void }; done: number }>();
  const net = (model: string) => {
    if (!nets.has(model)) {
      const rng = new Rng(42);
      const m = model === "deep-conv" ? new DeepConvNet({}, rng) : new SimpleConvNet({}, rng);
      nets.set(model, { model: m, optimizer: new Adam({ lr: 0.001 }), done: 0 });
    }
    return nets.get(model)!;
  };
  const batch = (i: number) => {
    const start = (i * 100) % (COUNT - 99);
    return {
      x: new NDArray(pixels.slice(start * 784, (start + 100) * 784), [100, 1, 28, 28]),
      t: labels.slice(start, start + 100),
    };
  };
  return {
    name,
    async train(model, k) {
      setKernels(kernels);
      const n = net(model);
      const xs = Array.from({ length: k }, (_, i) => batch(n.done + i));
      return cpuPer(k, () => {
        for (const { x, t } of xs) {
          n.model.loss(x, t);
          n.model.backward();
          n.optimizer.step(n.model.params);
        }
        n.done += k;
      });
    },
    async infer(model, k) {
      setKernels(kernels);
      const n = net(model);
      const xs = Array.from({ length: k }, (_, i) => batch(i).x);
      return cpuPer(k, () => {
        for (const x of xs) n.model.predict(x);
      });
    },
  };
}

/** ONNX Runtime Web, one thread, on zerodl's export of the same seeded networks. */
async function ortWeb(): Promise<Contestant> {
  const ort = createRequire(import.meta.url)("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
  const { exportOnnx } = await import("../src/io/onnx/export.js");
  const { Rng } = await import("../src/rng.js");
  const { SimpleConvNet } = await import("../src/models/simple-conv-net.js");
  const { DeepConvNet } = await import("../src/models/deep-conv-net.js");
  const sessions = new Map<string, OrtSession>();
  const session = async (model: string) => {
    if (!sessions.has(model)) {
      const net =
        model === "deep-conv" ? new DeepConvNet({}, new Rng(42)) : new SimpleConvNet({}, new Rng(42));
      sessions.set(
        model,
        await ort.InferenceSession.create(exportOnnx(net), {
          graphOptimizationLevel: "all",
          executionProviders: ["wasm"],
        }),
      );
    }
    return sessions.get(model) as OrtSession;
  };
  return {
    name: "ORT Web",
    async infer(model, k) {
      const s = await session(model);
      const feeds = Array.from({ length: k }, (_, i) => {
        const start = (i * 100) % (COUNT - 99);
        const x = pixels.slice(start * 784, (start + 100) * 784);
        return { [s.inputNames[0]]: new ort.Tensor("float32", x, [100, 1, 28, 28]) };
      });
      await s.run(feeds[0]);
      return cpuPer(k, async () => {
        for (const f of feeds) await s.run(f);
      });
    },
  };
}

/** A persistent Python peer (`--serve`): a block when asked, its own CPU time per unit back. */
function pythonPeer(name: string, exe: string, script: string, env: NodeJS.ProcessEnv): Contestant {
  let child: ChildProcessWithoutNullStreams | null = null;
  let lines: AsyncIterator<string>;
  const ask = async (cmd: string, model: string, k: number): Promise<number> => {
    if (!child) {
      child = spawn(exe, [`${root}bench/${script}`, "--serve"], { env: { ...process.env, ...env } });
      child.stderr.on("data", (d) => process.stderr.write(`${name}: ${d}`));
      lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    }
    child.stdin.write(`${cmd} ${model} ${k}\n`);
    const { value, done } = await lines.next();
    if (done) throw new Error(`${name} exited`);
    return JSON.parse(value).cpuMs;
  };
  return {
    name,
    train: (model, k) => ask("train", model, k),
    infer: (model, k) => ask("infer", model, k),
  };
}

const contestants: Contestant[] = [await zerodl("zerodl", root.replace(/\/$/, ""))];
if (base) contestants.push(await zerodl("zerodl (base)", base.replace(/\/$/, "")));
contestants.push(await ortWeb());
if (python) {
  contestants.push(pythonPeer("PyTorch", "/usr/bin/python3", "pytorch_peer.py", {}));
  contestants.push(
    pythonPeer("NumPy (book)", "python3", "numpy_peer.py", {
      OPENBLAS_NUM_THREADS: "1",
      OMP_NUM_THREADS: "1",
    }),
  );
}

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const simd = relaxed ? "relaxed SIMD (fused multiply-add)" : "plain SIMD";
console.log(
  `interleaved blocks, 1 thread each, CPU ms, zerodl on ${simd}; ${new Date().toISOString()}, load ${load()}`,
);
type Row = Record<string, { train: number[]; infer: number[] }>;
const results: Record<string, Row> = {};
for (const model of models) {
  const row: Row = (results[model] = {});
  for (const c of contestants) row[c.name] = { train: [], infer: [] };
  // Warm-up: one block each (JIT, first allocations, lazy model creation), not recorded.
  for (const c of contestants) {
    if (c.train) await c.train(model, 1);
    await c.infer(model, 1);
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of contestants) {
      // The book's NumPy DeepConvNet takes ~1 s per step: one step per block.
      const slow = c.name.startsWith("NumPy");
      if (c.train) row[c.name].train.push(await c.train(model, slow ? 1 : BLOCK[model].train));
      row[c.name].infer.push(await c.infer(model, slow ? 1 : BLOCK[model].infer));
    }
  }
  console.log(`\n${model} (load ${load()}): median [min–max] over ${rounds} rounds`);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const cell = (v: number[]) =>
    v.length ? `${median(v).toFixed(1)} [${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)}]` : "—";
  console.log(`  ${"".padEnd(16)}${"train ms/step".padEnd(26)}infer ms/100 images`);
  for (const c of contestants) {
    console.log(`  ${c.name.padEnd(16)}${cell(row[c.name].train).padEnd(26)}${cell(row[c.name].infer)}`);
  }
  const ours = row.zerodl;
  for (const c of contestants.slice(1)) {
    const ratio = (key: "train" | "infer") =>
      row[c.name][key].length ? cell(row[c.name][key].map((v, i) => v / ours[key][i])) + "×" : "—";
    console.log(
      `  zerodl's speed over ${c.name}, per round: training ${ratio("train")}, inference ${ratio("infer")}`,
    );
  }
}
console.log(JSON.stringify({ load: load(), rounds, results }));
process.exit(0);
