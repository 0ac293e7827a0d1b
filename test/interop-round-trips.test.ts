// Export → import round trips, ONNX and PyTorch: every architecture comes back as the same kind of
// model with bit-identical weights and batch norm statistics, whether it was built from its spec
// or read from its model file (as `zerodl export` reads it), with the same outputs.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { loadCaptioner } from "../src/cli/caption.js";
import { loadGenerator } from "../src/io/generator-file.js";
import { loadModel, saveModel } from "../src/io/model-file.js";
import { exportCaptionerOnnx, importCaptionerOnnx } from "../src/io/onnx/captioner.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { importGeneratorOnnx, importOnnx } from "../src/io/onnx/import.js";
import { exportPytorch, importPytorchWeights, PYTORCH_WEIGHTS } from "../src/io/pytorch.js";
import { Captioner, mnistCaptionerSpec } from "../src/models/captioner.js";
import { dcganSpecs } from "../src/models/dcgan.js";
import { LayerChain, type ChainSpec } from "../src/models/layer-chain.js";
import { NDArray } from "../src/ndarray.js";

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

/**
 * One architecture's ONNX round trip, as `zerodl export` and `zerodl import` meet it: a network
 * built from its spec, or read back from its model file (a graph then comes from the file's stored
 * graph, with every tensor's file name written out, not from its recipe).
 */
interface RoundTripCase<M> {
  name: string;
  build(rng: Rng): M;
  load(path: string): Promise<M>;
  exportOnnx(model: M): Uint8Array;
  /** The model a file reads back to, with the importer's notes (a fallback is one). */
  importOnnx(bytes: Uint8Array): { model: M; notes: string[] };
  spec(model: M): unknown;
  /** The network's outputs for a fixed input: scores, images, next-word scores. */
  outputs(model: M): Float32Array;
}

/** Random batch norm statistics (they start at 0 and 1, which would hide a mix-up). */
function randomizeStatistics(layers: readonly (Layer | MergeLayer)[], rng: Rng): void {
  for (const layer of layers) {
    if (!(layer instanceof BatchNormalization)) continue;
    layer.runningMean.data.forEach((_, j, a) => (a[j] = rng.normal()));
    layer.runningVar.data.forEach((_, j, a) => (a[j] = 0.5 + rng.uniform()));
  }
}

function fixedInput(shape: readonly number[]): NDArray {
  const x = NDArray.zeros(shape, "float32");
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(0.7 * i);
  return x;
}

function classifierCase(spec: ModelSpec): RoundTripCase<Chain> {
  return {
    name: `${spec.kind}${spec.skips === false ? " (plain, no skips)" : ""}`,
    build: (rng) => {
      const model = createModel(spec, rng) as Chain;
      randomizeStatistics(model.layers, rng);
      return model;
    },
    load: async (path) => (await loadModel(path)).model as Chain,
    exportOnnx: (model) => exportOnnx(model),
    importOnnx: (bytes) => {
      const { model, info } = importOnnx(bytes, "round-trip.onnx");
      return { model, notes: info.notes };
    },
    spec: (model) => model.spec,
    outputs: (model) => model.predict(fixedInput([2, ...spec.inputShape]), "eval").data as Float32Array,
  };
}

const generatorCase = (name: string, generatorSpec: ChainSpec): RoundTripCase<LayerChain> => ({
  name,
  build: (rng) => {
    const generator = LayerChain.fromSpec(generatorSpec, rng);
    randomizeStatistics(generator.layers, rng);
    return generator;
  },
  load: async (path) => (await loadGenerator(path)).model,
  exportOnnx: (generator) => exportOnnx(generator),
  importOnnx: (bytes) => {
    const { generator, info } = importGeneratorOnnx(bytes, "round-trip.onnx");
    return { model: generator, notes: info.notes };
  },
  spec: (generator) => generator.spec,
  outputs: (generator) =>
    generator.forward(fixedInput([2, ...generatorSpec.inputShape]), "eval").data as Float32Array,
});
const generatorCases = [
  generatorCase("DCGAN generator", dcganSpecs({ latentSize: 6, generatorChannels: [6, 4] }).generator),
  generatorCase(
    "class-conditional generator",
    dcganSpecs({ latentSize: 4, generatorChannels: [6, 4], categories: 3, classes: ["a", "b", "c"] })
      .generator,
  ),
];

const captionerSpec = mnistCaptionerSpec({
  maxDigits: 2,
  filters: [4, 3],
  features: 12,
  wordvecSize: 5,
  hiddenSize: 7,
  peeky: true,
});
const captionerCase: RoundTripCase<Captioner> = {
  name: "captioner",
  build: (rng) => new Captioner(captionerSpec, rng),
  load: loadCaptioner,
  exportOnnx: (model) => exportCaptionerOnnx(model),
  // The captioner's import has no fallback: anything but its own export is refused.
  importOnnx: (bytes) => ({ model: importCaptionerOnnx(bytes, "round-trip.onnx"), notes: [] }),
  spec: (model) => model.spec,
  outputs: (model) => {
    const words = NDArray.from([0, 3, 5, 0, 7, 1], [2, 3]);
    return model.scores(fixedInput([2, ...captionerSpec.inputShape]), words).data as Float32Array;
  },
};

const roundTripCases = [
  ...[
    ...graphs,
    { ...graphs[0], skips: false },
    specs.find((s) => s.kind === "deep-conv")!,
    specs.find((s) => s.kind === "multi-layer-extend")!,
  ].map(classifierCase),
  ...generatorCases,
  captionerCase,
] as RoundTripCase<unknown>[];

describe("ONNX export → import keeps the kind, the spec and the outputs, from a spec or from a model file", () => {
  const dir = mkdtempSync(join(tmpdir(), "zerodl-round-trip-"));
  for (const c of roundTripCases) {
    for (const origin of ["built from its spec", "read from its model file"]) {
      it(`${c.name}, ${origin}`, async () => {
        let model = c.build(new Rng(5));
        if (origin === "read from its model file") {
          const path = join(dir, `${c.name.replace(/\W+/g, "-")}.safetensors`);
          await saveModel(path, model as Parameters<typeof saveModel>[1]);
          model = await c.load(path);
        }
        const bytes = c.exportOnnx(model);
        const { model: back, notes } = c.importOnnx(bytes);
        // A note here is the importer giving up on the stored spec (a generic "graph" model).
        expect(notes).toEqual([]);
        expect(c.spec(back)).toEqual(c.spec(model));
        expect(c.outputs(back)).toEqual(c.outputs(model));
        // And the model read back exports to the same file: tensor names included.
        expect(c.exportOnnx(back)).toEqual(bytes);
      });
    }
  }
});
