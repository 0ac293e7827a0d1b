/**
 * `zerodl gan`: trains a DCGAN (book §8.5.2) with a progress bar and saves its generator as a model
 * file, with the loss history (JSON), a chart of the two losses and a grid of samples beside it.
 * `zerodl generate MODEL`: draws images from such a generator into a PNG grid, and with --score
 * measures them with a trained classifier (confidence, class spread, Fréchet distance).
 */
import cliProgress from "cli-progress";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { loadGenerator } from "../io/generator-file.js";
import { loadModel, saveModel, type ModelRecord } from "../io/model-file.js";
import { createDcgan, fromTanhRange, generateImages } from "../models/dcgan.js";
import { ganLossChart } from "../plot/gan-charts.js";
import { writeChart } from "../plot/render.js";
import { encodeGrayPng, tileImages } from "../plot/tiles.js";
import { Rng } from "../rng.js";
import type { GanHistory } from "../train/gan.js";
import { sampleQuality, type SampleQuality } from "../train/sample-quality.js";
import { packageRoot } from "../data/node/files.js";
import { CliError, chooseBackend, loadData, percent, stripExtension, type CliIo } from "./common.js";

export interface GanOptions {
  data: string;
  iterations?: number;
  epochs?: number;
  batchSize: number;
  lr: number;
  beta1: number;
  latent: number;
  generatorChannels: number[];
  discriminatorChannels: number[];
  seed: number;
  out: string;
  /** Also save the generator every this many iterations, as OUT.itN.safetensors. */
  saveEvery?: number;
  backend?: "fast" | "reference";
  threads?: number;
}

/** The seed of the sample grid saved beside a trained generator (and of `generate`'s default). */
const SAMPLE_SEED = 1;

export async function ganCommand(options: GanOptions, io: CliIo): Promise<void> {
  if ((options.iterations === undefined) === (options.epochs === undefined)) {
    throw new CliError(`give either --iterations or --epochs`);
  }
  for (const [flag, list] of [
    ["--generator-channels", options.generatorChannels],
    ["--discriminator-channels", options.discriminatorChannels],
  ] as const) {
    if (list.length !== 2) throw new CliError(`${flag} takes two sizes, like 64,32; got ${list.join(",")}`);
  }
  io.err(await chooseBackend(options.backend, options.threads));
  const data = await loadData(options.data, "train", io, options.seed);
  const images = data.train.x;
  if (images.ndim !== 4 || images.shape[2] % 4 !== 0 || images.shape[3] % 4 !== 0) {
    throw new CliError(
      `--data ${options.data}: the DCGAN needs (N, C, H, W) images with H and W multiples of 4, got (${images.shape.join(", ")})`,
    );
  }
  const dcgan = {
    latentSize: options.latent,
    generatorChannels: options.generatorChannels as [number, number],
    discriminatorChannels: options.discriminatorChannels as [number, number],
  };
  const { generator, trainer } = createDcgan({
    ...dcgan,
    images,
    epochs: options.epochs,
    iterations: options.iterations,
    batchSize: options.batchSize,
    lr: options.lr,
    beta1: options.beta1,
    seed: options.seed,
  });
  const settings = {
    model: "dcgan",
    data: options.data,
    images: images.shape[0],
    imageShape: images.shape.slice(1),
    ...dcgan,
    iterations: trainer.iterations,
    batchSize: options.batchSize,
    optimizer: "adam",
    lr: options.lr,
    beta1: options.beta1,
    seed: options.seed,
  };
  io.err(
    `training a DCGAN on ${images.shape[0]} ${options.data} images: ${trainer.iterations} iterations of ` +
      `${options.batchSize} real + ${options.batchSize} generated images (Adam lr ${options.lr}, β1 ${options.beta1}, seed ${options.seed})`,
  );

  const bar = io.progressStream
    ? new cliProgress.SingleBar(
        {
          stream: io.progressStream,
          format: "[{bar}] {value}/{total} | D {d} G {g} | {rate} it/s | ETA {eta_formatted}",
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const history: GanHistory = { dLoss: [], gLoss: [], dReal: [], dFake: [] };
  const base = stripExtension(options.out);
  // Ctrl-C stops after the current iteration and saves what was trained so far: the first N
  // iterations of a run are the same as a run of --iterations N (same seed).
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop at once
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  bar?.start(trainer.iterations, 0, { d: "-", g: "-", rate: "-" });
  try {
    for (const event of trainer.steps()) {
      if (event.type === "iteration") {
        history.dLoss.push(event.dLoss);
        history.gLoss.push(event.gLoss);
        history.dReal.push(event.dReal);
        history.dFake.push(event.dFake);
        const rate = event.iteration / ((performance.now() - t0) / 1000);
        bar?.update(event.iteration, {
          d: event.dLoss.toFixed(3),
          g: event.gLoss.toFixed(3),
          rate: rate.toFixed(2),
        });
        if (options.saveEvery !== undefined && event.iteration % options.saveEvery === 0) {
          const training = { ...settings, iterations: event.iteration };
          await saveModel(`${base}.it${event.iteration}.safetensors`, generator, { training });
        }
      } else {
        bar?.stop();
        io.out(
          `epoch ${event.epoch}/${trainer.epochs}  D loss ${event.dLoss.toFixed(4)}  G loss ${event.gLoss.toFixed(4)}  ` +
            `(${((performance.now() - t0) / 1000).toFixed(0)} s)`,
        );
        if (event.epoch < trainer.epochs) bar?.start(trainer.iterations, trainer.iteration, {});
      }
      if (interrupted) break;
      // Let Ctrl-C and the progress bar's timer run between iterations.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    bar?.stop();
    process.off("SIGINT", onSigint);
  }
  if (interrupted) {
    io.err(`stopped after iteration ${trainer.iteration} of ${trainer.iterations}`);
    settings.iterations = trainer.iteration;
  }
  const cpu = process.cpuUsage(cpu0);
  const results = {
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    // Every thread of this process (the kernels' workers too): what the run costs on an idle machine.
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    dLoss: history.dLoss.at(-1),
    gLoss: history.gLoss.at(-1),
  };
  const record: ModelRecord = { training: settings, history, results };
  await saveModel(options.out, generator, record);
  await writeFileAtomic(`${base}.history.json`, JSON.stringify({ settings, results, history }, null, 1));
  const chart = await writeChart(
    ganLossChart(history, { title: `DCGAN on ${options.data}` }),
    `${base}.history`,
  );
  const samples = generateImages(generator, 100, new Rng(SAMPLE_SEED));
  await writeFileAtomic(`${base}.samples.png`, encodeGrayPng(tileImages(samples, { columns: 10, scale: 2 })));
  io.out(
    `trained in ${results.seconds} s (${results.cpuSeconds} s of CPU time); saved ${options.out}, ${base}.history.json, ` +
      `${chart.svg}, ${chart.png}, ${base}.samples.png`,
  );
}

export interface GenerateOptions {
  count: number;
  out?: string;
  seed: number;
  columns?: number;
  scale: number;
  score?: boolean;
  classifier?: string;
  json?: boolean;
  backend?: "fast" | "reference";
  threads?: number;
}

/** The bundled classifier that scores a generator trained on each data set. */
const bundledClassifiers: Record<string, string> = {
  mnist: "deep-conv.safetensors",
  "fashion-mnist": "fashion-simple-conv.safetensors",
};

export async function generateCommand(model: string, options: GenerateOptions, io: CliIo): Promise<void> {
  if (options.out === undefined && !options.score) {
    throw new CliError(`nothing to do: give --out grid.png, --score, or both`);
  }
  io.err(await chooseBackend(options.backend, options.threads));
  const { model: generator, info } = await loadGenerator(model);
  const images = generateImages(generator, options.count, new Rng(options.seed));
  if (options.out !== undefined) {
    const columns = options.columns ?? Math.ceil(Math.sqrt(options.count));
    await writeFileAtomic(options.out, encodeGrayPng(tileImages(images, { columns, scale: options.scale })));
    io.err(`wrote ${options.count} images to ${options.out}`);
  }
  if (!options.score) return;
  const data = String(info.training?.data ?? "");
  const classifierPath =
    options.classifier ??
    (bundledClassifiers[data] ? join(packageRoot(), "models", bundledClassifiers[data]) : undefined);
  if (classifierPath === undefined) {
    throw new CliError(
      `--score: ${model} was trained on "${data}", which has no bundled classifier; name one with --classifier FILE`,
    );
  }
  const classifier = (await loadModel(classifierPath)).model;
  if (!("layers" in classifier))
    throw new CliError(`--classifier ${classifierPath}: needs a chain of layers`);
  const real = await loadData(data in bundledClassifiers ? data : "mnist", "eval", io);
  const quality = await sampleQuality(
    classifier as Parameters<typeof sampleQuality>[0],
    fromTanhRange(images),
    real.test.x,
  );
  if (options.json) {
    io.out(JSON.stringify({ model, classifier: classifierPath, seed: options.seed, ...quality }, null, 1));
    return;
  }
  for (const line of qualityLines(quality, real.classNames)) io.out(line);
}

/** The quality report as lines for the terminal. */
export function qualityLines(q: SampleQuality, classNames: readonly string[]): string[] {
  const { report } = q;
  return [
    `${report.count} samples: ${percent(report.confident, 1)} classified with confidence ≥ ${report.threshold} ` +
      `(mean confidence ${percent(report.meanConfidence, 1)})`,
    `classes: ${report.classShares.map((s, i) => `${classNames[i] ?? i} ${percent(s, 1)}`).join("  ")}`,
    `Fréchet distance on the classifier's penultimate features: generated ${q.frechet.toFixed(3)}, ` +
      `real test half against the other (the floor) ${q.frechetFloor.toFixed(3)}`,
  ];
}
