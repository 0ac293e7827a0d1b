/** What the CLI commands share: output, errors, data sets, and a little formatting. */
import { stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { NDArray } from "../ndarray.js";
import { WebGPUUnavailableError, formatShape } from "../errors.js";
import type { Dataset } from "../data/dataset.js";
import { loadMnist } from "../data/mnist.js";
import { splitValidation } from "../data/dataset.js";
import { loadImageFolder } from "../data/node/image-folder.js";
import { loadMnistCsv } from "../data/node/csv.js";
import { progressBar } from "../data/node/progress-bar.js";
import type { ResolveOptions } from "../data/node/resolve.js";
import { Rng } from "../rng.js";
import { backendInfo, setKernels, setThreads, useFastBackend, useWebGPU } from "../backend/index.js";
import { reference } from "../backend/reference.js";

/** Where a command writes: results to `out` (stdout), progress and notes to `err` (stderr). */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** The progress bar's stream, or null when stderr is not a terminal (no bar then). */
  progressStream: NodeJS.WriteStream | null;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
  progressStream: process.stderr.isTTY ? process.stderr : null,
};

/** An error the user caused (bad option, missing file): printed as one line, no stack. */
export class CliError extends Error {
  override name = "CliError";
}

export const datasetNames = ["mnist", "fashion-mnist"] as const;

export interface LoadedData {
  train: Dataset;
  test: Dataset;
  classNames: readonly string[];
  /** Where it came from, for the log ("mnist", "./digits", …). */
  source: string;
}

/**
 * `--data`: a registered dataset (MNIST, Fashion-MNIST), a folder of class subfolders of PNGs, or
 * an MNIST-style CSV file. A folder with `train/` and `test/` subfolders gives both sets; a single
 * folder or CSV file is the test set for `eval`, and for `train` one sample in six is held out
 * (seeded) as the test set. Images come as (N, 1, H, W).
 */
export async function loadData(
  data: string,
  purpose: "train" | "eval",
  io: CliIo,
  seed = 0,
  download: DownloadCliOptions = {},
): Promise<LoadedData> {
  if (data === "mnist" || data === "fashion-mnist") {
    const m = await loadMnist({
      ...downloadSettings(download),
      dataset: data,
      flatten: false,
      onProgress: io.progressStream ? progressBar(io.progressStream) : undefined,
      onNote: (note) => io.err(`note: ${note}`),
    });
    return { train: m.train, test: m.test, classNames: m.classNames, source: data };
  }
  const info = await stat(data).catch(() => null);
  if (info === null) {
    throw new CliError(
      `--data ${data}: no such file or directory; use ${datasetNames.join(", ")}, a folder of class subfolders or a .csv file`,
    );
  }
  let whole: Dataset;
  if (info.isDirectory()) {
    const sub = await Promise.all(["train", "test"].map((d) => stat(join(data, d)).catch(() => null)));
    if (sub.every((s) => s?.isDirectory())) {
      const [train, test] = await Promise.all(["train", "test"].map((d) => imageFolder(join(data, d), io)));
      const classNames = train.classNames ?? [];
      return { train, test: withClassesOf(test, classNames, join(data, "test")), classNames, source: data };
    }
    whole = await imageFolder(data, io);
  } else if (extname(data).toLowerCase() === ".csv") {
    // MNIST's CSV form: labels 0…9 (the loader refuses others).
    const digits = Array.from({ length: 10 }, (_, i) => String(i));
    whole = await loadMnistCsv(data, { flatten: false, classNames: digits });
  } else {
    throw new CliError(`--data ${data}: expected ${datasetNames.join(", ")}, a folder or a .csv file`);
  }
  const classNames =
    whole.classNames ?? Array.from({ length: Math.max(...whole.labels) + 1 }, (_, i) => String(i));
  if (purpose === "eval") return { train: whole, test: whole, classNames, source: data };
  const { train, validation: test } = splitValidation(whole, 1 / 6, new Rng(seed));
  io.err(
    `note: ${data} has no train/ and test/ subsets: ${test.labels.length} of ${whole.labels.length} samples held out as the test set`,
  );
  return { train, test, classNames, source: data };
}

/**
 * The test folder's labels re-indexed by the training folder's class names: each folder numbers
 * its own subfolders, and the test part may lack a class.
 */
export function withClassesOf(test: Dataset, classNames: readonly string[], what: string): Dataset {
  const own = test.classNames ?? [];
  const index = own.map((name) => {
    const k = classNames.indexOf(name);
    if (k < 0) throw new CliError(`${what} has class "${name}", which the training folder lacks`);
    return k;
  });
  return { ...test, labels: test.labels.map((l) => index[l]), classNames };
}

async function imageFolder(dir: string, io: CliIo): Promise<Dataset> {
  const { dataset, notes } = await loadImageFolder(dir, { flatten: false });
  for (const note of notes) io.err(`note: ${note}`);
  return dataset;
}

/** The download flags of `train` and `eval` (see main.ts); unset ones come from the environment. */
export interface DownloadCliOptions {
  mirror?: string[];
  cacheDir?: string;
  offline?: boolean;
  timeout?: number;
  retries?: number;
  stallBudget?: number;
}

/** The flags as `loadMnist` options (seconds → milliseconds); a flag not given stays unset. */
export function downloadSettings(o: DownloadCliOptions): ResolveOptions {
  return {
    mirrors: o.mirror,
    cacheDir: o.cacheDir,
    download: o.offline ? false : undefined,
    timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000,
    retries: o.retries,
    stallBudgetMs: o.stallBudget === undefined ? undefined : o.stallBudget * 1000,
  };
}

/** The first `limit` rows of a dataset (for quick runs). */
export function limitRows(d: Dataset, limit: number | undefined): Dataset {
  if (limit === undefined || limit >= d.labels.length) return d;
  return { ...d, x: d.x.sliceRows(0, limit), labels: d.labels.slice(0, limit) };
}

/**
 * The data as the model wants each sample: (N, ...inputShape). A flat model sees (N, 784) from
 * (N, 1, 28, 28) images, a view without copying; any other size is a shape mismatch.
 */
export function toModelInput(x: NDArray, inputShape: readonly number[], what: string): NDArray {
  const n = x.shape[0];
  const perSample = x.size / Math.max(1, n);
  const wanted = inputShape.reduce((p, d) => p * d, 1);
  if (perSample !== wanted) {
    throw new CliError(
      `model/data shape mismatch: the model takes samples of shape ${formatShape(inputShape)} (${wanted} values), ` +
        `${what} has samples of shape ${formatShape(x.shape.slice(1))} (${perSample} values)`,
    );
  }
  return x.reshape(n, ...inputShape);
}

export function percent(v: number, digits = 2): string {
  return `${(100 * v).toFixed(digits)} %`;
}

/** A plain text table, columns right-aligned except the first. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) =>
    r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join("  "),
  );
}

/** `model.safetensors` → `model` (for the files written beside a model). */
export function stripExtension(path: string): string {
  return path.replace(/\.safetensors$/i, "");
}

/** The kernels a command's `--backend` chooses from (webgpu only where a command supports it). */
export type BackendName = "fast" | "reference" | "webgpu";

/**
 * `--backend fast` (default) switches to the WASM SIMD kernels on `threads` threads (default: every
 * core); `reference` keeps the plain TypeScript kernels; `webgpu` runs on a GPU through the `webgpu`
 * package (nodeWebGPU). Returns a line saying what runs.
 */
export async function chooseBackend(backend: BackendName = "fast", threads?: number): Promise<string> {
  if (threads !== undefined && backend !== "fast") throw new CliError(`--threads needs --backend fast`);
  if (backend === "fast") {
    await useFastBackend();
    if (threads !== undefined) await setThreads(threads);
  } else if (backend === "webgpu") {
    await nodeWebGPU();
  } else {
    setKernels(reference);
  }
  const info = await backendInfo();
  if (info.name === "webgpu") return `backend: webgpu (${info.adapter || "unnamed adapter"})`;
  const what =
    info.name !== "wasm"
      ? "plain TypeScript"
      : info.relaxedSimd
        ? "WebAssembly relaxed SIMD, fused multiply-add"
        : "WebAssembly SIMD";
  return `backend: ${info.name} (${what}), ${info.threads} thread${info.threads === 1 ? "" : "s"}`;
}

/**
 * WebGPU in Node: Node has no `navigator.gpu`, so the GPU is reached through the `webgpu` package
 * (Dawn, Chromium's WebGPU, built for Node; not a dependency of zerodl: 130 MB of binaries for every
 * platform). Where it is missing or finds no adapter, a CliError says why and names the other
 * backends; the CLI never falls back silently.
 */
async function nodeWebGPU(): Promise<void> {
  const others = "or choose --backend fast (WebAssembly SIMD) or reference (plain TypeScript)";
  let create: (options: string[]) => GPU;
  try {
    // A variable specifier: the package is optional, and bundlers should not try to resolve it.
    const name = "webgpu";
    ({ create } = (await import(name)) as { create: typeof create });
  } catch {
    throw new CliError(
      `--backend webgpu: Node has no WebGPU of its own, and the webgpu package (Dawn, Chromium's WebGPU for Node) is not installed: run \`npm install webgpu\`, ${others}`,
    );
  }
  try {
    await useWebGPU({ gpu: create([]) });
  } catch (e) {
    if (!(e instanceof WebGPUUnavailableError)) throw e;
    throw new CliError(
      `--backend webgpu: ${e.message}. On Linux, Dawn reaches the GPU through Vulkan: install the GPU's Vulkan driver (VK_ICD_FILENAMES names a driver's JSON file); ${others}`,
    );
  }
}
