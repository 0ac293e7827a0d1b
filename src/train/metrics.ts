/** Evaluation metrics over class scores: predictions, probabilities, confusion matrix, per-class accuracy. */
import { NDArray, type Labels } from "../ndarray.js";
import { ShapeError, formatShape } from "../errors.js";
import { finish, finishNow, type Pending } from "./accuracy.js";

/** Index of the largest score in each row of (N, classes) scores. */
export function argmaxRows(scores: NDArray): Int32Array {
  if (scores.ndim !== 2)
    throw new ShapeError(`argmaxRows expects (N, classes) scores, got ${formatShape(scores.shape)}`);
  const [n, k] = scores.shape;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores.data[i * k + j] > scores.data[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Softmax of each row of (N, classes) scores (max subtracted first, as the book's softmax does). */
export function softmaxRows(scores: NDArray): number[][] {
  const [n, k] = scores.shape;
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(scores.data.subarray(i * k, (i + 1) * k));
    const max = Math.max(...row);
    const exp = row.map((s) => Math.exp(s - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    out.push(exp.map((e) => e / sum));
  }
  return out;
}

/** counts[true][predicted]. */
export function confusionMatrix(actual: Labels, predicted: Labels, classes: number): number[][] {
  if (actual.length !== predicted.length) {
    throw new ShapeError(`confusionMatrix: ${actual.length} labels but ${predicted.length} predictions`);
  }
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < actual.length; i++) {
    const [t, p] = [actual[i], predicted[i]];
    if (t < 0 || t >= classes || p < 0 || p >= classes) {
      throw new RangeError(`confusionMatrix: label ${t} or prediction ${p} outside 0…${classes - 1}`);
    }
    m[t][p]++;
  }
  return m;
}

/** Per true class, the fraction predicted correctly (null for a class with no samples). */
export function perClassAccuracy(matrix: readonly (readonly number[])[]): (number | null)[] {
  return matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? null : row[i] / total;
  });
}

/** What a model needs to be evaluated: scores for a batch in eval mode. */
export interface Predictor {
  predict(x: NDArray, mode?: "train" | "eval"): NDArray;
}

export interface Evaluation {
  accuracy: number;
  /** Predicted class per sample. */
  predicted: Int32Array;
  confusion: number[][];
  perClass: (number | null)[];
}

/** Runs the model over `x` in batches (eval mode) and scores it against `labels`. */
export function evaluate(
  model: Predictor,
  x: NDArray,
  labels: Labels,
  classes: number,
  batchSize = 500,
): Evaluation {
  return finishNow(evaluationSteps(model, x, labels, classes, batchSize));
}

/** `evaluate` on any backend: waits for each batch's scores from a device (WebGPU). */
export function evaluateAsync(
  model: Predictor,
  x: NDArray,
  labels: Labels,
  classes: number,
  batchSize = 500,
): Promise<Evaluation> {
  return finish(evaluationSteps(model, x, labels, classes, batchSize));
}

/** `evaluate` as steps that yield each batch's scores (see `Pending`). */
function* evaluationSteps(
  model: Predictor,
  x: NDArray,
  labels: Labels,
  classes: number,
  batchSize: number,
): Generator<Pending, Evaluation> {
  const n = x.shape[0];
  if (labels.length !== n) throw new ShapeError(`evaluate: ${n} samples but ${labels.length} labels`);
  const predicted = new Int32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const scores = model.predict(x.sliceRows(start, end), "eval");
    yield { pending: scores };
    predicted.set(argmaxRows(scores), start);
  }
  const confusion = confusionMatrix(labels, predicted, classes);
  let correct = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) correct++;
  return { accuracy: n === 0 ? 0 : correct / n, predicted, confusion, perClass: perClassAccuracy(confusion) };
}
