import type { Kernels } from "../src/backend/kernels.js";
import { reference } from "../src/backend/reference.js";
import type { DType, Floats } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";
import { assertAllClose } from "../src/testing/gradcheck.js";

/**
 * The kernel parity cases: every kernel on shapes that hit SIMD tails and odd sizes, run on a
 * backend in float32 and compared with the reference kernels in float64 (the specification at full
 * precision). One table for every backend: test/kernel-parity.test.ts runs it for the CPU backends
 * in Node, test/browser/webgpu-page.ts for WebGPU in Chromium.
 *
 * A case reads no output on the host before it returns them (a device backend fills them later).
 */

const SIZES = [1, 3, 4, 5, 17, 64, 65];

/** Inputs drawn per case from a fixed seed; float32-representable, so both precisions see the same. */
export function floats(dtype: DType, n: number, rng: Rng, low = -1, high = 1): Floats {
  const a = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.fround(rng.uniform(low, high));
  return a;
}
export function alloc(dtype: DType, n: number): Floats {
  // Garbage-filled: kernels must write every output element.
  const a = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  return a.fill(7.25);
}
function labels(rows: number, cols: number, rng: Rng): Int32Array {
  const t = new Int32Array(rows);
  for (let i = 0; i < rows; i++) t[i] = rng.int(cols);
  return t;
}
export const outSize = (size: number, f: number, s: number, p: number) =>
  Math.floor((size + 2 * p - f) / s) + 1;

export interface Case {
  name: string;
  atol: number;
  rtol: number;
  /** Runs the kernel(s) on fresh seeded inputs; returns every output (and in-place state). */
  run(k: Kernels, dtype: DType): (Floats | Int32Array | number)[];
}

export const cases: Case[] = [];

/** convForward, then convBackward without and with dx, on seeded inputs. */
export function fusedConvCase([n, c, h, w, fn, fh, fw, stride, pad]: number[]): Case {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  return {
    name: `fused convolution forward/backward n=${n} c=${c} ${h}×${w} filter ${fh}×${fw} stride ${stride} pad ${pad}, ${fn} filters`,
    atol: 1e-5 * Math.sqrt(n * oh * ow) + 1e-6,
    rtol: 1e-4,
    run(k, dtype) {
      const rng = new Rng(fn + n * 5 + c * 11 + h * 101 + stride * 1001 + pad * 3);
      const cols = c * fh * fw;
      const x = floats(dtype, n * c * h * w, rng);
      const W = floats(dtype, fn * cols, rng);
      const b = floats(dtype, fn, rng);
      const out = alloc(dtype, n * fn * oh * ow);
      k.convForward(out, x, W, b, n, c, h, w, fn, fh, fw, stride, pad);
      const dout = floats(dtype, n * fn * oh * ow, rng);
      // Without dx (a first layer) first, so that its dW and db cannot lean on scratch a call with dx
      // left behind; then with dx: the same dW and db.
      const dW2 = alloc(dtype, fn * cols);
      const db2 = alloc(dtype, fn);
      k.convBackward(alloc(dtype, 0), dW2, db2, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad);
      const dx = alloc(dtype, n * c * h * w);
      const dW = alloc(dtype, fn * cols);
      const db = alloc(dtype, fn);
      k.convBackward(dx, dW, db, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad);
      return [out, dx, dW, db, dW2, db2];
    },
  };
}

/** convReluPoolForward, then its backward without and with dx, on seeded inputs (ph = 0: no pooling). */
export function convReluPoolCase(
  [n, c, h, w, fn, f, stride, pad]: number[],
  [ph, pw, pstride, ppad]: number[],
): Case {
  const oh = outSize(h, f, stride, pad);
  const ow = outSize(w, f, stride, pad);
  const len =
    ph === 0 ? n * fn * oh * ow : n * fn * outSize(oh, ph, pstride, ppad) * outSize(ow, pw, pstride, ppad);
  return {
    name: `fused convolution → ReLU → pool n=${n} c=${c} ${h}×${w}, ${fn} filters ${f}×${f} stride ${stride} pad ${pad}, pool ${ph}×${pw}/${pstride} pad ${ppad}`,
    atol: 1e-5 * Math.sqrt(n * oh * ow) + 1e-6,
    rtol: 1e-4,
    run(k, dtype) {
      const rng = new Rng(n * 7 + c * 13 + h * 17 + w * 19 + fn * 23 + ph);
      const cols = c * f * f;
      const x = floats(dtype, n * c * h * w, rng);
      const W = floats(dtype, fn * cols, rng);
      const b = floats(dtype, fn, rng, -0.2, 0.2);
      const out = alloc(dtype, len);
      const argmax = new Int32Array(ph === 0 ? 0 : len).fill(-7);
      k.convReluPoolForward(out, argmax, x, W, b, n, c, h, w, fn, f, f, stride, pad, ph, pw, pstride, ppad);
      const dout = floats(dtype, len, rng);
      const geometry = [n, c, h, w, fn, f, f, stride, pad, ph, pw, pstride, ppad] as const;
      // Without dx (a first layer) first, so that its dW and db cannot lean on scratch (the masked,
      // routed gradient) a call with dx left behind; then with dx: the same dW and db.
      const dW2 = alloc(dtype, fn * cols);
      const db2 = alloc(dtype, fn);
      k.convReluPoolBackward(alloc(dtype, 0), dW2, db2, dout, out, argmax, x, W, ...geometry);
      const dx = alloc(dtype, n * c * h * w);
      const dW = alloc(dtype, fn * cols);
      const db = alloc(dtype, fn);
      k.convReluPoolBackward(dx, dW, db, dout, out, argmax, x, W, ...geometry);
      return [out, argmax, dx, dW, db, dW2, db2];
    },
  };
}

// matmul: all four transpose combinations, with and without accumulate; k > 256 and n > 256 cross
// the kernel's cache blocks.
const MATMUL_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 4],
  [4, 4, 8],
  [5, 17, 3],
  [17, 64, 65],
  [65, 3, 17],
  [64, 65, 5],
  [9, 300, 33],
  [3, 7, 530],
  // Several row tiles sharing one packed b; and a b too big to pack whole (k·n > 256·256).
  [260, 30, 9],
  [5, 300, 260],
  // A b too big to pack whole with few columns, under one row tile: cut in row tiles when threads
  // share it (an Affine layer's forward, scaled down); and a wide bᵀ cut in 128-column tiles.
  [20, 700, 100],
  [6, 40, 600],
  // The same with k ≥ 1024 (a·b untransposed): cut in two halves along k, the second half's partial
  // added after; one row (batch 1), an odd k, and several 64-row tiles with a ragged last one.
  [1, 1031, 65],
  [7, 2049, 33],
  [257, 1100, 60],
  // A tall k (a convolution's dW, aᵀ·b): cut into k slices whose partials are summed, with tails.
  [5, 9000, 17],
];
for (const [m, k, n] of MATMUL_SHAPES) {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const accumulate of [false, true]) {
        cases.push({
          name: `matmul ${m}×${k}·${k}×${n} transA=${transA} transB=${transB} accumulate=${accumulate}`,
          atol: 1e-5 * Math.sqrt(k) + 1e-6,
          rtol: 1e-4,
          run(kern, dtype) {
            const rng = new Rng(m * 1000 + k * 10 + n);
            const a = floats(dtype, m * k, rng);
            const b = floats(dtype, k * n, rng);
            const out = accumulate ? floats(dtype, m * n, rng) : alloc(dtype, m * n);
            kern.matmul(out, a, b, m, k, n, transA, transB, accumulate);
            return [out];
          },
        });
      }
    }
  }
}

for (const [rows, cols] of [
  [1, 1],
  [3, 5],
  [4, 4],
  [17, 65],
  [65, 3],
  [64, 17],
]) {
  cases.push({
    name: `addBias ${rows}×${cols} (and in place)`,
    atol: 1e-6,
    rtol: 1e-6,
    run(k, dtype) {
      const rng = new Rng(rows * 100 + cols);
      const x = floats(dtype, rows * cols, rng);
      const bias = floats(dtype, cols, rng);
      const out = alloc(dtype, rows * cols);
      k.addBias(out, x, bias, rows, cols);
      k.addBias(x, x, bias, rows, cols);
      return [out, x];
    },
  });
  cases.push({
    name: `sumRows ${rows}×${cols}`,
    atol: 1e-5,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(rows * 101 + cols);
      const x = floats(dtype, rows * cols, rng);
      const out = alloc(dtype, cols);
      k.sumRows(out, x, rows, cols);
      return [out];
    },
  });
  for (const batch of [1, 3]) {
    cases.push({
      name: `transpose ${batch}×${rows}×${cols}`,
      atol: 0,
      rtol: 0,
      run(k, dtype) {
        const rng = new Rng(rows * 102 + cols + batch);
        const x = floats(dtype, batch * rows * cols, rng);
        const out = alloc(dtype, batch * rows * cols);
        k.transpose(out, x, batch, rows, cols);
        return [out];
      },
    });
  }
  cases.push({
    name: `softmax + cross-entropy ${rows}×${cols}`,
    atol: 1e-6,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(rows * 103 + cols);
      const x = floats(dtype, rows * cols, rng, -8, 8);
      const t = labels(rows, cols, rng);
      const probs = alloc(dtype, rows * cols);
      const sm = alloc(dtype, rows * cols);
      k.softmax(sm, x, rows, cols);
      const loss = alloc(dtype, 1);
      k.softmaxCrossEntropy(loss, probs, x, t, rows, cols);
      const dx = alloc(dtype, rows * cols);
      k.softmaxCrossEntropyBackward(dx, probs, t, rows, cols, 1 / rows);
      return [sm, probs, loss, dx];
    },
  });
}

for (const len of SIZES) {
  /** f returns the array to check when it is not `out` (an in-place call). */
  const unary = (
    name: string,
    f: (k: Kernels, out: Floats, x: Floats, y: Floats) => Floats | void,
    scale = 4,
  ) =>
    cases.push({
      name: `${name} length ${len}`,
      atol: 1e-6,
      rtol: 1e-5,
      run(k, dtype) {
        const rng = new Rng(len * 7 + name.length);
        const x = floats(dtype, len, rng, -scale, scale);
        // Off the kink: |x| ≥ 1e-2 so relu's branch is the same in float32 and float64.
        for (let i = 0; i < len; i++) if (Math.abs(x[i]) < 1e-2) x[i] = 0.5;
        const y = floats(dtype, len, rng, 0, 1);
        const out = alloc(dtype, len);
        return [f(k, out, x, y) ?? out];
      },
    });
  unary("relu", (k, out, x) => k.relu(out, x));
  unary("relu in place", (k, _out, x) => {
    k.relu(x, x);
    return x;
  });
  unary("reluBackward", (k, out, x, y) => k.reluBackward(out, y, x));
  unary("sigmoid", (k, out, x) => k.sigmoid(out, x), 40);
  unary("sigmoidBackward", (k, out, x, y) => k.sigmoidBackward(out, x, y));
  unary("tanh", (k, out, x) => k.tanh(out, x));
  unary("tanhBackward", (k, out, x, y) => k.tanhBackward(out, x, y));
  unary("axpby", (k, out, x, y) => k.axpby(out, 0.75, x, -1.5, y));
  unary("axpby in place", (k, _out, x, y) => {
    k.axpby(y, 0.75, x, -1.5, y);
    return y;
  });
  unary("mul", (k, out, x, y) => k.mul(out, x, y));
  unary("leakyRelu", (k, out, x) => k.leakyRelu(out, x, 0.2));
  unary("leakyRelu in place", (k, _out, x) => {
    k.leakyRelu(x, x, 0.2);
    return x;
  });
  unary("leakyReluBackward", (k, out, x, y) => k.leakyReluBackward(out, y, x, 0.2));

  cases.push({
    name: `optimizer updates length ${len}`,
    atol: 1e-5,
    rtol: 1e-4,
    run(k, dtype) {
      const rng = new Rng(len * 13);
      const g = floats(dtype, len, rng);
      const results: Floats[] = [];
      const w = () => floats(dtype, len, rng);
      const state = () => floats(dtype, len, rng, 0, 1);
      let a = w();
      k.sgdUpdate(a, g, 0.1);
      results.push(a);
      let s1 = floats(dtype, len, rng);
      a = w();
      k.momentumUpdate(a, s1, g, 0.1, 0.9);
      results.push(a, s1);
      s1 = floats(dtype, len, rng);
      a = w();
      k.nesterovUpdate(a, s1, g, 0.1, 0.9);
      results.push(a, s1);
      s1 = state();
      a = w();
      k.adagradUpdate(a, s1, g, 0.1, 1e-7);
      results.push(a, s1);
      s1 = state();
      a = w();
      k.rmspropUpdate(a, s1, g, 0.01, 0.99, 1e-7);
      results.push(a, s1);
      s1 = floats(dtype, len, rng);
      const s2 = state();
      a = w();
      k.adamUpdate(a, s1, s2, g, 0.001, 0.9, 0.999, 1e-7);
      results.push(a, s1, s2);
      return results;
    },
  });
}

// Convolution windows: odd sizes, stride > 1, pad > 0, non-square filters.
const CONV_SHAPES: [number, number, number, number, number, number, number, number][] = [
  // n, c, h, w, fh, fw, stride, pad
  [1, 1, 1, 1, 1, 1, 1, 0],
  [2, 3, 5, 5, 3, 3, 1, 0],
  [3, 1, 4, 5, 3, 2, 1, 1],
  [2, 2, 7, 7, 3, 3, 2, 1],
  [1, 3, 17, 17, 5, 5, 2, 2],
  [5, 2, 6, 4, 2, 2, 2, 0],
  [2, 4, 9, 9, 3, 3, 3, 3],
  // 2×2 stride 2 (the book's pooling): a 4-wide SIMD path plus scalar tails.
  [2, 3, 8, 8, 2, 2, 2, 0],
  [1, 2, 7, 19, 2, 2, 2, 0],
  // A filter wider than its padded image row; c·fh·fw > 128 and oh·ow > 256 (more than one
  // matmul tile per image in the fused kernels), 9 images (groups of 4 and a ragged one).
  [2, 1, 3, 3, 5, 5, 1, 2],
  [9, 16, 19, 18, 3, 3, 1, 1],
  // A 1×1 filter with padding (the gather col2im's vector bounds), and AlexNet's kind of first
  // layer (a wide filter, stride 4) on a small image.
  [2, 3, 6, 7, 1, 1, 1, 1],
  [2, 3, 23, 23, 11, 11, 4, 2],
  // 1×1 filters, stride 1, no padding (the fused kernels' path without im2col: GoogLeNet's
  // reductions): odd planes, batch 1, many channels; a 1×1 stride-2 filter (ResNet's projection
  // shortcut) takes the im2col path.
  [3, 5, 7, 9, 1, 1, 1, 0],
  [1, 17, 4, 4, 1, 1, 1, 0],
  [5, 64, 3, 5, 1, 1, 1, 0],
  [2, 8, 7, 7, 1, 1, 2, 0],
  // A window the size of the image: global average pooling (and a filter that covers it all).
  [3, 5, 7, 7, 7, 7, 1, 0],
  [1, 65, 4, 3, 4, 3, 1, 0],
  // Sizes that do not divide by the stride (floored: the last rows and columns are not read).
  [2, 3, 8, 7, 3, 3, 2, 1],
  [3, 2, 9, 6, 2, 2, 2, 0],
];
for (const [n, c, h, w, fh, fw, stride, pad] of CONV_SHAPES) {
  const tag = `n=${n} c=${c} ${h}×${w} filter ${fh}×${fw} stride ${stride} pad ${pad}`;
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const colLen = n * oh * ow * c * fh * fw;
  cases.push({
    name: `im2col/col2im ${tag}`,
    atol: 1e-6,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(n + c * 10 + h * 100 + stride * 1000 + pad * 7);
      const x = floats(dtype, n * c * h * w, rng);
      const col = alloc(dtype, colLen);
      k.im2col(col, x, n, c, h, w, fh, fw, stride, pad);
      const dcol = floats(dtype, colLen, rng);
      const dx = alloc(dtype, n * c * h * w);
      k.col2im(dx, dcol, n, c, h, w, fh, fw, stride, pad);
      return [col, dx];
    },
  });
  for (const fn of [1, 5]) cases.push(fusedConvCase([n, c, h, w, fn, fh, fw, stride, pad]));
  const po = n * c * oh * ow;
  cases.push({
    name: `max/avg pooling ${tag}`,
    atol: 1e-6,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(n * 3 + c * 10 + h * 100 + stride * 1000 + pad * 7);
      // A permutation: no ties, so the argmax is the same in either precision.
      const perm = rng.permutation(n * c * h * w);
      const x = dtype === "float64" ? new Float64Array(perm.length) : new Float32Array(perm.length);
      for (let i = 0; i < perm.length; i++) x[i] = perm[i] / perm.length - 0.5;
      const out = alloc(dtype, po);
      const argmax = new Int32Array(po).fill(-7);
      k.maxPool(out, argmax, x, n, c, h, w, fh, fw, stride, pad);
      const dout = floats(dtype, po, rng);
      const dx = alloc(dtype, n * c * h * w);
      k.maxPoolBackward(dx, dout, argmax, n, c, h, w, fh, fw, stride, pad);
      const avg = alloc(dtype, po);
      k.avgPool(avg, x, n, c, h, w, fh, fw, stride, pad);
      const davg = alloc(dtype, n * c * h * w);
      k.avgPoolBackward(davg, dout, n, c, h, w, fh, fw, stride, pad);
      return [out, argmax, dx, avg, davg];
    },
  });
}

/**
 * Max pooling on values from a handful of levels: ties everywhere, where the first of equals wins
 * (the reference's order: ky, then kx). With `nonFinite`, the levels also hold −∞ and NaN and the
 * first plane is −∞/NaN only: NaN never wins, and a window of −∞/NaN gives 0 and argmax −1. WGSL
 * lets an implementation assume there are no NaNs or infinities, so the non-finite cases are the CPU
 * backends' (test/kernel-parity.test.ts).
 */
export function maxPoolLevelsCase([n, c, h, w, ph, pw, stride, pad]: number[], nonFinite: boolean): Case {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  return {
    name: `max pooling, ties${nonFinite ? ", −∞ and NaN" : ""}, n=${n} c=${c} ${h}×${w} window ${ph}×${pw} stride ${stride} pad ${pad}`,
    atol: 0,
    rtol: 0,
    run(k, dtype) {
      const rng = new Rng(n + c * 7 + h * 31 + w * 101 + pad * 3);
      const levels = nonFinite ? [-Infinity, -Infinity, NaN, -1, 0, 0.5, 0.5, 2] : [-1, 0, 0.5, 0.5, 2];
      const x = dtype === "float64" ? new Float64Array(n * c * h * w) : new Float32Array(n * c * h * w);
      for (let i = 0; i < x.length; i++) x[i] = levels[rng.int(levels.length)];
      if (nonFinite) x.fill(-Infinity, 0, h * w).fill(NaN, 0, Math.ceil((h * w) / 3));
      const po = n * c * oh * ow;
      const out = alloc(dtype, po);
      const argmax = new Int32Array(po).fill(-7);
      k.maxPool(out, argmax, x, n, c, h, w, ph, pw, stride, pad);
      return [out, argmax];
    },
  };
}

/**
 * Max pooling shapes for maxPoolLevelsCase. Stride-1 windows take a 4-wide SIMD path inside the row
 * and the scalar one at its edges: Inception's 3×3 pad-1 branch at 14×14 and 7×7, wide and narrow
 * rows, 2×2 and 1×3 windows, padding ≥ the window; and a 3×3 stride-2 window.
 */
export const MAX_POOL_LEVEL_SHAPES: number[][] = [
  [2, 3, 14, 14, 3, 3, 1, 1],
  [1, 5, 7, 7, 3, 3, 1, 1],
  [2, 2, 9, 23, 3, 3, 1, 1],
  [3, 2, 6, 11, 2, 2, 1, 0],
  [1, 3, 5, 13, 1, 3, 1, 1],
  [2, 2, 4, 9, 3, 3, 1, 2],
  [1, 2, 3, 4, 5, 5, 1, 2],
  [2, 3, 11, 10, 3, 3, 2, 1],
];
for (const shape of MAX_POOL_LEVEL_SHAPES) cases.push(maxPoolLevelsCase(shape, false));

// Batch normalization per channel: planes of 1 (an (N, D) input), odd sizes (SIMD tails), 7×7,
// batch 1, a single sample (zero variance); training and evaluation, with and without the ReLU
// epilogue.
for (const [n, c, hw] of [
  [1, 1, 1],
  [1, 3, 1],
  [5, 4, 1],
  [17, 65, 1],
  [200, 30, 1],
  [3, 5, 3],
  [1, 17, 49],
  [4, 3, 65],
  [2, 64, 17],
]) {
  cases.push({
    name: `batch norm n=${n} c=${c} hw=${hw}`,
    atol: 1e-5,
    rtol: 1e-4,
    run(k, dtype) {
      const rng = new Rng(n * 7 + c * 13 + hw);
      const len = n * c * hw;
      const x = floats(dtype, len, rng, -2, 3); // a non-zero mean
      const [gamma, beta] = [floats(dtype, c, rng), floats(dtype, c, rng)];
      const mean = alloc(dtype, c);
      const variance = alloc(dtype, c);
      k.batchNormStats(mean, variance, x, n, c, hw);
      const y = alloc(dtype, len);
      k.batchNormForward(y, x, mean, variance, gamma, beta, n, c, hw, 1e-5, false);
      const yr = alloc(dtype, len);
      k.batchNormForward(yr, x, mean, variance, gamma, beta, n, c, hw, 1e-5, true);
      const dy = floats(dtype, len, rng);
      const [dx, dgamma, dbeta] = [alloc(dtype, len), alloc(dtype, c), alloc(dtype, c)];
      k.batchNormBackward(dx, dgamma, dbeta, dy, x, mean, variance, gamma, n, c, hw, 1e-5, true);
      // Evaluation: running statistics given.
      const [runMean, runVar] = [floats(dtype, c, rng), floats(dtype, c, rng, 0.5, 2)];
      const ye = alloc(dtype, len);
      k.batchNormForward(ye, x, runMean, runVar, gamma, beta, n, c, hw, 1e-3, false);
      const [dxe, dge, dbe] = [alloc(dtype, len), alloc(dtype, c), alloc(dtype, c)];
      k.batchNormBackward(dxe, dge, dbe, dy, x, runMean, runVar, gamma, n, c, hw, 1e-3, false);
      return [mean, variance, y, yr, dx, dgamma, dbeta, ye, dxe, dge, dbe];
    },
  });
}

// Convolution → ReLU (→ max pooling) fused: 2×2/2 pooling (the book's), overlapping padded 3×3/1
// windows, odd widths (SIMD tails), and no pooling (ph = 0).
const CONV_RELU_POOL: [number, number, number, number, number, number, number, number, number[]][] = [
  // n, c, h, w, fn, f, stride, pad, [ph, pw, pstride, ppad]
  [2, 3, 8, 8, 5, 3, 1, 1, [2, 2, 2, 0]],
  [1, 2, 9, 11, 4, 2, 1, 0, [2, 2, 2, 0]],
  [1, 1, 5, 19, 1, 2, 1, 0, [2, 2, 2, 0]],
  [3, 1, 7, 7, 3, 3, 2, 1, [3, 3, 1, 1]],
  [2, 3, 6, 5, 5, 3, 1, 1, [0, 0, 1, 0]],
  // The 2×2/2 pooling read from a per-thread product whose rows are rounded up to 4 (fn = 1, 2, 3,
  // 5, 6, 30): batch 1, odd outputs (the last row and column dropped), outputs narrower than a
  // vector, pixels not a multiple of 8 (column tails), stride 2, padding, a 1×1 filter (no colᵀ),
  // and SimpleConvNet's 5×5 convolution with 30 filters.
  [1, 1, 28, 28, 30, 5, 1, 0, [2, 2, 2, 0]],
  [3, 2, 11, 13, 6, 5, 1, 2, [2, 2, 2, 0]],
  [1, 3, 9, 9, 2, 3, 2, 1, [2, 2, 2, 0]],
  [2, 4, 7, 6, 3, 1, 1, 0, [2, 2, 2, 0]],
  [1, 1, 4, 21, 5, 2, 1, 1, [2, 2, 2, 0]],
  // Stride 1, no padding, outputs a multiple of 8 wide: the product reads its taps from the image
  // (no colᵀ); channels (taps across planes), a ragged last filter panel, an odd output height, fewer
  // than 4 filters.
  [2, 3, 10, 18, 5, 3, 1, 0, [2, 2, 2, 0]],
  [1, 2, 10, 9, 4, 2, 1, 0, [2, 2, 2, 0]],
  [3, 1, 12, 12, 3, 5, 1, 0, [2, 2, 2, 0]],
];
for (const [n, c, h, w, fn, f, stride, pad, pool] of CONV_RELU_POOL) {
  cases.push(convReluPoolCase([n, c, h, w, fn, f, stride, pad], pool));
}

// The LSTM cell's element-wise work: n rows of h units (4h gate columns), pre-activations wide
// enough to saturate a gate; backward also in place (dcPrev aliasing dc).
for (const [n, h] of [
  [1, 1],
  [3, 5],
  [4, 4],
  [5, 17],
  [2, 64],
  [3, 65],
]) {
  cases.push({
    name: `lstmForward/lstmBackward ${n}×${h}`,
    atol: 2e-6,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(n * 100 + h);
      const a = floats(dtype, n * 4 * h, rng, -6, 6);
      const cPrev = floats(dtype, n * h, rng, -2, 2);
      const [gates, c, hNext] = [alloc(dtype, n * 4 * h), alloc(dtype, n * h), alloc(dtype, n * h)];
      k.lstmForward(gates, c, hNext, a, cPrev, n, h);
      const dh = floats(dtype, n * h, rng);
      const dc = floats(dtype, n * h, rng);
      const [da, dcPrev] = [alloc(dtype, n * 4 * h), alloc(dtype, n * h)];
      // Backward from the float64 reference's own forward values, so both precisions see the same.
      k.lstmBackward(da, dcPrev, dh, dc, gates, cPrev, c, n, h);
      const daInPlace = alloc(dtype, n * 4 * h);
      k.lstmBackward(daInPlace, dc, dh, dc, gates, cPrev, c, n, h);
      return [gates, c, hNext, da, dcPrev, daInPlace, dc];
    },
  });
}

// Transposed convolution: one image, several groups of images with a ragged last group (n = 6, 9),
// stride 1 (col2im's gather), the DCGAN's 4×4/2 pad 1, output padding, non-square filters, stride 3.
const DECONV_SHAPES: [number, number, number, number, number, number, number, number, number, number][] = [
  // n, c, h, w, fn, fh, fw, stride, pad, outPad
  [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
  [2, 3, 5, 5, 4, 3, 3, 1, 1, 0],
  [3, 2, 4, 5, 5, 4, 4, 2, 1, 0],
  [2, 3, 3, 4, 1, 3, 2, 2, 0, 1],
  [5, 4, 3, 2, 3, 5, 5, 3, 2, 2],
  [1, 5, 3, 3, 17, 4, 4, 2, 1, 1],
  [6, 9, 7, 7, 4, 4, 4, 2, 1, 0],
  [9, 17, 2, 3, 3, 2, 3, 1, 0, 0],
];
for (const [n, c, h, w, fn, fh, fw, stride, pad, outPad] of DECONV_SHAPES) {
  const oh = (h - 1) * stride - 2 * pad + fh + outPad;
  const ow = (w - 1) * stride - 2 * pad + fw + outPad;
  cases.push({
    name: `transposed convolution n=${n} c=${c} ${h}×${w} → ${fn}×${oh}×${ow}, filter ${fh}×${fw} stride ${stride} pad ${pad} outPad ${outPad}`,
    atol: 1e-5 * Math.sqrt(n * oh * ow) + 1e-6,
    rtol: 1e-4,
    run(k, dtype) {
      const rng = new Rng(n * 3 + c * 7 + h * 11 + w * 13 + fn * 17 + fh * 19 + stride * 23 + outPad);
      const cols = fn * fh * fw;
      const x = floats(dtype, n * c * h * w, rng);
      const W = floats(dtype, c * cols, rng);
      const b = floats(dtype, fn, rng);
      const out = alloc(dtype, n * fn * oh * ow);
      k.deconvForward(out, x, W, b, n, c, h, w, fn, fh, fw, stride, pad, outPad);
      const dout = floats(dtype, n * fn * oh * ow, rng);
      // Without dx (a first layer) first, so that its dW and db cannot lean on scratch a call with dx
      // left behind; then with dx: the same dW and db.
      const dW2 = alloc(dtype, c * cols);
      const db2 = alloc(dtype, fn);
      k.deconvBackward(alloc(dtype, 0), dW2, db2, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad, outPad);
      const dx = alloc(dtype, n * c * h * w);
      const dW = alloc(dtype, c * cols);
      const db = alloc(dtype, fn);
      k.deconvBackward(dx, dW, db, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad, outPad);
      return [out, dx, dW, db, dW2, db2];
    },
  });
}

// Local response normalization: windows wider than the channels, one channel, odd planes.
for (const [n, c, h, w, size] of [
  [1, 1, 1, 1, 5],
  [2, 3, 4, 5, 5],
  [1, 7, 3, 3, 3],
  [2, 17, 5, 1, 5],
]) {
  cases.push({
    name: `lrnForward/Backward n=${n} c=${c} ${h}×${w} size ${size}`,
    atol: 1e-6,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(n * 17 + c * 5 + h + size);
      const x = floats(dtype, n * c * h * w, rng, -3, 3);
      const [out, scale] = [alloc(dtype, x.length), alloc(dtype, x.length)];
      k.lrnForward(out, scale, x, n, c, h, w, size, 2, 0.5, 0.75);
      const dout = floats(dtype, x.length, rng);
      const dx = alloc(dtype, x.length);
      k.lrnBackward(dx, dout, x, out, scale, n, c, h, w, size, 0.5, 0.75);
      return [out, scale, dx];
    },
  });
}

// Strided block copies: a slice, a concatenation's channel run per sample, an axis swap's step,
// with garbage left where the copy does not write (outputs start garbage-filled).
for (const [blocks, run, outStride, outOffset, xStride, xOffset] of [
  [1, 1, 0, 0, 0, 0],
  [1, 65, 0, 3, 0, 5],
  [3, 5, 17, 4, 5, 0],
  [17, 4, 4, 0, 64, 7],
  [5, 17, 65, 17, 20, 3],
  [64, 3, 3, 0, 3, 0],
]) {
  cases.push({
    name: `copyBlocks ${blocks}×${run} out stride ${outStride} + ${outOffset}, x stride ${xStride} + ${xOffset}`,
    atol: 0,
    rtol: 0,
    run(k, dtype) {
      const rng = new Rng(blocks * 1000 + run * 10 + xOffset);
      const x = floats(dtype, xOffset + (blocks - 1) * xStride + run, rng);
      const out = alloc(dtype, outOffset + (blocks - 1) * outStride + run + 2);
      k.copyBlocks(out, x, blocks, run, outStride, outOffset, xStride, xOffset);
      return [out];
    },
  });
}

// Embedding: ids repeated (their dout rows summed), ids never used (zero rows), one row, wide rows.
for (const [n, v, d] of [
  [1, 1, 1],
  [5, 3, 4],
  [17, 5, 3],
  [3, 65, 17],
  [64, 7, 65],
]) {
  cases.push({
    name: `embeddingForward/Backward ${n} ids of ${v} rows × ${d}`,
    atol: 1e-6,
    rtol: 1e-6,
    run(k, dtype) {
      const rng = new Rng(n * 31 + v * 7 + d);
      const ids = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) ids[i] = rng.int(v);
      const W = floats(dtype, v * d, rng);
      const out = alloc(dtype, n * d);
      k.embeddingForward(out, W, ids, n, d);
      const dout = floats(dtype, n * d, rng);
      const dW = alloc(dtype, v * d);
      k.embeddingBackward(dW, dout, ids, n, v, d);
      return [out, dW];
    },
  });
}

// Clipping by global norm: the squares summed over three arrays (sizes past a workgroup's 256
// threads), then each scaled; once with a norm below maxNorm (left as they were), once above.
for (const [sizes, maxNorm] of [
  [[1, 5, 3], 0.5],
  [[17, 300, 65], 100],
  [[1000, 3, 257], 2],
] as [number[], number][]) {
  cases.push({
    name: `sumSquares/clipByNorm sizes ${sizes.join(", ")}, maxNorm ${maxNorm}`,
    atol: 1e-6,
    rtol: 1e-5,
    run(k, dtype) {
      const rng = new Rng(sizes[1] + maxNorm);
      const grads = sizes.map((size) => floats(dtype, size, rng));
      const sumSq = alloc(dtype, 1);
      grads.forEach((g, i) => k.sumSquares(sumSq, g, i > 0));
      for (const g of grads) k.clipByNorm(g, sumSq, maxNorm);
      return [sumSq, ...grads];
    },
  });
}

/** Runs case `c` on `k` in float32 and on the reference in float64; throws naming the first difference. */
export async function check(
  k: Kernels,
  c: Case,
  settle: () => Promise<void> = async () => {},
): Promise<void> {
  const got = c.run(k, "float32");
  await settle();
  const want = c.run(reference, "float64");
  if (got.length !== want.length)
    throw new Error(`${c.name}: ${got.length} outputs, expected ${want.length}`);
  got.forEach((g, i) => {
    const e = want[i];
    const what = `${k.name}: ${c.name}, output ${i}`;
    if (typeof g === "number" || typeof e === "number") {
      assertAllClose([g as number], [e as number], c.atol, c.rtol, what);
    } else {
      assertAllClose(g, e, c.atol, c.rtol, what);
    }
  });
}
