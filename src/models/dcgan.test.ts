import { describe, expect, it } from "vitest";
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Deconvolution } from "../layers/deconvolution.js";
import { LeakyRelu } from "../layers/leaky-relu.js";
import { Reshape } from "../layers/reshape.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import {
  buildDcgan,
  createDcgan,
  dcganSpecs,
  fromTanhRange,
  generateImages,
  toTanhRange,
  type DcganOptions,
} from "./dcgan.js";
import { LayerChain } from "./layer-chain.js";
import { buildLayers } from "./layer-spec.js";

function randomImages(shape: number[], rng: Rng): NDArray {
  const x = NDArray.zeros(shape, "float64");
  for (let i = 0; i < x.size; i++) x.data[i] = rng.uniform() * 2 - 1;
  return x;
}

describe("layer specs for a DCGAN", () => {
  it("build Deconvolution, LeakyRelu and Reshape with the shapes flowing through", () => {
    const rng = new Rng(1);
    const { layers, outputShape } = buildLayers(
      [12],
      [
        { type: "reshape", shape: [3, 2, 2] },
        {
          type: "deconvolution",
          filters: 5,
          fh: 4,
          fw: 3,
          stride: 2,
          pad: 1,
          outputPadding: 1,
          weightInit: 0.02,
        },
        { type: "leaky-relu", alpha: 0.3 },
      ],
      rng,
    );
    expect(layers[0]).toBeInstanceOf(Reshape);
    const deconv = layers[1] as Deconvolution;
    expect(deconv).toBeInstanceOf(Deconvolution);
    expect(deconv.W.value.shape).toEqual([3, 5, 4, 3]);
    expect([deconv.stride, deconv.pad, deconv.outputPadding]).toEqual([2, 1, 1]);
    expect((layers[2] as LeakyRelu).alpha).toBe(0.3);
    // (2 − 1)·2 − 2 + 4 + 1 = 5 rows, (2 − 1)·2 − 2 + 3 + 1 = 4 columns
    expect(outputShape).toEqual([5, 5, 4]);
    const std = Math.sqrt(
      Array.from(deconv.W.value.data).reduce((s, v) => s + v * v, 0) / deconv.W.value.size,
    );
    expect(std).toBeGreaterThan(0.012);
    expect(std).toBeLessThan(0.03);
  });

  it("refuse a reshape that does not hold the sample, and a deconvolution of flat samples", () => {
    expect(() => buildLayers([12], [{ type: "reshape", shape: [5, 2] }], new Rng(1))).toThrow(
      /layer 0 \(reshape\): cannot hold \(12,\) samples \(12 values\) as \(5, 2\)/,
    );
    expect(() =>
      buildLayers([12], [{ type: "deconvolution", filters: 1, fh: 2, fw: 2 }], new Rng(1)),
    ).toThrow(/layer 0 \(deconvolution\): needs \(C, H, W\) samples, got \(12,\)/);
  });
});

describe("dcganSpecs / LayerChain", () => {
  it("maps latent vectors to 28×28 images in (−1, 1) and images to one logit each", () => {
    const { generator, discriminator } = buildDcgan({}, new Rng(2));
    expect(generator.spec).toMatchObject({ kind: "generator", inputShape: [64], outputRange: [-1, 1] });
    expect(generator.outputShape).toEqual([1, 28, 28]);
    const z = NDArray.zeros([3, 64]);
    new Rng(3).fillNormal(z.data);
    const images = generator.forward(z, "train");
    expect(images.shape).toEqual([3, 1, 28, 28]);
    expect(Math.max(...images.data)).toBeLessThan(1);
    expect(Math.min(...images.data)).toBeGreaterThan(-1);
    const logits = discriminator.forward(images, "train");
    expect(logits.shape).toEqual([3, 1]);
    expect(discriminator.backward(NDArray.full([3, 1], 1)).shape).toEqual([3, 1, 28, 28]);
  });

  it("names params the book's way and follows the DCGAN recipe", () => {
    const { generator, discriminator } = buildDcgan(
      { generatorChannels: [8, 4], discriminatorChannels: [4, 8] },
      new Rng(2),
    );
    expect(generator.params.map((p) => p.name)).toEqual([
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
    expect(generator.params[0].value.shape).toEqual([64, 8 * 7 * 7]);
    expect(discriminator.params.map((p) => p.name)).toEqual([
      "W1",
      "b1",
      "W2",
      "b2",
      "gamma1",
      "beta1",
      "W3",
      "b3",
    ]);
    expect(
      discriminator.layers.filter((l) => l instanceof LeakyRelu).map((l) => (l as LeakyRelu).alpha),
    ).toEqual([0.2, 0.2]);
    expect(generator.layers.filter((l) => l instanceof BatchNormalization)).toHaveLength(2);
    // Nothing reads the generator's input gradient; the discriminator's trains the generator.
    expect((generator.layers[0] as Affine).needsInputGrad).toBe(false);
    expect(discriminatorBatchNormFree()).toHaveLength(0);
  });

  it("is reproducible for a seed and different for another", () => {
    const small: DcganOptions = { generatorChannels: [4, 2], discriminatorChannels: [2, 4] };
    const weights = (seed: number) => {
      const { generator, discriminator } = buildDcgan({ ...small }, new Rng(seed));
      return [...generator.params, ...discriminator.params].flatMap((p) => Array.from(p.value.data));
    };
    const [a, b, c] = [weights(5), weights(5), weights(6)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("passes whole-network gradient checks in float64 (small sizes, random upstream gradient)", () => {
    const options = {
      latentSize: 3,
      imageShape: [1, 8, 8] as [number, number, number],
      generatorChannels: [3, 2] as [number, number],
      discriminatorChannels: [2, 3] as [number, number],
    };
    const rng = new Rng(7);
    const { generator, discriminator } = buildDcgan(options, rng, "float64");
    // Larger weights than the recipe's 0.02, so every term is well above round-off.
    for (const net of [generator, discriminator]) {
      for (const p of net.params)
        if (p.name.startsWith("W")) for (let i = 0; i < p.value.size; i++) p.value.data[i] *= 20;
    }
    (generator.layers[0] as Affine).needsInputGrad = true; // check the input gradient too
    const z = NDArray.zeros([4, 3], "float64");
    rng.fillNormal(z.data);
    checkLayerGradients(generator, z, rng);
    checkLayerGradients(discriminator, randomImages([4, 1, 8, 8], rng), rng);
  });

  it("refuses specs it cannot build, naming the problem", () => {
    const { generator, discriminator } = dcganSpecs();
    expect(() => LayerChain.fromSpec({ ...generator, extra: 1 } as never, new Rng(1))).toThrow(
      /generator spec: unknown setting extra; valid: kind, inputShape, layers, outputRange/,
    );
    expect(() =>
      LayerChain.fromSpec({ ...discriminator, layers: discriminator.layers.slice(0, -1) }, new Rng(1)),
    ).toThrow(
      /discriminator spec: the layers must end in one logit per image, not samples of shape \(3136\)/,
    );
    expect(() => dcganSpecs({ imageShape: [1, 30, 28] })).toThrow(/multiples of 4, got 30×28/);
    expect(() => dcganSpecs({ latentSize: 0 })).toThrow(/latentSize must be a positive integer, got 0/);
  });
});

/** The recipe without batch norm in the discriminator: its layers hold none. */
function discriminatorBatchNormFree() {
  const spec = dcganSpecs({ discriminatorBatchNorm: false }).discriminator;
  return spec.layers.filter((l) => l.type === "batchnorm");
}

describe("generateImages", () => {
  it("draws images in eval mode, each depending on its own latent vector only", () => {
    const { generator } = buildDcgan({}, new Rng(2));
    const all = generateImages(generator, 7, new Rng(9), 3);
    expect(all.shape).toEqual([7, 1, 28, 28]);
    const again = generateImages(generator, 7, new Rng(9), 7);
    expect(again.data).toEqual(all.data); // batch size does not change an image
    expect(() => generateImages(generator, 0, new Rng(9))).toThrow(/count must be a positive integer, got 0/);
  });

  it("maps [0, 1] images to [−1, 1] and back", () => {
    const x = NDArray.from([0, 0.25, 1], [3]);
    expect(Array.from(toTanhRange(x).data)).toEqual([-1, -0.5, 1]);
    expect(Array.from(fromTanhRange(toTanhRange(x)).data)).toEqual([0, 0.25, 1]);
  });
});

describe("createDcgan", () => {
  it("hands the training settings to the trainer and its two optimizers", () => {
    const images = NDArray.zeros([8, 1, 8, 8]);
    const schedule = (i: number, n: number) => 1 - i / n;
    const { trainer } = createDcgan({
      images,
      iterations: 2,
      batchSize: 4,
      lr: 0.001,
      discriminatorLr: 0.003,
      beta1: 0.4,
      realLabel: 0.9,
      lrSchedule: schedule,
      generatorChannels: [4, 2],
      discriminatorChannels: [2, 4],
      seed: 1,
    });
    expect(trainer.realLabel).toBe(0.9);
    expect(trainer.generatorOptimizer).toMatchObject({ lr: 0.001, beta1: 0.4 });
    expect(trainer.discriminatorOptimizer).toMatchObject({ lr: 0.003, beta1: 0.4 });
    trainer.run();
    // The last of 2 iterations stepped at half the rates.
    expect(trainer.generatorOptimizer.lr).toBeCloseTo(0.0005, 12);
    expect(trainer.discriminatorOptimizer.lr).toBeCloseTo(0.0015, 12);
    const plain = createDcgan({ images, iterations: 1, batchSize: 4, seed: 1 }).trainer;
    expect(plain.realLabel).toBe(1);
    expect(plain.discriminatorOptimizer.lr).toBe(0.0002);
  });
});
