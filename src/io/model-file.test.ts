import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NDArray, type DType } from "../ndarray.js";
import { param, type Param } from "../layers/layer.js";
import { Rng } from "../rng.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { fileURLToPath } from "node:url";
import { Graph, type GraphSpec } from "../models/graph.js";
import { SimpleConvNet } from "../models/simple-conv-net.js";
import { assertAllClose } from "../testing/gradcheck.js";
import {
  ModelFileError,
  encodeModel,
  loadModel,
  loadModelWith,
  readModelInfo,
  saveModel,
  type SavableModel,
} from "./model-file.js";
import { SafetensorsError, decodeSafetensors, encodeSafetensors } from "./safetensors.js";

/** A stand-in model: two affine layers' parameters, shaped by its spec. */
function fakeModel(spec: SavableModel["spec"], dtype: DType = "float32", seed = 1): SavableModel {
  const [i, h, o] = [spec.input as number, spec.hidden as number, spec.output as number];
  const rng = new Rng(seed);
  const make = (name: string, shape: number[]): Param => {
    const v = NDArray.zeros(shape, dtype);
    rng.fillNormal(v.data, 0.1);
    return param(name, v);
  };
  return { spec, params: [make("W1", [i, h]), make("b1", [h]), make("W2", [h, o]), make("b2", [o])] };
}
const build = (spec: SavableModel["spec"], dtype: DType) => fakeModel(spec, dtype, 99);
const spec = { kind: "two-layer", input: 6, hidden: 4, output: 3 };

const dir = mkdtempSync(join(tmpdir(), "zerodl-model-file-"));

describe("model files", () => {
  it("round-trips weights, spec and training record exactly", async () => {
    const model = fakeModel(spec);
    const path = join(dir, "m.safetensors");
    const record = {
      training: { lr: 0.1, epochs: 2 },
      history: { loss: [2.3, 1.1] },
      results: { testAcc: 0.9 },
    };
    await saveModel(path, model, record);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]); // no temp file left behind
    const { model: back, info } = await loadModelWith(path, build);
    expect(info.spec).toEqual(spec);
    expect(info.dtype).toBe("float32");
    expect(info.storage).toBe("F32");
    expect(info.parameterCount).toBe(6 * 4 + 4 + 4 * 3 + 3);
    expect(info.training).toEqual(record.training);
    expect(info.history).toEqual(record.history);
    expect(info.results).toEqual(record.results);
    back.params.forEach((p, k) => expect(p.value.data).toEqual(model.params[k].value.data));
    expect((await readModelInfo(path)).tensors.map((t) => t.name)).toEqual(["W1", "b1", "W2", "b2"]);
  });

  it("float64 models stay float64", async () => {
    const model = fakeModel(spec, "float64");
    const path = join(dir, "m64.safetensors");
    await saveModel(path, model);
    const { model: back, info } = await loadModelWith(path, build);
    expect(info.dtype).toBe("float64");
    expect(back.params[0].value.data).toBeInstanceOf(Float64Array);
    expect(back.params[0].value.data).toEqual(model.params[0].value.data);
  });

  it("--half stores float16: half the size, weights within float16 rounding", async () => {
    const model = fakeModel(spec);
    const full = join(dir, "full.safetensors");
    const half = join(dir, "half.safetensors");
    await saveModel(full, model);
    await saveModel(half, model, {}, { half: true });
    const dataBytes = 4 * (6 * 4 + 4 + 4 * 3 + 3);
    expect(readFileSync(full).length - readFileSync(half).length).toBeGreaterThanOrEqual(dataBytes / 2 - 16);
    const { model: back, info } = await loadModelWith(half, build);
    expect(info.storage).toBe("F16");
    // The metadata says so too (by itself, `dtype` float32 would read as float32 weights).
    const header = (bytes: Buffer) => {
      const n = Number(bytes.readBigUInt64LE(0));
      return JSON.parse(bytes.subarray(8, 8 + n).toString()).__metadata__;
    };
    expect(header(readFileSync(half))).toMatchObject({ dtype: "float32", storage: "float16" });
    expect(header(readFileSync(full))).toMatchObject({ dtype: "float32", storage: "float32" });
    back.params.forEach((p, k) => {
      const orig = model.params[k].value.data;
      // Relative error of float16 is at most 2^-11 for normal numbers.
      p.value.data.forEach((v, j) =>
        expect(Math.abs(v - orig[j])).toBeLessThanOrEqual(Math.abs(orig[j]) * 2 ** -11 + 2 ** -25),
      );
    });
  });

  it("refuses metadata whose storage contradicts the tensors", async () => {
    const model = fakeModel(spec);
    const tensors = model.params.map((p) => ({ name: p.name, data: p.value.data, shape: p.value.shape }));
    const path = join(dir, "lying.safetensors");
    const metadata = { zerodl: "1", spec: JSON.stringify(spec), dtype: "float32", storage: "float16" };
    writeFileSync(path, encodeSafetensors(tensors, metadata));
    await expect(readModelInfo(path)).rejects.toThrow(
      new ModelFileError(
        `${path}: metadata says the weights are stored as float16, but they are float32 (F32)`,
      ),
    );
    // A file from before the storage key is read by its tensors.
    const { storage: _, ...older } = metadata;
    writeFileSync(path, encodeSafetensors(tensors, older));
    expect((await readModelInfo(path)).storage).toBe("F32");
  });

  it("refuses weights that are NaN or infinite", async () => {
    const model = fakeModel(spec);
    model.params[2].value.data[5] = NaN;
    const path = join(dir, "nan.safetensors");
    await saveModel(path, model);
    await expect(loadModelWith(path, build)).rejects.toThrow(
      new SafetensorsError(`${path}: tensor "W2" has 1 non-finite value (the first, NaN, at index 5)`),
    );
  });

  it("saves batch norm running statistics with the params", async () => {
    const bn = new BatchNormalization(NDArray.from([1, 2]), NDArray.from([0, 0]));
    bn.runningMean = NDArray.from([0.5, -1]);
    bn.runningVar = NDArray.from([2, 3]);
    const model: SavableModel = { spec: { kind: "bn" }, params: bn.params, layers: [bn] };
    const path = join(dir, "bn.safetensors");
    await saveModel(path, model);
    const info = await readModelInfo(path);
    expect(info.tensors.map((t) => t.name)).toEqual(["gamma", "beta", "running_mean1", "running_var1"]);
    expect(info.parameterCount).toBe(4);
    const { model: back } = await loadModelWith(path, () => {
      const fresh = new BatchNormalization(NDArray.zeros([2]), NDArray.zeros([2]));
      return { spec: { kind: "bn" }, params: fresh.params, layers: [fresh] };
    });
    const layer = back.layers![0] as BatchNormalization;
    expect(Array.from(layer.runningMean.data)).toEqual([0.5, -1]);
    expect(Array.from(layer.runningVar.data)).toEqual([2, 3]);
    expect(Array.from(back.params[0].value.data)).toEqual([1, 2]);
  });

  it("names duplicated param names by position", async () => {
    const model: SavableModel = {
      spec: { kind: "sequential" },
      params: [param("W", NDArray.zeros([2])), param("W", NDArray.zeros([3]))],
    };
    const path = join(dir, "dup.safetensors");
    await saveModel(path, model);
    expect((await readModelInfo(path)).tensors.map((t) => t.name)).toEqual(["0.W", "1.W"]);
  });

  it("refuses a missing file, a foreign file, a corrupt file and a mismatched architecture", async () => {
    await expect(loadModelWith(join(dir, "nope.safetensors"), build)).rejects.toThrow(
      /model file .*nope\.safetensors not found/,
    );

    const foreign = join(dir, "foreign.safetensors");
    writeFileSync(
      foreign,
      encodeSafetensors([{ name: "bert.emb", data: new Float32Array(2), shape: [2] }], { format: "pt" }),
    );
    await expect(loadModelWith(foreign, build)).rejects.toThrow(ModelFileError);
    await expect(loadModelWith(foreign, build)).rejects.toThrow(
      /foreign\.safetensors: not a zerodl model file .*bert\.emb/,
    );

    const good = join(dir, "good.safetensors");
    await saveModel(good, fakeModel(spec));
    const bytes = readFileSync(good);
    const cut = join(dir, "cut.safetensors");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await expect(loadModelWith(cut, build)).rejects.toThrow(SafetensorsError);
    await expect(loadModelWith(cut, build)).rejects.toThrow(/cut\.safetensors: truncated/);

    // Same tensor names, but the builder makes a different architecture (hidden 5, not 4).
    const other = (s: SavableModel["spec"], d: DType) => fakeModel({ ...s, hidden: 5 }, d);
    await expect(loadModelWith(good, other)).rejects.toThrow(
      /good\.safetensors: tensor "W1" has shape \[6, 4\], the "two-layer" architecture expects \[6, 5\]/,
    );
    // A builder with other param names.
    const renamed = (s: SavableModel["spec"], d: DType): SavableModel => {
      const m = fakeModel(s, d);
      return { spec: m.spec, params: [...m.params.slice(0, 3), param("gamma", m.params[3].value)] };
    };
    await expect(loadModelWith(good, renamed)).rejects.toThrow(/missing: gamma; unexpected: b2/);
    // A builder that cannot build the spec.
    const refusing = (): SavableModel => {
      throw new Error("unknown model kind");
    };
    await expect(loadModelWith(good, refusing)).rejects.toThrow(
      /cannot build its "two-layer" model: unknown model kind/,
    );
  });
});

describe("model format 2: the architecture as data", () => {
  const graphSpec: GraphSpec = {
    inputs: [{ name: "x", shape: [1, 6, 6] }],
    nodes: [
      { name: "conv", type: "convolution", inputs: ["x"], filters: 3, fh: 3, fw: 3, pad: 1 },
      { name: "bn", type: "batchnorm", inputs: ["conv"], momentum: 0.8, eps: 1e-5 },
      { name: "relu", type: "relu", inputs: ["bn"] },
      { name: "skip", type: "add", inputs: ["relu", "conv"] },
      { name: "gap", type: "global-average-pooling", inputs: ["skip"] },
      { name: "drop", type: "dropout", inputs: ["gap"], ratio: 0.25, inverted: true },
      { name: "fc", type: "affine", inputs: ["drop"], outputSize: 4 },
    ],
  };

  it("stores the graph, and loadModel rebuilds the network from the file alone", async () => {
    const rng = new Rng(3);
    const model = Graph.build(graphSpec, rng);
    const x = NDArray.zeros([5, 1, 6, 6]);
    rng.fillNormal(x.data);
    model.loss(x, new Int32Array([0, 1, 2, 3, 0]), "train"); // moves batch norm's running statistics
    const path = join(dir, "graph.safetensors");
    await saveModel(path, model);
    const info = await readModelInfo(path);
    expect(info.format).toBe("2");
    expect(info.spec).toMatchObject({ kind: "graph", inputShape: [1, 6, 6], outputSize: 4 });
    expect(info.graph?.nodes.map((n) => n.type)).toEqual([
      "convolution",
      "batchnorm",
      "relu",
      "add",
      "global-average-pooling",
      "dropout",
      "affine",
    ]);
    expect(info.graph?.nodes[1]).toMatchObject({ momentum: 0.8, eps: 1e-5 });
    expect(info.tensors.map((t) => t.name)).toEqual([
      "conv.W",
      "conv.b",
      "bn.gamma",
      "bn.beta",
      "fc.W",
      "fc.b",
      "bn.running_mean",
      "bn.running_var",
    ]);
    const { model: back } = await loadModel(path);
    expect(back).toBeInstanceOf(Graph);
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(model.predict(x).data));
  });

  it("a named network keeps its recipe beside its graph", async () => {
    const model = new SimpleConvNet(
      { inputShape: [1, 8, 8], filterNum: 2, filterSize: 3, hiddenSize: 4 },
      new Rng(4),
    );
    const path = join(dir, "simple.safetensors");
    await saveModel(path, model);
    const info = await readModelInfo(path);
    expect(info.spec.kind).toBe("simple-conv");
    expect(info.graph?.nodes.map((n) => n.name)).toEqual([
      "convolution1",
      "relu1",
      "pooling1",
      "affine1",
      "relu2",
      "affine2",
    ]);
    const { model: back } = await loadModel(path);
    expect(back.spec).toEqual(model.spec);
    const x = NDArray.zeros([2, 1, 8, 8]);
    new Rng(5).fillNormal(x.data);
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(model.predict(x).data));
  });

  it("refuses a graph with a setting zerodl does not know, naming it", async () => {
    const model = Graph.build(graphSpec, new Rng(6));
    const bytes = encodeModel(model);
    const contents = decodeSafetensors(bytes, "m");
    const graph = JSON.parse(contents.metadata.graph);
    graph.nodes[0].dilation = 2;
    const path = join(dir, "dilated.safetensors");
    writeFileSync(
      path,
      encodeSafetensors(contents.tensors, { ...contents.metadata, graph: JSON.stringify(graph) }),
    );
    await expect(loadModel(path)).rejects.toThrow(/node 0 "conv" \(convolution\) has no setting "dilation"/);
  });
});

describe("model format 1 (files written before graphs) still loads", () => {
  const fixtures = fileURLToPath(new URL("../../test/fixtures/model-format-1/", import.meta.url));
  const expected = JSON.parse(readFileSync(join(fixtures, "expected.json"), "utf8")) as Record<
    string,
    { x: number[]; shape: number[]; scores: number[] }
  >;

  for (const name of ["multi-layer-extend", "simple-conv-half"]) {
    it(`${name}: the predictions zerodl 903d13c made`, async () => {
      const { model, info } = await loadModel(join(fixtures, `${name}.safetensors`));
      expect(info.format).toBe("1");
      expect(info.graph).toBeUndefined();
      const e = expected[name];
      const scores = model.predict(NDArray.from(e.x, e.shape));
      assertAllClose(scores.data, Float32Array.from(e.scores), 1e-6, 1e-5, name);
      // Saved again, it is a format-2 file with the same tensors.
      const path = join(dir, `${name}-v2.safetensors`);
      await saveModel(path, model);
      const again = await readModelInfo(path);
      expect(again.format).toBe("2");
      expect(again.tensors.map((t) => t.name)).toEqual(info.tensors.map((t) => t.name));
    });
  }
});
