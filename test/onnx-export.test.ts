// ONNX export, judged by ONNX Runtime: every shipped model on 100 test images of its dataset, and
// every architecture zerodl builds (random weights and inputs, so padding, dropout scaling, batch
// norm statistics and LRN all matter), must give the same classes and logits within 1e-4.
import { beforeAll, describe, expect, it } from "vitest";
import {
  AlexNet,
  createModel,
  DeepConvNet,
  LeNet,
  MultiLayerNet,
  MultiLayerNetExtend,
  NDArray,
  Rng,
  Sequential,
  SimpleConvNet,
  TwoLayerNet,
  BatchNormalization,
  Relu,
  loadMnist,
  useFastBackend,
  type DatasetName,
  type Layer,
  type Model,
} from "../src/index.js";
import { loadModel } from "../src/io/model-file.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { decodeModelProto, OnnxError } from "../src/io/onnx/proto.js";
import type { MergeLayer } from "../src/layers/layer.js";
import { compareScores, runOnnx } from "./onnx-runtime.js";
import { modelsDir, shippedModels } from "./shipped-models.js";

const TOLERANCE = 1e-4;
const models = await shippedModels();
const shipped = models.filter((m) => m.classifier).map((m) => m.file);

async function agree(model: Model & { layers: readonly Layer[] }, x: NDArray, classes?: string[]) {
  const bytes = exportOnnx(model, { classes });
  const ours = model.predict(x, "eval");
  const theirs = await runOnnx(bytes, x);
  expect(theirs.dims).toEqual(ours.shape);
  return { bytes, ...compareScores(ours.data, theirs.data, ours.shape[1]) };
}

describe("every shipped model exported to ONNX runs in ONNX Runtime with the same results", () => {
  const testImages = new Map<DatasetName, NDArray>();
  beforeAll(async () => {
    await useFastBackend(); // as zerodl runs them (float32 WASM kernels); ONNX Runtime must agree
    for (const dataset of ["mnist", "fashion-mnist"] as const) {
      const { test } = await loadMnist({ dataset, normalize: true, flatten: false });
      testImages.set(dataset, test.x.sliceRows(0, 100));
    }
  });

  it("ships models to check; the others have their own ONNX test", () => {
    expect(shipped.length).toBeGreaterThanOrEqual(4);
    // The captioner: test/onnx-captioner.test.ts; the DQN agents' Q-networks: test/onnx-qnetwork.test.ts;
    // the DCGAN generators: test/onnx-generator.test.ts. A new kind of shipped model needs its own test.
    expect(
      models
        .filter((m) => !m.classifier)
        .map((m) => m.kind)
        .sort(),
    ).toEqual(["captioner", "generator", "generator", "q-network", "q-network"]);
  });

  for (const file of shipped) {
    it(`${file}: 100 test images, same classes, logits within ${TOLERANCE}`, async () => {
      const { model, info } = await loadModel(modelsDir + file);
      const dataset = (info.training?.data as DatasetName | undefined) ?? "mnist";
      const images = testImages.get(dataset)!;
      const x = images.reshape(100, ...model.spec.inputShape);
      const classNames = info.training?.classNames as string[] | undefined;
      const { bytes, maxDiff, differentClasses } = await agree(model as Sequential, x, classNames);
      expect(differentClasses).toEqual([]);
      expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);
      // The metadata a runtime user reads: name, classes, input shape.
      const meta = Object.fromEntries(
        decodeModelProto(bytes, file).metadataProps.map((p) => [p.key, p.value]),
      );
      expect(meta.name).toBe(model.spec.kind);
      expect(JSON.parse(meta.classes)).toEqual(classNames ?? Array.from({ length: 10 }, (_, i) => String(i)));
      expect(JSON.parse(meta.input_shape)).toEqual(model.spec.inputShape);
    });
  }
});

/**
 * Running statistics an export must carry: random ones (some variances near eps, so a wrong eps
 * shows) where there are one or two batch norms; in deep stacks (a ResNet's) the data's, from
 * train-mode passes over x, since random ones there blow the logits up to ~1e30.
 */
function setBatchNorm(model: Model & { layers: readonly (Layer | MergeLayer)[] }, rng: Rng, x: NDArray) {
  const layers = model.layers.filter((l) => l instanceof BatchNormalization);
  if (layers.length > 2) {
    for (let k = 0; k < 5; k++) model.predict(x, "train");
    return;
  }
  for (const layer of layers) {
    for (let j = 0; j < layer.runningMean.size; j++) {
      layer.runningMean.data[j] = rng.normal();
      layer.runningVar.data[j] = j % 2 === 0 ? 1e-2 * (1 + rng.uniform()) : 0.1 + rng.uniform();
      layer.gamma.value.data[j] = 0.5 + rng.uniform();
      layer.beta.value.data[j] = rng.normal();
    }
  }
}

function randomInput(rng: Rng, n: number, shape: readonly number[]): NDArray {
  const x = NDArray.zeros([n, ...shape]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  return x;
}

describe("every architecture exports to ONNX with the same logits", () => {
  const rng = () => new Rng(7);
  const cases: [string, () => Model & { layers: readonly Layer[] }][] = [
    ["two-layer (relu)", () => new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, rng())],
    [
      "two-layer (sigmoid), weights of std 1",
      () =>
        new TwoLayerNet(
          { inputSize: 784, hiddenSize: 30, outputSize: 10, activation: "sigmoid", weightInitStd: 1 },
          rng(),
        ),
    ],
    [
      "multi-layer (tanh)",
      () =>
        new MultiLayerNet(
          { inputSize: 784, hiddenSizeList: [40, 30], outputSize: 10, activation: "tanh" },
          rng(),
        ),
    ],
    [
      "multi-layer-extend (batch norm on (N, D), the book's dropout)",
      () =>
        new MultiLayerNetExtend(
          {
            inputSize: 784,
            hiddenSizeList: [40, 30],
            outputSize: 10,
            useBatchnorm: true,
            useDropout: true,
            dropoutRatio: 0.3,
          },
          rng(),
        ),
    ],
    ["simple-conv", () => new SimpleConvNet({}, rng())],
    ["deep-conv (the book's dropout)", () => new DeepConvNet({}, rng())],
    ["lenet (average pooling, sigmoid)", () => new LeNet({}, rng())],
    ["alexnet (LRN, 3×3 stride-2 pooling)", () => new AlexNet({}, rng())],
    [
      "resnet, small (Add, batch norm, a projection shortcut, GlobalAveragePooling)",
      () =>
        createModel(
          { kind: "resnet", inputShape: [1, 28, 28], outputSize: 10, widths: [4, 8], blocks: [1, 1] },
          rng(),
        ) as Sequential,
    ],
    [
      "googlenet (Concat of four branches)",
      () => createModel({ kind: "googlenet", inputShape: [1, 28, 28], outputSize: 10 }, rng()) as Sequential,
    ],
    ["vgg", () => createModel({ kind: "vgg", inputShape: [1, 28, 28], outputSize: 10 }, rng()) as Sequential],
    [
      "sequential: padded max and average pooling, batch norm per channel, inverted dropout, tanh",
      () =>
        Sequential.fromLayerSpecs(
          {
            kind: "sequential",
            inputShape: [2, 9, 9],
            outputSize: 5,
            layers: [
              { type: "convolution", filters: 4, fh: 3, fw: 3, stride: 2, pad: 1 },
              { type: "batchnorm", eps: 1e-3 },
              { type: "tanh" },
              { type: "pooling", ph: 3, pw: 3, stride: 1, pad: 1, kind: "max" },
              { type: "pooling", ph: 2, pw: 2, stride: 1, pad: 1, kind: "avg" },
              // Padding over half the window (more than PyTorch's pooling takes, fine in ONNX).
              { type: "pooling", ph: 3, pw: 3, stride: 1, pad: 2, kind: "max" },
              { type: "dropout", ratio: 0.25, inverted: true },
              { type: "flatten" },
              { type: "affine", outputSize: 5 },
            ],
          },
          rng(),
        ),
    ],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const model = make();
      const r = new Rng(3);
      const x = randomInput(r, 8, model.spec.inputShape);
      setBatchNorm(model, r, x);
      const { maxDiff, differentClasses } = await agree(model, x);
      expect(differentClasses).toEqual([]);
      expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it("pooling with windows of padding only: an error saying why", () => {
    const model = Sequential.fromLayerSpecs(
      {
        kind: "sequential",
        inputShape: [1, 4, 4],
        outputSize: 2,
        layers: [
          { type: "pooling", ph: 2, pw: 2, stride: 2, pad: 2, kind: "max" },
          { type: "affine", outputSize: 2 },
        ],
      },
      new Rng(1),
    );
    expect(() => exportOnnx(model)).toThrow(
      /max pooling 2×2 with pad 2: ONNX needs padding smaller than the window/,
    );
  });

  it("a model with a layer ONNX has no form for: an error naming the layer", () => {
    class Square implements Layer {
      readonly params = [];
      forward(x: NDArray) {
        return x;
      }
      backward(d: NDArray) {
        return d;
      }
    }
    const model = new Sequential([new Relu(), new Square()], undefined, {
      spec: { kind: "sequential", inputShape: [3], outputSize: 3 },
    });
    expect(() => exportOnnx(model)).toThrow(OnnxError);
    expect(() => exportOnnx(model)).toThrow(/Square/);
  });
});
