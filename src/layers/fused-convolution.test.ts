import { describe, expect, it } from "vitest";
import { Sequential } from "../models/sequential.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Affine } from "./affine.js";
import { Convolution } from "./convolution.js";
import { Flatten } from "./flatten.js";
import { FusedConvolution, fuseNodes } from "./fused-convolution.js";
import type { Layer } from "./layer.js";
import { Pooling, type PoolingOptions } from "./pooling.js";
import { Relu } from "./relu.js";
import { Sigmoid } from "./sigmoid.js";

function randn(shape: number[], rng: Rng, scale = 1): NDArray {
  const a = NDArray.zeros(shape, "float64");
  rng.fillNormal(a.data);
  for (let i = 0; i < a.size; i++) a.data[i] *= scale;
  return a;
}

/** Conv (3 filters 3×3, pad 1) → ReLU [→ pool] → Flatten → Affine to 4 classes, from one seed. */
function network(pool: PoolingOptions | null, fuse: boolean, seed: number): Sequential {
  const rng = new Rng(seed);
  const conv = new Convolution(randn([3, 2, 3, 3], rng), randn([3], rng, 0.1), { pad: 1 });
  const pooling = pool && new Pooling(pool);
  const features = 3 * (pooling ? pooling.outputShape([1, 3, 6, 6])[2] ** 2 : 36);
  const layers: Layer[] = [conv, new Relu(), ...(pooling ? [pooling] : [])];
  layers.push(new Flatten(), new Affine(randn([features, 4], rng), randn([4], rng)));
  // A Sigmoid first, so the fused step is not the first layer and computes its dx.
  return new Sequential([new Sigmoid(), ...layers], undefined, { fuse });
}

describe("FusedConvolution", () => {
  for (const pool of [
    { ph: 2, pw: 2, stride: 2 },
    { ph: 3, pw: 3, stride: 1, pad: 1 },
    null,
  ] satisfies (PoolingOptions | null)[]) {
    const what = pool ? `max pool ${pool.ph}×${pool.pw}/${pool.stride}` : "no pooling";
    it(`gives the unfused layers' loss and gradients (Convolution → ReLU, ${what})`, () => {
      const x = randn([2, 2, 6, 6], new Rng(7));
      const t = Int32Array.from([1, 3]);
      const fused = network(pool, true, 11);
      const plain = network(pool, false, 11);
      expect(fused.loss(x, t)).toBeCloseTo(plain.loss(x, t), 12);
      fused.backward();
      plain.backward();
      fused.params.forEach((p, i) =>
        assertAllClose(p.grad?.data ?? [], plain.params[i].grad?.data ?? [], 1e-13, 1e-12, p.name),
      );
    });

    it(`passes the gradient check on its input and params (${what})`, () => {
      const rng = new Rng(3);
      const conv = new Convolution(randn([3, 2, 3, 3], rng), randn([3], rng, 0.1), { pad: 1 });
      const step = new FusedConvolution(conv, pool && new Pooling(pool));
      const reports = checkLayerGradients(step, randn([2, 2, 6, 6], rng), rng);
      expect(reports.map((r) => r.name)).toEqual(["x", "W", "b"]);
    });
  }

  it("fuses Convolution → ReLU (→ max Pooling) and nothing else", () => {
    const conv = () => new Convolution(NDArray.zeros([1, 1, 3, 3]), NDArray.zeros([1]));
    const max = new Pooling({ ph: 2, pw: 2, stride: 2 });
    const avg = new Pooling({ ph: 2, pw: 2, stride: 2, kind: "avg" });
    const [c1, c2, c3] = [conv(), conv(), conv()];
    const relu = new Relu();
    const sigmoid = new Sigmoid();
    const chain = [c1, relu, max, c2, relu, avg, c3, sigmoid];
    const steps = fuseNodes(
      chain.map((layer, i) => ({ name: `n${i}`, layer, inputs: [i ? `n${i - 1}` : "x"] })),
    );
    expect(steps.map((s) => [s.layer.constructor.name, s.output, s.inputs])).toEqual([
      ["FusedConvolution", "n2", ["x"]],
      ["FusedConvolution", "n4", ["n2"]],
      ["Pooling", "n5", ["n4"]],
      ["Convolution", "n6", ["n5"]],
      ["Sigmoid", "n7", ["n6"]],
    ]);
    expect((steps[0].layer as FusedConvolution).pool).toBe(max);
    expect((steps[1].layer as FusedConvolution).pool).toBeNull();
    expect(steps[0].layer.params).toBe(c1.params);
  });

  it("fuses in a graph only where nobody else reads the convolution's or the ReLU's output", () => {
    const conv = () => new Convolution(NDArray.zeros([1, 1, 3, 3]), NDArray.zeros([1]));
    const nodes = [
      { name: "c1", layer: conv(), inputs: ["x"] },
      { name: "r1", layer: new Relu(), inputs: ["c1"] },
      { name: "p1", layer: new Pooling({ ph: 2, pw: 2, stride: 2 }), inputs: ["r1"] },
      { name: "skip", layer: new Sigmoid(), inputs: ["r1"] }, // a second reader of r1: no pooling fused
      { name: "c2", layer: conv(), inputs: ["x"] },
      { name: "r2", layer: new Relu(), inputs: ["c2"] },
      { name: "c3", layer: conv(), inputs: ["x"] }, // c3 is an output: not fused
      { name: "r3", layer: new Relu(), inputs: ["c3"] },
    ];
    const steps = fuseNodes(nodes, ["c3"]);
    expect(steps.map((s) => [s.layer.constructor.name, s.covers])).toEqual([
      ["FusedConvolution", ["c1", "r1"]],
      ["Pooling", ["p1"]],
      ["Sigmoid", ["skip"]],
      ["FusedConvolution", ["c2", "r2"]],
      ["Convolution", ["c3"]],
      ["Relu", ["r3"]],
    ]);
  });
});
