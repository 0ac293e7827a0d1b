/**
 * `npx tsx bench/conv.ts [threads] [--cpu] [--algorithms auto,winograd,…]`: the fused convolution
 * kernels alone, at the book's shapes (batch 100): DeepConvNet's six Convolution → ReLU (→ 2×2 max
 * Pooling) blocks and SimpleConvNet's one, forward and backward, best of 15 calls each (copies into
 * and out of WASM included). With several algorithms (`setConvAlgorithm`), each block is timed with
 * each in turn, side by side. For iterating on the convolution kernels in src/backend/assembly/kernels.as.
 */
import { initWasm, setConvAlgorithm, type ConvAlgorithm } from "../src/backend/wasm.js";
import { Rng } from "../src/rng.js";

const threads = Number(process.argv[2] ?? 1);
const algorithmsAt = process.argv.indexOf("--algorithms");
const algorithms = (algorithmsAt > 0 ? process.argv[algorithmsAt + 1] : "auto").split(",") as ConvAlgorithm[];
const k = await initWasm({ threads });

interface Block {
  name: string;
  c: number;
  size: number;
  fn: number;
  filter: number;
  pad: number;
  pool: boolean;
  /** The network's first layer: no dx. */
  first: boolean;
}
const BLOCKS: Block[] = [
  { name: "DeepConvNet conv1", c: 1, size: 28, fn: 16, filter: 3, pad: 1, pool: false, first: true },
  { name: "DeepConvNet conv2", c: 16, size: 28, fn: 16, filter: 3, pad: 1, pool: true, first: false },
  { name: "DeepConvNet conv3", c: 16, size: 14, fn: 32, filter: 3, pad: 1, pool: false, first: false },
  { name: "DeepConvNet conv4", c: 32, size: 14, fn: 32, filter: 3, pad: 2, pool: true, first: false },
  { name: "DeepConvNet conv5", c: 32, size: 8, fn: 64, filter: 3, pad: 1, pool: false, first: false },
  { name: "DeepConvNet conv6", c: 64, size: 8, fn: 64, filter: 3, pad: 1, pool: true, first: false },
  { name: "SimpleConvNet conv", c: 1, size: 28, fn: 30, filter: 5, pad: 0, pool: true, first: true },
];
const N = 100;
const rng = new Rng(1);
const uniform = (len: number) => Float32Array.from({ length: len }, () => rng.uniform(-0.5, 0.5));

/**
 * Best of 15 calls, in wall ms, or with `--cpu` in CPU ms of the whole process (all threads): on a
 * loaded machine a call's wall time includes the time other processes had the cores, its CPU time
 * does not.
 */
const cpuTime = process.argv.includes("--cpu");
function best(call: () => void): number {
  let ms = Infinity;
  for (let r = 0; r < 15; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    call();
    const cpu = process.cpuUsage(c0);
    ms = Math.min(ms, cpuTime ? (cpu.user + cpu.system) / 1000 : performance.now() - t0);
  }
  return ms;
}

console.log(
  `fused convolution kernels, batch ${N}, wasm × ${threads} thread(s); ${cpuTime ? "CPU" : "wall"} ms, best of 15`,
);
const deep = new Map(algorithms.map((a) => [a, { forward: 0, backward: 0 }]));
for (const { name, c, size, fn, filter, pad, pool, first } of BLOCKS) {
  const out = size + 2 * pad - filter + 1;
  const [ph, pw, ps] = pool ? [2, 2, 2] : [0, 0, 1];
  const outLen = N * fn * (pool ? Math.floor(out / 2) ** 2 : out * out);
  const x = uniform(N * c * size * size);
  const W = uniform(fn * c * filter * filter);
  const b = uniform(fn);
  const y = new Float32Array(outLen);
  const argmax = new Int32Array(outLen);
  const dout = uniform(outLen);
  const dx = new Float32Array(first ? 0 : x.length);
  const dW = new Float32Array(W.length);
  const db = new Float32Array(fn);
  const geometry = [N, c, size, size, fn, filter, filter, 1, pad, ph, pw, ps, 0] as const;
  const forward = () => k.convReluPoolForward(y, argmax, x, W, b, ...geometry);
  const backward = () => k.convReluPoolBackward(dx, dW, db, dout, y, argmax, x, W, ...geometry);
  for (const algorithm of algorithms) {
    setConvAlgorithm(algorithm);
    const f = best(forward);
    const bw = best(backward);
    const sum = deep.get(algorithm)!;
    if (name.startsWith("DeepConvNet")) {
      sum.forward += f;
      sum.backward += bw;
    }
    const gflop = (2 * N * out * out * fn * c * filter * filter) / 1e9;
    const label = algorithms.length > 1 ? `${name} ${algorithm}` : name;
    console.log(
      `${label.padEnd(32)} forward ${f.toFixed(2).padStart(7)} (${(gflop / (f / 1000)).toFixed(0).padStart(3)} GFLOP/s)` +
        `   backward ${bw.toFixed(2).padStart(7)} (${(((first ? 1 : 2) * gflop) / (bw / 1000)).toFixed(0).padStart(3)} GFLOP/s)`,
    );
  }
}
for (const [algorithm, sum] of deep) {
  const label = algorithms.length > 1 ? `DeepConvNet, all six ${algorithm}` : "DeepConvNet, all six";
  console.log(
    `${label.padEnd(32)} forward ${sum.forward.toFixed(2).padStart(7)}                 backward ${sum.backward.toFixed(2).padStart(7)}`,
  );
}
setConvAlgorithm("auto");
process.exit(0);
