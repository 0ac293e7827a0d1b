/**
 * `npx tsx bench/pool.ts [threads]`: max pooling alone (forward), CPU ms per call at the shapes of
 * chapter 8's GoogLeNet (the Inception branch's 3×3 stride-1 pad-1 window at 14×14 and 7×7, the
 * 2×2/2 stage pooling) and a 3×3 stride-2 window, batch 100. Not part of `npm test`.
 */
import { initWasm } from "../src/backend/wasm.js";
import { Rng } from "../src/rng.js";

const threads = Number(process.argv[2] ?? 1);
const k = await initWasm({ threads });
const shapes: [n: number, c: number, h: number, w: number, window: number, stride: number, pad: number][] = [
  [100, 32, 14, 14, 3, 1, 1],
  [100, 64, 14, 14, 3, 1, 1],
  [100, 112, 7, 7, 3, 1, 1],
  [100, 112, 14, 14, 2, 2, 0],
  [100, 64, 14, 14, 3, 2, 1],
];
for (const [n, c, h, w, f, stride, pad] of shapes) {
  const x = new Float32Array(n * c * h * w);
  new Rng(1).fillUniform(x);
  const oh = Math.floor((h + 2 * pad - f) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - f) / stride) + 1;
  const out = new Float32Array(n * c * oh * ow);
  const argmax = new Int32Array(out.length);
  const run = () => k.maxPool(out, argmax, x, n, c, h, w, f, f, stride, pad);
  for (let i = 0; i < 3; i++) run();
  const reps = 20;
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) run();
  const cpu = process.cpuUsage(c0);
  const ms = (cpu.user + cpu.system) / 1000 / reps;
  console.log(
    `${`${n}×${c}×${h}×${w}, ${f}×${f} stride ${stride} pad ${pad}`.padEnd(36)}${ms.toFixed(2).padStart(8)} cpu ms${(out.length / ms / 1000).toFixed(0).padStart(8)} outputs/µs`,
  );
}
