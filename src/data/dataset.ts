/**
 * A dataset is inputs and their class labels, row by row. These helpers cut it the ways the book
 * does: a subset (the overfitting experiments use 300 images), a held-out validation split
 * (hyperparameters are tuned on validation data, never on test data), one-hot targets, and
 * mini-batches.
 */
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Labels } from "../ndarray.js";
import type { Rng } from "../rng.js";

export interface Dataset {
  /** (N, …): one row per sample. */
  x: NDArray;
  /** (N,): class indices. */
  labels: Labels;
  classNames?: readonly string[];
}

/** Number of samples, after checking that inputs and labels agree. */
export function datasetSize(ds: Dataset): number {
  const n = ds.x.shape[0] ?? 0;
  if (n !== ds.labels.length) {
    throw new ShapeError(`dataset has ${n} inputs ${formatShape(ds.x.shape)} but ${ds.labels.length} labels`);
  }
  return n;
}

/** The samples at `indices`, in that order (copies). */
export function takeSamples(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = datasetSize(ds);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= n)
      throw new RangeError(`sample index ${k} out of range 0..${n - 1}`);
    labels[i] = ds.labels[k];
  }
  return withClassNames({ x: ds.x.takeRows(indices), labels }, ds);
}

/** Samples [start, end) (copies). */
export function sliceSamples(ds: Dataset, start: number, end: number): Dataset {
  const n = datasetSize(ds);
  if (!(0 <= start && start <= end && end <= n))
    throw new RangeError(`slice [${start}, ${end}) of ${n} samples`);
  return withClassNames({ x: ds.x.sliceRows(start, end), labels: ds.labels.slice(start, end) }, ds);
}

/**
 * The first `n` samples (as the book's `x_train[:300]`), or `n` drawn without replacement when an
 * `rng` is given.
 */
export function subset(ds: Dataset, n: number, rng?: Rng): Dataset {
  const size = datasetSize(ds);
  if (!Number.isInteger(n) || n < 0 || n > size) {
    throw new RangeError(`subset of ${n} samples: the dataset has ${size}`);
  }
  return rng ? takeSamples(ds, rng.choice(size, n, false)) : sliceSamples(ds, 0, n);
}

/**
 * Holds out `fraction` of the samples for validation, after a shuffle with `rng`
 * (as the book's `shuffle_dataset`, then the first `fraction` for validation).
 */
export function splitValidation(
  ds: Dataset,
  fraction: number,
  rng: Rng,
): { train: Dataset; validation: Dataset } {
  if (!(fraction > 0 && fraction < 1))
    throw new RangeError(`validation fraction ${fraction}: must be in (0, 1)`);
  const n = datasetSize(ds);
  const count = Math.round(n * fraction);
  if (count === 0 || count === n) {
    throw new RangeError(`validation fraction ${fraction} of ${n} samples leaves ${count} for validation`);
  }
  const order = rng.permutation(n);
  return {
    validation: takeSamples(ds, order.subarray(0, count)),
    train: takeSamples(ds, order.subarray(count)),
  };
}

/** (N,) class indices → (N, classes) one-hot rows. */
export function toOneHot(labels: Labels, classes: number, dtype: "float32" | "float64" = "float32"): NDArray {
  const t = NDArray.zeros([labels.length, classes], dtype);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!(c >= 0 && c < classes))
      throw new RangeError(`label ${c} at index ${i} is out of range 0..${classes - 1}`);
    t.data[i * classes + c] = 1;
  }
  return t;
}

/** (N, classes) one-hot (or score) rows → (N,) class indices (the arg-max of each row). */
export function fromOneHot(t: NDArray): Labels {
  if (t.ndim !== 2) throw new ShapeError(`one-hot targets must be (N, classes), got ${formatShape(t.shape)}`);
  const [n, classes] = t.shape;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (t.data[i * classes + c] > t.data[i * classes + best]) best = c;
    labels[i] = best;
  }
  return labels;
}

/** How many samples each class has. */
export function classCounts(labels: Labels, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of labels) {
    if (!(c >= 0 && c < classes)) throw new RangeError(`label ${c} is out of range 0..${classes - 1}`);
    counts[c]++;
  }
  return counts;
}

/**
 * Consecutive mini-batches of `batchSize` samples (the last one may be smaller), in order or in
 * an order shuffled by `rng`.
 */
export function* batches(ds: Dataset, batchSize: number, rng?: Rng): Generator<Dataset> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batch size ${batchSize}: must be ≥ 1`);
  const n = datasetSize(ds);
  const order = rng?.permutation(n);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(start + batchSize, n);
    yield order ? takeSamples(ds, order.subarray(start, end)) : sliceSamples(ds, start, end);
  }
}

function withClassNames(ds: Dataset, from: Dataset): Dataset {
  return from.classNames ? { ...ds, classNames: from.classNames } : ds;
}
