/**
 * DCGAN on MNIST (book §8.5.2): a generator and a discriminator trained against each other. At
 * snapshots during training: the same 10 latent vectors drawn, and the share of 1,000 samples the
 * pretrained DeepConvNet classifies with confidence ≥ 0.9; after training: the two losses, a walk
 * through latent space between two digits, and the quality scores (`sampleQuality`) of 10,000
 * samples.
 *
 * Full form: the recipe `zerodl gan` trains with its defaults (the DCGAN paper's: Adam lr 0.0002,
 * 64 images a batch; models/dcgan.safetensors was trained with other settings, docs/gan.md), so the
 * same seed gives the same generator as `zerodl gan --iterations 5000`. Quick form: 2,000 images, narrow networks, 40 iterations of
 * 32 images.
 */
import { join } from "node:path";
import { packageRoot } from "../src/data/node/files.js";
import { loadMnist } from "../src/data/mnist.js";
import { loadModel } from "../src/io/model-file.js";
import type { Layer } from "../src/layers/layer.js";
import { createDcgan, fromTanhRange, type DcganOptions } from "../src/models/dcgan.js";
import type { LayerChain } from "../src/models/layer-chain.js";
import { NDArray } from "../src/ndarray.js";
import { ganLossChart, pictureChart } from "../src/plot/gan-charts.js";
import { tileImages } from "../src/plot/tiles.js";
import { Rng } from "../src/rng.js";
import { sampleLatent } from "../src/train/gan.js";
import {
  classifierReport,
  concatRows,
  sampleQuality,
  type ImageClassifier,
} from "../src/train/sample-quality.js";
import { breathe } from "./common.js";
import { fmt, type Experiment } from "./experiment.js";

/** The settings of the full run and of the quick one. */
export const DCGAN_SETTINGS = {
  full: {
    images: 60_000,
    iterations: 5_000,
    batchSize: 64,
    generatorChannels: [64, 32] as [number, number],
    discriminatorChannels: [32, 64] as [number, number],
    snapshots: [100, 250, 500, 1000, 2000, 3000, 4000, 5000],
    /** Samples classified at each snapshot, and scored at the end. */
    snapshotSamples: 1_000,
    finalSamples: 10_000,
    /** Real test images for the Fréchet distances (two halves). */
    realSamples: 10_000,
  },
  quick: {
    images: 2_000,
    iterations: 40,
    batchSize: 32,
    generatorChannels: [16, 8] as [number, number],
    discriminatorChannels: [8, 16] as [number, number],
    snapshots: [1, 20, 40],
    snapshotSamples: 100,
    finalSamples: 200,
    realSamples: 400,
  },
  latentSize: 64,
  /** Steps of the latent-space walk, ends included. */
  walkSteps: 10,
};

type Classifier = ImageClassifier & { readonly layers: readonly Layer[] };

export const dcgan: Experiment = {
  name: "dcgan",
  title: "DCGAN on MNIST: samples over training, a latent-space walk, measured quality",
  book: "§8.5.2 (DCGAN)",
  setup:
    `MNIST training images scaled to [−1, 1]; generator z (${DCGAN_SETTINGS.latentSize}) → Affine → ` +
    `${DCGAN_SETTINGS.full.generatorChannels[0]}×7×7 → Deconvolution → ${DCGAN_SETTINGS.full.generatorChannels[1]}×14×14 → ` +
    `Deconvolution → 1×28×28 → tanh (batch norm, ReLU); discriminator Convolution ${DCGAN_SETTINGS.full.discriminatorChannels.join(" → ")} ` +
    `(4×4, stride 2, leaky ReLU 0.2, batch norm) → Affine → logit; Adam lr 0.0002, β1 0.5 for both, ` +
    `${DCGAN_SETTINGS.full.iterations} iterations of ${DCGAN_SETTINGS.full.batchSize} real + ${DCGAN_SETTINGS.full.batchSize} generated images; ` +
    `scored with the pretrained DeepConvNet (models/deep-conv.safetensors)`,
  quickForm:
    "2,000 images, generator 16/8 and discriminator 8/16 feature maps, 40 iterations of 32 images; 200 samples scored against 400 test images",
  async run({ quick, seed, log }) {
    const s = quick ? DCGAN_SETTINGS.quick : DCGAN_SETTINGS.full;
    const mnist = await loadMnist({ flatten: false });
    const images = mnist.train.x.sliceRows(0, Math.min(s.images, mnist.train.x.shape[0]));
    const classifier = (await loadModel(join(packageRoot(), "models", "deep-conv.safetensors")))
      .model as unknown as Classifier;
    const options: DcganOptions = {
      latentSize: DCGAN_SETTINGS.latentSize,
      generatorChannels: s.generatorChannels,
      discriminatorChannels: s.discriminatorChannels,
    };
    const { generator, trainer } = createDcgan({
      ...options,
      images,
      iterations: s.iterations,
      batchSize: s.batchSize,
      seed,
    });
    // The latent vectors drawn at every snapshot, and those the snapshots' scores sample.
    const fixed = sampleLatent(10, DCGAN_SETTINGS.latentSize, new Rng(seed + 1));
    const draw = (z: NDArray) => generator.forward(z, "eval");
    const snapshotImages: NDArray[] = [];
    const snapshots: { iteration: number; confident: number; seconds: number }[] = [];
    const history = {
      dLoss: [] as number[],
      gLoss: [] as number[],
      dReal: [] as number[],
      dFake: [] as number[],
    };
    const t0 = performance.now();
    for (const event of trainer.steps()) {
      await breathe();
      if (event.type !== "iteration") continue;
      history.dLoss.push(event.dLoss);
      history.gLoss.push(event.gLoss);
      history.dReal.push(event.dReal);
      history.dFake.push(event.dFake);
      if (!s.snapshots.includes(event.iteration)) continue;
      const seconds = (performance.now() - t0) / 1000;
      snapshotImages.push(draw(fixed));
      const z = sampleLatent(s.snapshotSamples, DCGAN_SETTINGS.latentSize, new Rng(seed + 2));
      const confident = classifierReport(classifier, fromTanhRange(draw(z))).confident;
      snapshots.push({ iteration: event.iteration, confident, seconds });
      log(
        `iteration ${event.iteration}: D loss ${fmt(event.dLoss)}, G loss ${fmt(event.gLoss)}, ` +
          `${fmt(100 * confident)} % of ${s.snapshotSamples} samples confident (${seconds.toFixed(0)} s)`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;

    const final = sampleLatent(s.finalSamples, DCGAN_SETTINGS.latentSize, new Rng(seed + 3));
    const real = mnist.test.x.sliceRows(0, Math.min(s.realSamples, mnist.test.x.shape[0]));
    const quality = await sampleQuality(classifier, fromTanhRange(draw(final)), real);
    const walk = latentWalk(generator, classifier, new Rng(seed + 4), DCGAN_SETTINGS.walkSteps);
    const output = draw(final.sliceRows(0, Math.min(100, s.finalSamples)));
    const range = [Math.min(...output.data), Math.max(...output.data)];
    const { report } = quality;
    const shares = report.classShares.map((v) => fmt(100 * v)).join(" / ");
    return {
      data: {
        settings: { ...DCGAN_SETTINGS, ...s, seed },
        seconds,
        losses: {
          first: { d: history.dLoss[0], g: history.gLoss[0] },
          last: { d: history.dLoss.at(-1), g: history.gLoss.at(-1) },
        },
        history,
        snapshots,
        quality,
        outputRange: range,
        outputShape: output.shape,
        walk: { from: walk.from, to: walk.to, labels: walk.labels },
      },
      figures: [
        {
          caption: `The two losses and the discriminator's mean output on real and generated batches over ${s.iterations} iterations (moving averages).`,
          spec: ganLossChart(history, { title: "DCGAN on MNIST" }),
        },
        {
          suffix: "samples",
          caption: `The same 10 latent vectors drawn after ${s.snapshots.join(", ")} iterations (one row each).`,
          spec: pictureChart(tileImages(concatRows(snapshotImages), { columns: 10, scale: 2 }), {
            title: "Samples over training",
          }),
        },
        {
          suffix: "walk",
          caption:
            `A straight line through latent space from a ${walk.from} to a ${walk.to}, ${DCGAN_SETTINGS.walkSteps} steps; ` +
            `the classifier reads ${walk.labels.join(", ")}.`,
          spec: pictureChart(tileImages(walk.images, { columns: DCGAN_SETTINGS.walkSteps, scale: 3 }), {
            title: "Latent-space walk",
          }),
        },
      ],
      comparison: [
        {
          what: `samples classified with confidence ≥ 0.9 (${report.count})`,
          book: "–",
          ours: `${fmt(100 * report.confident)} %`,
        },
        { what: "share of each digit 0–9", book: "–", ours: `${shares} %` },
        {
          what: "Fréchet distance to real test images (floor: real against real)",
          book: "–",
          ours: `${fmt(quality.frechet)} (floor ${fmt(quality.frechetFloor)})`,
        },
      ],
      summary:
        `After ${s.iterations} iterations (${seconds.toFixed(0)} s), ${fmt(100 * report.confident)} % of ${report.count} samples are ` +
        `digits the classifier names with confidence ≥ 0.9, each digit ${fmt(100 * Math.min(...report.classShares))}–` +
        `${fmt(100 * Math.max(...report.classShares))} % of them; Fréchet distance ${fmt(quality.frechet)} against a floor of ${fmt(quality.frechetFloor)}.`,
    };
  },
};

/**
 * Images along the straight line between two latent vectors whose images the classifier reads as
 * different digits (the first two such among 100 draws), with the classifier's label of each.
 */
function latentWalk(generator: LayerChain, classifier: Classifier, rng: Rng, steps: number) {
  const latentSize = generator.spec.inputShape[0];
  const z = sampleLatent(100, latentSize, rng);
  const labels = (x: NDArray) => {
    const scores = classifier.predict(fromTanhRange(x), "eval");
    const k = scores.shape[1];
    return Array.from({ length: scores.shape[0] }, (_, i) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (scores.data[i * k + j] > scores.data[i * k + best]) best = j;
      return best;
    });
  };
  const drawn = labels(generator.forward(z, "eval"));
  const a = 0;
  const b = Math.max(
    1,
    drawn.findIndex((label) => label !== drawn[a]),
  );
  const path = NDArray.zeros([steps, latentSize], z.dtype);
  for (let t = 0; t < steps; t++) {
    const w = t / (steps - 1);
    for (let j = 0; j < latentSize; j++) {
      path.data[t * latentSize + j] = (1 - w) * z.data[a * latentSize + j] + w * z.data[b * latentSize + j];
    }
  }
  const images = generator.forward(path, "eval");
  return { images, from: drawn[a], to: drawn[b], labels: labels(images) };
}
