/**
 * `npx tsx bench/serial-split.ts [rounds] [steps]`: SimpleConvNet training step (batch 100, Adam),
 * per kernel call (matmul keyed by shape) at 1 and 2 threads, alternating in one process: where the
 * two-thread step loses against half the one-thread step; the step's mean, median and fastest block
 * of `steps` steps at each thread count. Not part of `npm test`.
 */
import { setKernels } from "../src/backend/index.js";
import type { Kernels } from "../src/backend/kernels.js";
import { initWasm, setWasmThreads } from "../src/backend/wasm.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { NDArray } from "../src/ndarray.js";
import { Adam } from "../src/optimizers/index.js";
import { Rng } from "../src/rng.js";

const rounds = Number(process.argv[2] ?? 6);
const steps = Number(process.argv[3] ?? 20);
const wasm = await initWasm({ threads: 1 });
let times = new Map<string, number>();
const timed = { ...wasm } as Record<string, unknown>;
for (const [key, fn] of Object.entries(wasm)) {
  if (typeof fn !== "function") continue;
  timed[key] = (...a: unknown[]) => {
    const name =
      key === "matmul" ? `matmul ${a[3]}x${a[4]}x${a[5]}${a[6] ? " tA" : ""}${a[7] ? " tB" : ""}` : key;
    const t0 = performance.now();
    const r = (fn as (...args: unknown[]) => unknown).apply(wasm, a);
    times.set(name, (times.get(name) ?? 0) + performance.now() - t0);
    return r;
  };
}
setKernels(timed as unknown as Kernels);
const model = new SimpleConvNet({}, new Rng(42));
const opt = new Adam({ lr: 0.001 });
const x = NDArray.zeros([100, 1, 28, 28]);
new Rng(1).fillUniform(x.data);
const t = new Int32Array(100).map((_, i) => i % 10);
const step = () => {
  model.loss(x, t);
  model.backward();
  opt.step(model.params);
};
const acc = [new Map<string, number>(), new Map<string, number>()];
const total = [0, 0];
/** Each block's ms per step, per thread count: the fastest and the median block move less with the host's load. */
const blocks: number[][] = [[], []];
for (let r = 0; r < rounds; r++) {
  for (const th of [1, 2]) {
    await setWasmThreads(th);
    for (let i = 0; i < 3; i++) step();
    times = new Map();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    const ms = performance.now() - t0;
    total[th - 1] += ms;
    blocks[th - 1].push(ms / steps);
    for (const [k, v] of times) acc[th - 1].set(k, (acc[th - 1].get(k) ?? 0) + v);
  }
}
const n = rounds * steps;
const k1 = [...acc[0]].sort((a, b) => b[1] - a[1]);
console.log(
  `step: 1 thread ${(total[0] / n).toFixed(3)} ms, 2 threads ${(total[1] / n).toFixed(3)} ms, ${(total[0] / total[1]).toFixed(3)}×`,
);
const sorted = blocks.map((b) => [...b].sort((x, y) => x - y));
const mid = (b: number[]) => b[b.length >> 1];
console.log(
  `median block: ${mid(sorted[0]).toFixed(3)} / ${mid(sorted[1]).toFixed(3)} ms, ${(mid(sorted[0]) / mid(sorted[1])).toFixed(3)}×; ` +
    `fastest block: ${sorted[0][0].toFixed(3)} / ${sorted[1][0].toFixed(3)} ms, ${(sorted[0][0] / sorted[1][0]).toFixed(3)}×`,
);
let s1 = 0;
let s2 = 0;
for (const [k, v] of k1) {
  const a = v / n;
  const b = (acc[1].get(k) ?? 0) / n;
  s1 += a;
  s2 += b;
  console.log(
    `${k.padEnd(36)}${a.toFixed(3).padStart(8)}${b.toFixed(3).padStart(8)}  ${(a / b).toFixed(2)}×  lost ${(b - a / 2).toFixed(3)}`,
  );
}
const o1 = total[0] / n - s1;
const o2 = total[1] / n - s2;
console.log(
  `${"outside kernels".padEnd(36)}${o1.toFixed(3).padStart(8)}${o2.toFixed(3).padStart(8)}  ${(o1 / o2).toFixed(2)}×  lost ${(o2 - o1 / 2).toFixed(3)}`,
);
