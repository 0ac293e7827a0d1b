import { describe, expect, it } from "vitest";
import { withKernels } from "../backend/index.js";
import { initWasm } from "../backend/wasm.js";
import { Affine } from "../layers/affine.js";
import { Relu } from "../layers/relu.js";
import { NDArray, type DType, type Labels } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, dot, randomUpstream } from "../testing/gradcheck.js";
import { checkGradients, type GradientTarget } from "../testing/layer-gradcheck.js";
import { Graph, type GraphSpec } from "./graph.js";
import { createModel } from "./model.js";
import { Sequential } from "./sequential.js";
import { ResNet } from "./resnet.js";
import { copyMatchingWeights } from "./transfer.js";
import { Trainer } from "../train/trainer.js";
import { Adam } from "../optimizers/adam.js";

function randn(shape: number[], rng: Rng, dtype: DType = "float64"): NDArray {
  const a = NDArray.zeros(shape, dtype);
  rng.fillNormal(a.data);
  return a;
}
const labels = (n: number, classes: number, rng: Rng): Labels =>
  Int32Array.from({ length: n }, () => rng.int(classes));

/**
 * Branches, merges and fan-out in one graph: the input x is read by two nodes (a skip around the
 * first convolution), `r` by four (an Inception block's branches and a projection), an Add of a
 * skip, a Concat of three branches, batch norm, global average pooling, a second input z through
 * its own Affine, and two outputs.
 */
const branchy: GraphSpec = {
  inputs: [
    { name: "x", shape: [2, 5, 5] },
    { name: "z", shape: [3] },
  ],
  nodes: [
    { name: "c1", type: "convolution", inputs: ["x"], filters: 4, fh: 3, fw: 3, pad: 1 },
    { name: "relu1", type: "relu", inputs: ["c1"] },
    { name: "skip", type: "convolution", inputs: ["x"], filters: 4, fh: 1, fw: 1 },
    { name: "r", type: "add", inputs: ["relu1", "skip"] },
    { name: "b1", type: "convolution", inputs: ["r"], filters: 3, fh: 1, fw: 1 },
    { name: "b2", type: "convolution", inputs: ["r"], filters: 2, fh: 3, fw: 3, pad: 1 },
    { name: "pool", type: "pooling", inputs: ["r"], ph: 3, pw: 3, stride: 1, pad: 1 },
    { name: "b3", type: "convolution", inputs: ["pool"], filters: 2, fh: 1, fw: 1 },
    { name: "cat", type: "concat", inputs: ["b1", "b2", "b3"] },
    { name: "bn", type: "batchnorm", inputs: ["cat"] },
    { name: "proj", type: "convolution", inputs: ["r"], filters: 7, fh: 1, fw: 1 },
    { name: "sum", type: "add", inputs: ["bn", "proj"] },
    { name: "gap", type: "global-average-pooling", inputs: ["sum"] },
    { name: "fz", type: "affine", inputs: ["z"], outputSize: 7 },
    { name: "merged", type: "add", inputs: ["gap", "fz"] },
    { name: "out", type: "affine", inputs: ["merged"], outputSize: 3 },
  ],
  outputs: ["out", "sum"],
  loss: { type: "softmax-cross-entropy" },
};

describe("Graph: branches, merges and fan-out", () => {
  it("backpropagates through fan-out (gradients summed) and merges: every param and both inputs, random dy on both outputs", () => {
    const rng = new Rng(31);
    const g = Graph.build(branchy, rng, "float64");
    g.inputGradients = true;
    const x = randn([3, 2, 5, 5], rng);
    const z = randn([3, 3], rng);
    const ys = g.run({ x, z }, "train");
    const dys = { out: randomUpstream(ys.out.shape, rng), sum: randomUpstream(ys.sum.shape, rng) };
    const grads = g.backpropagate(dys);
    const scalar = () => {
      const y = g.run({ x, z }, "train");
      return dot(y.out, dys.out) + dot(y.sum, dys.sum);
    };
    const targets: GradientTarget[] = [
      { name: "x", value: x, grad: grads.x.clone() },
      { name: "z", value: z, grad: grads.z.clone() },
      ...g.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
    ];
    const reports = checkGradients(scalar, targets);
    expect(reports.map((r) => r.name)).toContain("bn.gamma");
    expect(reports).toHaveLength(2 + g.params.length);
  });

  it("the loss of a multi-input graph: model.loss, model.backward against central differences", () => {
    const rng = new Rng(32);
    const g = Graph.build(branchy, rng, "float64");
    const inputs = { x: randn([2, 2, 5, 5], rng), z: randn([2, 3], rng) };
    const t = labels(2, 3, rng);
    g.loss(inputs, t);
    g.backward();
    checkGradients(
      () => g.loss(inputs, t),
      g.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
    );
  });

  it("a tensor read by three nodes gets the sum of their gradients", () => {
    // y = a(x) + b(x) + c(x) with a, b, c Affine: dL/dx = dy·(Wa + Wb + Wc)ᵀ.
    const spec: GraphSpec = {
      inputs: [{ name: "x", shape: [4] }],
      nodes: [
        { name: "a", type: "affine", inputs: ["x"], outputSize: 2 },
        { name: "b", type: "affine", inputs: ["x"], outputSize: 2 },
        { name: "c", type: "affine", inputs: ["x"], outputSize: 2 },
        { name: "y", type: "add", inputs: ["a", "b", "c"] },
      ],
      loss: null,
    };
    const rng = new Rng(33);
    const g = Graph.build(spec, rng, "float64");
    g.inputGradients = true;
    const x = randn([3, 4], rng);
    g.run(x, "train");
    const dy = randomUpstream([3, 2], rng);
    const dx = g.backpropagate({ y: dy }).x;
    const W = ["a.W", "b.W", "c.W"].map((n) => g.params.find((p) => p.name === n)!.value);
    const expected = new Float64Array(12);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++)
        for (const w of W)
          for (let k = 0; k < 2; k++) expected[i * 4 + j] += dy.data[i * 2 + k] * w.data[j * 2 + k];
    assertAllClose(dx.data, expected, 1e-12, 1e-12, "dx");
  });

  it("two inputs and a regression loss (mean-squared-error)", () => {
    const spec: GraphSpec = {
      inputs: [
        { name: "state", shape: [3] },
        { name: "context", shape: [2] },
      ],
      nodes: [
        { name: "s", type: "affine", inputs: ["state"], outputSize: 4 },
        { name: "c", type: "affine", inputs: ["context"], outputSize: 4 },
        { name: "h", type: "concat", inputs: ["s", "c"] },
        { name: "act", type: "tanh", inputs: ["h"] },
        { name: "q", type: "affine", inputs: ["act"], outputSize: 2 },
      ],
      loss: { type: "mean-squared-error" },
    };
    const rng = new Rng(34);
    const g = Graph.build(spec, rng, "float64");
    const inputs = { state: randn([5, 3], rng), context: randn([5, 2], rng) };
    const t = randn([5, 2], rng);
    const y = g.predict(inputs);
    let sq = 0;
    for (let i = 0; i < y.size; i++) sq += (y.data[i] - t.data[i]) ** 2;
    expect(g.loss(inputs, t)).toBeCloseTo((0.5 * sq) / 5, 12);
    g.backward();
    checkGradients(
      () => g.loss(inputs, t),
      g.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
    );
    expect(() => g.loss(inputs, new Int32Array(5))).toThrow(/target arrays, not labels/);
    expect(() => g.predict(inputs.state)).toThrow(/has 2 inputs \(state, context\)/);
    expect(() => g.predict({ state: inputs.state })).toThrow(/graph input "context" is missing/);
  });

  it("fused Convolution → ReLU → max Pooling equals the layers one by one, forward and backward", () => {
    const spec: GraphSpec = {
      inputs: [{ name: "x", shape: [2, 6, 6] }],
      nodes: [
        { name: "c", type: "convolution", inputs: ["x"], filters: 3, fh: 3, fw: 3, pad: 1 },
        { name: "r", type: "relu", inputs: ["c"] },
        { name: "p", type: "pooling", inputs: ["r"], ph: 2, pw: 2, stride: 2 },
        // A second fusable conv whose ReLU is also read by a skip: fused without its pooling.
        { name: "c2", type: "convolution", inputs: ["p"], filters: 3, fh: 3, fw: 3, pad: 1 },
        { name: "r2", type: "relu", inputs: ["c2"] },
        { name: "p2", type: "pooling", inputs: ["r2"], ph: 3, pw: 3, stride: 1, pad: 1 },
        { name: "s", type: "add", inputs: ["p2", "r2"] },
        { name: "f", type: "affine", inputs: ["s"], outputSize: 4 },
      ],
    };
    const results = [true, false].map((fuse) => {
      const g = Graph.build(spec, new Rng(35), "float64", { fuse });
      const rng = new Rng(36);
      const x = randn([2, 2, 6, 6], rng);
      const t = labels(2, 4, rng);
      const loss = g.loss(x, t);
      g.backward();
      return { loss, grads: g.params.map((p) => p.grad!.data) };
    });
    expect(results[0].loss).toBeCloseTo(results[1].loss, 12);
    results[0].grads.forEach((gr, i) => assertAllClose(gr, results[1].grads[i], 1e-12, 1e-10, `param ${i}`));
  });

  it("runs the same on the WASM kernels (float32) as on the reference", async () => {
    const wasm = await initWasm({ threads: 2 });
    const run = () => {
      const g = Graph.build(branchy, new Rng(37), "float32");
      g.inputGradients = true;
      const rng = new Rng(38);
      const inputs = { x: randn([3, 2, 5, 5], rng, "float32"), z: randn([3, 3], rng, "float32") };
      const loss = g.loss(inputs, labels(3, 3, rng));
      g.backward();
      return { loss, grads: g.params.map((p) => p.grad!.data) };
    };
    const ref = run();
    const fast = withKernels(wasm, run);
    expect(fast.loss).toBeCloseTo(ref.loss, 5);
    ref.grads.forEach((gr, i) => assertAllClose(fast.grads[i], gr, 1e-5, 1e-3, `param ${i}`));
  });
});

describe("Graph specs", () => {
  it("a spec's architecture() rebuilds the same network (settings, edges, tensor names) and round-trips as JSON", () => {
    const g = Graph.build(branchy, new Rng(40), "float64");
    const arch = g.architecture();
    expect(JSON.parse(JSON.stringify(arch))).toEqual(arch);
    const bn = arch.nodes.find((n) => n.name === "bn")!;
    expect(bn).toEqual({
      name: "bn",
      type: "batchnorm",
      momentum: 0.9,
      eps: 1e-6,
      inputs: ["cat"],
      params: {
        gamma: "bn.gamma",
        beta: "bn.beta",
        running_mean: "bn.running_mean",
        running_var: "bn.running_var",
      },
    });
    expect(arch.nodes.find((n) => n.name === "pool")).toMatchObject({
      ph: 3,
      pw: 3,
      stride: 1,
      pad: 1,
      kind: "max",
    });
    const again = Graph.build(arch, new Rng(99), "float64");
    expect(again.architecture()).toEqual(arch);
    for (const t of again.tensors()) {
      t.set(g.tensors().find((u) => u.name === t.name)!.value);
    }
    const rng = new Rng(41);
    const inputs = { x: randn([2, 2, 5, 5], rng), z: randn([2, 3], rng) };
    assertAllClose(again.predict(inputs).data, g.predict(inputs).data, 0, 0, "scores");
  });

  it("a graph is a model createModel rebuilds from its spec", () => {
    const spec: GraphSpec = {
      inputs: [{ name: "x", shape: [1, 4, 4] }],
      nodes: [
        { name: "c", type: "convolution", inputs: ["x"], filters: 2, fh: 3, fw: 3 },
        { name: "f", type: "affine", inputs: ["c"], outputSize: 5 },
      ],
    };
    const g = Graph.build(spec, new Rng(1));
    expect(g.spec).toMatchObject({ kind: "graph", inputShape: [1, 4, 4], outputSize: 5 });
    const back = createModel(g.spec, new Rng(1));
    expect(back.params.map((p) => [p.name, p.value.shape])).toEqual(
      g.params.map((p) => [p.name, p.value.shape]),
    );
    expect(() => createModel({ ...g.spec, outputSize: 6 }, new Rng(1))).toThrow(
      /outputSize 6 do not match its graph's/,
    );
  });

  it("refuses specs that are not a DAG in order, unknown settings and wrong arities, naming the node", () => {
    const base = (nodes: GraphSpec["nodes"]): GraphSpec => ({ inputs: [{ name: "x", shape: [4] }], nodes });
    const build = (s: GraphSpec) => () => Graph.build(s, new Rng(1));
    expect(
      build(
        base([
          { name: "a", type: "affine", inputs: ["b"], outputSize: 2 },
          { name: "b", type: "affine", inputs: ["x"], outputSize: 2 },
        ]),
      ),
    ).toThrow(
      /node "a" reads "b", which is not a graph input or an earlier node \(nodes must be in topological order\)/,
    );
    expect(
      build(
        base([
          { name: "a", type: "affine", inputs: ["x"], outputSize: 2 },
          { name: "a", type: "relu", inputs: ["a"] },
        ]),
      ),
    ).toThrow(/the name "a" is taken/);
    expect(
      build(base([{ name: "a", type: "affine", inputs: ["x"], outputSize: 2, units: 3 } as never])),
    ).toThrow(
      /node 0 "a" \(affine\) has no setting "units"; valid: name, type, inputs, params, outputSize, weightInit/,
    );
    expect(build(base([{ name: "a", type: "dense", inputs: ["x"] } as never]))).toThrow(
      /valid: affine, convolution/,
    );
    expect(build(base([{ name: "a", type: "add", inputs: ["x"] }]))).toThrow(/takes 2 or more inputs, got 1/);
    expect(build(base([{ name: "a", type: "relu", inputs: ["x", "x"] }]))).toThrow(/takes one input, got 2/);
    expect(build({ ...base([{ name: "a", type: "relu", inputs: ["x"] }]), outputs: ["nope"] })).toThrow(
      /graph output "nope" is not an input or node/,
    );
    expect(build({ ...base([]), loss: { type: "hinge" } as never })).toThrow(/loss must be null or one of/);
    expect(
      build(base([{ name: "a", type: "affine", inputs: ["x"], outputSize: 2, params: { w: "W1" } }])),
    ).toThrow(/params names "w", but its layer has W, b/);
  });
});

describe("Sequential is the one-input-per-node graph", () => {
  it("keeps the book's param names, and its graph rebuilds it with those tensor names", () => {
    const rng = new Rng(50);
    const seq = Sequential.fromLayerSpecs(
      {
        kind: "sequential",
        inputShape: [6],
        outputSize: 3,
        layers: [
          { type: "affine", outputSize: 5 },
          { type: "batchnorm" },
          { type: "relu" },
          { type: "affine", outputSize: 3 },
        ],
      },
      rng,
      "float64",
    );
    expect(seq.params.map((p) => p.name)).toEqual(["W1", "b1", "gamma1", "beta1", "W2", "b2"]);
    const arch = seq.architecture();
    expect(arch.nodes.map((n) => [n.name, n.inputs])).toEqual([
      ["affine1", ["x"]],
      ["batchnorm1", ["affine1"]],
      ["relu1", ["batchnorm1"]],
      ["affine2", ["relu1"]],
    ]);
    expect(arch.nodes[1].params).toEqual({
      gamma: "gamma1",
      beta: "beta1",
      running_mean: "running_mean1",
      running_var: "running_var1",
    });
    const g = Graph.build(arch, new Rng(7), "float64");
    for (const t of g.tensors()) t.set(seq.tensors().find((u) => u.name === t.name)!.value);
    const x = randn([4, 6], rng);
    const t = labels(4, 3, rng);
    expect(g.loss(x, t)).toBe(seq.loss(x, t));
    g.backward();
    seq.backward();
    g.params.forEach((p, i) =>
      expect(Array.from(p.grad!.data)).toEqual(Array.from(seq.params[i].grad!.data)),
    );
  });

  it("freezing: frozen params leave trainableParams and are not backpropagated", () => {
    const layers = () => [
      new Affine(randn([4, 3], new Rng(1)), randn([3], new Rng(2))),
      new Relu(),
      new Affine(randn([3, 2], new Rng(3)), randn([2], new Rng(4))),
    ];
    const frozen = new Sequential(layers());
    const free = new Sequential(layers());
    expect(frozen.freeze(["affine1"])).toEqual(["W1", "b1"]);
    expect(frozen.trainableParams.map((p) => p.name)).toEqual(["W2", "b2"]);
    const rng = new Rng(5);
    const x = randomUpstream([3, 4], rng).astype("float64");
    const t = labels(3, 2, rng);
    for (const m of [frozen, free]) {
      m.loss(x, t);
      m.backward();
    }
    expect(frozen.params[0].grad).toBeNull(); // never backpropagated
    expect(Array.from(frozen.params[2].grad!.data)).toEqual(Array.from(free.params[2].grad!.data));
    expect(() => frozen.freeze(["affine9"])).toThrow(/nothing to freeze called "affine9"/);
    frozen.unfreeze();
    expect(frozen.trainableParams).toHaveLength(4);
  });
});

describe("transfer learning (book §8.2.3)", () => {
  const small = (outputSize: number, seed: number) =>
    new ResNet({ inputShape: [1, 8, 8], widths: [2, 3], blocks: [1, 1], outputSize }, new Rng(seed));

  it("copies every tensor whose name and shape agree, batch norm statistics too, and replaces the head", () => {
    const source = small(3, 1);
    source.loss(randn([4, 1, 8, 8], new Rng(2), "float32"), new Int32Array([0, 1, 2, 0])); // moves running stats
    const target = small(5, 3);
    const report = copyMatchingWeights(target, source);
    expect(report.kept).toEqual([
      { name: "fc.W", reason: 'the head ("fc") is replaced' },
      { name: "fc.b", reason: 'the head ("fc") is replaced' },
    ]);
    expect(report.copied).toContain("stage2.block1.bn1.running_var");
    const byName = (m: Graph) => new Map(m.tensors().map((t) => [t.name, Array.from(t.value.data)]));
    const [s, t] = [byName(source), byName(target)];
    for (const name of report.copied) expect(t.get(name)).toEqual(s.get(name));
    // Same classes: the head still starts fresh unless asked to copy it.
    const same = small(3, 4);
    const fresh = Array.from(same.node("fc").layer.params[0].value.data);
    copyMatchingWeights(same, source);
    expect(Array.from(same.node("fc").layer.params[0].value.data)).toEqual(fresh);
    copyMatchingWeights(same, source, { head: "copy" });
    expect(Array.from(same.node("fc").layer.params[0].value.data)).toEqual(s.get("fc.W"));
  });

  it("a fine-tuned network's frozen layers do not move; the rest trains", () => {
    const model = small(3, 5);
    copyMatchingWeights(model, small(3, 6));
    model.freeze(["stem", "stage1"]);
    const before = new Map(model.params.map((p) => [p.name, Array.from(p.value.data)]));
    const rng = new Rng(7);
    const data = {
      x: randn([20, 1, 8, 8], rng, "float32"),
      labels: Int32Array.from({ length: 20 }, (_, i) => i % 3),
    };
    new Trainer({
      model,
      optimizer: new Adam({ lr: 0.01 }),
      train: data,
      test: data,
      epochs: 2,
      batchSize: 5,
      rng,
    }).run();
    for (const p of model.params) {
      const moved = Array.from(p.value.data).some((v, i) => v !== before.get(p.name)![i]);
      expect(moved, p.name).toBe(!(p.name.startsWith("stem") || p.name.startsWith("stage1")));
    }
  });

  it("refuses a source that shares no tensor with the target", () => {
    expect(() => copyMatchingWeights(small(3, 1), [{ name: "W1", value: NDArray.zeros([2]) }])).toThrow(
      /no tensor of the source fits this network.*W1/,
    );
  });
});
