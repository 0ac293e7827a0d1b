import { describe, expect, it } from "vitest";
import { Dropout } from "../src/layers/dropout.js";
import type { Labels } from "../src/ndarray.js";
import { NDArray } from "../src/ndarray.js";
import { AlexNet } from "../src/models/alexnet.js";
import { GoogLeNet } from "../src/models/googlenet.js";
import type { Graph } from "../src/models/graph.js";
import { ResNet } from "../src/models/resnet.js";
import { VGG } from "../src/models/vgg.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import { LeNet } from "../src/models/lenet.js";
import { MultiLayerNetExtend } from "../src/models/multi-layer-net-extend.js";
import type { Sequential } from "../src/models/sequential.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { TwoLayerNet } from "../src/models/two-layer-net.js";
import { Rng } from "../src/rng.js";
import { assertAllClose } from "../src/testing/gradcheck.js";
import { checkGradients } from "../src/testing/layer-gradcheck.js";

// Whole-network backprop against central differences of the loss, in float64 on small inputs.
// The loss is the scalar itself (mean cross-entropy + weight decay), so no upstream is needed.

function randn(shape: number[], rng: Rng): NDArray {
  const a = NDArray.zeros(shape, "float64");
  rng.fillNormal(a.data);
  return a;
}

function labels(n: number, classes: number, rng: Rng): Labels {
  return Int32Array.from({ length: n }, () => rng.int(classes));
}

/** Makes every Dropout layer keep a fixed random half of its units, so the loss is deterministic. */
function fixDropoutMasks(model: Sequential, x: NDArray, rng: Rng): number {
  // One eval pass tells each dropout layer's input shape.
  let fixed = 0;
  let y = x;
  for (const layer of model.layers) {
    if (layer instanceof Dropout) {
      const mask = NDArray.zeros(y.shape, "float64");
      for (let i = 0; i < mask.size; i++) mask.data[i] = rng.uniform() < 0.5 ? 0 : 1;
      layer.fixMask(mask);
      fixed++;
    }
    y = layer.forward(y, "eval");
  }
  return fixed;
}

/** Backprop gradients of every param, checked against the numerical gradient of model.loss. */
function checkModel(model: Sequential, x: NDArray, t: Labels): void {
  model.loss(x, t);
  model.backward();
  const targets = model.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() }));
  checkGradients(() => model.loss(x, t), targets);
}

describe("whole-network gradient checks (float64)", () => {
  for (const activation of ["relu", "sigmoid"] as const) {
    it(`TwoLayerNet (${activation}): numericalGradient agrees with gradient`, () => {
      const rng = new Rng(10);
      const net = new TwoLayerNet(
        // Weights large enough for gradients well above atol, small enough that no probability
        // nears the book's 1e-7 in −log(p + 1e-7), which bends the loss away from softmax's.
        { inputSize: 6, hiddenSize: 5, outputSize: 3, weightInitStd: 0.5, activation },
        rng,
        "float64",
      );
      const x = randn([4, 6], rng);
      const t = labels(4, 3, rng);
      const numeric = net.numericalGradient(x, t);
      const backprop = net.gradient(x, t);
      expect(Object.keys(backprop)).toEqual(["W1", "b1", "W2", "b2"]);
      for (const name of Object.keys(backprop)) {
        assertAllClose(backprop[name].data, numeric[name].data, 1e-5, 1e-4, name);
      }
    });
  }

  it("MultiLayerNetExtend with batch norm, dropout (fixed masks) and weight decay", () => {
    const rng = new Rng(11);
    const net = new MultiLayerNetExtend(
      {
        inputSize: 5,
        hiddenSizeList: [6, 4],
        outputSize: 3,
        useBatchnorm: true,
        useDropout: true,
        dropoutRatio: 0.5,
        weightDecayLambda: 0.1,
        weightInitStd: 0.5,
      },
      rng,
      "float64",
    );
    const x = randn([5, 5], rng);
    expect(fixDropoutMasks(net, x, rng)).toBe(2);
    expect(net.params.map((p) => p.name)).toEqual([
      "W1",
      "b1",
      "gamma1",
      "beta1",
      "W2",
      "b2",
      "gamma2",
      "beta2",
      "W3",
      "b3",
    ]);
    checkModel(net, x, labels(5, 3, rng));
  });

  it("SimpleConvNet on 2×8×8 images (3 filters, pad 1)", () => {
    const rng = new Rng(12);
    const net = new SimpleConvNet(
      {
        inputShape: [2, 8, 8],
        filterNum: 3,
        filterSize: 3,
        pad: 1,
        hiddenSize: 6,
        outputSize: 3,
        weightInitStd: 0.3,
      },
      rng,
      "float64",
    );
    checkModel(net, randn([2, 2, 8, 8], rng), labels(2, 3, rng));
  });

  it("DeepConvNet on 1×12×12 images (few filters), dropout masks fixed", () => {
    const rng = new Rng(13);
    const net = new DeepConvNet(
      { inputShape: [1, 12, 12], filters: [2, 2, 3, 3, 4, 4], hiddenSize: 5, outputSize: 3 },
      rng,
      "float64",
    );
    const x = randn([2, 1, 12, 12], rng);
    expect(fixDropoutMasks(net, x, rng)).toBe(2);
    checkModel(net, x, labels(2, 3, rng));
  });

  it("LeNet on 1×12×12 images", () => {
    const rng = new Rng(14);
    const net = new LeNet(
      { inputShape: [1, 12, 12], filters: [2, 3], hiddenSizes: [4, 3], outputSize: 3 },
      rng,
      "float64",
    );
    checkModel(net, randn([2, 1, 12, 12], rng), labels(2, 3, rng));
  });

  it("AlexNet on 1×12×12 images, dropout masks fixed", () => {
    const rng = new Rng(15);
    const net = new AlexNet(
      { inputShape: [1, 12, 12], filters: [2, 3, 3, 3, 2], hiddenSizes: [4, 4], outputSize: 3 },
      rng,
      "float64",
    );
    const x = randn([2, 1, 12, 12], rng);
    expect(fixDropoutMasks(net, x, rng)).toBe(2);
    checkModel(net, x, labels(2, 3, rng));
  });
});

describe("chapter 8 graphs: whole-network gradient checks (float64)", () => {
  /** Backprop against central differences of the loss, for every param of a graph. */
  function checkGraph(model: Graph, x: NDArray, t: Labels): void {
    model.loss(x, t);
    model.backward();
    const targets = model.params.map((p) => ({
      name: p.name,
      value: p.value,
      grad: p.grad && p.grad.clone(),
    }));
    checkGradients(() => model.loss(x, t), targets);
  }

  it("ResNet (basic blocks, batch norm, identity and projection shortcuts) on 1×8×8 images", () => {
    const rng = new Rng(16);
    const net = new ResNet(
      { inputShape: [1, 8, 8], widths: [3, 4], blocks: [2, 1], outputSize: 3 },
      rng,
      "float64",
    );
    const names = net.params.map((p) => p.name);
    expect(names).toContain("stage2.block1.proj.W"); // the projection where size and channels change
    expect(names.some((n) => n.startsWith("stage1.block2.proj"))).toBe(false); // identity elsewhere
    checkGraph(net, randn([3, 1, 8, 8], rng), labels(3, 3, rng));
  });

  it("GoogLeNet (Inception blocks with 1×1 reductions) on 1×8×8 images", () => {
    const rng = new Rng(17);
    const net = new GoogLeNet(
      {
        inputShape: [1, 8, 8],
        stem: 3,
        stages: [[[2, 2, 3, 1, 2, 2]], [[2, 1, 2, 1, 1, 1]]],
        outputSize: 3,
        dropoutRatio: 0,
      },
      rng,
      "float64",
    );
    checkGraph(net, randn([2, 1, 8, 8], rng), labels(2, 3, rng));
  });

  it("VGG on 1×8×8 images (fused convolution → ReLU → pooling inside a graph)", () => {
    const rng = new Rng(18);
    const net = new VGG(
      { inputShape: [1, 8, 8], widths: [2, 3], hiddenSize: 5, outputSize: 3, dropoutRatio: 0 },
      rng,
      "float64",
    );
    checkGraph(net, randn([2, 1, 8, 8], rng), labels(2, 3, rng));
  });
});
