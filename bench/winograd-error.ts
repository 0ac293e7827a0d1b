/**
 * `npx tsx bench/winograd-error.ts`: the float32 error of the fused convolution kernels against the
 * float64 reference, im2col, Winograd F(2×2, 3×3) ("winograd") and F(4×4, 3×3) ("winograd4x4") side by side, at DeepConvNet's six 3×3 layers
 * (batch 20, inputs uniform in [−1, 1), He-scaled filters) and a VGG-sized one. For each output
 * (forward y, dx, dW, db): the largest error relative to the output's largest magnitude, and the
 * root-mean-square error relative to the output's RMS. Not part of `npm test`.
 */
import { reference } from "../src/backend/reference.js";
import { initWasm, setConvAlgorithm, type ConvAlgorithm } from "../src/backend/wasm.js";
import { Rng } from "../src/rng.js";

const k = await initWasm({ threads: 1 });
const N = 20;
const LAYERS: [string, number, number, number, number][] = [
  // name, c, size, fn, pad
  ["DeepConvNet conv1 (c = 1)", 1, 28, 16, 1],
  ["DeepConvNet conv2", 16, 28, 16, 1],
  ["DeepConvNet conv3", 16, 14, 32, 1],
  ["DeepConvNet conv4 (pad 2)", 32, 14, 32, 2],
  ["DeepConvNet conv5", 32, 8, 64, 1],
  ["DeepConvNet conv6", 64, 8, 64, 1],
  ["VGG-like 256 → 256, 14×14", 256, 14, 256, 1],
];

function errors(got: Float32Array, want: Float64Array): [number, number] {
  let maxErr = 0;
  let maxRef = 0;
  let sq = 0;
  let sqRef = 0;
  for (let i = 0; i < got.length; i++) {
    const d = got[i] - want[i];
    maxErr = Math.max(maxErr, Math.abs(d));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
    sq += d * d;
    sqRef += want[i] * want[i];
  }
  return [maxErr / maxRef, Math.sqrt(sq / sqRef)];
}

const fmt = ([max, rms]: [number, number]) => `${max.toExponential(1)} / ${rms.toExponential(1)}`;
console.log(`float32 error against float64, batch ${N}: largest / RMS, each relative to the output's own`);
console.log(
  `${"".padEnd(28)}${"algorithm".padEnd(12)}${"y".padEnd(19)}${"dx".padEnd(19)}${"dW".padEnd(19)}db`,
);
for (const [name, c, size, fn, pad] of LAYERS) {
  const rng = new Rng(c * 1000 + size);
  const out = size + 2 * pad - 2;
  const x64 = Float64Array.from({ length: N * c * size * size }, () => Math.fround(rng.uniform(-1, 1)));
  const scale = Math.sqrt(2 / (c * 9));
  const W64 = Float64Array.from({ length: fn * c * 9 }, () => Math.fround(rng.normal() * scale));
  const b64 = Float64Array.from({ length: fn }, () => Math.fround(rng.uniform(-0.1, 0.1)));
  const dy64 = Float64Array.from({ length: N * fn * out * out }, () => Math.fround(rng.uniform(-1, 1)));
  const want = {
    y: new Float64Array(N * fn * out * out),
    dx: new Float64Array(x64.length),
    dW: new Float64Array(W64.length),
    db: new Float64Array(fn),
  };
  const geometry = [N, c, size, size, fn, 3, 3, 1, pad] as const;
  reference.convForward(want.y, x64, W64, b64, ...geometry);
  reference.convBackward(want.dx, want.dW, want.db, dy64, x64, W64, ...geometry);
  for (const algorithm of ["im2col", "winograd", "winograd4x4"] as ConvAlgorithm[]) {
    setConvAlgorithm(algorithm);
    const got = {
      y: new Float32Array(want.y.length),
      dx: new Float32Array(x64.length),
      dW: new Float32Array(W64.length),
      db: new Float32Array(fn),
    };
    const [x, W, b, dy] = [x64, W64, b64, dy64].map((a) => Float32Array.from(a));
    k.convForward(got.y, x, W, b, ...geometry);
    k.convBackward(got.dx, got.dW, got.db, dy, x, W, ...geometry);
    const cells = (["y", "dx", "dW", "db"] as const).map((key) => fmt(errors(got[key], want[key])));
    console.log(`${name.padEnd(28)}${algorithm.padEnd(12)}${cells.map((s) => s.padEnd(19)).join("")}`);
  }
}
setConvAlgorithm("auto");
process.exit(0);
