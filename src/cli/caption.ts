/**
 * `zerodl train-captioner`: trains the NIC captioner on canvases of 1–4 MNIST digits and saves it
 * with its history and per-length accuracy. `zerodl caption MODEL IMAGE…`: the caption of each
 * picture, in words.
 */
import { readFile } from "node:fs/promises";
import cliProgress from "cli-progress";
import { DigitCanvases } from "../data/captions.js";
import { loadMnist } from "../data/mnist.js";
import { decodeImage } from "../io/image.js";
import { prepareImage } from "../io/input-image.js";
import { loadModel, loadModelWith, saveModel } from "../io/model-file.js";
import { writeFileAtomic } from "../io/atomic.js";
import { Captioner, mnistCaptionerSpec, type CaptionerSpec } from "../models/captioner.js";
import { NDArray, type DType } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import { Rng } from "../rng.js";
import { CaptionerTrainer, evaluateCaptions, type CaptionAccuracy } from "../train/captioner-trainer.js";
import { CliError, chooseBackend, percent, type CliIo } from "./common.js";

export interface TrainCaptionerOptions {
  epochs: number;
  trainCanvases: number;
  testCanvases: number;
  evalCanvases: number;
  batchSize: number;
  lr: number;
  /** Decay the lr to this by the run's end (half cosine); default: constant. */
  lrEnd?: number;
  maxGradNorm: number;
  seed: number;
  beam: number;
  encoderInit?: string;
  /** Continue from a saved captioner's weights (a second stage, e.g. at a lower lr). */
  from?: string;
  /** Sizes (default mnistCaptionerSpec's); with `from`, larger ones widen the saved captioner. */
  filters?: number[];
  features?: number;
  hidden?: number;
  wordvec?: number;
  /** The peeky decoder; with `from`, a plain captioner becomes peeky (widenFrom). */
  peeky?: boolean;
  out?: string;
  backend?: "fast" | "reference";
  threads?: number;
}

/** The test canvases of every captioner run: 10,000 (or fewer) from the MNIST test digits, seed 0. */
export const TEST_CANVAS_SEED = 0;

export async function trainCaptionerCommand(options: TrainCaptionerOptions, io: CliIo): Promise<void> {
  if (!options.out) throw new CliError("train-captioner: give --out MODEL.safetensors");
  io.err(await chooseBackend(options.backend, options.threads));
  const mnist = await loadMnist({ flatten: false, onNote: (note) => io.err(`note: ${note}`) });
  const rng = new Rng(options.seed);
  const start = options.from ? await loadModelWith(options.from, buildCaptioner(options.from)) : undefined;
  const sizes = {
    filters: options.filters,
    features: options.features,
    hiddenSize: options.hidden,
    wordvecSize: options.wordvec,
    peeky: options.peeky || undefined,
  };
  if (sizes.filters && sizes.filters.length !== 2) {
    throw new CliError(
      `--filters: give the two convolutions' filters, e.g. 30,16, not ${sizes.filters.join(",")}`,
    );
  }
  let model: Captioner;
  if (!start) {
    model = new Captioner(
      mnistCaptionerSpec({ ...sizes, filters: sizes.filters as [number, number] | undefined }),
      rng,
    );
  } else if (Object.values(sizes).every((v) => v === undefined)) {
    model = start.model;
  } else {
    model = new Captioner(resizedSpec(start.model.spec, sizes), rng);
    try {
      model.widenFrom(start.model);
    } catch (e) {
      throw new CliError(`--from ${options.from}: ${(e as Error).message}`);
    }
    io.err(
      `widened ${options.from} to ${describeSizes(model.spec)} (new units start from fresh weights, the old ones as trained)`,
    );
  }
  if (start) io.err(`continuing from ${options.from} (${JSON.stringify(start.info.results?.greedy ?? {})})`);
  if (options.encoderInit) {
    const source = await loadModel(options.encoderInit);
    const copied = model.initEncoderFrom(source.model.params);
    if (copied.length === 0) {
      throw new CliError(`--encoder-init ${options.encoderInit}: its first layer does not fit the encoder's`);
    }
    io.err(`encoder ${copied.join(", ")} initialised from ${options.encoderInit}`);
  }
  const test = new DigitCanvases(mnist.test, options.testCanvases, TEST_CANVAS_SEED);
  const settings = {
    ...options,
    data: "mnist canvases of 1–4 digits",
    optimizer: "adam",
    ...(start ? { previous: start.info.training } : {}),
  };
  io.err(
    `training the captioner: ${options.trainCanvases} fresh canvases from the 60,000 training digits per epoch, ` +
      `${options.testCanvases} test canvases from the test digits; adam lr ${options.lr}${options.lrEnd !== undefined ? ` → ${options.lrEnd} (cosine)` : ""}, batch ${options.batchSize}, ${options.epochs} epochs, seed ${options.seed}`,
  );
  const trainer = new CaptionerTrainer({
    model,
    optimizer: new Adam({ lr: options.lr }),
    trainDigits: mnist.train,
    trainCanvases: options.trainCanvases,
    test,
    testLimit: options.evalCanvases,
    epochs: options.epochs,
    batchSize: options.batchSize,
    seed: options.seed,
    maxGradNorm: options.maxGradNorm,
    lrEnd: options.lrEnd,
  });
  const bar = io.progressStream
    ? new cliProgress.SingleBar(
        {
          stream: io.progressStream,
          format: "epoch {epoch} [{bar}] {value}/{total} | loss {loss} | ETA {eta_formatted}",
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const history = {
    loss: [] as number[],
    epochLoss: [] as number[],
    testExact: [] as number[],
    seconds: [] as number[],
  };
  const t0 = performance.now();
  for (const event of trainer.steps()) {
    if (event.type === "iteration") {
      history.loss.push(event.loss);
      const done = event.iteration - (event.epoch - 1) * trainer.iterationsPerEpoch;
      if (done === 1) bar?.start(trainer.iterationsPerEpoch, 0, { epoch: event.epoch, loss: "-" });
      bar?.update(done, { loss: event.loss.toFixed(4) });
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    bar?.stop();
    const exact = event.test?.exact ?? NaN;
    history.epochLoss.push(event.loss);
    history.testExact.push(exact);
    history.seconds.push(event.seconds);
    io.out(
      `epoch ${event.epoch}/${options.epochs}  loss ${event.loss.toFixed(4)}  test exact ${percent(exact)} ` +
        `(first ${event.test?.count} canvases, greedy)  (${event.seconds.toFixed(1)} s)`,
    );
  }
  const greedy = evaluateCaptions(model, test);
  const beam = evaluateCaptions(model, test, { beamWidth: options.beam });
  const minutes = (performance.now() - t0) / 60000;
  const results = {
    testCanvases: test.count,
    greedy: withoutCaptions(greedy),
    beam: { width: options.beam, ...withoutCaptions(beam) },
    minutes: Number(minutes.toFixed(1)),
  };
  for (const [name, r] of [
    ["greedy", greedy],
    [`beam ${options.beam}`, beam],
  ] as const) {
    io.out(`${name}: ${percent(r.exact)} of ${r.count} test canvases captioned exactly; ${perLengthText(r)}`);
  }
  await saveModel(options.out, model, { training: settings, history, results });
  await writeFileAtomic(
    options.out.replace(/\.safetensors$/, "") + ".history.json",
    JSON.stringify({ settings, results, history }, null, 1),
  );
  io.out(`saved ${options.out} (${minutes.toFixed(1)} min)`);
}

/** A captioner spec with other sizes: the convolutions' filters in order, the encoder's last affine's units, the LSTM's. */
function resizedSpec(
  spec: CaptionerSpec,
  sizes: {
    filters?: number[];
    features?: number;
    hiddenSize?: number;
    wordvecSize?: number;
    peeky?: boolean;
  },
): CaptionerSpec {
  const out = structuredClone(spec);
  let conv = 0;
  const affines = out.encoder.filter((l) => l.type === "affine");
  for (const layer of out.encoder) {
    if (layer.type === "convolution" && sizes.filters?.[conv] !== undefined)
      layer.filters = sizes.filters[conv++];
  }
  if (sizes.features !== undefined && affines.length > 0)
    affines[affines.length - 1].outputSize = sizes.features;
  if (sizes.hiddenSize !== undefined) out.hiddenSize = sizes.hiddenSize;
  if (sizes.wordvecSize !== undefined) out.wordvecSize = sizes.wordvecSize;
  if (sizes.peeky) out.peeky = true;
  return out;
}

function describeSizes(spec: CaptionerSpec): string {
  const filters = spec.encoder.flatMap((l) => (l.type === "convolution" ? [l.filters] : []));
  const features = spec.encoder.flatMap((l) => (l.type === "affine" ? [l.outputSize] : [])).at(-1);
  return `filters ${filters.join(",")}, features ${features}, hidden ${spec.hiddenSize}, word vectors ${spec.wordvecSize}${spec.peeky ? ", peeky" : ""}`;
}

function withoutCaptions(r: CaptionAccuracy): Omit<CaptionAccuracy, "captions"> {
  const { captions: _captions, ...rest } = r;
  return rest;
}

export function perLengthText(r: Omit<CaptionAccuracy, "captions">): string {
  return r.perLength.map((l) => `${l.length} digit${l.length > 1 ? "s" : ""} ${percent(l.exact)}`).join(", ");
}

/** Builds the captioner a model file describes (a clear error for any other model). */
function buildCaptioner(path: string) {
  return (spec: { kind: string }, dtype: DType): Captioner => {
    if (spec.kind !== "captioner") {
      throw new CliError(
        `${path} is a "${spec.kind}" model, not a captioner (train one with zerodl train-captioner)`,
      );
    }
    return new Captioner(spec as CaptionerSpec, new Rng(0), dtype);
  };
}

/** Reads a captioner model file (a clear error for any other model). */
export async function loadCaptioner(path: string): Promise<Captioner> {
  return (await loadModelWith(path, buildCaptioner(path))).model;
}

export interface CaptionOptions {
  beam?: number;
  json?: boolean;
  invert?: "auto" | "yes" | "no";
  backend?: "fast" | "reference";
  threads?: number;
}

export async function captionCommand(
  modelPath: string,
  images: string[],
  options: CaptionOptions,
  io: CliIo,
) {
  io.err(await chooseBackend(options.backend, options.threads));
  const model = await loadCaptioner(modelPath).catch((e: Error) => {
    throw e instanceof CliError ? e : new CliError(e.message);
  });
  const [channels, height, width] = model.spec.inputShape;
  const polarity = options.invert === "yes" ? "invert" : options.invert === "no" ? "keep" : "auto";
  const x = NDArray.zeros([images.length, channels, height, width]);
  const notes: string[][] = [];
  for (const [i, file] of images.entries()) {
    const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new CliError(e.code === "ENOENT" ? `image ${file} not found` : `${file}: ${e.message}`);
    });
    const prepared = prepareImage(decodeImage(bytes, file), { width, height }, { polarity, fit: "stretch" });
    x.data.set(prepared.image.pixels, i * width * height);
    notes.push(prepared.notes);
  }
  const beamWidth = options.beam ?? 3;
  const captions = model.captionWords(x, { beamWidth });
  if (options.json) {
    io.out(
      JSON.stringify(
        images.map((file, i) => ({ file, caption: captions[i], notes: notes[i] })),
        null,
        2,
      ),
    );
    return;
  }
  images.forEach((file, i) => {
    io.out(`${file}: ${captions[i] || "(no caption)"}`);
    for (const note of notes[i]) io.err(`  note: ${note}`);
  });
}
