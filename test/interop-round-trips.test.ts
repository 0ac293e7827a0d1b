// Export → import round trips, ONNX and PyTorch: every architecture comes back as the same kind of
// model with bit-identical weights and batch norm statistics.
import { describe, expect, it } from "vitest";
import {
  BatchNormalization,
  Rng,
  createModel,
  type Layer,
  type Model,
  type ModelSpec,
} from "../src/index.js";
import type { MergeLayer } from "../src/layers/layer.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { importOnnx } from "../src/io/onnx/import.js";
import { exportPytorch, importPytorchWeights, PYTORCH_WEIGHTS } from "../src/io/pytorch.js";

type Chain = Model & { readonly layers: readonly (Layer | MergeLayer)[] };

const specs: ModelSpec[] = [
  {
    kind: "two-layer",
    inputShape: [784],
    outputSize: 10,
    hiddenSize: 20,
    weightInitStd: 0.01,
    activation: "sigmoid",
  },
  {
    kind: "multi-layer-extend",
    inputShape: [784],
    outputSize: 10,
    hiddenSizeList: [30, 20],
    activation: "relu",
    weightInitStd: "relu",
    weightDecayLambda: 0.1,
    useBatchnorm: true,
    useDropout: true,
    dropoutRatio: 0.3,
  },
  {
    kind: "simple-conv",
    inputShape: [1, 28, 28],
    outputSize: 10,
    filterNum: 8,
    filterSize: 5,
    pad: 0,
    stride: 1,
    hiddenSize: 30,
    weightInitStd: 0.01,
    weightDecayLambda: 0,
  },
  { kind: "deep-conv", inputShape: [1, 28, 28], outputSize: 10 },
  {
    kind: "lenet",
    inputShape: [1, 28, 28],
    outputSize: 10,
    filters: [6, 16],
    hiddenSizes: [120, 84],
    weightInitStd: "sigmoid",
    weightDecayLambda: 0,
  },
  { kind: "alexnet", inputShape: [1, 28, 28], outputSize: 10 },
  {
    kind: "sequential",
    inputShape: [2, 9, 9],
    outputSize: 4,
    layers: [
      { type: "convolution", filters: 3, fh: 3, fw: 3, stride: 2, pad: 1 },
      { type: "batchnorm", eps: 1e-3, momentum: 0.8 },
      { type: "pooling", ph: 2, pw: 2, stride: 1, pad: 1, kind: "avg" },
      { type: "dropout", ratio: 0.3, inverted: true },
      { type: "lrn", n: 3, k: 1.5 },
      { type: "affine", outputSize: 4 },
    ],
  },
];

/** A model of `spec` with random weights and random batch norm statistics (they start at 0 and 0). */
function randomModel(spec: ModelSpec): Chain {
  const rng = new Rng(11);
  const model = createModel(spec, rng) as Chain;
  for (const layer of model.layers) {
    if (layer instanceof BatchNormalization) {
      layer.runningMean.data.forEach((_, j, a) => (a[j] = rng.normal()));
      layer.runningVar.data.forEach((_, j, a) => (a[j] = rng.uniform()));
    }
  }
  return model;
}

/** Every tensor a model file stores, by layer: params, then batch norm statistics. */
function tensors(model: Chain): Float32Array[] {
  return model.layers.flatMap((l) => [
    ...l.params.map((p) => p.value.data as Float32Array),
    ...(l instanceof BatchNormalization
      ? [l.runningMean.data as Float32Array, l.runningVar.data as Float32Array]
      : []),
  ]);
}

/** The graphs (book §8.2): ResNet's Add, GoogLeNet's Concat, global average pooling. */
const graphs: ModelSpec[] = [
  { kind: "resnet", inputShape: [1, 28, 28], outputSize: 10, widths: [4, 8], blocks: [1, 1] },
  { kind: "googlenet", inputShape: [1, 28, 28], outputSize: 10 },
  { kind: "vgg", inputShape: [1, 28, 28], outputSize: 10 },
];

const formats: [string, (model: Chain) => Chain, ModelSpec[]][] = [
  [
    "ONNX",
    (model) => {
      const { model: back, info } = importOnnx(exportOnnx(model), "round-trip.onnx");
      expect(info.notes).toEqual([]);
      return back;
    },
    [...specs, ...graphs],
  ],
  [
    "PyTorch",
    (model) =>
      importPytorchWeights(exportPytorch(model)[PYTORCH_WEIGHTS] as Uint8Array, "weights.safetensors")
        .model as Chain,
    [...specs, ...graphs],
  ],
];

for (const [format, roundTrip, kinds] of formats) {
  describe(`${format} export → import`, () => {
    for (const spec of kinds) {
      it(`${spec.kind}: the same kind of model, bit-identical weights and statistics`, () => {
        const original = randomModel(spec);
        const back = roundTrip(original);
        expect(back.spec).toEqual(original.spec);
        const [a, b] = [tensors(original), tensors(back)];
        expect(b.length).toBe(a.length);
        a.forEach((t, i) => expect(b[i]).toEqual(t));
      });
    }
  });
}
