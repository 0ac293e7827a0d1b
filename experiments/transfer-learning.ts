/**
 * Transfer learning (book §8.2.3): a ResNet trained on MNIST, fine-tuned on a small labelled set of
 * another task — 100, 300 or 1,000 Fashion-MNIST images — against the same ResNet trained from
 * scratch on that set. The fine-tuned network starts from every weight of the MNIST one but its
 * classifier (copyMatchingWeights: names and shapes agree, the head replaced) and trains all of
 * them; both train for the same iterations on the same batches (Adam lr 0.001, batch 25). Test
 * accuracy on Fashion-MNIST's 10,000 test images, over three seeds; curves on 2,000 of them.
 *
 * The MNIST network is the pretrained models/resnet.safetensors (else a ResNet trained here
 * briefly, as the results say). Quick form: 100 images, one seed, 60 iterations, 500 test images.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { subset, takeSamples, type Dataset } from "../src/data/dataset.js";
import { loadMnist, type Mnist } from "../src/data/mnist.js";
import { packageRoot } from "../src/data/node/files.js";
import { loadModel } from "../src/io/model-file.js";
import { Graph } from "../src/models/graph.js";
import { ResNet } from "../src/models/resnet.js";
import { copyMatchingWeights } from "../src/models/transfer.js";
import { Adam } from "../src/optimizers/adam.js";
import { lineChart } from "../src/plot/charts.js";
import { Rng } from "../src/rng.js";
import { Trainer } from "../src/train/trainer.js";
import { breathe, mnistImages } from "./common.js";
import { fmt, type Experiment } from "./experiment.js";

/** The pretrained MNIST ResNet, found from the package (not the working directory). */
export const SOURCE_MODEL = join(packageRoot(), "models", "resnet.safetensors");

let fashion: Promise<Mnist> | undefined;
function fashionImages(): Promise<Mnist> {
  fashion ??= loadMnist({ dataset: "fashion-mnist", flatten: false, onNote: () => {} });
  return fashion;
}

interface Run {
  size: number;
  seed: number;
  mode: "fine-tuned" | "from scratch";
  /** Test accuracy (on the curve's test images) every `every` iterations, from iteration 0. */
  curve: number[];
  accuracy: number;
}

export const transferLearning: Experiment = {
  name: "transfer-learning",
  title: "Transfer learning: a ResNet trained on MNIST, fine-tuned on a few Fashion-MNIST images",
  book: "§8.2.3 (transfer learning)",
  setup:
    "ResNet (16/32/64, 2 blocks per stage) from models/resnet.safetensors, fine-tuned vs from scratch on 100, 300, 1,000 Fashion-MNIST images; Adam lr 0.001, batch 25, 300 iterations; seeds 1–3; 10,000 test images",
  quickForm: "100 images, seed 1, 60 iterations, 500 test images",
  async run({ quick, seed, log }) {
    const { model: source, what } = await sourceModel(quick, seed, log);
    const data = await fashionImages();
    const test = subset(data.test, quick ? 500 : 10000);
    const curveTest = subset(data.test, quick ? 500 : 2000);
    const sizes = quick ? [100] : [100, 300, 1000];
    const seeds = quick ? [seed + 1] : [seed + 1, seed + 2, seed + 3];
    const iterations = quick ? 60 : 300;
    const every = quick ? 20 : 30;
    const runs: Run[] = [];
    for (const size of sizes) {
      for (const s of seeds) {
        // A different labelled set per seed: `size` images drawn from the 60,000.
        const train = takeSamples(
          data.train,
          new Rng(1000 + s).permutation(data.train.labels.length).subarray(0, size),
        );
        for (const mode of ["from scratch", "fine-tuned"] as const) {
          const model = new ResNet({}, new Rng(s));
          if (mode === "fine-tuned") copyMatchingWeights(model, source);
          const curve = await train1(model, train, curveTest, iterations, every, s);
          const accuracy = model.accuracy(test.x, test.labels);
          runs.push({ size, seed: s, mode, curve, accuracy });
          log(`  ${size} images, seed ${s}, ${mode}: test accuracy ${fmt(accuracy)}`);
        }
      }
    }
    const table = sizes.map((size) => {
      const row = (mode: Run["mode"]) =>
        stats(runs.filter((r) => r.size === size && r.mode === mode).map((r) => r.accuracy));
      return { size, scratch: row("from scratch"), fineTuned: row("fine-tuned") };
    });
    const xs = runs[0].curve.map((_, i) => i * every);
    const series = sizes.flatMap((size) =>
      (["from scratch", "fine-tuned"] as const).map((mode) => {
        const mine = runs.filter((r) => r.size === size && r.mode === mode);
        return {
          name: `${size} images, ${mode}`,
          x: xs,
          y: xs.map((_, i) => mean(mine.map((r) => r.curve[i]))),
        };
      }),
    );
    const pm = (s: { mean: number; sd: number }) => `${fmt(s.mean)} ± ${fmt(s.sd)}`;
    return {
      data: { source: what, iterations, batchSize: 25, seeds, testImages: test.labels.length, table, runs },
      figures: [
        {
          caption: `Fashion-MNIST test accuracy while training (mean over ${seeds.length} seed${seeds.length > 1 ? "s" : ""}): the network that starts from the MNIST ResNet's weights learns faster from few images.`,
          spec: lineChart(series, {
            title: "Fine-tuned vs from scratch (Fashion-MNIST test accuracy)",
            xTitle: "iterations",
            yTitle: "test accuracy",
            width: 480,
          }),
        },
      ],
      comparison: table.map((t) => ({
        what: `${t.size} Fashion-MNIST images: test accuracy from scratch / fine-tuned`,
        book: "a trained network's weights are a better start (§8.2.3)",
        ours: `${pm(t.scratch)} / ${pm(t.fineTuned)}`,
      })),
      summary: `Fine-tuned from the MNIST ResNet vs from scratch, Fashion-MNIST test accuracy: ${table
        .map((t) => `${t.size} images ${fmt(t.fineTuned.mean)} vs ${fmt(t.scratch.mean)}`)
        .join("; ")}.`,
    };
  },
};

/** Trains `model` on `train` for `iterations` (Adam, batch 25); test accuracy every `every` iterations. */
async function train1(
  model: Graph,
  train: Dataset,
  test: Dataset,
  iterations: number,
  every: number,
  seed: number,
): Promise<number[]> {
  const curve = [model.accuracy(test.x, test.labels)];
  const trainer = new Trainer({
    model,
    optimizer: new Adam({ lr: 0.001 }),
    train,
    test,
    iterations,
    batchSize: 25,
    rng: new Rng(seed + 7), // the same batches for both modes
    evalSampleSize: 1,
  });
  for (const event of trainer.steps()) {
    if (event.type === "iteration" && event.iteration % every === 0)
      curve.push(model.accuracy(test.x, test.labels));
    await breathe();
  }
  return curve;
}

/** The MNIST ResNet: the pretrained file, else one trained here briefly. */
async function sourceModel(
  quick: boolean,
  seed: number,
  log: (m: string) => void,
): Promise<{ model: Graph; what: string }> {
  try {
    await readFile(SOURCE_MODEL);
    log(`  source: the pretrained models/resnet.safetensors`);
    return {
      model: (await loadModel(SOURCE_MODEL)).model as Graph,
      what: "pretrained models/resnet.safetensors",
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const images = quick ? 2000 : 20000;
  const mnist = await mnistImages();
  const model = new ResNet({}, new Rng(seed));
  const trainer = new Trainer({
    model,
    optimizer: new Adam({ lr: 0.001 }),
    train: subset(mnist.train, images),
    test: subset(mnist.test, 500),
    epochs: 1,
    batchSize: 50,
    rng: new Rng(seed + 1),
  });
  for (const event of trainer.steps()) {
    if (event.type === "iteration" && event.iteration % 20 === 0)
      log(`  training the MNIST ResNet: iteration ${event.iteration}/${event.iterations}`);
    await breathe();
  }
  return {
    model,
    what: `no models/resnet.safetensors: a ResNet trained here for 1 epoch on ${images} MNIST images`,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}

function stats(xs: readonly number[]): { mean: number; sd: number } {
  const m = mean(xs);
  return { mean: m, sd: Math.sqrt(mean(xs.map((v) => (v - m) ** 2))) };
}
