/**
 * `zerodl train`: trains one of the book's networks with a progress bar, then saves the model, its
 * history (JSON) and a loss/accuracy chart beside it. Ctrl-C stops after the current mini-batch and
 * saves a checkpoint that `--resume` continues from.
 */
import { rm } from "node:fs/promises";
import cliProgress from "cli-progress";
import { kernels } from "../backend/index.js";
import { Rng, type RngState } from "../rng.js";
import type { DType, Floats } from "../ndarray.js";
import {
  createModel,
  modelKinds as allModelKinds,
  type Model,
  type ModelKind as AnyModelKind,
  type ModelSpec,
} from "../models/model.js";
import { createOptimizer, type OptimizerName } from "../optimizers/optimizer.js";
import { Trainer, cosineSchedule, type History, type TrainerPosition } from "../train/trainer.js";
import { Graph } from "../models/graph.js";
import { copyMatchingWeights } from "../models/transfer.js";
import { Dropout } from "../layers/dropout.js";
import type { Layer } from "../layers/layer.js";
import { splitValidation, type Dataset } from "../data/dataset.js";
import {
  compose,
  onFlatImages,
  randomFlip,
  randomRotation,
  randomScale,
  randomShift,
  type Augment,
} from "../data/augment.js";
import { loadModel, saveModel, type ModelRecord } from "../io/model-file.js";
import { writeFileAtomic } from "../io/atomic.js";
import { lossAccuracyChart } from "../plot/charts.js";
import { writeChart } from "../plot/render.js";
import {
  CliError,
  chooseBackend,
  limitRows,
  loadData,
  percent,
  stripExtension,
  toModelInput,
  type BackendName,
  type CliIo,
  type DownloadCliOptions,
} from "./common.js";

/** The networks `train --model` builds by name (a "sequential" or "graph" spec needs its layers). */
export type ModelKind = Exclude<AnyModelKind, "sequential" | "graph">;
export const modelKinds = allModelKinds.filter(
  (kind): kind is ModelKind => kind !== "sequential" && kind !== "graph",
);

/** Options as commander parses them (numbers already converted). */
export interface TrainOptions extends DownloadCliOptions {
  model?: ModelKind;
  data: string;
  epochs?: number;
  batchSize: number;
  optimizer?: OptimizerName;
  lr?: number;
  activation?: "relu" | "sigmoid" | "tanh";
  weightDecay?: number;
  dropout?: number;
  batchnorm?: boolean;
  init?: string;
  hidden?: number[];
  /** `--augment` alone: the book's set; `--augment flip,shift`: those transforms. */
  augment?: AugmentName[] | true;
  valSplit?: number;
  seed: number;
  threads?: number;
  backend?: BackendName;
  half?: boolean;
  limit?: number;
  testLimit?: number;
  evalSamples?: number;
  dtype: DType;
  out?: string;
  resume?: string;
  lrSchedule?: LrScheduleName;
  initFrom?: string;
  keepHead?: boolean;
  freeze?: string[];
  /** Stop after this many iterations as if Ctrl-C was pressed (for tests of checkpointing). */
  stopAfter?: number;
}

/** The settings a run is defined by, stored in the model file's metadata (and read back on --resume). */
interface Settings {
  model: ModelKind;
  data: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  activation?: "relu" | "sigmoid" | "tanh";
  weightDecay: number;
  /**
   * The dropout ratio: as given (undefined: the network's own default), then, once the network is
   * built, the ratio its Dropout layers really have (0 for a network without any), as recorded.
   */
  dropout?: number;
  batchnorm: boolean;
  init?: string;
  hidden?: number[];
  /**
   * The augmentation: false (none) or its transforms in the order applied, comma-separated, like
   * "shift,rotate,scale". (Files written before the list existed hold true for the book's set.)
   */
  augment: false | string;
  valSplit: number;
  seed: number;
  limit?: number;
  testLimit?: number;
  evalSamples?: number;
  dtype: DType;
  classNames?: readonly string[];
  lrSchedule?: LrScheduleName;
  /** Transfer learning (book §8.2.3): the model file the weights started from, and what stayed frozen. */
  initFrom?: string;
  /** True when the classifier came from the `initFrom` file too (the same task, trained further). */
  keepHead?: boolean;
  freeze?: string[];
}

/** `--lr-schedule`: the learning rate over the run. */
export type LrScheduleName = "constant" | "cosine";
export const lrScheduleNames: readonly LrScheduleName[] = ["constant", "cosine"];

/** Where an interrupted run stopped. */
interface CheckpointState {
  epochsDone: number;
  iterationsDone: number;
  out: string;
  half: boolean;
  /**
   * What continues the run exactly: the trainer's position (batch order, augmentation), the
   * model's random generators (dropout) and the optimizer's step count; the optimizer's buffers
   * are tensors in the checkpoint file. (Checkpoints written before these existed lack them: such
   * a run restarts its interrupted epoch with fresh batches and optimizer state.)
   */
  trainer?: TrainerPosition;
  randomState?: RngState[];
  optimizerStep?: number;
}

/** The book's choices: SGD lr 0.1 for the fully connected nets (ch. 4–6), Adam lr 0.001 for the conv nets (ch. 7–8). */
function defaultOptimizer(kind: ModelKind): { optimizer: OptimizerName; lr: number } {
  return isFullyConnected(kind) ? { optimizer: "sgd", lr: 0.1 } : { optimizer: "adam", lr: 0.001 };
}

function isFullyConnected(kind: ModelKind): boolean {
  return kind === "two-layer" || kind === "multi-layer" || kind === "multi-layer-extend";
}

/** The CLI options that shape a network; which ones each kind takes is in `specFor`. */
type ArchitectureOption = "hidden" | "activation" | "init" | "weightDecay" | "dropout" | "batchnorm";
const flagOf: Record<ArchitectureOption, string> = {
  hidden: "--hidden",
  activation: "--activation",
  init: "--init",
  weightDecay: "--weight-decay",
  dropout: "--dropout",
  batchnorm: "--batchnorm",
};

/**
 * The model spec for `createModel` from the CLI settings, in each network's own option names.
 * An option the network does not have is an error naming the ones it has.
 */
export function specFor(s: Settings, inputShape: number[], outputSize: number): ModelSpec {
  const init = s.init === undefined ? undefined : Number.isFinite(Number(s.init)) ? Number(s.init) : s.init;
  const decay = s.weightDecay || undefined;
  const one = (what: string) => {
    if (s.hidden && s.hidden.length !== 1)
      throw new CliError(`${what} has one hidden layer: give --hidden one size`);
    return s.hidden?.[0];
  };
  let accepts: ArchitectureOption[];
  let options: Record<string, unknown>;
  const kind = s.model;
  switch (kind) {
    case "two-layer":
      accepts = ["hidden", "activation", "init"];
      if (typeof init === "string")
        throw new CliError(`two-layer takes a numeric --init (a std like 0.01), got ${init}`);
      // Book §4.5: hidden_size=50, weight_init_std=0.01.
      options = { hiddenSize: one("two-layer") ?? 50, weightInitStd: init, activation: s.activation };
      break;
    case "multi-layer":
    case "multi-layer-extend":
      accepts = ["hidden", "activation", "init", "weightDecay"];
      // Book §6.2.4: hidden_size_list=[100, 100, 100, 100].
      options = {
        hiddenSizeList: s.hidden ?? [100, 100, 100, 100],
        activation: s.activation,
        weightInitStd: init,
        weightDecayLambda: decay,
      };
      if (kind === "multi-layer-extend") {
        accepts.push("dropout", "batchnorm");
        options.useBatchnorm = s.batchnorm || undefined;
        options.useDropout = s.dropout === undefined ? undefined : s.dropout > 0;
        options.dropoutRatio = s.dropout || undefined;
      }
      break;
    case "simple-conv":
      accepts = ["hidden", "init", "weightDecay"];
      options = { hiddenSize: one("simple-conv"), weightInitStd: init, weightDecayLambda: decay };
      break;
    case "deep-conv":
      accepts = ["hidden", "dropout", "init", "weightDecay"];
      options = {
        hiddenSize: one("deep-conv"),
        dropoutRatio: s.dropout, // --dropout 0 is no dropout, not the default 0.5
        weightInitStd: init,
        weightDecayLambda: decay,
      };
      break;
    case "lenet":
      accepts = ["hidden", "init", "weightDecay"];
      options = { hiddenSizes: s.hidden, weightInitStd: init, weightDecayLambda: decay };
      break;
    case "alexnet":
      accepts = ["hidden", "dropout", "init", "weightDecay"];
      options = {
        hiddenSizes: s.hidden,
        dropoutRatio: s.dropout,
        weightInitStd: init,
        weightDecayLambda: decay,
      };
      break;
    case "vgg":
      accepts = ["hidden", "dropout", "weightDecay"];
      options = { hiddenSize: one("vgg"), dropoutRatio: s.dropout || undefined, weightDecayLambda: decay };
      break;
    case "googlenet":
      accepts = ["dropout", "weightDecay"];
      options = { dropoutRatio: s.dropout || undefined, weightDecayLambda: decay };
      break;
    case "resnet":
      accepts = ["weightDecay"];
      options = { weightDecayLambda: decay };
      break;
    default: {
      const unknown: never = kind;
      throw new CliError(`unknown model ${unknown}`);
    }
  }
  const given: Record<ArchitectureOption, boolean> = {
    hidden: s.hidden !== undefined,
    activation: s.activation !== undefined,
    init: s.init !== undefined,
    weightDecay: s.weightDecay > 0,
    dropout: (s.dropout ?? 0) > 0,
    batchnorm: s.batchnorm,
  };
  for (const option of Object.keys(given) as ArchitectureOption[]) {
    if (given[option] && !accepts.includes(option)) {
      throw new CliError(
        `${kind} has no ${flagOf[option]} option; its options: ${accepts.map((o) => flagOf[o]).join(", ")}`,
      );
    }
  }
  // Unset options are left out so the network's own (book) defaults apply.
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { kind, inputShape, outputSize, ...defined };
}

/**
 * `--augment`'s transforms, drawn per image and mini-batch. The book's set (§8.1.2, for digits) is
 * shift, rotate and scale; flip suits pictures whose mirror image is the same class (clothes), not
 * digits.
 */
export const augmentTransforms = {
  shift: { make: () => randomShift(2), what: "whole-pixel shifts of up to ±2 px each way" },
  rotate: { make: () => randomRotation(10), what: "rotations by up to ±10°" },
  scale: { make: () => randomScale(0.9, 1.1), what: "scalings by 0.9–1.1" },
  flip: { make: () => randomFlip(0.5), what: "left–right mirroring with probability ½" },
} as const;
export type AugmentName = keyof typeof augmentTransforms;
export const augmentNames = Object.keys(augmentTransforms) as AugmentName[];
/** What `--augment` without a list means (and `augment: true` in older files): the book's set. */
export const bookAugment: readonly AugmentName[] = ["shift", "rotate", "scale"];

/** What is wrong with a list of `--augment` transform names (unknown or repeated), or null. */
export function augmentProblem(names: readonly string[]): string | null {
  const unknown = names.filter((n) => !(n in augmentTransforms));
  if (unknown.length) return `unknown transform ${unknown.join(", ")}; valid: ${augmentNames.join(", ")}`;
  if (new Set(names).size < names.length) return "a transform is named twice";
  return null;
}

/** The augmentation a record's setting names: its transforms, in order ([] for none). */
function augmentList(setting: boolean | string | undefined): AugmentName[] {
  if (setting === true) return [...bookAugment];
  if (!setting) return [];
  const names = setting.split(",");
  const problem = augmentProblem(names);
  if (problem) throw new CliError(`augment "${setting}": ${problem}`);
  return names as AugmentName[];
}

/** The Trainer's augment for these transforms. Flat models see rows, so the image shape is given explicitly. */
function augmentFor(
  names: readonly AugmentName[],
  modelInput: readonly number[],
  imageShape: readonly number[],
): Augment {
  const images = compose(...names.map((name) => augmentTransforms[name].make()));
  if (modelInput.length === 3) return images;
  if (imageShape.length !== 3)
    throw new CliError(`--augment needs image data, got samples of shape [${imageShape.join(", ")}]`);
  return onFlatImages(imageShape as [number, number, number], images);
}

/** The ratio of the network's Dropout layers (0 when it has none), as `zerodl info` shows it. */
export function dropoutOf(model: Model): number {
  const layers = (model as { layers?: readonly Layer[] }).layers ?? [];
  const ratios = new Set(layers.filter((l): l is Dropout => l instanceof Dropout).map((l) => l.ratio));
  if (ratios.size > 1) {
    throw new CliError(
      `${model.spec.kind} has dropout layers of ratios ${[...ratios].join(", ")}: one setting cannot record them`,
    );
  }
  return ratios.size === 1 ? [...ratios][0] : 0;
}

/**
 * What the loss chart says about the curve of a net whose last layer is dropout (the book's
 * DeepConvNet): every training loss drops class scores, so it stays high while the accuracy,
 * measured without dropout, climbs.
 */
export function lossNoteOf(model: Model): string[] | undefined {
  const last = ((model as { layers?: readonly Layer[] }).layers ?? []).at(-1);
  if (!(last instanceof Dropout)) return undefined;
  return [
    `training loss, with dropout (ratio ${last.ratio}) on the class scores:`,
    "it stays high; accuracy is measured without dropout",
  ];
}

/** A run to continue: its settings, model, history so far and where it stopped. */
interface Resumed {
  settings: Settings;
  model: Model;
  history: History | undefined;
  state: CheckpointState;
  optimizerState: Record<string, Floats>;
}

async function loadCheckpoint(path: string, options: TrainOptions): Promise<Resumed> {
  const { model, info, optimizerState = {} } = await loadModel(path);
  const { checkpoint, ...stored } = info.training ?? {};
  if (checkpoint === undefined) {
    throw new CliError(`--resume ${path}: not a checkpoint (no checkpoint state in its metadata)`);
  }
  const settings = stored as unknown as Settings;
  if (options.epochs !== undefined) settings.epochs = options.epochs;
  const state = checkpoint as CheckpointState;
  if (state.epochsDone >= settings.epochs) {
    throw new CliError(
      `--resume ${path}: all ${settings.epochs} epochs are done; give --epochs with a larger total to train on`,
    );
  }
  return { settings, model, history: info.history as History | undefined, state, optimizerState };
}

/** The settings of a new run from the command line, with the book's defaults filled in. */
function newSettings(options: TrainOptions & { model: ModelKind }): Settings {
  const d = defaultOptimizer(options.model);
  return {
    model: options.model,
    data: options.data,
    epochs: options.epochs ?? 5,
    batchSize: options.batchSize,
    optimizer: options.optimizer ?? d.optimizer,
    lr: options.lr ?? d.lr,
    activation: options.activation,
    weightDecay: options.weightDecay ?? 0,
    dropout: options.dropout,
    batchnorm: !!options.batchnorm,
    init: options.init,
    hidden: options.hidden,
    augment: !options.augment ? false : (options.augment === true ? bookAugment : options.augment).join(","),
    valSplit: options.valSplit ?? 0,
    seed: options.seed,
    limit: options.limit,
    testLimit: options.testLimit,
    evalSamples: options.evalSamples,
    dtype: options.dtype,
    lrSchedule: options.lrSchedule,
    initFrom: options.initFrom,
    keepHead: options.keepHead || undefined,
    freeze: options.freeze,
  };
}

/**
 * `--init-from`: the new model starts from a trained one's weights wherever names and shapes
 * agree; the head (the classifier) is replaced, or with `--keep-head` copied too.
 */
async function initFrom(model: Model, path: string, keepHead: boolean, io: CliIo): Promise<void> {
  if (!(model instanceof Graph))
    throw new CliError(`--init-from: a ${model.spec.kind} model cannot take weights`);
  const { model: source } = await loadModel(path);
  let report;
  try {
    report = copyMatchingWeights(model, source as Graph, { head: keepHead ? "copy" : "replace" });
  } catch (e) {
    throw new CliError(`--init-from ${path}: ${(e as Error).message}`);
  }
  const kept = report.kept.map((k) => `${k.name} (${k.reason})`);
  io.err(
    `initialized from ${path}: ${report.copied.length} of ${report.copied.length + report.kept.length} tensors copied` +
      (kept.length ? `; fresh: ${kept.join(", ")}` : ""),
  );
}

/** `--freeze`: node names, name prefixes or param names whose params training leaves alone. */
function freezeParams(model: Model, names: readonly string[]): string[] {
  if (!(model instanceof Graph))
    throw new CliError(`--freeze: a ${model.spec.kind} model cannot freeze layers`);
  try {
    return model.freeze(names);
  } catch (e) {
    throw new CliError(`--freeze: ${(e as Error).message}`);
  }
}

/** Resolves to the exit code: 0, or 130 (as for SIGINT) when interrupted and checkpointed. */
export async function trainCommand(options: TrainOptions, io: CliIo): Promise<number> {
  let resumed: Resumed | null = null;
  if (options.resume) {
    resumed = await loadCheckpoint(options.resume, options);
    io.err(
      `resuming ${options.resume}: ${resumed.state.epochsDone} of ${resumed.settings.epochs} epochs done`,
    );
  } else {
    if (!options.model) throw new CliError(`train needs --model (or --resume CHECKPOINT)`);
    if (!options.out) throw new CliError(`train needs --out MODEL.safetensors`);
  }
  const settings = resumed?.settings ?? newSettings(options as TrainOptions & { model: ModelKind });
  const start: CheckpointState = {
    epochsDone: resumed?.state.epochsDone ?? 0,
    iterationsDone: resumed?.state.iterationsDone ?? 0,
    out: options.out ?? resumed?.state.out ?? "",
    half: options.half ?? resumed?.state.half ?? false,
  };
  if (!start.out.endsWith(".safetensors"))
    throw new CliError(`--out ${start.out}: the model file must end in .safetensors`);

  specFor(settings, [1], 1); // refuse options the network does not have before loading anything
  const augments = augmentList(settings.augment);
  if (settings.keepHead && !settings.initFrom) throw new CliError(`--keep-head needs --init-from MODEL`);
  io.err(await chooseBackend(options.backend, options.threads));

  // Data: the test set stays untouched; a validation split comes out of the training set (book §6.5).
  const data = await loadData(settings.data, "train", io, settings.seed, options);
  settings.classNames = data.classNames;
  let train: Dataset = limitRows(data.train, settings.limit);
  const test = limitRows(data.test, settings.testLimit ?? settings.limit);
  let validation: Dataset | undefined;
  if (settings.valSplit > 0) {
    ({ train, validation } = splitValidation(train, settings.valSplit, new Rng(settings.seed)));
  }
  const inputShape = train.x.shape.slice(1) as number[];
  // A checkpoint with the trainer's position continues the run exactly (its generators' states are
  // restored from it); an older one draws its batches anew from the seed and the epochs done.
  const position = resumed?.state.trainer;
  const rng = new Rng(position ? settings.seed : settings.seed + 1_000_003 * start.epochsDone);
  const modelInput = isFullyConnected(settings.model) ? [inputShape.reduce((p, d) => p * d, 1)] : inputShape;
  const model =
    resumed?.model ??
    createModel(specFor(settings, modelInput, data.classNames.length), rng.split(), settings.dtype);
  if (!resumed && settings.initFrom) await initFrom(model, settings.initFrom, !!settings.keepHead, io);
  if (settings.freeze) {
    const frozen = freezeParams(model, settings.freeze);
    const shown = frozen.length > 6 ? [...frozen.slice(0, 3), "…", ...frozen.slice(-2)] : frozen;
    io.err(`frozen: ${frozen.length} params (${shown.join(", ")})`);
  }
  settings.dropout = dropoutOf(model); // what the record shows is what the network has
  const asInput = (d: Dataset, what: string): Dataset => ({
    ...d,
    x: toModelInput(settings.dtype === "float64" ? d.x.astype("float64") : d.x, model.spec.inputShape, what),
  });

  const optimizer = createOptimizer(settings.optimizer, { lr: settings.lr });
  if (resumed && position) {
    optimizer.setState?.(model.params, {
      step: resumed.state.optimizerStep ?? 0,
      buffers: resumed.optimizerState,
    });
    model.setRandomState?.(resumed.state.randomState ?? []);
  }
  const trainer = new Trainer({
    model: model,
    optimizer,
    train: asInput(train, `${data.source} training set`),
    test: asInput(test, `${data.source} test set`),
    validation: validation && asInput(validation, "validation set"),
    epochs: position ? settings.epochs : settings.epochs - start.epochsDone,
    resume: position,
    batchSize: settings.batchSize,
    rng,
    evalSampleSize: settings.evalSamples,
    augment: augments.length ? augmentFor(augments, model.spec.inputShape, inputShape) : undefined,
    lrSchedule: settings.lrSchedule === "cosine" ? cosineSchedule : undefined,
  });
  io.err(
    `training ${settings.model} on ${data.source}: ${train.labels.length} training, ` +
      `${validation ? `${validation.labels.length} validation, ` : ""}${test.labels.length} test images; ` +
      `${settings.optimizer} lr ${settings.lr}, batch ${settings.batchSize}, ${settings.epochs} epochs, seed ${settings.seed}`,
  );

  const previous = resumed?.history;
  const history: History = {
    loss: [...(previous?.loss ?? [])],
    trainAcc: [...(previous?.trainAcc ?? [])],
    testAcc: [...(previous?.testAcc ?? [])],
    ...(validation ? { valAcc: [...(previous?.valAcc ?? [])] } : {}),
  };
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: stop at once
    interrupted = true;
  };
  process.on("SIGINT", onSigint);

  const bar = io.progressStream
    ? new cliProgress.SingleBar(
        {
          stream: io.progressStream,
          format: "epoch {epoch} [{bar}] {value}/{total} | loss {loss} | {rate} img/s | ETA {eta_formatted}",
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let epochsDone = start.epochsDone;
  let iterations = start.iterationsDone;
  let epochStart = performance.now();
  let barEpoch = 0;
  let firstDone = 0;
  const t0 = performance.now();
  const perEpoch = trainer.iterationsPerEpoch;
  try {
    // On WebGPU the trainer waits for each step's loss from the GPU (stepsAsync).
    const events = kernels().device ? trainer.stepsAsync() : trainer.steps();
    for await (const event of events) {
      if (event.type === "iteration") {
        history.loss.push(event.loss);
        iterations++;
        // The trainer counts iterations over the whole run; the bar shows this epoch's (a resumed
        // epoch's bar starts where it stopped).
        const done = event.iteration - (event.epoch - 1) * perEpoch;
        if (event.epoch !== barEpoch) {
          barEpoch = event.epoch;
          epochStart = performance.now();
          firstDone = done - 1;
          bar?.start(perEpoch, firstDone, { epoch: epochsDone + 1, loss: "-", rate: "-" });
        }
        const seconds = (performance.now() - epochStart) / 1000;
        const rate = Math.round(((done - firstDone) * settings.batchSize) / seconds);
        bar?.update(done, { loss: event.loss.toFixed(4), rate });
      } else {
        bar?.stop();
        epochsDone++;
        history.trainAcc.push(event.trainAcc);
        history.testAcc.push(event.testAcc);
        if (event.valAcc !== undefined) history.valAcc?.push(event.valAcc);
        const seconds = (performance.now() - epochStart) / 1000;
        io.out(
          `epoch ${String(epochsDone).padStart(String(settings.epochs).length)}/${settings.epochs}  ` +
            `loss ${event.loss.toFixed(4)}  train ${percent(event.trainAcc)}  test ${percent(event.testAcc)}` +
            (event.valAcc !== undefined ? `  validation ${percent(event.valAcc)}` : "") +
            `  (${seconds.toFixed(1)} s)`,
        );
      }
      if (options.stopAfter !== undefined && iterations - start.iterationsDone >= options.stopAfter) {
        interrupted = true;
      }
      if (interrupted) break;
      // Let Ctrl-C and the progress bar's timer run between mini-batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    bar?.stop();
    process.off("SIGINT", onSigint);
  }

  const base = stripExtension(start.out);
  if (interrupted) {
    const checkpoint = `${base}.checkpoint.safetensors`;
    await optimizer.readState?.(model.params);
    const optimizerState = optimizer.state?.(model.params);
    const state: CheckpointState = {
      epochsDone,
      iterationsDone: iterations,
      out: start.out,
      half: start.half,
      trainer: trainer.position(),
      randomState: model.randomState?.(),
      optimizerStep: optimizerState?.step,
    };
    await saveModel(
      checkpoint,
      model,
      { training: { ...settings, checkpoint: state }, history },
      { optimizerState: optimizerState?.buffers },
    );
    io.err(
      `interrupted after ${iterations} iterations (${epochsDone} full epoch${epochsDone === 1 ? "" : "s"}): ` +
        `checkpoint saved to ${checkpoint}`,
    );
    io.err(`continue with: zerodl train --resume ${checkpoint}`);
    return 130;
  }

  const seconds = (performance.now() - t0) / 1000;
  const results = {
    trainAcc: history.trainAcc.at(-1),
    testAcc: history.testAcc.at(-1),
    ...(history.valAcc ? { valAcc: history.valAcc.at(-1) } : {}),
    seconds: Math.round(seconds * 10) / 10,
  };
  const record: ModelRecord = { training: { ...settings }, history: { ...history }, results };
  await saveModel(start.out, model, record, { half: start.half });
  if (options.resume) await rm(options.resume, { force: true }); // done with it
  await writeFileAtomic(`${base}.history.json`, JSON.stringify({ settings, results, history }, null, 1));
  const chart = await writeChart(
    lossAccuracyChart(history, {
      title: `${settings.model} on ${settings.data}`,
      lossNote: lossNoteOf(model),
    }),
    `${base}.history`,
  );
  io.out(
    `saved ${start.out}${start.half ? " (float16)" : ""}, ${base}.history.json, ${chart.svg}, ${chart.png}`,
  );
  return 0;
}
