import { OptionError } from "../errors.js";
import { NDArray, type DType, type Labels } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import { Rng } from "../rng.js";
import { GanTrainer, sampleLatent, type GanPosition } from "../train/gan.js";
import type { LearningRateSchedule } from "../train/trainer.js";
import { WeightAverage } from "../train/weight-average.js";
import type { LayerSpec } from "./layer-spec.js";
import { LayerChain, type ChainSpec } from "./layer-chain.js";

export interface DcganOptions {
  /** The length of the latent vector z ~ N(0, I) (default 64). */
  latentSize?: number;
  /** One image's shape (C, H, W), H and W multiples of 4 (default MNIST's [1, 28, 28]). */
  imageShape?: [number, number, number];
  /** The generator's feature maps at H/4 and H/2 (default [64, 32]). */
  generatorChannels?: [number, number];
  /** The discriminator's feature maps at H/2 and H/4 (default [32, 64]). */
  discriminatorChannels?: [number, number];
  /** Batch normalization in the discriminator's second block (default true, as the paper). */
  discriminatorBatchNorm?: boolean;
  /** The leaky ReLU slope in the discriminator (default 0.2, the DCGAN paper's). */
  leak?: number;
  /**
   * InfoGAN's categorical code (Chen et al. 2016): K categories (e.g. 10 for digits) appended to
   * the generator's latent vector as a one-hot, and K code logits after the discriminator's
   * logit (`GanTrainer`'s `categories`). Default 0: none, the plain DCGAN.
   */
  categories?: number;
  /** A class-conditional generator's class names, one per category (recorded in its spec). */
  classes?: string[];
}

/**
 * The DCGAN recipe (Radford et al. 2016; book §8.5.2) sized for 28×28 digits, as two layer chains:
 *
 *   generator      z (latentSize) → Affine (g1·H/4·W/4) → Reshape (g1, H/4, W/4) → BN → ReLU
 *                  → Deconvolution 4×4/2 (g2, H/2, W/2) → BN → ReLU → Deconvolution 4×4/2 (C, H, W) → tanh
 *   discriminator  image → Convolution 4×4/2 (d1, H/2, W/2) → LeakyReLU → Convolution 4×4/2 (d2, H/4, W/4)
 *                  → BN → LeakyReLU → Flatten → Affine (1): a logit, "real" when positive
 *
 * The paper's conventions: weights from N(0, 0.02²), no pooling (strided convolutions both ways),
 * batch norm in both networks but not on the generator's output or the discriminator's input
 * block, ReLU in the generator and leaky ReLU (0.2) in the discriminator, tanh output (so real
 * images are scaled to [−1, 1]). The paper's networks end in a projection to 4×4×1024; these have
 * two up- and two down-sampling blocks, enough for 28×28.
 */
export function dcganSpecs(options: DcganOptions = {}): { generator: ChainSpec; discriminator: ChainSpec } {
  const {
    latentSize = 64,
    imageShape = [1, 28, 28],
    generatorChannels: [g1, g2] = [64, 32],
    discriminatorChannels: [d1, d2] = [32, 64],
    discriminatorBatchNorm = true,
    leak = 0.2,
    categories = 0,
    classes,
  } = options;
  const [C, H, W] = imageShape;
  for (const [name, v] of Object.entries({ latentSize, C, g1, g2, d1, d2 })) {
    if (!Number.isInteger(v) || v < 1)
      throw new OptionError(`dcgan: ${name} must be a positive integer, got ${v}`);
  }
  if (!(Number.isInteger(H) && Number.isInteger(W) && H % 4 === 0 && W % 4 === 0 && H > 0 && W > 0)) {
    throw new OptionError(`dcgan: image height and width must be positive multiples of 4, got ${H}×${W}`);
  }
  const std = 0.02;
  // 4×4 filters, stride 2, pad 1: the deconvolution doubles H and W, the convolution halves them.
  const block = (type: "deconvolution" | "convolution", filters: number): LayerSpec => ({
    type,
    filters,
    fh: 4,
    fw: 4,
    stride: 2,
    pad: 1,
    weightInit: std,
  });
  const up = (filters: number) => block("deconvolution", filters);
  const down = (filters: number) => block("convolution", filters);
  const bn: LayerSpec = { type: "batchnorm", momentum: 0.9, eps: 1e-5 };
  const code = categories > 0 ? { categories } : {};
  const generator: ChainSpec = {
    kind: "generator",
    inputShape: [latentSize + categories],
    layers: [
      { type: "affine", outputSize: g1 * (H / 4) * (W / 4), weightInit: std },
      { type: "reshape", shape: [g1, H / 4, W / 4] },
      bn,
      { type: "relu" },
      up(g2),
      bn,
      { type: "relu" },
      up(C),
      { type: "tanh" },
    ],
    outputRange: [-1, 1],
    ...code,
    ...(classes ? { classes: [...classes] } : {}),
  };
  const discriminator: ChainSpec = {
    kind: "discriminator",
    inputShape: [C, H, W],
    layers: [
      down(d1),
      { type: "leaky-relu", alpha: leak },
      down(d2),
      ...(discriminatorBatchNorm ? [bn] : []),
      { type: "leaky-relu", alpha: leak },
      { type: "flatten" },
      { type: "affine", outputSize: 1 + categories, weightInit: std },
    ],
    ...code,
  };
  return { generator, discriminator };
}

/**
 * The two networks of `dcganSpecs(options)`, weights from `rng` (the generator's first, each from
 * its own split, so a seed fixes both).
 */
export function buildDcgan(
  options: DcganOptions,
  rng: Rng,
  dtype: DType = "float32",
): { generator: LayerChain; discriminator: LayerChain } {
  const specs = dcganSpecs(options);
  return {
    generator: LayerChain.fromSpec(specs.generator, rng.split(), dtype),
    discriminator: LayerChain.fromSpec(specs.discriminator, rng.split(), dtype),
  };
}

/** Images in [0, 1] (as the data loaders give them) → [−1, 1], a tanh generator's range: 2x − 1. */
export function toTanhRange(images: NDArray): NDArray {
  const out = images.clone();
  const d = out.data;
  for (let i = 0; i < d.length; i++) d[i] = 2 * d[i] - 1;
  return out;
}

/** The converse of toTanhRange: (y + 1) / 2, for classifiers trained on [0, 1] images. */
export function fromTanhRange(images: NDArray): NDArray {
  const out = images.clone();
  const d = out.data;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] + 1) / 2;
  return out;
}

/**
 * `count` images from a generator: latent vectors z ~ N(0, I) drawn from `rng` (with an InfoGAN
 * code, its category drawn uniformly, or `code`: one for all, or one per image), run `batchSize` at a time in "eval" mode
 * (batch norm on its running statistics, so an image depends on its own latent vector only).
 * (count, C, H, W) in the generator's output range.
 */
export function generateImages(
  generator: LayerChain,
  count: number,
  rng: Rng,
  batchSize = 500,
  code?: number | ArrayLike<number>,
): NDArray {
  if (generator.spec.kind !== "generator") {
    throw new OptionError(`generateImages: needs a generator, got a ${generator.spec.kind}`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new OptionError(`generateImages: count must be a positive integer, got ${count}`);
  }
  const [latentSize] = generator.spec.inputShape;
  const dtype = generator.params[0]?.value.dtype ?? "float32";
  const z = sampleLatent(count, latentSize, rng, dtype, generator.spec.categories ?? 0, code);
  let out: NDArray | null = null;
  for (let start = 0; start < count; start += batchSize) {
    const y = generator.forward(z.sliceRows(start, Math.min(count, start + batchSize)), "eval");
    out ??= NDArray.zeros([count, ...y.shape.slice(1)], y.dtype);
    out.data.set(y.data, start * (y.size / y.shape[0]));
  }
  return out!;
}

export interface DcganTrainingOptions extends DcganOptions {
  /** Real images (N, C, H, W) in [0, 1], as the data loaders give them. */
  images: NDArray;
  /** One of these two: passes over the images, or iterations in all. */
  epochs?: number;
  iterations?: number;
  /** Real and generated images per step, each (default 64). */
  batchSize?: number;
  /** Adam's learning rate and β1 for both networks (default 0.0002 and 0.5, the DCGAN paper's). */
  lr?: number;
  beta1?: number;
  /**
   * The discriminator's learning rate, when it differs from the generator's `lr` (the "two
   * time-scale update rule", Heusel et al. 2017, trains the discriminator faster).
   */
  discriminatorLr?: number;
  /** Both learning rates over the run (`GanTrainer`'s `lrSchedule`; default constant). */
  lrSchedule?: LearningRateSchedule;
  /** The discriminator's target for real images (default 1; 0.9: one-sided label smoothing). */
  realLabel?: number;
  /**
   * Keep an exponential moving average of the generator's weights with this decay (`WeightAverage`,
   * e.g. 0.999) and draw from it; 0 or absent: none.
   */
  averageDecay?: number;
  seed: number;
  /** λ for an InfoGAN code (`GanTrainer`'s `infoWeight`, default 1). */
  infoWeight?: number;
  /**
   * The images' classes: with `categories` as many as the classes, a class-conditional DCGAN
   * (AC-GAN; `GanTrainer`'s `labels`): code k draws class k.
   */
  labels?: Labels;
  /** Continue a checkpointed run (the networks', optimizers' and average's state are restored by the caller). */
  resume?: GanPosition;
}

/**
 * A DCGAN ready to train on `images`: both networks (`buildDcgan`, weights from the seed), a
 * GanTrainer with an Adam per network and, with `averageDecay`, the generator's weight average
 * (built from the generator's spec, its weights copied). `zerodl gan` and the dcgan experiment both
 * start here, so the same seed and settings give the same generator either way.
 */
export function createDcgan(options: DcganTrainingOptions): {
  generator: LayerChain;
  discriminator: LayerChain;
  trainer: GanTrainer;
  /** The averaged generator and its updater (with `averageDecay`). */
  average?: { generator: LayerChain; updater: WeightAverage };
} {
  const {
    images,
    epochs,
    iterations,
    batchSize = 64,
    lr = 0.0002,
    beta1 = 0.5,
    discriminatorLr = lr,
    lrSchedule,
    realLabel,
    averageDecay = 0,
    infoWeight,
    labels,
    seed,
    resume,
    ...dcgan
  } = options;
  if (images.ndim !== 4) {
    throw new OptionError(`createDcgan: needs (N, C, H, W) images, got (${images.shape.join(", ")})`);
  }
  const rng = new Rng(seed);
  const { generator, discriminator } = buildDcgan(
    { ...dcgan, imageShape: images.shape.slice(1) as [number, number, number] },
    rng,
    images.dtype,
  );
  const trainerRng = rng.split();
  let average: { generator: LayerChain; updater: WeightAverage } | undefined;
  if (averageDecay > 0) {
    // Its initial weights are copied from the generator's, so this rng draws nothing that matters.
    const averaged = LayerChain.fromSpec(generator.spec, new Rng(0), images.dtype);
    average = {
      generator: averaged,
      updater: new WeightAverage(generator, averaged, { decay: averageDecay }),
    };
  }
  const trainer = new GanTrainer({
    generator,
    discriminator,
    data: toTanhRange(images),
    latentSize: generator.spec.inputShape[0],
    categories: generator.spec.categories,
    infoWeight,
    labels,
    generatorOptimizer: new Adam({ lr, beta1 }),
    discriminatorOptimizer: new Adam({ lr: discriminatorLr, beta1 }),
    lrSchedule,
    realLabel,
    batchSize,
    epochs,
    iterations,
    rng: trainerRng,
    generatorAverage: average?.updater,
    resume,
  });
  return { generator, discriminator, trainer, ...(average ? { average } : {}) };
}
