/**
 * `loadMnist`: MNIST or Fashion-MNIST with the book's options (normalize, flatten, one-hot), plus a
 * held-out validation split and subset sizes.
 *
 * Where the files come from: a `source` when one is given (a browser passes `fetchSource(url)`);
 * otherwise, in Node, the resolution chain of ./node/resolve.ts (the repository's copy, a folder
 * the user names, the system copy, the user cache, a download). Every file is verified against the
 * registry (size and SHA-256) before it is parsed, so the parsed arrays of a dataset are always the
 * same and are kept in memory for the rest of the process.
 */
import { NDArray, type DType, type Labels } from "../ndarray.js";
import { Rng } from "../rng.js";
import { DataError } from "./errors.js";
import { splitValidation, toOneHot, type Dataset } from "./dataset.js";
import type { ResolveOptions } from "./node/resolve.js";
import { mnistImages, mnistLabels, parseIdx } from "./idx.js";
import { datasetInfo, fileKeys, type DatasetInfo, type DatasetName, type FileKey } from "./registry.js";
import type { ByteSource } from "./source.js";
import { verifyDataFile } from "./verify.js";

/** Which dataset `loadMnist` loads, and in which form. */
export interface MnistFormOptions {
  /** Which dataset (default "mnist"), or a registry entry of the same form. */
  dataset?: DatasetName | DatasetInfo;
  /** Pixels / 255 as float (default true); otherwise the raw 0…255 values as float. */
  normalize?: boolean;
  /** (N, 784) rows (default true); otherwise (N, 1, 28, 28) images. */
  flatten?: boolean;
  /** Also return (N, 10) one-hot targets (default false). Labels are always returned. */
  oneHot?: boolean;
  /** Element type of the images (default float32; float64 for gradient checks). */
  dtype?: DType;
  /** Use only the first `train` / `test` samples (as the book's `x_train[:300]`). */
  subset?: { train?: number; test?: number };
  /** Hold out this fraction of the training samples as `validation` (shuffled with `rng`). */
  validationSplit?: number;
  /** Shuffles before the validation split (default `new Rng(0)`). */
  rng?: Rng;

  /** Read the four files from here and nowhere else (e.g. `fetchSource(url)` in a browser). */
  source?: ByteSource;
}

/**
 * Everything `loadMnist` takes. Without a `source`, Node finds the files as ./node/resolve.ts says;
 * the Node-only options (`dir`, `cacheDir`, `mirrors`, `download`, the download's timeout, retries,
 * back-off and stall budget, `onProgress`, `onNote`) are those of `ResolveOptions`.
 */
export interface LoadMnistOptions extends MnistFormOptions, ResolveOptions {}

export interface Mnist {
  train: Dataset;
  test: Dataset;
  /** Present when `validationSplit` was given. */
  validation?: Dataset;
  trainOneHot?: NDArray;
  testOneHot?: NDArray;
  validationOneHot?: NDArray;
  classNames: readonly string[];
}

/** The verified, parsed files: pixels as bytes (N·H·W) and labels. */
interface MnistArrays {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

// Keyed by registry entry: every successful load of an entry yields the same verified bytes.
const parsed = new WeakMap<DatasetInfo, Promise<MnistArrays>>();

export async function loadMnist(options: LoadMnistOptions = {}): Promise<Mnist> {
  const info =
    typeof options.dataset === "object" ? options.dataset : datasetInfo(options.dataset ?? "mnist");
  const arrays = await loadArrays(info, options);
  const classes = info.classNames.length;
  // Subsets are cut before conversion to floats: 300 images need not cost 60000.
  let train = toDataset(arrays.trainImages, arrays.trainLabels, options.subset?.train, info, options);
  const test = toDataset(arrays.testImages, arrays.testLabels, options.subset?.test, info, options);
  // Book: the hyperparameter search takes its subset first, then shuffles and splits off validation.
  let validation: Dataset | undefined;
  if (options.validationSplit !== undefined) {
    ({ train, validation } = splitValidation(train, options.validationSplit, options.rng ?? new Rng(0)));
  }

  const result: Mnist = { train, test, classNames: info.classNames };
  if (validation) result.validation = validation;
  if (options.oneHot) {
    result.trainOneHot = toOneHot(train.labels, classes, options.dtype);
    result.testOneHot = toOneHot(test.labels, classes, options.dtype);
    if (validation) result.validationOneHot = toOneHot(validation.labels, classes, options.dtype);
  }
  return result;
}

function loadArrays(info: DatasetInfo, options: LoadMnistOptions): Promise<MnistArrays> {
  let pending = parsed.get(info);
  if (!pending) {
    pending = readVerified(info, options).then((files) => parseArrays(files, info));
    parsed.set(info, pending);
    pending.catch(() => parsed.delete(info)); // a failure is not remembered: the next call retries
  }
  return pending;
}

/** The four files' uncompressed, verified bytes, from `options.source` or the Node chain. */
async function readVerified(
  info: DatasetInfo,
  options: LoadMnistOptions,
): Promise<Record<FileKey, Uint8Array>> {
  if (options.source) {
    const source = options.source;
    const files = await Promise.all(
      fileKeys.map(async (key) => {
        const file = info.files[key];
        return verifyDataFile(await source(file.name), file, file.name);
      }),
    );
    return Object.fromEntries(fileKeys.map((key, i) => [key, files[i]])) as Record<FileKey, Uint8Array>;
  }
  if (typeof process === "undefined" || !process.versions?.node) {
    throw new DataError(
      `${info.name}: no local files in a browser: pass a source, e.g. loadMnist({ source: fetchSource(url) })`,
    );
  }
  // Loaded only in Node. The specifier is a variable so that browser bundlers do not follow it
  // into the file-system code.
  const nodeResolver = "./node/resolve.js";
  const { resolveDatasetFiles } = (await import(
    /* @vite-ignore */ nodeResolver
  )) as typeof import("./node/resolve.js");
  return resolveDatasetFiles(info, options);
}

function parseArrays(files: Record<FileKey, Uint8Array>, info: DatasetInfo): MnistArrays {
  const [h, w] = info.imageShape;
  const classes = info.classNames.length;
  const { trainImages, trainLabels, testImages, testLabels } = info.files;
  const arrays: MnistArrays = {
    trainImages: mnistImages(parseIdx(files.trainImages, trainImages.name), trainImages.name, h, w),
    trainLabels: mnistLabels(parseIdx(files.trainLabels, trainLabels.name), trainLabels.name, classes),
    testImages: mnistImages(parseIdx(files.testImages, testImages.name), testImages.name, h, w),
    testLabels: mnistLabels(parseIdx(files.testLabels, testLabels.name), testLabels.name, classes),
  };
  checkCounts(arrays.trainImages, arrays.trainLabels, trainImages.name, trainLabels.name, h * w);
  checkCounts(arrays.testImages, arrays.testLabels, testImages.name, testLabels.name, h * w);
  return arrays;
}

function checkCounts(
  images: Uint8Array,
  labels: Uint8Array,
  imagesName: string,
  labelsName: string,
  pixels: number,
) {
  const n = images.length / pixels;
  if (n !== labels.length) {
    throw new DataError(`${imagesName}: ${n} images, but ${labelsName} has ${labels.length} labels`);
  }
}

// One division table: pixel / 255 as the book computes it, done once per byte value, not per pixel.
const scaled = Float64Array.from({ length: 256 }, (_, v) => v / 255);

/** The first `count` samples (default all) as floats, shaped as `options` ask. */
function toDataset(
  allPixels: Uint8Array,
  allLabels: Uint8Array,
  count: number | undefined,
  info: DatasetInfo,
  options: LoadMnistOptions,
): Dataset {
  const [h, w] = info.imageShape;
  const n = count ?? allLabels.length;
  if (!Number.isInteger(n) || n < 0 || n > allLabels.length) {
    throw new RangeError(`subset of ${n} samples: the dataset has ${allLabels.length}`);
  }
  const pixels = allPixels.subarray(0, n * h * w);
  const labels = allLabels.subarray(0, n);
  const x = NDArray.zeros(options.flatten === false ? [n, 1, h, w] : [n, h * w], options.dtype ?? "float32");
  if (options.normalize === false) x.data.set(pixels);
  else {
    const out = x.data;
    for (let i = 0; i < pixels.length; i++) out[i] = scaled[pixels[i]];
  }
  const classLabels: Labels = Int32Array.from(labels);
  return { x, labels: classLabels, classNames: info.classNames };
}
