/**
 * Every core layer, in both precisions: float32 runs give float32 results that agree with float64,
 * and no backward touches its dout. (Each layer's own file holds its gradient check.)
 */
import { describe, expect, it } from "vitest";
import { Affine } from "../src/layers/affine.js";
import { BatchNormalization } from "../src/layers/batch-normalization.js";
import { Deconvolution } from "../src/layers/deconvolution.js";
import { Dropout } from "../src/layers/dropout.js";
import { Flatten } from "../src/layers/flatten.js";
import type { Layer, Mode } from "../src/layers/layer.js";
import { LeakyRelu } from "../src/layers/leaky-relu.js";
import { Relu } from "../src/layers/relu.js";
import { Reshape } from "../src/layers/reshape.js";
import { Sigmoid } from "../src/layers/sigmoid.js";
import { Tanh } from "../src/layers/tanh.js";
import { NDArray, type DType } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";
import { assertAllClose, randomUpstream } from "../src/testing/gradcheck.js";
import { assertUnchanged, randomOffKink } from "../src/testing/layer-gradcheck.js";

/** Builds the layer in one precision; the same seed gives the same parameters in both. */
type Factory = (dtype: DType) => Layer;

const params = (shape: number[], seed: number, dtype: DType) =>
  randomUpstream(shape, new Rng(seed)).astype(dtype);

const mask = NDArray.from(
  Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 0 : 1)),
  [2, 3, 2, 2],
);
function fixedDropout(inverted: boolean): Factory {
  return () => {
    const d = new Dropout(new Rng(0), { ratio: 0.4, inverted });
    d.fixMask(mask);
    return d;
  };
}

const layers: [string, Factory][] = [
  ["Relu", () => new Relu()],
  ["Sigmoid", () => new Sigmoid()],
  ["Tanh", () => new Tanh()],
  ["Flatten", () => new Flatten()],
  ["Affine", (dtype) => new Affine(params([12, 5], 1, dtype), params([5], 2, dtype))],
  ["LeakyRelu", () => new LeakyRelu({ alpha: 0.2 })],
  ["Reshape", () => new Reshape([6, 2])],
  [
    "Deconvolution",
    (dtype) =>
      new Deconvolution(params([3, 2, 3, 3], 10, dtype), params([2], 11, dtype), {
        stride: 2,
        pad: 1,
        outputPadding: 1,
      }),
  ],
  ["Dropout", fixedDropout(false)],
  ["Dropout (inverted)", fixedDropout(true)],
  [
    "BatchNormalization (per channel)",
    (dtype) => new BatchNormalization(params([3], 3, dtype), params([3], 4, dtype)),
  ],
];
const modes: Mode[] = ["train", "eval"];

describe.each(layers)("%s", (_name, make) => {
  it.each(modes)("agrees in float32 and float64 and leaves dout alone (%s)", (mode) => {
    const x64 = randomOffKink([2, 3, 2, 2], new Rng(5));
    const results = (["float64", "float32"] as const).map((dtype) => {
      const layer = make(dtype);
      const y = layer.forward(x64.astype(dtype), mode);
      const dout = randomUpstream(y.shape, new Rng(6)).astype(dtype);
      const before = dout.clone();
      const dx = layer.backward(dout);
      assertUnchanged(dout, before, `${_name}.backward mutated its dout`);
      expect(y.dtype).toBe(dtype);
      expect(dx.dtype).toBe(dtype);
      expect(dx.shape).toEqual(x64.shape);
      for (const p of layer.params) expect(p.grad?.dtype).toBe(dtype);
      return { y, dx, grads: layer.params.map((p) => p.grad as NDArray) };
    });
    const [r64, r32] = results;
    assertAllClose(r32.y.data, r64.y.data, 1e-4, 1e-4, "y");
    assertAllClose(r32.dx.data, r64.dx.data, 1e-4, 1e-4, "dx");
    r32.grads.forEach((g, i) => assertAllClose(g.data, r64.grads[i].data, 1e-4, 1e-4, "param grad"));
  });
});

describe("BatchNormalization (per activation, 2-D)", () => {
  it("agrees in float32 and float64", () => {
    const x64 = randomUpstream([4, 6], new Rng(7));
    const make = (dtype: DType) => new BatchNormalization(params([6], 8, dtype), params([6], 9, dtype));
    const y64 = make("float64").forward(x64, "train");
    const y32 = make("float32").forward(x64.astype("float32"), "train");
    assertAllClose(y32.data, y64.data, 1e-4, 1e-4, "y");
  });
});

describe("layers reject mixed precision", () => {
  it("Affine with float64 params and a float32 input names both", () => {
    const affine = new Affine(params([2, 2], 1, "float64"), params([2], 2, "float64"));
    expect(() => affine.forward(NDArray.zeros([1, 2]))).toThrow(
      /mixed dtypes float32 \(1, 2\) and float64 \(2, 2\)/,
    );
  });
});
