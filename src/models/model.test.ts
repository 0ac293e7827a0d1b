import { describe, expect, it } from "vitest";
import { Affine } from "../layers/affine.js";
import { Relu } from "../layers/relu.js";
import { NonFiniteError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { AlexNet } from "./alexnet.js";
import { DeepConvNet } from "./deep-conv-net.js";
import { LeNet } from "./lenet.js";
import { createModel, type Model, type ModelSpec } from "./model.js";
import { MultiLayerNetExtend } from "./multi-layer-net-extend.js";
import { MultiLayerNet } from "./multi-layer-net.js";
import { Sequential } from "./sequential.js";
import { GoogLeNet } from "./googlenet.js";
import { Graph } from "./graph.js";
import { ResNet } from "./resnet.js";
import { VGG } from "./vgg.js";
import { SimpleConvNet } from "./simple-conv-net.js";
import { TwoLayerNet } from "./two-layer-net.js";

const shapes = (m: Model) => Object.fromEntries(m.params.map((p) => [p.name, p.value.shape]));

/** Small instances of every kind, each built from rng seed 1. */
function smallModels(): Model[] {
  const rng = () => new Rng(1);
  return [
    new TwoLayerNet({ inputSize: 8, hiddenSize: 5, outputSize: 3, activation: "sigmoid" }, rng()),
    new MultiLayerNet(
      { inputSize: 8, hiddenSizeList: [6, 4], outputSize: 3, activation: "tanh", weightDecayLambda: 0.1 },
      rng(),
    ),
    new MultiLayerNetExtend(
      {
        inputSize: 8,
        hiddenSizeList: [6],
        outputSize: 3,
        useBatchnorm: true,
        useDropout: true,
        dropoutRatio: 0.2,
      },
      rng(),
    ),
    new SimpleConvNet(
      { inputShape: [1, 8, 8], filterNum: 2, filterSize: 3, hiddenSize: 4, outputSize: 3 },
      rng(),
    ),
    new DeepConvNet(
      { inputShape: [1, 12, 12], filters: [1, 1, 2, 2, 2, 2], hiddenSize: 4, outputSize: 3 },
      rng(),
    ),
    new LeNet({ inputShape: [1, 12, 12], filters: [2, 2], hiddenSizes: [3, 3], outputSize: 3 }, rng()),
    new AlexNet(
      { inputShape: [1, 12, 12], filters: [2, 2, 2, 2, 2], hiddenSizes: [3, 3], outputSize: 3 },
      rng(),
    ),
    Sequential.fromLayerSpecs(
      {
        kind: "sequential",
        inputShape: [2, 6, 6],
        outputSize: 3,
        layers: [
          { type: "convolution", filters: 2, fh: 3, fw: 3, pad: 1 },
          { type: "batchnorm" },
          { type: "relu" },
          { type: "pooling", ph: 2, pw: 2, stride: 2, kind: "avg" },
          { type: "flatten" },
          { type: "affine", outputSize: 3, weightInit: "xavier" },
        ],
      },
      rng(),
    ),
    new VGG({ inputShape: [1, 8, 8], widths: [2, 2], hiddenSize: 3, outputSize: 3 }, rng()),
    new GoogLeNet({ inputShape: [1, 8, 8], stem: 2, stages: [[[1, 1, 1, 1, 1, 1]]], outputSize: 3 }, rng()),
    new ResNet({ inputShape: [1, 8, 8], widths: [2, 3], blocks: [1, 1], outputSize: 3 }, rng()),
    Graph.build(
      {
        inputs: [{ name: "x", shape: [2, 4, 4] }],
        nodes: [
          { name: "a", type: "convolution", inputs: ["x"], filters: 2, fh: 1, fw: 1 },
          { name: "b", type: "add", inputs: ["a", "x"] },
          { name: "gap", type: "global-average-pooling", inputs: ["b"] },
          { name: "fc", type: "affine", inputs: ["gap"], outputSize: 3 },
        ],
      },
      rng(),
    ),
  ];
}

describe("createModel", () => {
  it("rebuilds every kind from its (JSON round-tripped) spec: same spec, params, weights", () => {
    const models = smallModels();
    expect(new Set(models.map((m) => m.spec.kind)).size).toBe(12);
    for (const model of models) {
      const spec = JSON.parse(JSON.stringify(model.spec)) as ModelSpec;
      const rebuilt = createModel(spec, new Rng(1));
      expect(rebuilt.spec).toEqual(model.spec);
      expect(shapes(rebuilt)).toEqual(shapes(model));
      for (let i = 0; i < model.params.length; i++) {
        expect(Array.from(rebuilt.params[i].value.data)).toEqual(Array.from(model.params[i].value.data));
      }
    }
  });

  it("fills in the book's defaults in the spec", () => {
    expect(new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, new Rng(0)).spec).toEqual({
      kind: "two-layer",
      inputShape: [784],
      outputSize: 10,
      hiddenSize: 50,
      weightInitStd: 0.01,
      activation: "relu",
    });
  });

  it("builds the book's architectures at their default sizes", () => {
    const simple = new SimpleConvNet({}, new Rng(0));
    expect(shapes(simple)).toEqual({
      W1: [30, 1, 5, 5],
      b1: [30],
      W2: [30 * 12 * 12, 100],
      b2: [100],
      W3: [100, 10],
      b3: [10],
    });
    const deep = new DeepConvNet({}, new Rng(0));
    expect(deep.params.map((p) => p.value.shape)).toContainEqual([64 * 4 * 4, 50]);
    expect(shapes(deep).W4).toEqual([32, 32, 3, 3]);
    expect(shapes(new LeNet({}, new Rng(0))).W3).toEqual([16 * 5 * 5, 120]);
    expect(new AlexNet({}, new Rng(0)).predict(NDArray.zeros([2, 1, 28, 28])).shape).toEqual([2, 10]);
    // Chapter 8's, sized for 28×28: 28 → 14 → 7 (→ 3 for VGG's last pooling).
    expect(shapes(new VGG({}, new Rng(0)))["fc1.W"]).toEqual([64 * 3 * 3, 128]);
    expect(shapes(new GoogLeNet({}, new Rng(0)))["fc.W"]).toEqual([48 + 64 + 16 + 16, 10]);
    const resnet = new ResNet({}, new Rng(0));
    expect(shapes(resnet)["stage3.block1.proj.W"]).toEqual([64, 32, 1, 1]);
    expect(resnet.run(NDArray.zeros([2, 1, 28, 28]), "eval").fc.shape).toEqual([2, 10]);
  });

  it("rejects an unknown kind or option, listing the valid ones", () => {
    const spec = { kind: "transformer", inputShape: [784], outputSize: 10 } as unknown as ModelSpec;
    expect(() => createModel(spec, new Rng(0))).toThrow(
      /unknown model kind "transformer"; valid: two-layer, multi-layer, multi-layer-extend, simple-conv, deep-conv, lenet, alexnet, sequential, graph, vgg, googlenet, resnet/,
    );
    const bad: ModelSpec = { kind: "two-layer", inputShape: [784], outputSize: 10, hidenSize: 50 };
    expect(() => createModel(bad, new Rng(0))).toThrow(
      /two-layer model spec has no option "hidenSize"; valid: .*hiddenSize/,
    );
    expect(() => createModel({ kind: "lenet", inputShape: [28, -1], outputSize: 10 }, new Rng(0))).toThrow(
      /inputShape must be a list of positive integers, got \[28,-1\]/,
    );
    const layers = [{ type: "dense", outputSize: 10 }];
    expect(() =>
      createModel({ kind: "sequential", inputShape: [4], outputSize: 10, layers }, new Rng(0)),
    ).toThrow(/unknown layer type "dense"; valid: affine, convolution/);
  });

  it("checks that a sequential spec ends in outputSize scores", () => {
    const spec: ModelSpec = {
      kind: "sequential",
      inputShape: [4],
      outputSize: 10,
      layers: [{ type: "affine", outputSize: 3 }],
    };
    expect(() => createModel(spec, new Rng(0))).toThrow(
      /end in samples of shape \(3\), not the 10 class scores/,
    );
  });
});

describe("Sequential", () => {
  it("refuses input holding NaN or ±Infinity in predict and accuracy, naming sample and element", () => {
    const net = new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 2 }, new Rng(1));
    const x = NDArray.zeros([3, 4]);
    x.data[9] = Infinity;
    expect(() => net.predict(x)).toThrow(NonFiniteError);
    expect(() => net.predict(x)).toThrow(
      /predict: the input holds Infinity \(sample 2 of 3, element 1; 1 non-finite values in all, shape \(3, 4\)\)/,
    );
    expect(() => net.accuracy(x, new Int32Array(3))).toThrow(/holds Infinity/);
    x.data[9] = 0.5;
    expect(net.predict(x).shape).toEqual([3, 2]);
  });

  it("names params the book's way and has no spec when built from layer objects", () => {
    const affine = () => new Affine(NDArray.zeros([3, 3]), NDArray.zeros([3]));
    const model = new Sequential([affine(), new Relu(), affine()]);
    expect(model.params.map((p) => p.name)).toEqual(["W1", "b1", "W2", "b2"]);
    expect(() => model.spec).toThrow(/built from layer objects/);
    // The renamed params read and write the layers' own.
    const w = NDArray.full([3, 3], 2);
    model.params[0].value = w;
    expect((model.layers[0] as Affine).W.value).toBe(w);
    expect(model.predict(NDArray.zeros([4, 3])).shape).toEqual([4, 3]);
  });

  it("adds ½λΣW² to the loss (weights only, not biases)", () => {
    const make = (weightDecayLambda: number) =>
      new MultiLayerNet(
        { inputSize: 4, hiddenSizeList: [3], outputSize: 2, weightDecayLambda },
        new Rng(3),
        "float64",
      );
    const x = NDArray.from([[1, 2, 3, 4]], undefined, "float64");
    const t = Int32Array.from([1]);
    const plain = make(0);
    const decayed = make(0.5);
    let sumSq = 0;
    for (const p of decayed.params.filter((p) => p.name.startsWith("W"))) {
      for (const v of p.value.data) sumSq += v * v;
    }
    expect(decayed.loss(x, t)).toBeCloseTo(plain.loss(x, t) + 0.25 * sumSq, 12);
  });

  it("computes accuracy in batches, the same for any batch size", () => {
    const rng = new Rng(4);
    const model = new TwoLayerNet(
      { inputSize: 5, hiddenSize: 4, outputSize: 3, weightInitStd: 1 },
      rng,
      "float64",
    );
    const x = NDArray.zeros([7, 5], "float64");
    rng.fillNormal(x.data);
    const scores = model.predict(x);
    // Labels = the predicted class for the first 4 samples, another class for the rest.
    const t = Int32Array.from({ length: 7 }, (_, i) => {
      const row = Array.from(scores.data.subarray(i * 3, i * 3 + 3));
      const best = row.indexOf(Math.max(...row));
      return i < 4 ? best : (best + 1) % 3;
    });
    for (const batchSize of [1, 3, 7, 100]) expect(model.accuracy(x, t, batchSize)).toBeCloseTo(4 / 7, 12);
    expect(() => model.accuracy(x, t.subarray(0, 3))).toThrow(/7 samples but 3 labels/);
  });
});
