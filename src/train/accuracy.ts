import { emptyBatch } from "../errors.js";
import type { Labels, NDArray } from "../ndarray.js";

/** What `accuracySteps` needs of a model: scores (N, classes) for a batch, in eval mode. */
interface Classifier {
  predict(x: NDArray, mode?: "eval"): NDArray;
}

/**
 * An array whose values a loop needs on the host before it goes on. Loops that may run on a device
 * backend are written as generators yielding these: an async driver (`finish`) waits for each
 * array's values (`await a.read()`); on the CPU backends they are there already.
 */
export interface Pending {
  pending: NDArray;
}

/** Drives `steps` to their end, waiting for each pending array's values; returns their result. */
export async function finish<T>(steps: Generator<Pending, T>): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    await r.value.pending.read();
    r = steps.next();
  }
  return r.value;
}

/** Drives `steps` synchronously: for the CPU backends, whose arrays are always on the host. */
export function finishNow<T>(steps: Generator<Pending, T>): T {
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * The fraction of samples `model` classifies right (the argmax of its scores is the label),
 * predicting `batchSize` samples at a time, as steps that yield each batch's scores.
 */
export function* accuracySteps(
  model: Classifier,
  x: NDArray,
  t: Labels,
  batchSize = 100,
): Generator<Pending, number> {
  const n = x.shape[0];
  if (t.length !== n) throw new RangeError(`accuracy: ${n} samples but ${t.length} labels`);
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`accuracy: batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  if (n === 0) throw emptyBatch("accuracy", "the accuracy");
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const scores = model.predict(x.sliceRows(start, end), "eval"); // (B, classes)
    yield { pending: scores };
    const classes = scores.shape[1];
    const data = scores.data;
    for (let i = 0; i < end - start; i++) {
      if (argmax(data, i * classes, classes) === t[start + i]) correct++;
    }
  }
  return correct / n;
}

/** `model.accuracy` on any backend: waits for each batch's scores from a device. */
export function accuracyAsync(model: Classifier, x: NDArray, t: Labels, batchSize = 100): Promise<number> {
  return finish(accuracySteps(model, x, t, batchSize));
}

function argmax(data: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (data[offset + j] > data[offset + best]) best = j;
  return best;
}
