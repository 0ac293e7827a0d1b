import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/backend/kernels.js";
import { backendInfo, kernels, setKernels, setThreads, useFastBackend } from "../src/backend/index.js";
import { reference } from "../src/backend/reference.js";
import {
  createSingleThreadWasm,
  initWasm,
  relaxedSimdSupported,
  setConvAlgorithm,
  setParallelMinWork,
  type ConvAlgorithm,
  setWasmThreads,
  wasmThreads,
} from "../src/backend/wasm.js";
import type { Floats } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";
import { assertAllClose } from "../src/testing/gradcheck.js";
import {
  alloc,
  cases as sharedCases,
  MAX_POOL_LEVEL_SHAPES,
  maxPoolLevelsCase,
  check,
  convReluPoolCase,
  floats,
  fusedConvCase,
  outSize,
  type Case,
} from "./kernel-cases.js";

/**
 * Every kernel of every backend against the reference kernels run in float64 (the specification at
 * full precision), on shapes that hit SIMD tails and odd sizes. One body runs for each backend and
 * thread count; the WASM runs split even tiny jobs over the threads (setParallelMinWork(0)) so the
 * partitioning edges (empty shares, tail panels) are exercised. Then: bit-identical outputs for 1, 2
 * and 3 threads.
 */

// Winograd F(2×2, 3×3) and F(4×4, 3×3), which the WASM fused kernels use for 3×3 stride-1
// convolutions (from 5 input channels on; forced here for every shape, 1 channel included): odd and
// even sizes (tiles partly outside the output, in rows, columns or both), pad 0–3, batch 1, channels
// and filters not multiples of 4 (the vector lanes), several images per block and per group (8×8
// images), an image cut into blocks of tiles (40×40 for F(2×2, 3×3); 46×46, 12×12 tiles of which the
// last row and column are partly outside, for F(4×4, 3×3), whose blocks hold 16/36 as many tiles).
const WINOGRAD_SHAPES: [number, number, number, number, number, number][] = [
  // n, c, h, w, fn, pad
  [1, 4, 4, 4, 2, 1],
  [2, 5, 7, 9, 6, 1],
  [3, 8, 6, 5, 4, 0],
  [1, 6, 3, 3, 3, 3],
  [2, 4, 9, 8, 5, 2],
  [1, 1, 6, 7, 3, 1],
  [7, 12, 8, 8, 20, 1],
  [2, 16, 40, 40, 16, 1],
];
// F(4×4, 3×3) pools as it makes its outputs when they are multiples of 4 (4×4, 8×8 with 20 filters,
// 40×40; 48×48 with 14 filters: an image cut into blocks, the last 4 filters ragged).
const WINOGRAD_4X4_SHAPES: typeof WINOGRAD_SHAPES = [
  ...WINOGRAD_SHAPES,
  [2, 16, 46, 46, 16, 1],
  [1, 5, 10, 13, 9, 1],
  [1, 16, 48, 48, 14, 1],
];
/** `inner` with the 3×3 convolutions forced through one Winograd algorithm (the reference has no such switch). */
const winograd = (algorithm: ConvAlgorithm, inner: Case): Case => ({
  ...inner,
  name: `${algorithm}: ${inner.name}`,
  run(k, dtype) {
    setConvAlgorithm(algorithm);
    try {
      return inner.run(k, dtype);
    } finally {
      setConvAlgorithm("auto");
    }
  },
});
const cases: Case[] = [...sharedCases];
// Max pooling with −∞ and NaN among the values: the CPU backends' semantics (WGSL need not keep them).
for (const shape of MAX_POOL_LEVEL_SHAPES) cases.push(maxPoolLevelsCase(shape, true));
for (const [algorithm, shapes] of [
  ["winograd", WINOGRAD_SHAPES],
  ["winograd4x4", WINOGRAD_4X4_SHAPES],
] as const) {
  for (const [n, c, h, w, fn, pad] of shapes) {
    cases.push(winograd(algorithm, fusedConvCase([n, c, h, w, fn, 3, 3, 1, pad])));
    cases.push(winograd(algorithm, convReluPoolCase([n, c, h, w, fn, 3, 1, pad], [0, 0, 1, 0])));
    // With pad 3 some outputs see only padding: exactly the bias in the reference, so pooling windows
    // tie; F(4×4, 3×3)'s transforms leave a rounding residue of ~1e-7 there and pick another winner.
    const ties = algorithm === "winograd4x4" && pad >= 3;
    if (h + 2 * pad - 2 >= 2 && !ties) {
      cases.push(winograd(algorithm, convReluPoolCase([n, c, h, w, fn, 3, 1, pad], [2, 2, 2, 0])));
    }
  }
}

const backends: { name: string; setup: () => Promise<Kernels> }[] = [
  { name: "reference", setup: async () => reference },
  {
    name: "wasm × 1 thread",
    setup: async () => {
      const k = await initWasm({ threads: 1 });
      setParallelMinWork(0);
      return k;
    },
  },
  {
    name: "wasm, unshared memory (a page without cross-origin isolation)",
    setup: async () => {
      const k = await createSingleThreadWasm();
      expect(k).not.toBeNull();
      return k as Kernels;
    },
  },
  ...[2, 3].map((threads) => ({
    name: `wasm × ${threads} threads`,
    setup: async () => {
      const k = await initWasm({ threads });
      setParallelMinWork(0);
      expect(await wasmThreads()).toBe(threads);
      return k;
    },
  })),
];

describe.each(backends)("kernel parity: $name", ({ name, setup }) => {
  let k: Kernels;
  beforeAll(async () => {
    k = await setup();
    if (name !== "reference") expect(k.name).toBe("wasm");
  });

  it("every kernel matches the float64 reference on odd and tail shapes", async () => {
    for (const c of cases) await check(k, c);
  });

  it("float64 calls give exactly the reference's results", () => {
    for (const c of cases.filter((_, i) => i % 5 === 0)) {
      const got = c.run(k, "float64");
      const want = c.run(reference, "float64");
      got.forEach((g, i) => expect(g).toEqual(want[i]));
    }
  });
});

/** An Affine layer's three products, (n×k)·(k×m) and its backward transposes, on seeded inputs. */
function affineProducts(n: number, k: number, m: number, seed: number): Case {
  return {
    name: `matmul ${n}×${k}·${k}×${m} and its backward transposes`,
    atol: 0,
    rtol: 0,
    run(kern, dtype) {
      const rng = new Rng(seed);
      const x = floats(dtype, n * k, rng);
      const w = floats(dtype, k * m, rng);
      const dy = floats(dtype, n * m, rng);
      const y = alloc(dtype, n * m);
      const dx = alloc(dtype, n * k);
      const dw = alloc(dtype, k * m);
      kern.matmul(y, x, w, n, k, m, false, false);
      kern.matmul(dx, dy, w, n, m, k, false, true);
      kern.matmul(dw, x, dy, k, n, m, true, false);
      return [y, dx, dw];
    },
  };
}

describe("wasm thread-count determinism", () => {
  it("outputs are bit-identical for 1, 2 and 3 threads", async () => {
    const k = await initWasm();
    setParallelMinWork(0);
    // Larger shapes too, so each thread gets several panels, images and planes.
    const big: Case[] = [
      affineProducts(100, 784, 50, 5),
      // SimpleConvNet's first Affine layer (4320 → 100): its forward is cut in two along k (for
      // every thread count), its dx in 128-column tiles.
      affineProducts(100, 4320, 100, 7),
      {
        name: "conv 8×3×28×28 im2col, matmul, col2im",
        atol: 0,
        rtol: 0,
        run(kern, dtype) {
          const rng = new Rng(6);
          const x = floats(dtype, 8 * 3 * 28 * 28, rng);
          const rows = 8 * 24 * 24;
          const col = alloc(dtype, rows * 75);
          kern.im2col(col, x, 8, 3, 28, 28, 5, 5, 1, 0);
          const wt = floats(dtype, 30 * 75, rng);
          const out = alloc(dtype, rows * 30);
          kern.matmul(out, col, wt, rows, 75, 30, false, true);
          const dw = alloc(dtype, 75 * 30);
          kern.matmul(dw, col, out, 75, rows, 30, true, false);
          const dx = alloc(dtype, 8 * 3 * 28 * 28);
          kern.col2im(dx, col, 8, 3, 28, 28, 5, 5, 1, 0);
          return [col, out, dw, dx];
        },
      },
      ...cases,
    ];
    const runAll = () => big.map((c) => c.run(k, "float32"));
    await setWasmThreads(1);
    const one = runAll();
    for (const threads of [2, 3]) {
      await setWasmThreads(threads);
      expect(await wasmThreads()).toBe(threads);
      const more = runAll();
      one.forEach((outs, i) =>
        outs.forEach((o, j) => {
          const t = more[i][j];
          const what = `${big[i].name} output ${j}, ${threads} threads`;
          if (typeof o === "number") expect(t, what).toBe(o);
          else {
            const same = Buffer.compare(
              Buffer.from(o.buffer, o.byteOffset, o.byteLength),
              Buffer.from((t as Floats).buffer, (t as Floats).byteOffset, (t as Floats).byteLength),
            );
            expect(same, what).toBe(0);
          }
        }),
      );
    }
    setParallelMinWork(null);
  });
});

describe("fused convolution: the reference twin against direct loops", () => {
  it("convForward and convBackward match the convolution written as plain sums", () => {
    const [n, c, h, w, fn, fh, fw, stride, pad] = [2, 3, 7, 6, 4, 3, 2, 2, 1];
    const oh = outSize(h, fh, stride, pad);
    const ow = outSize(w, fw, stride, pad);
    const rng = new Rng(99);
    const x = floats("float64", n * c * h * w, rng);
    const W = floats("float64", fn * c * fh * fw, rng);
    const b = floats("float64", fn, rng);
    const dout = floats("float64", n * fn * oh * ow, rng);
    const out = alloc("float64", n * fn * oh * ow);
    const dx = alloc("float64", n * c * h * w);
    const dW = alloc("float64", fn * c * fh * fw);
    const db = alloc("float64", fn);
    reference.convForward(out, x, W, b, n, c, h, w, fn, fh, fw, stride, pad);
    reference.convBackward(dx, dW, db, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad);

    const wantOut = new Float64Array(out.length);
    const wantDx = new Float64Array(dx.length);
    const wantDW = new Float64Array(dW.length);
    const wantDb = new Float64Array(db.length);
    for (let bi = 0; bi < n; bi++) {
      for (let f = 0; f < fn; f++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            const o = ((bi * fn + f) * oh + oy) * ow + ox;
            let sum = b[f];
            wantDb[f] += dout[o];
            for (let ch = 0; ch < c; ch++) {
              for (let ky = 0; ky < fh; ky++) {
                for (let kx = 0; kx < fw; kx++) {
                  const y = oy * stride + ky - pad;
                  const xx = ox * stride + kx - pad;
                  if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                  const xi = ((bi * c + ch) * h + y) * w + xx;
                  const wi = ((f * c + ch) * fh + ky) * fw + kx;
                  sum += x[xi] * W[wi];
                  wantDW[wi] += dout[o] * x[xi];
                  wantDx[xi] += dout[o] * W[wi];
                }
              }
            }
            wantOut[o] = sum;
          }
        }
      }
    }
    assertAllClose(out, wantOut, 1e-12, 1e-10, "convForward");
    assertAllClose(dx, wantDx, 1e-12, 1e-10, "convBackward dx");
    assertAllClose(dW, wantDW, 1e-12, 1e-10, "convBackward dW");
    assertAllClose(db, wantDb, 1e-12, 1e-10, "convBackward db");
  });
});

describe("fused convolution → ReLU → 2×2 pooling against the three run apart (wasm)", () => {
  // Stride 1 without padding and outputs a multiple of 8 wide (SimpleConvNet's 28×28 → 24×24), the
  // fused kernel reads the product's taps from the image instead of an im2col copy; the unfused
  // convForward still goes through colᵀ. Both must sum the same products in the same order.
  it.each([
    [3, 1, 28, 28, 30, 5],
    [2, 3, 10, 18, 5, 3],
    [1, 2, 11, 17, 7, 4],
  ])("gives the same bits: n=%i c=%i %i×%i, %i filters of side %i", async (n, c, h, w, fn, f) => {
    const k = await initWasm({ threads: 1 });
    const [oh, ow] = [h - f + 1, w - f + 1];
    const [poh, pow] = [oh >> 1, ow >> 1];
    const rng = new Rng(n + c * 7 + h * 13);
    const x = floats("float32", n * c * h * w, rng);
    const W = floats("float32", fn * c * f * f, rng);
    const b = floats("float32", fn, rng, -0.2, 0.2);
    const fused = alloc("float32", n * fn * poh * pow);
    const fusedArgmax = new Int32Array(fused.length);
    k.convReluPoolForward(fused, fusedArgmax, x, W, b, n, c, h, w, fn, f, f, 1, 0, 2, 2, 2, 0);
    const y = alloc("float32", n * fn * oh * ow);
    k.convForward(y, x, W, b, n, c, h, w, fn, f, f, 1, 0);
    k.relu(y, y);
    const pooled = alloc("float32", fused.length);
    const argmax = new Int32Array(fused.length);
    k.maxPool(pooled, argmax, y, n, fn, oh, ow, 2, 2, 2, 0);
    expect(Buffer.from(fused.buffer).equals(Buffer.from(pooled.buffer))).toBe(true);
    expect(fusedArgmax).toEqual(argmax);
  });
});

describe("choosing the fast backend", () => {
  it("useFastBackend installs the wasm kernels; setThreads and backendInfo report the count", async () => {
    const previous = kernels();
    try {
      const k = await useFastBackend({ threads: 1 });
      expect(kernels()).toBe(k);
      // The relaxed build runs exactly where the engine validates relaxed SIMD (Node 20: not in
      // this test process, which has no flag; test/relaxed-enable.test.ts covers the other case).
      const relaxedSimd = relaxedSimdSupported();
      expect(await backendInfo()).toEqual({ name: "wasm", threads: 1, relaxedSimd });
      await setThreads(2);
      expect(await backendInfo()).toEqual({ name: "wasm", threads: 2, relaxedSimd });
      await expect(setThreads(0)).rejects.toThrow(/positive integer, got 0/);
    } finally {
      setKernels(previous);
    }
    expect(await backendInfo()).toEqual({ name: previous.name, threads: 1 });
  });
});
