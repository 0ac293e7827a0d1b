/**
 * The kernels behind convolution, pooling and matmul against naive twins written straight from
 * their definitions, on odd sizes (1, 3, 4, 5, 17), non-square shapes, stride > 1 and pad > 0.
 * Each body runs on every backend listed in `backends`.
 */
import { describe, expect, it } from "vitest";
import { withKernels, type Kernels } from "../src/backend/index.js";
import { reference } from "../src/backend/reference.js";
import { NDArray, type DType } from "../src/ndarray.js";
import { col2im, convOutputSize, im2col } from "../src/ops/conv.js";
import { addBias, matmul, transposeLast2 } from "../src/ops/linalg.js";
import { Rng } from "../src/rng.js";
import { assertAllClose, dot } from "../src/testing/gradcheck.js";

const backends: Kernels[] = [reference];
const dtypes: DType[] = ["float64", "float32"];
const tol = (dtype: DType) => (dtype === "float64" ? 1e-12 : 1e-5);

function random(shape: number[], rng: Rng, dtype: DType): NDArray {
  const a = NDArray.zeros(shape, dtype);
  rng.fillNormal(a.data);
  return a;
}

/** (N, C, H, W) ⊛ (FN, C, FH, FW) + b → (N, FN, OH, OW), one output at a time, zero padding. */
function directConvolution(x: NDArray, W: NDArray, b: NDArray, stride: number, pad: number): NDArray {
  const [n, c, h, w] = x.shape;
  const [fn, , fh, fw] = W.shape;
  const oh = convOutputSize(h, fh, stride, pad);
  const ow = convOutputSize(w, fw, stride, pad, "W");
  const out = NDArray.zeros([n, fn, oh, ow], x.dtype);
  for (let i = 0; i < n; i++)
    for (let f = 0; f < fn; f++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let sum = b.get(f);
          for (let ch = 0; ch < c; ch++)
            for (let ky = 0; ky < fh; ky++)
              for (let kx = 0; kx < fw; kx++) {
                const y = oy * stride + ky - pad;
                const xx = ox * stride + kx - pad;
                if (y >= 0 && y < h && xx >= 0 && xx < w) sum += x.get(i, ch, y, xx) * W.get(f, ch, ky, kx);
              }
          out.set(sum, i, f, oy, ox);
        }
  return out;
}

/** The book's Convolution.forward: im2col, one matmul with the filters as columns, bias, reorder. */
function im2colConvolution(x: NDArray, W: NDArray, b: NDArray, stride: number, pad: number): NDArray {
  const [n, , h, w] = x.shape;
  const [fn, , fh, fw] = W.shape;
  const oh = convOutputSize(h, fh, stride, pad);
  const ow = convOutputSize(w, fw, stride, pad, "W");
  const col = im2col(x, fh, fw, stride, pad); // (N·OH·OW, C·FH·FW)
  const out = addBias(matmul(col, W.reshape(fn, -1), { transB: true }), b); // (N·OH·OW, FN)
  return transposeLast2(out.reshape(n, oh * ow, fn)).reshape(n, fn, oh, ow);
}

/** Naive pooling: max (padding never wins) or average (padding counts as 0, divisor ph·pw). */
function directPool(x: NDArray, ph: number, pw: number, stride: number, pad: number, kind: "max" | "avg") {
  const [n, c, h, w] = x.shape;
  const oh = convOutputSize(h, ph, stride, pad);
  const ow = convOutputSize(w, pw, stride, pad, "W");
  const out = NDArray.zeros([n, c, oh, ow], x.dtype);
  const dxOfOnes = NDArray.zeros(x.shape, x.dtype); // max: where each window's winner is
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const cells: [number, number][] = [];
          for (let ky = 0; ky < ph; ky++)
            for (let kx = 0; kx < pw; kx++) {
              const y = oy * stride + ky - pad;
              const xx = ox * stride + kx - pad;
              if (y >= 0 && y < h && xx >= 0 && xx < w) cells.push([y, xx]);
            }
          const values = cells.map(([y, xx]) => x.get(i, ch, y, xx));
          if (kind === "avg") {
            out.set(values.reduce((s, v) => s + v, 0) / (ph * pw), i, ch, oy, ox);
          } else {
            const best = values.indexOf(Math.max(...values));
            out.set(values[best], i, ch, oy, ox);
            const [y, xx] = cells[best];
            dxOfOnes.set(dxOfOnes.get(i, ch, y, xx) + 1, i, ch, y, xx);
          }
        }
  return { out, dxOfOnes };
}

// [N, C, H, W, FH, FW, stride, pad]
const convCases: [number, number, number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 1, 1, 0],
  [1, 1, 4, 4, 3, 3, 1, 1],
  [2, 3, 5, 5, 3, 3, 2, 1],
  [2, 3, 7, 5, 3, 1, 2, 0],
  [1, 4, 17, 17, 5, 5, 2, 1],
  [2, 2, 17, 11, 5, 2, 3, 0],
  [1, 3, 5, 5, 3, 3, 1, 2],
  [3, 2, 5, 4, 1, 2, 1, 0],
  [1, 5, 4, 5, 4, 3, 2, 1],
];

describe.each(backends)("kernels of $name", (k) => {
  describe.each(dtypes)("%s", (dtype) => {
    it.each(convCases)(
      "im2col convolution equals the direct loop: x (%i, %i, %i, %i), filter %i×%i, stride %i, pad %i",
      (n, c, h, w, fh, fw, stride, pad) => {
        const rng = new Rng(h * 100 + w * 10 + stride);
        const x = random([n, c, h, w], rng, dtype);
        const W = random([3, c, fh, fw], rng, dtype);
        const b = random([3], rng, dtype);
        const expected = directConvolution(x, W, b, stride, pad);
        const actual = withKernels(k, () => im2colConvolution(x, W, b, stride, pad));
        expect(actual.shape).toEqual(expected.shape);
        assertAllClose(actual.data, expected.data, tol(dtype), tol(dtype), "convolution");
      },
    );

    it.each(convCases)(
      "col2im is the adjoint of im2col: x (%i, %i, %i, %i), filter %i×%i, stride %i, pad %i",
      (n, c, h, w, fh, fw, stride, pad) => {
        const rng = new Rng(h * 100 + w * 10 + pad);
        const x = random([n, c, h, w], rng, dtype);
        withKernels(k, () => {
          const col = im2col(x, fh, fw, stride, pad);
          const cRandom = random([...col.shape], rng, dtype);
          // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩
          const lhs = dot(col, cRandom);
          const rhs = dot(x, col2im(cRandom, x.shape, fh, fw, stride, pad));
          expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(tol(dtype) * (1 + Math.abs(lhs)) * 10);
        });
      },
    );

    it.each(convCases)(
      "max and average pooling equal direct loops: x (%i, %i, %i, %i), window %i×%i, stride %i, pad %i",
      (n, c, h, w, ph, pw, stride, pad) => {
        if (pad >= Math.min(ph, pw)) return; // a window of padding only has no max
        const rng = new Rng(h * 100 + w * 10 + ph);
        const x = random([n, c, h, w], rng, dtype); // continuous values: no ties
        const oh = convOutputSize(h, ph, stride, pad);
        const ow = convOutputSize(w, pw, stride, pad, "W");
        const outShape = [n, c, oh, ow];
        const size = n * c * oh * ow;

        const max = directPool(x, ph, pw, stride, pad, "max");
        const out = NDArray.zeros(outShape, dtype);
        const argmax = new Int32Array(size);
        k.maxPool(out.data, argmax, x.data, n, c, h, w, ph, pw, stride, pad);
        assertAllClose(out.data, max.out.data, 0, 0, "max pool");
        const dx = NDArray.zeros(x.shape, dtype);
        k.maxPoolBackward(
          dx.data,
          NDArray.full(outShape, 1, dtype).data,
          argmax,
          n,
          c,
          h,
          w,
          ph,
          pw,
          stride,
          pad,
        );
        assertAllClose(dx.data, max.dxOfOnes.data, 0, 0, "max pool backward");

        const avg = directPool(x, ph, pw, stride, pad, "avg");
        k.avgPool(out.data, x.data, n, c, h, w, ph, pw, stride, pad);
        assertAllClose(out.data, avg.out.data, tol(dtype), tol(dtype), "average pool");
        // Average pooling is linear: its backward is its adjoint.
        const g = random(outShape, rng, dtype);
        k.avgPoolBackward(dx.data, g.data, n, c, h, w, ph, pw, stride, pad);
        expect(dot(x, dx)).toBeCloseTo(dot(avg.out, g), dtype === "float64" ? 10 : 3);
      },
    );

    const sizes = [1, 3, 4, 5, 17];
    const shapes = sizes.flatMap((m) => sizes.map((kk, i) => [m, kk, sizes[(i + 2) % sizes.length]]));
    it.each([
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ])("matmul with transA %s, transB %s equals the naive product", (transA, transB) => {
      const rng = new Rng(Number(transA) * 2 + Number(transB));
      for (const [m, kk, n] of shapes) {
        const a = random(transA ? [kk, m] : [m, kk], rng, dtype);
        const b = random(transB ? [n, kk] : [kk, n], rng, dtype);
        const expected = NDArray.zeros([m, n], dtype);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < kk; p++) {
              sum += (transA ? a.get(p, i) : a.get(i, p)) * (transB ? b.get(j, p) : b.get(p, j));
            }
            expected.set(sum, i, j);
          }
        const actual = withKernels(k, () => matmul(a, b, { transA, transB }));
        assertAllClose(actual.data, expected.data, tol(dtype), tol(dtype), `matmul ${m}×${kk}·${kk}×${n}`);

        // accumulate adds to what is there
        const acc = NDArray.full([m, n], 1, dtype);
        k.matmul(acc.data, a.data, b.data, m, kk, n, transA, transB, true);
        assertAllClose(
          acc.data,
          expected.data.map((v) => v + 1),
          tol(dtype),
          tol(dtype),
          "accumulate",
        );
      }
    });
  });
});

describe("the comparisons can fail", () => {
  it("an im2col that drops the padding offset is caught by the direct convolution", () => {
    const broken: Kernels = {
      ...reference,
      name: "broken",
      im2col: (col, x, n, c, h, w, fh, fw, stride, pad) =>
        reference.im2col(col, x, n, c, h, w, fh, fw, stride, pad > 0 ? pad - 1 : pad),
    };
    const rng = new Rng(99);
    const x = random([1, 2, 5, 5], rng, "float64");
    const W = random([2, 2, 3, 3], rng, "float64");
    const b = random([2], rng, "float64");
    const expected = directConvolution(x, W, b, 1, 1);
    // The broken kernel lays out 3 × 3 windows of an unpadded image in a col sized for 5 × 5 outputs.
    const actual = withKernels(broken, () => im2colConvolution(x, W, b, 1, 1));
    expect(() => assertAllClose(actual.data, expected.data, 1e-12, 1e-12, "convolution")).toThrow(
      /convolution differ/,
    );
  });
});
