/**
 * Empty batches (N = 0): every layer and every book network takes them and gives empty outputs
 * (and zero parameter gradients) on every backend; what has no value for no samples (a mean loss,
 * an accuracy) is an error that says the batch is empty. Before, Affine refused (0, 784) with "0
 * features per row", the WASM kernels trapped ("divide by zero"), batch normalization in train
 * mode turned its running statistics into NaN, and accuracy() returned 0.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Kernels } from "../src/backend/kernels.js";
import { setKernels } from "../src/backend/index.js";
import { reference } from "../src/backend/reference.js";
import { initWasm, setParallelMinWork } from "../src/backend/wasm.js";
import { ShapeError } from "../src/errors.js";
import { Affine } from "../src/layers/affine.js";
import { BatchNormalization } from "../src/layers/batch-normalization.js";
import { Convolution } from "../src/layers/convolution.js";
import { Dropout } from "../src/layers/dropout.js";
import { Embedding } from "../src/layers/embedding.js";
import { Flatten } from "../src/layers/flatten.js";
import { IdentityWithLoss } from "../src/layers/identity-with-loss.js";
import type { Layer, Mode } from "../src/layers/layer.js";
import { LRN } from "../src/layers/lrn.js";
import { Pooling } from "../src/layers/pooling.js";
import { Relu } from "../src/layers/relu.js";
import { Sigmoid } from "../src/layers/sigmoid.js";
import { SoftmaxWithLoss } from "../src/layers/softmax-with-loss.js";
import { Tanh } from "../src/layers/tanh.js";
import { TimeAffine } from "../src/layers/time-affine.js";
import { TimeLSTM } from "../src/layers/time-lstm.js";
import { TimeRNN } from "../src/layers/time-rnn.js";
import { createModel, modelKinds, type ModelSpec } from "../src/models/model.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";

const rng = new Rng(3);
const w = (...shape: number[]) => {
  const a = NDArray.zeros(shape);
  rng.fillNormal(a.data, 0.1);
  return a;
};

/** A layer, and one sample's shape (the batch axis is put in front). */
const layers: [string, () => Layer, number[]][] = [
  ["Relu", () => new Relu(), [3, 4]],
  ["Sigmoid", () => new Sigmoid(), [5]],
  ["Tanh", () => new Tanh(), [5]],
  ["Flatten", () => new Flatten(), [2, 3, 3]],
  ["Affine (rows)", () => new Affine(w(6, 4), w(4)), [6]],
  ["Affine (images)", () => new Affine(w(18, 4), w(4)), [2, 3, 3]],
  ["Dropout", () => new Dropout(new Rng(1), { ratio: 0.5 }), [7]],
  ["BatchNormalization (rows)", () => new BatchNormalization(w(5), w(5)), [5]],
  ["BatchNormalization (channels)", () => new BatchNormalization(w(2), w(2)), [2, 3, 3]],
  ["Convolution", () => new Convolution(w(4, 2, 3, 3), w(4), { pad: 1 }), [2, 5, 5]],
  ["Convolution (stride 2)", () => new Convolution(w(3, 1, 2, 2), w(3), { stride: 2 }), [1, 6, 6]],
  ["Pooling (max)", () => new Pooling({ ph: 2, pw: 2, stride: 2 }), [2, 4, 4]],
  ["Pooling (average)", () => new Pooling({ ph: 2, pw: 2, stride: 2, kind: "avg" }), [2, 4, 4]],
  ["LRN", () => new LRN(), [6, 2, 2]],
  ["TimeAffine", () => new TimeAffine(w(3, 4), w(4)), [5, 3]],
  ["TimeRNN", () => new TimeRNN(w(3, 4), w(4, 4), w(4)), [5, 3]],
  ["TimeLSTM", () => new TimeLSTM(w(3, 16), w(4, 16), w(16)), [5, 3]],
];

const backends: [string, () => Promise<Kernels>][] = [
  ["reference", async () => reference],
  [
    "wasm × 2 threads",
    async () => {
      const k = await initWasm({ threads: 2 });
      setParallelMinWork(0); // even the smallest work is shared out, so the threads see empty jobs
      return k;
    },
  ],
];

describe.each(backends)("empty batches on %s", (_name, setup) => {
  beforeAll(async () => {
    setKernels(await setup());
    return () => void setKernels(reference);
  });

  describe.each(layers)("%s", (_layer, make, sample) => {
    it.each(["train", "eval"] as Mode[])("forward and backward give empty arrays (%s)", (mode) => {
      const layer = make();
      const before = layer instanceof BatchNormalization ? layer.runningMean.clone() : null;
      // One full sample first: the output's per-sample shape to expect.
      const one = layer.forward(NDArray.zeros([1, ...sample]), "eval");
      const y = layer.forward(NDArray.zeros([0, ...sample]), mode);
      expect(y.shape).toEqual([0, ...one.shape.slice(1)]);
      const dx = layer.backward(NDArray.zeros(y.shape));
      expect(dx.shape).toEqual([0, ...sample]);
      for (const p of layer.params) {
        expect(p.grad?.shape).toEqual(p.value.shape);
        expect(Array.from(p.grad!.data).every((g) => g === 0)).toBe(true);
      }
      if (layer instanceof BatchNormalization) {
        // No samples, no statistics: the running ones stay as they were (not NaN).
        expect(layer.runningMean.data).toEqual(before!.data);
      }
    });
  });

  it("Embedding looks up no ids", () => {
    const e = new Embedding(w(10, 3));
    const y = e.forward(NDArray.zeros([0, 4]));
    expect(y.shape).toEqual([0, 4, 3]);
    e.backward(NDArray.zeros([0, 4, 3]));
    expect(Array.from(e.params[0].grad!.data).every((g) => g === 0)).toBe(true);
  });

  const emptyBatchGraph = {
    inputs: [{ name: "x", shape: [1, 28, 28] }],
    nodes: [
      { name: "c", type: "convolution", inputs: ["x"], filters: 4, fh: 3, fw: 3, pad: 1 },
      { name: "bn", type: "batchnorm", inputs: ["c"] },
      { name: "r", type: "relu", inputs: ["bn"] },
      { name: "skip", type: "add", inputs: ["r", "c"] },
      { name: "cat", type: "concat", inputs: ["skip", "r"] },
      { name: "gap", type: "global-average-pooling", inputs: ["cat"] },
      { name: "fc", type: "affine", inputs: ["gap"], outputSize: 10 },
    ],
  };

  it.each(modelKinds.filter((k) => k !== "sequential"))(
    "%s predicts (0, classes), and its loss and accuracy say the batch is empty",
    (kind) => {
      const flat = kind === "two-layer" || kind.startsWith("multi-layer");
      const spec = {
        kind,
        inputShape: flat ? [784] : [1, 28, 28],
        outputSize: 10,
        ...(kind === "two-layer" ? { hiddenSize: 8 } : {}),
        ...(kind === "multi-layer-extend"
          ? { hiddenSizeList: [8], useBatchnorm: true, useDropout: true }
          : {}),
        ...(kind === "multi-layer" ? { hiddenSizeList: [8] } : {}),
        // A graph with fan-out, a skip (Add), a Concat and global average pooling.
        ...(kind === "graph" ? { graph: emptyBatchGraph } : {}),
      } as ModelSpec;
      const model = createModel(spec, new Rng(1));
      const x = NDArray.zeros([0, ...spec.inputShape]);
      for (const mode of ["eval", "train"] as const) expect(model.predict(x, mode).shape).toEqual([0, 10]);
      expect(() => model.loss(x, new Int32Array(0))).toThrow(
        new ShapeError(
          "SoftmaxWithLoss: the batch is empty (N = 0): the mean loss of no samples is undefined",
        ),
      );
      expect(() => model.accuracy(x, new Int32Array(0))).toThrow(
        new ShapeError("accuracy: the batch is empty (N = 0): the accuracy of no samples is undefined"),
      );
    },
  );
});

describe("losses of an empty batch", () => {
  it("SoftmaxWithLoss and IdentityWithLoss name the empty batch", () => {
    expect(() => new SoftmaxWithLoss().forward(NDArray.zeros([0, 10]), new Int32Array(0))).toThrow(
      /^SoftmaxWithLoss: the batch is empty \(N = 0\)/,
    );
    expect(() => new IdentityWithLoss().forward(NDArray.zeros([0, 2]), NDArray.zeros([0, 2]))).toThrow(
      /^IdentityWithLoss: the batch is empty \(N = 0\)/,
    );
  });
});
