import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Sequential } from "../models/sequential.js";
import { Affine } from "./affine.js";
import { Convolution } from "./convolution.js";
import { Flatten } from "./flatten.js";

function randn(shape: number[], rng: Rng): NDArray {
  const a = NDArray.zeros(shape, "float64");
  rng.fillNormal(a.data);
  return a;
}

/** The naive twin: the convolution sum written out, one output at a time. */
function directConvolution(x: NDArray, W: NDArray, b: NDArray, stride: number, pad: number): NDArray {
  const [N, C, H, Wd] = x.shape;
  const [FN, , FH, FW] = W.shape;
  const OH = (H + 2 * pad - FH) / stride + 1;
  const OW = (Wd + 2 * pad - FW) / stride + 1;
  const out = NDArray.zeros([N, FN, OH, OW], x.dtype);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < FN; f++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let sum = b.get(f);
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < FH; ky++)
              for (let kx = 0; kx < FW; kx++) {
                const y = oy * stride + ky - pad;
                const xx = ox * stride + kx - pad;
                if (y >= 0 && y < H && xx >= 0 && xx < Wd) sum += x.get(n, c, y, xx) * W.get(f, c, ky, kx);
              }
          out.set(sum, n, f, oy, ox);
        }
  return out;
}

describe("Convolution", () => {
  it("computes a hand-worked 2×2 filter over a 3×3 image", () => {
    const x = NDArray.from(
      [
        [
          [
            [1, 2, 3],
            [4, 5, 6],
            [7, 8, 9],
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
            [1, 0],
            [0, -1],
          ],
        ],
      ],
      undefined,
      "float64",
    );
    const conv = new Convolution(W, NDArray.from([10], [1], "float64"));
    // each output: top-left − bottom-right + 10 = −4 + 10
    expect(conv.forward(x, "train").toArray()).toEqual([
      [
        [
          [6, 6],
          [6, 6],
        ],
      ],
    ]);
  });

  for (const [stride, pad] of [
    [1, 0],
    [2, 1],
    [1, 2],
    [2, 0], // 7 − 3 = 4 divides; and below, sizes that do not
    [3, 1],
  ]) {
    it(`matches the direct-loop convolution (stride ${stride}, pad ${pad}, batch, channels)`, () => {
      const rng = new Rng(1);
      const x = randn([2, 3, 7, 7], rng);
      const W = randn([4, 3, 3, 3], rng);
      const b = randn([4], rng);
      const y = new Convolution(W, b, { stride, pad }).forward(x, "train");
      const expected = directConvolution(x, W, b, stride, pad);
      expect(y.shape).toEqual(expected.shape);
      assertAllClose(y.data, expected.data, 1e-12, 1e-12);
    });
  }

  for (const [stride, pad, fh, fw] of [
    [1, 0, 3, 3],
    [2, 1, 3, 3],
    [3, 2, 2, 4],
    [2, 0, 2, 2], // 7 − 2 = 5 and 9 − 2 = 7 do not divide by 2: the last row and column are not read
    [2, 1, 1, 1], // a 1×1 stride-2 projection shortcut
  ]) {
    it(`passes the gradient check (stride ${stride}, pad ${pad}, ${fh}×${fw} filters)`, () => {
      const rng = new Rng(2);
      const conv = new Convolution(randn([3, 2, fh, fw], rng), randn([3], rng), { stride, pad });
      checkLayerGradients(conv, randn([2, 2, 7, 9], rng), rng);
    });
  }

  it("runs in float32", () => {
    const rng = new Rng(3);
    const W = randn([2, 1, 3, 3], rng).astype("float32");
    const conv = new Convolution(W, NDArray.zeros([2]), { pad: 1 });
    const x = randn([1, 1, 4, 4], rng).astype("float32");
    const y = conv.forward(x, "train");
    expect(y.dtype).toBe("float32");
    expect(conv.backward(NDArray.full(y.shape, 1)).shape).toEqual([1, 1, 4, 4]);
  });

  it("names both shapes when the input's channels differ from W's", () => {
    const conv = new Convolution(NDArray.zeros([4, 3, 5, 5]), NDArray.zeros([4]));
    expect(() => conv.forward(NDArray.zeros([2, 1, 28, 28]), "train")).toThrow(
      /input \(2, 1, 28, 28\) must be \(N, 3, H, W\) to match W \(4, 3, 5, 5\)/,
    );
  });

  it("rejects a bias that does not fit W, and a filter larger than the padded input", () => {
    expect(() => new Convolution(NDArray.zeros([4, 3, 5, 5]), NDArray.zeros([3]))).toThrow(
      /b \(3,\) must have one value per filter of W \(4, 3, 5, 5\)/,
    );
    const conv = new Convolution(NDArray.zeros([1, 1, 6, 6]), NDArray.zeros([1]), { stride: 2 });
    expect(() => conv.forward(NDArray.zeros([1, 1, 5, 5]), "train")).toThrow(/H=5, FH=6, P=0, S=2/);
  });

  it("skips dx when told nothing reads it, with the same dW and db", () => {
    const rng = new Rng(4);
    const W = randn([3, 2, 3, 3], rng);
    const b = randn([3], rng);
    const x = randn([2, 2, 6, 6], rng);
    const withDx = new Convolution(W, b, { pad: 1 });
    const withoutDx = new Convolution(W, b, { pad: 1 });
    withoutDx.needsInputGrad = false;
    const dout = randn([...withDx.forward(x, "train").shape], rng);
    withoutDx.forward(x, "train");
    expect(withDx.backward(dout).shape).toEqual([2, 2, 6, 6]);
    expect(withoutDx.backward(dout).shape).toEqual([0]);
    expect(withoutDx.W.grad?.data).toEqual(withDx.W.grad?.data);
    expect(withoutDx.b.grad?.data).toEqual(withDx.b.grad?.data);
  });

  it("is told by a Sequential that it is the first layer (and only the first)", () => {
    const conv = new Convolution(NDArray.zeros([2, 1, 3, 3]), NDArray.zeros([2]));
    const affine = new Affine(NDArray.zeros([2 * 4 * 4, 3]), NDArray.zeros([3]));
    new Sequential([conv, new Flatten(), affine]);
    expect(conv.needsInputGrad).toBe(false);
    expect(affine.needsInputGrad).toBe(true);
    // An Affine first layer skips its dx too; its dW and db are unchanged.
    const rng = new Rng(5);
    const W = randn([4, 3], rng);
    const b = randn([3], rng);
    const x = randn([2, 4], rng);
    const dout = randn([2, 3], rng);
    const alone = new Affine(W, b);
    const first = new Affine(W, b);
    new Sequential([first]);
    alone.forward(x);
    first.forward(x);
    expect(alone.backward(dout).shape).toEqual([2, 4]);
    expect(first.backward(dout).shape).toEqual([0]);
    expect(first.W.grad?.data).toEqual(alone.W.grad?.data);
    expect(first.b.grad?.data).toEqual(alone.b.grad?.data);
  });
});
