/**
 * `zerodl gan`: trains a DCGAN (book §8.5.2) with a progress bar and saves its generator as a model
 * file, with the loss history (JSON), a chart of the two losses and a grid of samples beside it.
 * `zerodl generate MODEL`: draws images from such a generator into a PNG grid, and with --score
 * measures them with a trained classifier (confidence, class spread, Fréchet distance).
 */
import cliProgress from "cli-progress";
import { rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import {
  loadGanCheckpoint,
  saveGanCheckpoint,
  type GanSession,
  type GanTrainingState,
} from "../io/gan-checkpoint.js";
import { loadGenerator } from "../io/generator-file.js";
import { loadModel, saveModel, type ModelRecord } from "../io/model-file.js";
import { createDcgan, fromTanhRange, generateImages } from "../models/dcgan.js";
import type { LayerChain } from "../models/layer-chain.js";
import { ganLossChart } from "../plot/gan-charts.js";
import { writeChart } from "../plot/render.js";
import { encodeGrayPng, tileImages } from "../plot/tiles.js";
import { Rng } from "../rng.js";
import { recordIteration, type GanHistory } from "../train/gan.js";
import { sampleQuality, type SampleQuality } from "../train/sample-quality.js";
import { cosineSchedule } from "../train/trainer.js";
import type { LrScheduleName } from "./train.js";
import { packageRoot } from "../data/node/files.js";
import { CliError, chooseBackend, loadData, percent, stripExtension, type CliIo } from "./common.js";

export interface GanOptions {
  data: string;
  iterations?: number;
  epochs?: number;
  batchSize: number;
  lr: number;
  /** The discriminator's learning rate (default: --lr). */
  discriminatorLr?: number;
  lrSchedule: LrScheduleName;
  /** The discriminator's target for real images (one-sided label smoothing below 1). */
  realLabel: number;
  beta1: number;
  latent: number;
  /** InfoGAN's categorical code: its categories (0: none). */
  categories: number;
  /** InfoGAN's λ. */
  infoWeight: number;
  /** AC-GAN: the code is the data's class (its categories are the classes). */
  conditional?: boolean;
  generatorChannels: number[];
  discriminatorChannels: number[];
  /** Batch normalization in the discriminator's second block (default true; --no-discriminator-batch-norm). */
  discriminatorBatchNorm: boolean;
  /** Keep an exponential moving average of the generator's weights with this decay and save it (0: none). */
  average: number;
  seed: number;
  /** Default runs/dcgan.safetensors, or the checkpointed run's. */
  out?: string;
  /** Also save the generator every this many iterations, as OUT.itN.safetensors. */
  saveEvery?: number;
  /** Write OUT.checkpoint.safetensors every this many iterations (and when interrupted). */
  checkpointEvery: number;
  /** Continue the run of this checkpoint. */
  resume?: string;
  /** Keep the checkpoint when the run completes (to train it further later). */
  keepCheckpoint?: boolean;
  /** Stop after this many iterations of this session as if interrupted (for tests of checkpointing). */
  stopAfter?: number;
  backend?: "fast" | "reference";
  threads?: number;
}

/** What a run is defined by: stored in the generator file and the checkpoint (read back on --resume). */
type GanSettings = {
  model: "dcgan";
  data: string;
  images: number;
  imageShape: number[];
  latentSize: number;
  /** InfoGAN's code; absent in files of runs from before it: then 0 (none). */
  categories?: number;
  /** Absent unless `categories`. */
  infoWeight?: number;
  /** A class-conditional run (AC-GAN): the code is the class. Absent: false. */
  conditional?: boolean;
  generatorChannels: [number, number];
  discriminatorChannels: [number, number];
  /** Absent in files of runs from before it could be turned off: then true. */
  discriminatorBatchNorm?: boolean;
  iterations: number;
  batchSize: number;
  optimizer: "adam";
  /** The generator's learning rate, and the discriminator's unless `discriminatorLr` differs. */
  lr: number;
  /** Absent in files of runs from before it could differ: then `lr`. */
  discriminatorLr?: number;
  /** Absent in files of runs from before schedules: then "constant". */
  lrSchedule?: LrScheduleName;
  /** Absent in files of runs from before it could be set: then 1. */
  realLabel?: number;
  beta1: number;
  /** The decay of the generator's weight average (0: none; the file then holds the last step's weights). */
  averageDecay: number;
  seed: number;
  /** Where the generator goes (kept in the checkpoint only). */
  out: string;
};

/** The seed of the sample grid saved beside a trained generator (and of `generate`'s default). */
const SAMPLE_SEED = 1;

/**
 * The PNG of 100 samples saved beside a trained generator: a 10 × 10 grid at scale 2, with a code
 * of at most 10 categories one category per column (so a class-conditional generator's columns are
 * its classes).
 */
function sampleGrid(generator: LayerChain): Uint8Array {
  const K = generator.spec.categories ?? 0;
  const codes = K > 0 && K <= 10 ? Array.from({ length: 100 }, (_, i) => (i % 10) % K) : undefined;
  const samples = generateImages(generator, 100, new Rng(SAMPLE_SEED), 500, codes);
  return encodeGrayPng(tileImages(samples, { columns: 10, scale: 2 }));
}

/** Resolves to the exit code: 0, or 130 (as for SIGINT) when interrupted and checkpointed. */
export async function ganCommand(options: GanOptions, io: CliIo): Promise<number> {
  const resumed = options.resume ? await loadGanCheckpoint(options.resume) : null;
  if (!resumed && (options.iterations === undefined) === (options.epochs === undefined)) {
    throw new CliError(`give either --iterations or --epochs`);
  }
  if (resumed && options.epochs !== undefined) {
    throw new CliError(
      `--resume continues a run of a number of iterations: give --iterations N to extend it`,
    );
  }
  for (const [flag, list] of [
    ["--generator-channels", options.generatorChannels],
    ["--discriminator-channels", options.discriminatorChannels],
  ] as const) {
    if (list.length !== 2) throw new CliError(`${flag} takes two sizes, like 64,32; got ${list.join(",")}`);
  }
  io.err(await chooseBackend(options.backend, options.threads));
  const stored = resumed?.settings as GanSettings | undefined;
  if (resumed && stored) {
    // --iterations equal to those done finishes the run where it stands (saves its generator).
    const done = resumed.position.iteration;
    const total = options.iterations ?? stored.iterations;
    if ((stored.lrSchedule ?? "constant") !== "constant" && total !== stored.iterations) {
      throw new CliError(
        `--resume ${options.resume}: the run's learning rate follows a ${stored.lrSchedule} schedule over its ` +
          `${stored.iterations} iterations, so it cannot be cut short or extended (--iterations ${total})`,
      );
    }
    if (total < done || (total === done && options.iterations === undefined)) {
      throw new CliError(
        `--resume ${options.resume}: ${done} iterations are done` +
          (options.iterations === undefined ? ` (all of the run's)` : `, more than --iterations ${total}`) +
          `; give --iterations with a larger total to train on (or ${done} to finish the run there)`,
      );
    }
  }
  const dataName = stored?.data ?? options.data;
  const seed = stored?.seed ?? options.seed;
  const data = await loadData(dataName, "train", io, seed);
  const images = data.train.x;
  if (images.ndim !== 4 || images.shape[2] % 4 !== 0 || images.shape[3] % 4 !== 0) {
    throw new CliError(
      `--data ${dataName}: the DCGAN needs (N, C, H, W) images with H and W multiples of 4, got (${images.shape.join(", ")})`,
    );
  }
  if (stored && stored.images !== images.shape[0]) {
    throw new CliError(
      `--resume ${options.resume}: the run trained on ${stored.images} ${dataName} images, this data set has ${images.shape[0]}`,
    );
  }
  if (!stored && options.conditional && options.categories !== 0) {
    throw new CliError(
      `--conditional takes the code's categories from the data's classes; leave out --categories ${options.categories}`,
    );
  }
  const conditional = stored?.conditional ?? options.conditional ?? false;
  const dcgan = stored ?? {
    latentSize: options.latent,
    categories: options.conditional ? data.classNames.length : options.categories,
    infoWeight: options.infoWeight,
    generatorChannels: options.generatorChannels as [number, number],
    discriminatorChannels: options.discriminatorChannels as [number, number],
    discriminatorBatchNorm: options.discriminatorBatchNorm,
    batchSize: options.batchSize,
    lr: options.lr,
    discriminatorLr: options.discriminatorLr,
    lrSchedule: options.lrSchedule,
    realLabel: options.realLabel,
    beta1: options.beta1,
    averageDecay: options.average,
  };
  const discriminatorLr = dcgan.discriminatorLr ?? dcgan.lr;
  const lrSchedule = dcgan.lrSchedule ?? "constant";
  const realLabel = dcgan.realLabel ?? 1;
  const categories = dcgan.categories ?? 0;
  if (conditional && categories !== data.classNames.length) {
    throw new CliError(
      `--data ${dataName}: a class-conditional run needs the ${categories} classes it was trained on, this data set has ${data.classNames.length}`,
    );
  }
  const { generator, discriminator, trainer, average } = createDcgan({
    latentSize: dcgan.latentSize,
    categories,
    infoWeight: dcgan.infoWeight,
    ...(conditional ? { labels: data.train.labels, classes: [...data.classNames] } : {}),
    generatorChannels: dcgan.generatorChannels,
    discriminatorChannels: dcgan.discriminatorChannels,
    discriminatorBatchNorm: dcgan.discriminatorBatchNorm ?? true,
    batchSize: dcgan.batchSize,
    lr: dcgan.lr,
    discriminatorLr,
    lrSchedule: lrSchedule === "cosine" ? cosineSchedule : undefined,
    realLabel,
    beta1: dcgan.beta1,
    averageDecay: dcgan.averageDecay,
    images,
    epochs: stored ? undefined : options.epochs,
    iterations: stored ? (options.iterations ?? stored.iterations) : options.iterations,
    seed,
    resume: resumed?.position,
  });
  const state: GanTrainingState = {
    generator,
    discriminator,
    generatorOptimizer: trainer.generatorOptimizer,
    discriminatorOptimizer: trainer.discriminatorOptimizer,
    average,
  };
  resumed?.restore(state);
  const settings: GanSettings = {
    model: "dcgan",
    data: dataName,
    images: images.shape[0],
    imageShape: images.shape.slice(1),
    latentSize: dcgan.latentSize,
    ...(categories > 0 ? { categories, infoWeight: trainer.infoWeight } : {}),
    ...(conditional ? { conditional } : {}),
    generatorChannels: dcgan.generatorChannels,
    discriminatorChannels: dcgan.discriminatorChannels,
    discriminatorBatchNorm: dcgan.discriminatorBatchNorm ?? true,
    iterations: trainer.iterations,
    batchSize: dcgan.batchSize,
    optimizer: "adam",
    lr: dcgan.lr,
    discriminatorLr,
    lrSchedule,
    realLabel,
    beta1: dcgan.beta1,
    averageDecay: dcgan.averageDecay,
    seed,
    out: options.out ?? stored?.out ?? "runs/dcgan.safetensors",
  };
  const base = stripExtension(settings.out);
  // What the files record of the run (where they were written is no part of it; the checkpoint keeps it).
  const { out: _out, ...runSettings } = settings;
  const checkpointPath = `${base}.checkpoint.safetensors`;
  // The generator a run saves: the weight average when it keeps one.
  const drawn = average?.generator ?? generator;
  if (resumed) {
    io.err(`resuming ${options.resume}: ${trainer.iteration} of ${trainer.iterations} iterations done`);
  } else {
    io.err(
      `training a DCGAN on ${images.shape[0]} ${dataName} images: ${trainer.iterations} iterations of ` +
        `${settings.batchSize} real + ${settings.batchSize} generated images (Adam lr ${settings.lr}` +
        `${discriminatorLr !== settings.lr ? ` (discriminator ${discriminatorLr})` : ""}` +
        `${lrSchedule !== "constant" ? `, ${lrSchedule} decay to 0` : ""}, β1 ${settings.beta1}, ` +
        `${realLabel !== 1 ? `real label ${realLabel}, ` : ""}` +
        `${categories > 0 ? `${conditional ? "class-conditional (AC-GAN)" : "InfoGAN"} code of ${categories} categories (λ ${trainer.infoWeight}), ` : ""}` +
        `${settings.averageDecay > 0 ? `generator weight average ${settings.averageDecay}, ` : ""}seed ${seed})`,
    );
  }

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
  const history: GanHistory = resumed?.history ?? { dLoss: [], gLoss: [], dReal: [], dFake: [] };
  const sessions: GanSession[] = [...(resumed?.sessions ?? [])];
  const first = trainer.iteration;
  // Ctrl-C (or SIGTERM, as `timeout` sends) stops after the current iteration and saves a
  // checkpoint that --resume continues exactly.
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop at once
    interrupted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const load: [number, number] = [loadavg()[0], loadavg()[0]];
  /** This session's record so far. */
  const session = (): GanSession => {
    const cpu = process.cpuUsage(cpu0);
    const now = loadavg()[0];
    load[0] = Math.min(load[0], now);
    load[1] = Math.max(load[1], now);
    return {
      from: first,
      to: trainer.iteration,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      load: [Math.round(load[0] * 10) / 10, Math.round(load[1] * 10) / 10],
    };
  };
  const checkpoint = async () => {
    const record = { settings, position: trainer.position(), history, sessions: [...sessions, session()] };
    await saveGanCheckpoint(checkpointPath, state, record);
  };
  bar?.start(trainer.iterations, first, { d: "-", g: "-", rate: "-" });
  try {
    for (const event of trainer.steps()) {
      if (event.type === "iteration") {
        recordIteration(history, event);
        const rate = (event.iteration - first) / ((performance.now() - t0) / 1000);
        bar?.update(event.iteration, {
          d: event.dLoss.toFixed(3),
          g: event.gLoss.toFixed(3),
          rate: rate.toFixed(2),
        });
        if (options.saveEvery !== undefined && event.iteration % options.saveEvery === 0) {
          const training = { ...runSettings, iterations: event.iteration };
          await saveModel(`${base}.it${event.iteration}.safetensors`, drawn, { training });
          if (average)
            await saveModel(`${base}.it${event.iteration}.last.safetensors`, generator, { training });
        }
        if (options.stopAfter !== undefined && event.iteration - first >= options.stopAfter)
          interrupted = true;
        if (
          !interrupted &&
          event.iteration % options.checkpointEvery === 0 &&
          event.iteration < trainer.iterations
        ) {
          await checkpoint();
          if (!bar) {
            io.err(
              `iteration ${event.iteration}/${trainer.iterations}: D loss ${event.dLoss.toFixed(3)}, G loss ${event.gLoss.toFixed(3)}, ` +
                `${rate.toFixed(2)} it/s; checkpoint ${checkpointPath}`,
            );
          }
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
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (interrupted && trainer.iteration < trainer.iterations) {
    await checkpoint();
    io.err(
      `interrupted after iteration ${trainer.iteration} of ${trainer.iterations}: checkpoint saved to ${checkpointPath}`,
    );
    io.err(`continue with: zerodl gan --resume ${checkpointPath}`);
    return 130;
  }
  sessions.push(session());
  const results = {
    // Over every session of the run (a resumed run adds them up; `sessions` has each).
    seconds: Math.round(sessions.reduce((s, x) => s + x.seconds, 0) * 10) / 10,
    // Every thread of the process (the kernels' workers too): what the run costs on an idle machine.
    cpuSeconds: Math.round(sessions.reduce((s, x) => s + x.cpuSeconds, 0) * 10) / 10,
    dLoss: history.dLoss.at(-1),
    gLoss: history.gLoss.at(-1),
    sessions,
  };
  const record: ModelRecord = { training: runSettings, history, results };
  await saveModel(settings.out, drawn, record);
  if (options.keepCheckpoint) {
    await checkpoint();
  } else {
    await rm(checkpointPath, { force: true });
    if (options.resume && options.resume !== checkpointPath) await rm(options.resume, { force: true });
  }
  await writeFileAtomic(
    `${base}.history.json`,
    JSON.stringify({ settings: runSettings, results, history }, null, 1),
  );
  const chart = await writeChart(
    ganLossChart(history, {
      title: `${conditional ? "AC-GAN (class-conditional DCGAN)" : categories > 0 ? "InfoGAN" : "DCGAN"} on ${dataName}`,
    }),
    `${base}.history`,
  );
  await writeFileAtomic(`${base}.samples.png`, sampleGrid(drawn));
  io.out(
    `trained in ${results.seconds} s (${results.cpuSeconds} s of CPU time${sessions.length > 1 ? `, ${sessions.length} sessions` : ""}); ` +
      `saved ${settings.out}, ${base}.history.json, ${chart.svg}, ${chart.png}, ${base}.samples.png`,
  );
  return 0;
}

export interface GenerateOptions {
  count: number;
  out?: string;
  seed: number;
  columns?: number;
  scale: number;
  /** Draw every image from this category of an InfoGAN generator's code. */
  code?: number;
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
  const categories = generator.spec.categories ?? 0;
  if (options.code !== undefined && options.code >= categories) {
    throw new CliError(
      categories === 0
        ? `--code ${options.code}: ${model} has no categorical code (it was trained without --categories)`
        : `--code ${options.code}: ${model}'s code has ${categories} categories, 0–${categories - 1}`,
    );
  }
  const images = generateImages(generator, options.count, new Rng(options.seed), 500, options.code);
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
