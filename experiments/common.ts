/** Helpers the MNIST experiments share: the data (loaded once) and the book's plain training loop. */
import { takeSamples, type Dataset } from "../src/data/dataset.js";
import { loadMnist, type Mnist } from "../src/data/mnist.js";
import type { Model } from "../src/models/model.js";
import type { Optimizer } from "../src/optimizers/optimizer.js";
import type { Rng } from "../src/rng.js";
import { lineChart } from "../src/plot/charts.js";
import { clipped, fmt, smoothCurve, tailMean, type ExperimentOutput } from "./experiment.js";

/** How the experiments get MNIST: from the library's loader (Node: cache or download) unless a page provides it. */
export type MnistLoader = (options: { flatten: boolean }) => Promise<Mnist>;
let loader: MnistLoader = ({ flatten }) => loadMnist({ flatten, onNote: () => {} });
let cached: Promise<Mnist> | undefined;
let cachedImages: Promise<Mnist> | undefined;

/**
 * Replaces where the experiments get MNIST (the browser playground hands over the set it already
 * fetched and verified, so the same experiment code runs in the page).
 */
export function provideMnist(load: MnistLoader): void {
  loader = load;
  cached = undefined;
  cachedImages = undefined;
}

/** MNIST as the book loads it for MLPs: normalized, flattened (N, 784), labels as indices. */
export function mnist(): Promise<Mnist> {
  cached ??= loader({ flatten: true });
  return cached;
}

/** MNIST as images (N, 1, 28, 28) for the convolutional networks. */
export function mnistImages(): Promise<Mnist> {
  cachedImages ??= loader({ flatten: false });
  return cachedImages;
}

/**
 * Lets the event loop run. The experiments' training loops call it every iteration: a process
 * that computes for minutes without a break (a quick experiment on a machine slowed 100× by other
 * work) starves its own timers and I/O, and the test runner gives up on a worker that does not
 * answer within 60 s.
 */
export function breathe(): Promise<void> {
  // A page (the playground runs these loops too) has no setImmediate: a zero timeout there.
  return new Promise((resolve) =>
    typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}

/** `array.map(fn)` with an async `fn`, one element after another (the trainings share the CPU). */
export async function mapInOrder<T, R>(
  array: readonly T[],
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (const [i, item] of array.entries()) out.push(await fn(item, i));
  return out;
}

/**
 * The loop of the book's optimizer_compare_mnist.py / weight_init_compare.py: each iteration a
 * batch drawn with replacement (`np.random.choice`), loss → backward → update. Returns the loss
 * of every iteration.
 *
 * Book: the book logs a second forward pass after the update; we log the loss the step computed
 * (one forward pass less, and the curve is the same one shifted by an update).
 */
export async function trainIterations(options: {
  model: Model;
  optimizer: Optimizer;
  train: Dataset;
  iterations: number;
  batchSize: number;
  rng: Rng;
  log?: (iteration: number, loss: number) => void;
  /** Called after each iteration's update (e.g. to record accuracies every epoch's worth). */
  afterStep?: (iteration: number) => void;
}): Promise<number[]> {
  const { model, optimizer, train, iterations, batchSize, rng, log, afterStep } = options;
  const n = train.labels.length;
  const losses: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const batch = takeSamples(train, rng.choice(n, batchSize));
    const loss = model.loss(batch.x, batch.labels);
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at iteration ${i}`);
    model.backward();
    optimizer.step(model.params);
    losses.push(loss);
    if (log && i % 500 === 0) log(i, loss);
    afterStep?.(i);
    await breathe();
  }
  return losses;
}

/**
 * The loop of the book's overfit_weight_decay.py and batch_norm_test.py: batches drawn with
 * replacement; at every `iterationsPerEpoch` (from iteration 0, before its update) the accuracy on
 * the train set (and the test set, when given) is recorded, `epochs` times. Several models train
 * on the same batches (batch_norm_test.py trains the plain and the batch-norm net side by side).
 * A model whose loss overflows stops training there (`divergedAt`), the others go on.
 */
export async function trainEpochs(options: {
  models: { model: Model; optimizer: Optimizer }[];
  train: Dataset;
  test?: Dataset;
  epochs: number;
  batchSize: number;
  rng: Rng;
}): Promise<{ trainAcc: number[]; testAcc: number[]; divergedAt?: number }[]> {
  const { models, train, test, epochs, batchSize, rng } = options;
  const n = train.labels.length;
  const iterationsPerEpoch = Math.max(Math.floor(n / batchSize), 1);
  const curves = models.map(() => ({
    trainAcc: [] as number[],
    testAcc: [] as number[],
    divergedAt: undefined as number | undefined,
  }));
  for (let i = 0, epoch = 0; epoch < epochs; i++) {
    if (i % iterationsPerEpoch === 0) {
      models.forEach(({ model }, k) => {
        curves[k].trainAcc.push(model.accuracy(train.x, train.labels));
        if (test) curves[k].testAcc.push(model.accuracy(test.x, test.labels));
      });
      epoch++;
      if (epoch === epochs) break;
    }
    const batch = takeSamples(train, rng.choice(n, batchSize));
    models.forEach(({ model, optimizer }, k) => {
      if (curves[k].divergedAt !== undefined) return;
      const loss = model.loss(batch.x, batch.labels);
      // Book: NumPy carries on with overflowing weights (its net then predicts class 0 for
      // everything); we stop updating a diverged net and keep its last finite weights.
      if (!Number.isFinite(loss)) {
        curves[k].divergedAt = i;
        return;
      }
      model.backward();
      optimizer.step(model.params);
    });
    await breathe();
  }
  return curves;
}

/** One configuration's per-iteration training losses, smoothed, and the mean of the last 100. */
export interface LossRun {
  name: string;
  losses: number[];
  smooth: number[];
  tailMean: number;
}

export function lossRun(name: string, losses: number[]): LossRun {
  return { name, losses, smooth: smoothCurve(losses), tailMean: tailMean(losses, 100) };
}

/**
 * The output of a loss comparison on MNIST (the book's Figures 6-9 and 6-15): the smoothed curves
 * in one chart, and each run's loss at iteration 1,900 (or the last) beside the book's.
 */
export function lossComparison<R extends LossRun>(
  runs: readonly R[],
  options: {
    iterations: number;
    title: string;
    caption: string;
    yDomain: [number, number];
    /** The book's loss at iteration 1,900 for a run, as the comparison shows it. */
    book: (run: R) => string;
    /** More of the run's settings for the data file. */
    data?: object;
  },
): ExperimentOutput {
  const { iterations, title, caption, yDomain, book, data } = options;
  const at = Math.min(1900, iterations - 1);
  const xs = Array.from({ length: iterations }, (_, i) => i);
  return {
    data: { iterations, ...data, runs },
    figures: [
      {
        caption,
        spec: clipped(
          lineChart(
            runs.map((r) => ({ name: r.name, x: xs, y: r.smooth })),
            { title, xTitle: "iterations", yTitle: "loss", yDomain, width: 480 },
          ),
        ),
      },
    ],
    comparison: runs.map((r) => ({
      what: `${r.name}: loss at iteration ${at} (smoothed)`,
      book: book(r),
      ours: `${fmt(r.smooth[at])} (raw ${fmt(r.losses[at])})`,
    })),
    summary: `Mean loss of the last 100 iterations: ${runs.map((r) => `${r.name} ${fmt(r.tailMean)}`).join(", ")}.`,
  };
}
