// ONNX import: PyTorch's own exports (../shared/fixtures/onnx, made by torch.onnx.export) must
// reproduce PyTorch's recorded outputs; zerodl's exports must come back with identical weights;
// anything unsupported must be named in the error.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AttributeProtoSchema } from "./onnx_pb.js";
import { AttrType, decodeModelProto, encodeModelProto, OnnxError } from "./proto.js";
import { importOnnx } from "./import.js";
import { NDArray } from "../../ndarray.js";
import { SGD } from "../../optimizers/sgd.js";
import type { SequentialSpec } from "../../models/sequential.js";
import { loadModel, saveModel } from "../model-file.js";
import { softmaxRows } from "../../train/metrics.js";

const fixtures = new URL("../../../../shared/fixtures/onnx/", import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, fixtures)));

interface Recorded {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}
const recorded = (name: string): Recorded =>
  JSON.parse(readFileSync(new URL(`${name}.io.json`, fixtures), "utf8")) as Recorded;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("PyTorch's ONNX exports import and reproduce PyTorch's outputs", () => {
  const chains: [string, string[]][] = [
    ["mlp", ["flatten", "affine", "sigmoid", "affine", "tanh", "affine"]],
    ["simple_conv", ["convolution", "relu", "pooling", "flatten", "affine", "relu", "affine"]],
    ["deep_conv", ["convolution", "relu", "convolution", "relu", "pooling"]],
  ];
  for (const [name, firstLayers] of chains) {
    it(`${name}.onnx: outputs within 1e-5 of PyTorch's`, () => {
      const { model, info } = importOnnx(fixture(`${name}.onnx`), `${name}.onnx`);
      expect(info.producer).toBe("pytorch 1.13.0");
      expect(info.inputShape).toEqual([1, 28, 28]);
      const layers = (model.spec as unknown as SequentialSpec).layers.map((l) => l.type);
      expect(layers.slice(0, firstLayers.length)).toEqual(firstLayers);
      const { input, output } = recorded(name);
      const y = model.predict(new NDArray(Float32Array.from(input.data), input.shape), "eval");
      expect(y.shape).toEqual(output.shape);
      expect(maxAbsDiff(y.data, output.data)).toBeLessThan(1e-5);
    });
  }

  it("deep_conv.onnx keeps the book's pads (1, 1, 1, 2, 1, 1) and PyTorch's Linear weights transposed to (in, out)", () => {
    const { model } = importOnnx(fixture("deep_conv.onnx"), "deep_conv.onnx");
    const specs = (model.spec as unknown as { layers: { type: string; pad?: number }[] }).layers;
    expect(specs.filter((l) => l.type === "convolution").map((l) => l.pad)).toEqual([1, 1, 1, 2, 1, 1]);
    const W7 = model.params.find((p) => p.name === "W7")!.value;
    expect(W7.shape).toEqual([1024, 50]); // PyTorch's 16.weight is (50, 1024)
    const torchW = decodeModelProto(fixture("deep_conv.onnx"), "").graph!.initializer.find(
      (t) => t.name === "16.weight",
    )!;
    const view = new DataView(torchW.rawData.buffer, torchW.rawData.byteOffset);
    // torch (out = 3, in = 5) is zerodl (in = 5, out = 3).
    expect(W7.data[5 * 50 + 3]).toBe(view.getFloat32((3 * 1024 + 5) * 4, true));
  });

  it("an imported model saves, loads and fine-tunes like any zerodl model", async () => {
    const { model } = importOnnx(fixture("simple_conv.onnx"), "simple_conv.onnx");
    const { input } = recorded("simple_conv");
    const x = new NDArray(Float32Array.from(input.data), input.shape);
    const path = join(mkdtempSync(join(tmpdir(), "zerodl-onnx-")), "imported.safetensors");
    await saveModel(path, model);
    const { model: loaded } = await loadModel(path);
    expect(loaded.predict(x).data).toEqual(model.predict(x).data);
    const t = Int32Array.from([3, 1, 4, 1]);
    const before = loaded.loss(x, t);
    const sgd = new SGD({ lr: 0.01 });
    for (let i = 0; i < 5; i++) {
      loaded.loss(x, t);
      loaded.backward();
      sgd.step(loaded.params);
    }
    expect(loaded.loss(x, t)).toBeLessThan(before);
  });

  const graphs: [string, string[]][] = [
    [
      "resnet_small",
      [
        "convolution",
        "batchnorm",
        "relu",
        "convolution",
        "batchnorm",
        "relu",
        "convolution",
        "batchnorm",
        "add",
      ],
    ],
    [
      "inception_small",
      ["convolution", "relu", "pooling", "convolution", "convolution", "relu", "convolution", "convolution"],
    ],
  ];
  for (const [name, firstNodes] of graphs) {
    it(`${name}.onnx: a graph (Add, Concat, GlobalAveragePool), outputs within 1e-5 of PyTorch's`, () => {
      const { model, info } = importOnnx(fixture(`${name}.onnx`), `${name}.onnx`);
      expect(model.spec.kind).toBe("graph");
      const nodes = (model.spec as unknown as { graph: { nodes: { type: string }[] } }).graph.nodes;
      expect(nodes.slice(0, firstNodes.length).map((n) => n.type)).toEqual(firstNodes);
      const { input, output } = recorded(name);
      let y = model.predict(new NDArray(Float32Array.from(input.data), input.shape), "eval");
      if (name === "inception_small") {
        // Its Softmax is folded into the loss: the file's probabilities are softmax(scores).
        expect(info.notes.join()).toMatch(/final Softmax is folded/);
        y = new NDArray(Float32Array.from(softmaxRows(y).flat()), y.shape);
      }
      expect(maxAbsDiff(y.data, output.data)).toBeLessThan(1e-5);
    });
  }
});

describe("unsupported operators and attributes are named", () => {
  it("every unsupported operator and attribute, with its node, in one error", () => {
    const proto = decodeModelProto(fixture("simple_conv.onnx"), "");
    const nodes = proto.graph!.node;
    nodes[1].opType = "Elu"; // /1/Relu
    const group = nodes[0].attribute.find((a) => a.name === "group")!;
    group.i = 2n;
    nodes[2].attribute.push(create(AttributeProtoSchema, { name: "fancy", type: AttrType.INT, i: 1n }));
    let message = "";
    try {
      importOnnx(encodeModelProto(proto), "edited.onnx");
    } catch (e) {
      expect(e).toBeInstanceOf(OnnxError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/^edited\.onnx: cannot import: /);
    expect(message).toContain(`Conv node "/0/Conv": group=2`);
    expect(message).toContain(`Elu node "/1/Relu": operator Elu is not supported`);
    expect(message).toContain(`MaxPool node "/2/MaxPool": attribute "fancy" is not supported`);
    expect(message).toContain("zerodl imports these ONNX operators: Gemm, MatMul");
  });

  it("asymmetric padding, dilation and ceil_mode", () => {
    const proto = decodeModelProto(fixture("deep_conv.onnx"), "");
    const [conv, , conv2, , pool] = proto.graph!.node;
    conv.attribute.find((a) => a.name === "pads")!.ints = [0n, 0n, 1n, 1n];
    conv2.attribute.find((a) => a.name === "dilations")!.ints = [2n, 2n];
    pool.attribute.find((a) => a.name === "ceil_mode")!.i = 1n;
    const run = () => importOnnx(encodeModelProto(proto), "x.onnx");
    expect(run).toThrow(/Conv node "\/0\/Conv": pads \[0, 0, 1, 1\]/);
    expect(run).toThrow(/Conv node "\/2\/Conv": dilations \[2, 2\]/);
    expect(run).toThrow(/MaxPool node "\/4\/MaxPool": ceil_mode=1/);
  });

  it("bytes that are not ONNX: an error naming the file", () => {
    expect(() => importOnnx(new TextEncoder().encode("not a model at all"), "notes.txt")).toThrow(
      /^notes\.txt: not an ONNX model/,
    );
  });
});

describe("a foreign final Softmax", () => {
  it("a foreign Softmax at the end is folded into the loss (with a note)", () => {
    const proto = decodeModelProto(fixture("mlp.onnx"), "");
    const nodes = proto.graph!.node;
    nodes.at(-1)!.output[0] = "logits";
    nodes.push({
      ...nodes.at(-1)!,
      opType: "Softmax",
      name: "softmax",
      input: ["logits"],
      output: ["output"],
      attribute: [],
    });
    const { model, info } = importOnnx(encodeModelProto(proto), "mlp-softmax.onnx");
    expect(info.notes.join()).toMatch(/final Softmax is folded/);
    const { input, output } = recorded("mlp");
    const y = model.predict(new NDArray(Float32Array.from(input.data), input.shape));
    expect(maxAbsDiff(y.data, output.data)).toBeLessThan(1e-5);
  });
});

describe("a corrupt file is refused before its numbers are trusted", () => {
  const mlp = () => decodeModelProto(fixture("mlp.onnx"), "");

  it("a weight that is NaN or infinite (as a model file's weights must be finite)", () => {
    for (const bad of [NaN, Infinity]) {
      const proto = mlp();
      const w = proto.graph!.initializer.find((t) => t.name === "3.weight")!;
      const raw = Uint8Array.from(w.rawData);
      new DataView(raw.buffer).setFloat32(4 * 7, bad, true);
      w.rawData = raw;
      expect(() => importOnnx(encodeModelProto(proto), "bad.onnx")).toThrow(
        new RegExp(`^bad\\.onnx: node .*: W holds ${bad} at index \\d+; weights must be finite`),
      );
    }
  });

  it("a Gemm whose beta makes the bias non-finite", () => {
    const proto = mlp();
    const gemm = proto.graph!.node.find((n) => n.opType === "Gemm")!;
    gemm.attribute.find((a) => a.name === "beta")!.f = Infinity;
    expect(() => importOnnx(encodeModelProto(proto), "beta.onnx")).toThrow(/^beta\.onnx: .*: b holds/);
  });

  it("a node without an output, an LRN without its size: named, never 'undefined'", () => {
    const proto = mlp();
    const [, gemm, sigmoid] = proto.graph!.node;
    sigmoid.output = [];
    sigmoid.name = "";
    gemm.opType = "LRN";
    gemm.attribute = [];
    expect(() => importOnnx(encodeModelProto(proto), "odd.onnx")).toThrow(
      /^odd\.onnx: cannot import: LRN node "\/1\/Gemm": size missing; Sigmoid node "\(unnamed\)": no output\./,
    );
  });

  it("an attribute of another type than ONNX defines: named, not misread", () => {
    const proto = decodeModelProto(fixture("simple_conv.onnx"), "");
    const pool = proto.graph!.node.find((n) => n.opType === "MaxPool")!;
    const kernel = pool.attribute.find((a) => a.name === "kernel_shape")!;
    kernel.type = AttrType.INT;
    kernel.i = 2n;
    expect(() => importOnnx(encodeModelProto(proto), "kind.onnx")).toThrow(
      /^kind\.onnx: cannot import: MaxPool node "\/2\/MaxPool": attribute "kernel_shape" is INT; ONNX defines it as INTS/,
    );
  });

  it("a Pad whose value attribute (before opset 11) is not 0 is refused, not read as zero padding", () => {
    const proto = decodeModelProto(fixture("simple_conv.onnx"), "");
    const nodes = proto.graph!.node;
    const conv = nodes[0];
    nodes.unshift({
      ...conv,
      opType: "Pad",
      name: "pad",
      input: [conv.input[0]],
      output: ["padded"],
      attribute: [
        create(AttributeProtoSchema, {
          name: "pads",
          type: AttrType.INTS,
          ints: [0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n],
        }),
        create(AttributeProtoSchema, { name: "value", type: AttrType.FLOAT, f: 5 }),
      ],
    });
    conv.input[0] = "padded";
    expect(() => importOnnx(encodeModelProto(proto), "pad.onnx")).toThrow(
      /Pad node "pad": pads with 5, not 0/,
    );
  });

  it("Identity nodes in a cycle: refused, not followed forever", () => {
    const proto = mlp();
    const nodes = proto.graph!.node;
    const sigmoid = nodes.find((n) => n.opType === "Sigmoid")!;
    nodes.push({
      ...sigmoid,
      opType: "Identity",
      name: "loop",
      input: [sigmoid.output[0]],
      output: [sigmoid.input[0]],
    });
    sigmoid.opType = "Identity";
    expect(() => importOnnx(encodeModelProto(proto), "loop.onnx")).toThrow(
      /^loop\.onnx: tensor ".*" is an Identity of itself \(a cycle\)/,
    );
  });

  it("a tensor of negative size", () => {
    const proto = mlp();
    proto.graph!.initializer.find((t) => t.name === "1.bias")!.dims = [-50n];
    expect(() => importOnnx(encodeModelProto(proto), "neg.onnx")).toThrow(
      /^neg\.onnx: tensor "1\.bias" has shape \[-50\]; sizes must be integers ≥ 0/,
    );
  });

  it("an input too large to build layers for, before anything is allocated", () => {
    const proto = mlp();
    const type = proto.graph!.input[0].type!.value;
    if (type.case !== "tensorType") throw new Error("mlp.onnx: input is not a tensor");
    type.value.shape!.dim[2].value = { case: "dimValue", value: 1n << 31n };
    expect(() => importOnnx(encodeModelProto(proto), "huge.onnx")).toThrow(
      /^huge\.onnx: input "input" has 60129542144 values per sample \(1 × 2147483648 × 28\); zerodl imports models of at most 64000000/,
    );
  });
});
