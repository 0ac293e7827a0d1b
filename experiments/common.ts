/** Helpers the MNIST experiments share: the data (loaded once) and the book's plain training loop. */
import { takeSamples, type Dataset } from "../src/data/dataset.js";
import { loadMnist, type Mnist } from "../src/data/mnist.js";
import type { Model } from "../src/models/model.js";
import type { Optimizer } from "../src/optimizers/optimizer.js";
import type { Rng } from "../src/rng.js";

let cached: Promise<Mnist> | undefined;

/** MNIST as the book loads it for MLPs: normalized, flattened (N, 784), labels as indices. */
export function mnist(): Promise<Mnist> {
  cached ??= loadMnist({ onNote: () => {} });
  return cached;
}

let cachedImages: Promise<Mnist> | undefined;

/** MNIST as images (N, 1, 28, 28) for the convolutional networks. */
export function mnistImages(): Promise<Mnist> {
  cachedImages ??= loadMnist({ flatten: false, onNote: () => {} });
  return cachedImages;
}

/**
 * The loop of the book's optimizer_compare_mnist.py / weight_init_compare.py: each iteration a
 * batch drawn with replacement (`np.random.choice`), loss → backward → update. Returns the loss
 * of every iteration.
 *
 * Book: the book logs a second forward pass after the update; we log the loss the step computed
 * (one forward pass less, and the curve is the same one shifted by an update).
 */
export function trainIterations(options: {
  model: Model;
  optimizer: Optimizer;
  train: Dataset;
  iterations: number;
  batchSize: number;
  rng: Rng;
  log?: (iteration: number, loss: number) => void;
}): number[] {
  const { model, optimizer, train, iterations, batchSize, rng, log } = options;
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
  }
  return losses;
}
