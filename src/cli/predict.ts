/** `zerodl predict MODEL IMAGE…`: the class and class probabilities of each picture. */
import { readFile } from "node:fs/promises";
import { NDArray } from "../ndarray.js";
import { loadModel } from "../io/model-file.js";
import { decodeImage } from "../io/image.js";
import { prepareImage } from "../io/input-image.js";
import { assertFinite } from "../ops/check.js";
import { softmaxRows } from "../train/metrics.js";
import { CliError, chooseBackend, percent, type BackendName, type CliIo } from "./common.js";

export interface PredictOptions {
  json?: boolean;
  backend?: BackendName;
  threads?: number;
  top?: number;
  invert?: "auto" | "yes" | "no";
}

export interface Prediction {
  file: string;
  class: number;
  label: string;
  probability: number;
  probabilities: number[];
  notes: string[];
}

export async function predictCommand(
  modelPath: string,
  images: string[],
  options: PredictOptions,
  io: CliIo,
) {
  io.err(await chooseBackend(options.backend, options.threads));
  const { model, info } = await loadModel(modelPath);
  const inputShape = (info.spec.inputShape as number[] | undefined) ?? [];
  // (784,) is a flat 28×28 image; (C, H, W) a channel-first one.
  const [channels, height, width] =
    inputShape.length === 3
      ? inputShape
      : [1, Math.round(Math.sqrt(inputShape[0])), Math.round(Math.sqrt(inputShape[0]))];
  if (channels * height * width !== inputShape.reduce((p, d) => p * d, 1) || channels !== 1) {
    throw new CliError(
      `predict: images for a model with input shape [${inputShape.join(", ")}] are not supported`,
    );
  }
  const classNames = (info.training?.classNames as string[] | undefined) ?? [];
  const label = (k: number) => classNames[k] ?? String(k);
  const polarity = options.invert === "yes" ? "invert" : options.invert === "no" ? "keep" : "auto";

  // All pictures in one batch: (N, ...inputShape).
  const x = NDArray.zeros([images.length, ...inputShape], info.dtype);
  const notes: string[][] = [];
  for (const [i, file] of images.entries()) {
    const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new CliError(e.code === "ENOENT" ? `image ${file} not found` : `${file}: ${e.message}`);
    });
    const prepared = prepareImage(decodeImage(bytes, file), { width, height }, { polarity });
    assertFinite(
      `predict: ${file}, prepared as the model's input,`,
      new NDArray(prepared.image.pixels, [1, height * width]),
    );
    x.data.set(prepared.image.pixels, i * width * height);
    notes.push(prepared.notes);
  }
  const scores = model.predict(x, "eval");
  await scores.read(); // on WebGPU the scores come back from the GPU
  const probs = softmaxRows(scores);
  const predictions: Prediction[] = images.map((file, i) => {
    const p = probs[i];
    const best = p.indexOf(Math.max(...p));
    return { file, class: best, label: label(best), probability: p[best], probabilities: p, notes: notes[i] };
  });

  if (options.json) {
    io.out(JSON.stringify(predictions, null, 2));
    return;
  }
  const top = options.top ?? 3;
  for (const pr of predictions) {
    const ranked = pr.probabilities
      .map((q, k) => [k, q] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, q]) => `${label(k)} ${percent(q, 1)}`);
    io.out(`${pr.file}: ${pr.label}  (${ranked.join(", ")})`);
    for (const note of pr.notes) io.err(`  note: ${note}`);
  }
}
