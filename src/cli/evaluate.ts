/** `zerodl eval MODEL --data …`: accuracy, per-class accuracy, confusion matrix, misclassified images. */
import { stat } from "node:fs/promises";
import { basename, join, sep } from "node:path";
import { loadModel } from "../io/model-file.js";
import { assertFinite } from "../ops/check.js";
import { evaluateAsync } from "../train/metrics.js";
import { confusionMatrixChart, imageGrid } from "../plot/charts.js";
import { writeChart } from "../plot/render.js";
import {
  CliError,
  chooseBackend,
  limitRows,
  loadData,
  percent,
  stripExtension,
  table,
  toModelInput,
  withClassesOf,
  type BackendName,
  type CliIo,
  type DownloadCliOptions,
} from "./common.js";

export interface EvalOptions extends DownloadCliOptions {
  data: string;
  limit?: number;
  json?: boolean;
  backend?: BackendName;
  threads?: number;
  plots?: boolean;
  show?: number;
  out?: string;
}

/**
 * Where the charts go: `--out BASE` (a folder, given as an existing one or with a trailing "/",
 * gets the model's name inside it), else the current folder under the model's name. Never beside
 * the model itself: that may be a folder the user cannot or does not want to write to (an
 * installed package's models/).
 */
export async function chartBase(modelPath: string, out: string | undefined): Promise<string> {
  const name = basename(stripExtension(modelPath));
  if (out === undefined) return name;
  const isFolder =
    out.endsWith("/") || out.endsWith(sep) || (await stat(out).catch(() => null))?.isDirectory();
  return isFolder ? join(out, name) : out;
}

export async function evalCommand(modelPath: string, options: EvalOptions, io: CliIo): Promise<void> {
  io.err(await chooseBackend(options.backend, options.threads));
  const { model, info } = await loadModel(modelPath);
  const data = await loadData(options.data, "eval", io, 0, options);
  const trainedOn = info.training?.data;
  if (typeof trainedOn === "string" && trainedOn !== options.data) {
    io.err(`note: the model was trained on ${trainedOn}, evaluated here on ${options.data}`);
  }
  const classes = info.spec.outputSize as number;
  // Labels must mean the model's classes: a folder numbers its own subfolders (and may lack some).
  const modelNames = info.training?.classNames as string[] | undefined;
  let test = limitRows(data.test, options.limit);
  let names = data.classNames;
  if (
    modelNames &&
    modelNames.join("\n") !== names.join("\n") &&
    names.every((n) => modelNames.includes(n))
  ) {
    test = withClassesOf(test, modelNames, data.source);
    names = modelNames;
  }
  if (names.length !== classes) {
    throw new CliError(
      `model/data mismatch: the model has ${classes} classes, ${data.source} has ${names.length}`,
    );
  }
  const x = toModelInput(test.x, info.spec.inputShape as number[], `${data.source} test set`);
  // Named here by its source and image number (the model's own check sees one batch at a time).
  assertFinite(`eval: the ${data.source} test set`, x);
  const started = performance.now();
  const r = await evaluateAsync(model, x, test.labels, classes);
  const seconds = (performance.now() - started) / 1000;

  // The first misclassified test images, in test-set order (the book's Figure 8-2).
  const wrong: number[] = [];
  for (let i = 0; i < r.predicted.length; i++) if (r.predicted[i] !== test.labels[i]) wrong.push(i);

  const files: Record<string, string> = {};
  if (options.plots ?? true) {
    const base = await chartBase(modelPath, options.out);
    files.confusion = (
      await writeChart(
        confusionMatrixChart(r.confusion, names, { title: `Confusion matrix (${data.source} test)` }),
        `${base}.confusion`,
      )
    ).png;
    const shown = wrong.slice(0, options.show ?? 20);
    if (shown.length > 0) {
      const [h, w] = test.x.shape.length === 4 ? test.x.shape.slice(2) : [28, 28];
      const images = shown.map((i) => ({
        width: w,
        height: h,
        pixels: test.x.data.subarray(i * w * h, (i + 1) * w * h),
      }));
      const captions = shown.map((i) => `${names[test.labels[i]]} → ${names[r.predicted[i]]}`);
      const title = `Misclassified (true → predicted): ${shown.length} of ${wrong.length}`;
      files.misclassified = (
        await writeChart(imageGrid(images, captions, { title }), `${base}.misclassified`)
      ).png;
    }
  }

  if (options.json) {
    io.out(
      JSON.stringify(
        {
          model: modelPath,
          data: data.source,
          samples: r.predicted.length,
          accuracy: r.accuracy,
          perClass: r.perClass.map((accuracy, k) => ({
            class: k,
            name: names[k],
            accuracy,
            count: r.confusion[k].reduce((a, b) => a + b, 0),
          })),
          confusion: r.confusion,
          misclassified: wrong.map((i) => ({ index: i, true: test.labels[i], predicted: r.predicted[i] })),
          files,
        },
        null,
        2,
      ),
    );
    return;
  }

  io.out(`${modelPath} on ${data.source} test set: ${r.predicted.length} images in ${seconds.toFixed(1)} s`);
  io.out(`accuracy ${percent(r.accuracy)} (${wrong.length} wrong)`);
  io.out("");
  io.out("per class:");
  const rows = [["class", "accuracy", "images"]];
  r.perClass.forEach((acc, k) =>
    rows.push([
      names[k],
      acc === null ? "—" : percent(acc),
      String(r.confusion[k].reduce((a, b) => a + b, 0)),
    ]),
  );
  for (const line of table(rows)) io.out(`  ${line}`);
  io.out("");
  io.out("confusion matrix (rows: true, columns: predicted):");
  const short = names.map((n) => n.slice(0, 6).trim());
  const cm = [["", ...short], ...r.confusion.map((row, k) => [short[k], ...row.map(String)])];
  for (const line of table(cm)) io.out(`  ${line}`);
  for (const [what, file] of Object.entries(files)) io.out(`${what} chart: ${file}`);
}
