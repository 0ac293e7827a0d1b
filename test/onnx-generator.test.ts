// ONNX export of GAN networks (book §8.5.2), judged by ONNX Runtime: the shipped generators (the
// DCGAN and the class-conditional one) on 100 latent vectors must give the same images within 1e-4, and so must small generators and a
// discriminator with random weights and batch norm statistics (transposed convolutions with output
// padding, leaky ReLU, reshape). Export → import gives the same generator, bit for bit.
import { beforeAll, describe, expect, it } from "vitest";
import { BatchNormalization, NDArray, Rng, sampleLatent, useFastBackend } from "../src/index.js";
import { loadGenerator } from "../src/io/generator-file.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { importGeneratorOnnx, importOnnx, isGeneratorOnnx } from "../src/io/onnx/import.js";
import { decodeModelProto, encodeModelProto, OnnxError } from "../src/io/onnx/proto.js";
import { buildDcgan } from "../src/models/dcgan.js";
import { LayerChain, type ChainSpec } from "../src/models/layer-chain.js";
import { runOnnx } from "./onnx-runtime.js";
import { modelsDir, shippedModels } from "./shipped-models.js";

const TOLERANCE = 1e-4;
const generators = (await shippedModels()).filter((m) => m.kind === "generator").map((m) => m.file);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Random batch norm statistics and affine parameters (some variances near eps, so a wrong eps shows). */
function randomizeBatchNorm(chain: LayerChain, rng: Rng): void {
  for (const layer of chain.layers) {
    if (!(layer instanceof BatchNormalization)) continue;
    for (let j = 0; j < layer.runningMean.size; j++) {
      layer.runningMean.data[j] = 0.3 * rng.normal();
      layer.runningVar.data[j] = j % 2 === 0 ? 1e-3 * (1 + rng.uniform()) : 0.1 + rng.uniform();
      layer.gamma.value.data[j] = 0.5 + rng.uniform();
      layer.beta.value.data[j] = 0.3 * rng.normal();
    }
  }
}

function randomInput(rng: Rng, shape: readonly number[]): NDArray {
  const x = NDArray.zeros(shape, "float32");
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  return x;
}

/** A small generator that hits what the DCGAN's does not: output padding, odd sizes, leaky ReLU. */
const oddGenerator: ChainSpec = {
  kind: "generator",
  inputShape: [5],
  layers: [
    { type: "affine", outputSize: 2 * 3 * 3 },
    { type: "reshape", shape: [2, 3, 3] },
    { type: "batchnorm", eps: 1e-5 },
    { type: "leaky-relu", alpha: 0.1 },
    { type: "deconvolution", filters: 3, fh: 3, fw: 3, stride: 2, pad: 1, outputPadding: 1 },
    { type: "relu" },
    { type: "deconvolution", filters: 1, fh: 2, fw: 3, stride: 1, pad: 0 },
    { type: "tanh" },
  ],
  outputRange: [-1, 1],
};

beforeAll(async () => {
  await useFastBackend({ threads: 1 }); // as zerodl runs them; ONNX Runtime must agree
});

/** What each shipped generator's ONNX metadata says of its latent vector beyond z ~ N(0, I). */
const codes: Record<string, { latent_categories?: string; classes?: string }> = {
  "dcgan.safetensors": {},
  "acgan.safetensors": {
    latent_categories: "10",
    classes: JSON.stringify(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
  },
};

describe("the shipped generators exported to ONNX run in ONNX Runtime with the same images", () => {
  it("ships the DCGAN generator and the class-conditional one", () => {
    expect([...generators].sort()).toEqual(Object.keys(codes).sort());
  });

  for (const file of generators) {
    it(`${file}: 100 latent vectors, images within ${TOLERANCE}; metadata; read back bit-identical`, async () => {
      const { model: generator } = await loadGenerator(modelsDir + file);
      const categories = generator.spec.categories ?? 0;
      const z = sampleLatent(100, generator.spec.inputShape[0], new Rng(11), "float32", categories);
      const bytes = exportOnnx(generator, { name: "dcgan" });
      const ours = generator.forward(z, "eval");
      const theirs = await runOnnx(bytes, z);
      expect(theirs.dims).toEqual(ours.shape);
      expect(maxDiff(ours.data, theirs.data)).toBeLessThanOrEqual(TOLERANCE);
      const proto = decodeModelProto(bytes, file);
      expect(proto.graph!.node.map((n) => n.opType)).toEqual([
        "Gemm",
        "Reshape",
        "BatchNormalization",
        "Relu",
        "ConvTranspose",
        "BatchNormalization",
        "Relu",
        "ConvTranspose",
        "Tanh",
      ]);
      const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
      expect(JSON.parse(meta.output_shape)).toEqual([1, 28, 28]);
      expect(JSON.parse(meta.output_range)).toEqual([-1, 1]);
      expect(JSON.parse(meta.input_shape)).toEqual([64 + categories]);
      expect({ latent_categories: meta.latent_categories, classes: meta.classes }).toEqual({
        latent_categories: undefined,
        classes: undefined,
        ...codes[file],
      });
      // Read back: the same generator (spec, weights, running statistics), recognised as zerodl's.
      expect(isGeneratorOnnx(bytes, file)).toBe(true);
      const { generator: back, info } = importGeneratorOnnx(bytes, file);
      expect(info.notes).toEqual([]);
      expect(back.spec).toEqual(generator.spec);
      back.params.forEach((p, i) => expect(p.value.data).toEqual(generator.params[i].value.data));
      expect(back.forward(z, "eval").data).toEqual(ours.data);
    });
  }
});

describe("GAN networks with random weights export to ONNX with the same outputs", () => {
  it("a generator with output padding, odd sizes and leaky ReLU", async () => {
    const generator = LayerChain.fromSpec(oddGenerator, new Rng(4));
    const rng = new Rng(5);
    randomizeBatchNorm(generator, rng);
    const z = randomInput(rng, [7, 5]);
    const ours = generator.forward(z, "eval");
    expect(ours.shape).toEqual([7, 1, 7, 8]);
    const theirs = await runOnnx(exportOnnx(generator), z);
    expect(theirs.dims).toEqual(ours.shape);
    expect(maxDiff(ours.data, theirs.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("the DCGAN discriminator: strided convolutions, leaky ReLU, batch norm, one logit", async () => {
    const { discriminator } = buildDcgan({}, new Rng(6));
    const rng = new Rng(8);
    randomizeBatchNorm(discriminator, rng);
    const x = randomInput(rng, [6, 1, 28, 28]);
    const ours = discriminator.forward(x, "eval");
    const theirs = await runOnnx(exportOnnx(discriminator), x);
    expect(theirs.dims).toEqual([6, 1]);
    expect(maxDiff(ours.data, theirs.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("a generator read back from ONNX without its zerodl spec: the same layers and weights", () => {
    const generator = LayerChain.fromSpec(oddGenerator, new Rng(4));
    randomizeBatchNorm(generator, new Rng(5));
    const proto = decodeModelProto(exportOnnx(generator), "odd.onnx");
    proto.metadataProps = proto.metadataProps.filter((p) => p.key !== "zerodl_spec");
    const bytes = encodeModelProto(proto);
    expect(isGeneratorOnnx(bytes, "odd.onnx")).toBe(true);
    const { generator: back } = importGeneratorOnnx(bytes, "odd.onnx");
    expect(back.spec.layers.map((l) => l.type)).toEqual(oddGenerator.layers.map((l) => l.type));
    expect(back.spec.outputRange).toEqual([-1, 1]);
    back.params.forEach((p, i) => expect(p.value.data).toEqual(generator.params[i].value.data));
    const z = randomInput(new Rng(9), [3, 5]);
    expect(back.forward(z, "eval").data).toEqual(generator.forward(z, "eval").data);
  });

  it("unsupported ConvTranspose settings and a generator read as a classifier: errors that say why", () => {
    const generator = LayerChain.fromSpec(oddGenerator, new Rng(4));
    const bytes = exportOnnx(generator);
    const proto = decodeModelProto(bytes, "odd.onnx");
    const deconv = proto.graph!.node.find((n) => n.opType === "ConvTranspose")!;
    deconv.attribute.find((a) => a.name === "group")!.i = 2n;
    deconv.attribute.find((a) => a.name === "output_padding")!.ints = [1n, 0n];
    expect(() => importGeneratorOnnx(encodeModelProto(proto), "edited.onnx")).toThrow(
      /^edited\.onnx: cannot import: ConvTranspose node "deconvolution1": group=2 \(zerodl deconvolutions are not grouped\); ConvTranspose node "deconvolution1": output_padding \[1, 0\]/,
    );
    expect(() => importOnnx(bytes, "odd.onnx")).toThrow(OnnxError);
    expect(() => importOnnx(bytes, "odd.onnx")).toThrow(/not \(classes,\) scores/);
  });
});
