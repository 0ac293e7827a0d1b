import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, dot } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Convolution } from "./convolution.js";
import { Deconvolution } from "./deconvolution.js";

function randn(shape: number[], rng: Rng): NDArray {
  const a = NDArray.zeros(shape, "float64");
  rng.fillNormal(a.data);
  return a;
}

/**
 * The naive twin, from the definition: every input value x[n, c, i, j] adds x·W[c, f, ky, kx] to
 * output (i·S + ky − P, j·S + kx − P) of channel f, where that lies inside the output.
 */
function directDeconvolution(x: NDArray, W: NDArray, b: NDArray, stride: number, pad: number, op: number) {
  const [N, C, H, Wd] = x.shape;
  const [, FN, FH, FW] = W.shape;
  const OH = (H - 1) * stride - 2 * pad + FH + op;
  const OW = (Wd - 1) * stride - 2 * pad + FW + op;
  const out = NDArray.zeros([N, FN, OH, OW], "float64");
  for (let n = 0; n < N; n++)
    for (let f = 0; f < FN; f++)
      for (let i = 0; i < OH * OW; i++) out.data[(n * FN + f) * OH * OW + i] = b.get(f);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < Wd; j++)
          for (let f = 0; f < FN; f++)
            for (let ky = 0; ky < FH; ky++)
              for (let kx = 0; kx < FW; kx++) {
                const y = i * stride + ky - pad;
                const xx = j * stride + kx - pad;
                if (y >= 0 && y < OH && xx >= 0 && xx < OW) {
                  out.set(out.get(n, f, y, xx) + x.get(n, c, i, j) * W.get(c, f, ky, kx), n, f, y, xx);
                }
              }
  return out;
}

interface TorchCase {
  n: number;
  c: number;
  h: number;
  w: number;
  fn: number;
  fh: number;
  fw: number;
  stride: number;
  pad: number;
  outputPadding: number;
  x: number[];
  W: number[];
  b: number[];
  y: number[];
  yShape: number[];
  dy: number[];
  dx: number[];
  dW: number[];
  db: number[];
}
const torch = JSON.parse(
  readFileSync(new URL("../../test/fixtures/pytorch-dcgan-layers.json", import.meta.url), "utf8"),
) as { deconvolution: TorchCase[] };

describe("Deconvolution (transposed convolution)", () => {
  it("spreads a hand-worked 2×2 image through a 2×2 filter at stride 2 and 1", () => {
    const x = NDArray.from(
      [
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ],
      undefined,
      "float64",
    );
    const W = NDArray.from(
      [
        [
          [
            [1, 10],
            [100, 1000],
          ],
        ],
      ],
      undefined,
      "float64",
    );
    const b = NDArray.from([0.5], [1], "float64");
    // Stride 2: each pixel writes its own 2×2 block, no overlap.
    expect(new Deconvolution(W, b, { stride: 2 }).forward(x, "train").toArray()).toEqual([
      [
        [
          [1.5, 10.5, 2.5, 20.5],
          [100.5, 1000.5, 200.5, 2000.5],
          [3.5, 30.5, 4.5, 40.5],
          [300.5, 3000.5, 400.5, 4000.5],
        ],
      ],
    ]);
    // Stride 1: overlapping windows sum, e.g. the centre = 1·1000 + 2·100 + 3·10 + 4·1.
    expect(new Deconvolution(W, b, { stride: 1 }).forward(x, "train").toArray()).toEqual([
      [
        [
          [1.5, 12.5, 20.5],
          [103.5, 1234.5, 2040.5],
          [300.5, 3400.5, 4000.5],
        ],
      ],
    ]);
  });

  for (const [stride, pad, op, fh, fw] of [
    [1, 0, 0, 3, 3],
    [2, 1, 0, 4, 4],
    [2, 1, 1, 3, 2],
    [3, 2, 2, 5, 4],
    [2, 0, 1, 1, 1],
  ]) {
    it(`matches the definition written as loops (stride ${stride}, pad ${pad}, output padding ${op}, ${fh}×${fw})`, () => {
      const rng = new Rng(stride * 10 + pad + op * 100 + fh);
      const x = randn([2, 3, 4, 3], rng);
      const W = randn([3, 2, fh, fw], rng);
      const b = randn([2], rng);
      const layer = new Deconvolution(W, b, { stride, pad, outputPadding: op });
      const want = directDeconvolution(x, W, b, stride, pad, op);
      const y = layer.forward(x, "train");
      expect(y.shape).toEqual(want.shape);
      assertAllClose(y.data, want.data, 1e-12, 1e-12, "forward");
    });
  }

  it.each(torch.deconvolution.map((c) => [c.stride, c.pad, c.outputPadding, c] as const))(
    "agrees with PyTorch's ConvTranspose2d (stride %d, pad %d, output padding %d), forward and backward",
    (_s, _p, _op, c) => {
      const x = NDArray.from(c.x, [c.n, c.c, c.h, c.w], "float64");
      const layer = new Deconvolution(
        NDArray.from(c.W, [c.c, c.fn, c.fh, c.fw], "float64"),
        NDArray.from(c.b, [c.fn], "float64"),
        { stride: c.stride, pad: c.pad, outputPadding: c.outputPadding },
      );
      const y = layer.forward(x, "train");
      expect(y.shape).toEqual(c.yShape);
      assertAllClose(y.data, c.y, 1e-10, 1e-9, "y");
      const dx = layer.backward(NDArray.from(c.dy, c.yShape, "float64"));
      assertAllClose(dx.data, c.dx, 1e-10, 1e-9, "dx");
      assertAllClose(layer.W.grad!.data, c.dW, 1e-10, 1e-9, "dW");
      assertAllClose(layer.b.grad!.data, c.db, 1e-10, 1e-9, "db");
    },
  );

  it("is the adjoint of the Convolution with the same filters: ⟨conv(u), v⟩ = ⟨u, deconv(v)⟩", () => {
    const rng = new Rng(4);
    const W = randn([3, 2, 4, 4], rng); // deconv 3 → 2 channels; conv 2 → 3 with (FN, C) = (3, 2)
    const zero = (n: number) => NDArray.zeros([n], "float64");
    const deconv = new Deconvolution(W, zero(2), { stride: 2, pad: 1 });
    const conv = new Convolution(W, zero(3), { stride: 2, pad: 1 });
    const v = randn([2, 3, 5, 4], rng);
    const y = deconv.forward(v, "train"); // (2, 2, 10, 8): twice the size
    expect(y.shape).toEqual([2, 2, 10, 8]);
    const u = randn(y.shape as number[], rng);
    // The convolution of u from 10×8 back to 5×4.
    expect(dot(conv.forward(u, "train"), v)).toBeCloseTo(dot(u, y), 10);
    // And the deconvolution's dx is that convolution's forward.
    assertAllClose(deconv.backward(u).data, conv.forward(u, "train").data, 1e-12, 1e-12, "dx");
  });

  for (const [stride, pad, op] of [
    [1, 1, 0],
    [2, 1, 1],
    [3, 0, 2],
  ]) {
    it(`gradient-checks input, W and b (stride ${stride}, pad ${pad}, output padding ${op})`, () => {
      const rng = new Rng(7 + stride + op);
      const layer = new Deconvolution(randn([2, 3, 3, 2], rng), randn([3], rng), {
        stride,
        pad,
        outputPadding: op,
      });
      checkLayerGradients(layer, randn([2, 2, 3, 4], rng), rng);
    });
  }

  it("skips dx for a first layer, with the same dW and db", () => {
    const rng = new Rng(12);
    const W = randn([2, 3, 4, 4], rng);
    const x = randn([3, 2, 3, 3], rng);
    const full = new Deconvolution(W, randn([3], rng), { stride: 2, pad: 1 });
    const first = new Deconvolution(W, full.b.value, { stride: 2, pad: 1 });
    first.needsInputGrad = false;
    const dy = randn(full.forward(x, "train").shape as number[], rng);
    first.forward(x, "train");
    full.backward(dy);
    expect(first.backward(dy).shape).toEqual([0]);
    expect(first.W.grad!.data).toEqual(full.W.grad!.data);
    expect(first.b.grad!.data).toEqual(full.b.grad!.data);
  });

  it("rejects shapes and settings that do not fit, naming them", () => {
    const W = NDArray.zeros([2, 3, 4, 4]);
    expect(() => new Deconvolution(W, NDArray.zeros([2]))).toThrow(/b \(2,\).*axis 1/);
    expect(() => new Deconvolution(W, NDArray.zeros([3]), { stride: 2, outputPadding: 2 })).toThrow(
      /outputPadding 2 must be an integer in \[0, stride 2\)/,
    );
    const layer = new Deconvolution(W, NDArray.zeros([3]), { stride: 1, pad: 3 });
    expect(() => layer.forward(NDArray.zeros([1, 3, 5, 5]), "train")).toThrow(/\(N, 2, H, W\)/);
    // (1 − 1)·1 − 2·3 + 4 + 0 = −2 rows
    expect(() => layer.forward(NDArray.zeros([1, 2, 1, 1]), "train")).toThrow(ShapeError);
    expect(() => layer.forward(NDArray.zeros([1, 2, 1, 1]), "train")).toThrow(/= -2 < 1/);
    expect(() => layer.backward(NDArray.zeros([1]))).toThrow(/before forward/);
  });
});
