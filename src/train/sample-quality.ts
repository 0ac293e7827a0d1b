/**
 * Measuring generated images instead of eyeballing them: how confidently a trained classifier
 * recognizes them, how they spread over its classes (a GAN that draws only some digits has
 * "collapsed" onto them), and the Fréchet distance between their features and real images'.
 */
import { ShapeError, formatShape } from "../errors.js";
import { Affine } from "../layers/affine.js";
import type { Layer } from "../layers/layer.js";
import { NDArray } from "../ndarray.js";
import { softmax } from "../ops/softmax.js";
import { frechetDistance, gaussianStats } from "./frechet.js";

/** Something that scores images: class scores (N, classes) in "eval" mode. */
export interface ImageClassifier {
  predict(x: NDArray, mode?: "eval"): NDArray;
}

export interface ClassifierReport {
  /** Images scored. */
  count: number;
  /** The fraction whose top class has probability ≥ `threshold`. */
  confident: number;
  threshold: number;
  /** The mean probability of the top class. */
  meanConfidence: number;
  /** The fraction of images per predicted class (sums to 1). */
  classShares: number[];
}

/**
 * Runs `classifier` over `images` (N, …) in batches and reports its confidence and the spread of
 * its predictions over the classes.
 */
export function classifierReport(
  classifier: ImageClassifier,
  images: NDArray,
  { threshold = 0.9, batchSize = 500 }: { threshold?: number; batchSize?: number } = {},
): ClassifierReport {
  const n = images.shape[0];
  if (n === 0) throw new ShapeError(`classifierReport: no images to score, got ${formatShape(images.shape)}`);
  let confident = 0;
  let confidenceSum = 0;
  let counts: number[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const probs = softmax(
      classifier.predict(images.sliceRows(start, Math.min(n, start + batchSize)), "eval"),
    );
    const [rows, classes] = probs.shape;
    if (counts.length === 0) counts = new Array<number>(classes).fill(0);
    const p = probs.data;
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let j = 1; j < classes; j++) if (p[i * classes + j] > p[i * classes + best]) best = j;
      const top = p[i * classes + best];
      counts[best]++;
      confidenceSum += top;
      if (top >= threshold) confident++;
    }
  }
  return {
    count: n,
    confident: confident / n,
    threshold,
    meanConfidence: confidenceSum / n,
    classShares: counts.map((c) => c / n),
  };
}

/**
 * The features a classifier decides from: the input of its last Affine layer (DeepConvNet's 50
 * hidden units after ReLU and dropout), for `images` run through the layers before it in "eval"
 * mode, `batchSize` at a time. Fréchet distances are measured on these.
 */
export function penultimateFeatures(
  classifier: { readonly layers: readonly Layer[] },
  images: NDArray,
  batchSize = 500,
): NDArray {
  let last = -1;
  classifier.layers.forEach((layer, i) => {
    if (layer instanceof Affine) last = i;
  });
  if (last < 1) {
    throw new ShapeError(`penultimateFeatures: the classifier needs layers before a last Affine layer`);
  }
  const body = classifier.layers.slice(0, last);
  const n = images.shape[0];
  let out: NDArray | null = null;
  for (let start = 0; start < n; start += batchSize) {
    let y = images.sliceRows(start, Math.min(n, start + batchSize));
    for (const layer of body) y = layer.forward(y, "eval");
    y = y.reshape(y.shape[0], y.size / y.shape[0]);
    out ??= NDArray.zeros([n, y.shape[1]], y.dtype);
    out.data.set(y.data, start * y.shape[1]);
  }
  return out!;
}

export interface SampleQuality {
  /** How the classifier sees the generated images. */
  report: ClassifierReport;
  /** Fréchet distance between the generated images' features and the reference half of the real images'. */
  frechet: number;
  /** The same for the other real half: what a perfect generator would score with this many samples. */
  frechetFloor: number;
  /** Real images in each half. */
  realHalf: number;
}

/**
 * Scores `generated` images against `real` ones (both in the classifier's input range): the
 * classifier's report on the generated ones, and Fréchet distances on its penultimate features
 * (`penultimateFeatures`): generated against the first half of `real`, and, as the floor, the
 * second half against the first. Works through `chunk` images at a time and lets the event loop
 * run between chunks (a page stays responsive; a test runner's worker can answer).
 */
export async function sampleQuality(
  classifier: ImageClassifier & { readonly layers: readonly Layer[] },
  generated: NDArray,
  real: NDArray,
  { threshold = 0.9, chunk = 1000 }: { threshold?: number; chunk?: number } = {},
): Promise<SampleQuality> {
  const half = Math.floor(real.shape[0] / 2);
  if (half < 2)
    throw new ShapeError(`sampleQuality: needs at least 4 real images, got ${formatShape(real.shape)}`);
  const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  const chunks = (x: NDArray) =>
    Array.from({ length: Math.ceil(x.shape[0] / chunk) }, (_, i) =>
      x.sliceRows(i * chunk, Math.min(x.shape[0], (i + 1) * chunk)),
    );
  const stats = async (x: NDArray) => {
    const parts: NDArray[] = [];
    for (const part of chunks(x)) {
      parts.push(penultimateFeatures(classifier, part));
      await pause();
    }
    return gaussianStats(concatRows(parts));
  };
  const reports: ClassifierReport[] = [];
  for (const part of chunks(generated)) {
    reports.push(classifierReport(classifier, part, { threshold }));
    await pause();
  }
  const reference = await stats(real.sliceRows(0, half));
  const other = await stats(real.sliceRows(half, 2 * half));
  return {
    report: mergeReports(reports),
    frechet: frechetDistance(await stats(generated), reference),
    frechetFloor: frechetDistance(other, reference),
    realHalf: half,
  };
}

/** One report of several reports' images (their fractions weighted by their counts). */
function mergeReports(reports: readonly ClassifierReport[]): ClassifierReport {
  const count = reports.reduce((n, r) => n + r.count, 0);
  const weighted = (f: (r: ClassifierReport) => number) =>
    reports.reduce((s, r) => s + f(r) * r.count, 0) / count;
  return {
    count,
    threshold: reports[0].threshold,
    confident: weighted((r) => r.confident),
    meanConfidence: weighted((r) => r.meanConfidence),
    classShares: reports[0].classShares.map((_, j) => weighted((r) => r.classShares[j] ?? 0)),
  };
}

/** Arrays of rows stacked: (N1, …), (N2, …), … → (N1 + N2 + …, …). */
export function concatRows(parts: readonly NDArray[]): NDArray {
  const out = NDArray.zeros(
    [parts.reduce((n, p) => n + p.shape[0], 0), ...parts[0].shape.slice(1)],
    parts[0].dtype,
  );
  let at = 0;
  for (const p of parts) {
    out.data.set(p.data, at);
    at += p.size;
  }
  return out;
}
