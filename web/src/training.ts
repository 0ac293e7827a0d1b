/**
 * One training run in the page, driven a slice at a time: `advance(budgetMs)` pulls
 * `Trainer.stepsAsync()` until the time budget of the current animation frame is spent, so the page
 * keeps drawing and answering while the network trains on the main thread. (The async steps run on
 * every backend; on WebGPU each step waits for its loss to come back from the GPU.)
 */
import {
  Adam,
  NDArray,
  Rng,
  SGD,
  SimpleConvNet,
  Trainer,
  TwoLayerNet,
  accuracyAsync,
  sliceSamples,
  type Dataset,
  type Mnist,
  type Model,
  type Optimizer,
  type TrainEvent,
} from "../../src/index.js";

export type ModelChoice = "two-layer" | "simple-conv";

export interface RunConfig {
  model: ModelChoice;
  /** Training images (the first ones of the 60,000). */
  trainSize: number;
  epochs: number;
  batchSize: number;
  seed: number;
}

/** What each network trains with: the book's settings (ch05 TwoLayerNet, ch07 SimpleConvNet). */
export const recipes: Record<ModelChoice, { label: string; optimizer: string; testSize: number }> = {
  "two-layer": { label: "TwoLayerNet 784-50-10", optimizer: "SGD, lr 0.1", testSize: 10000 },
  // The convolution costs ~1 M multiply-adds per image forward: evaluating on fewer test images
  // keeps the end-of-epoch pause short on the reference backend.
  "simple-conv": { label: "SimpleConvNet (30 filters 5×5)", optimizer: "Adam, lr 0.001", testSize: 2000 },
};

function build(choice: ModelChoice, rng: Rng): { model: Model; optimizer: Optimizer } {
  switch (choice) {
    case "two-layer":
      return {
        model: new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, rng),
        optimizer: new SGD({ lr: 0.1 }),
      };
    case "simple-conv":
      return {
        model: new SimpleConvNet({ inputShape: [1, 28, 28] }, rng),
        optimizer: new Adam({ lr: 0.001 }),
      };
    default: {
      const unknown: never = choice;
      throw new Error(`unknown model ${String(unknown)}`);
    }
  }
}

/** (N, 784) rows as the model wants them: unchanged, or (N, 1, 28, 28) images (a view). */
export function shapeFor(model: Model, x: NDArray): NDArray {
  return model.spec.inputShape.length === 3 ? x.reshape(-1, 1, 28, 28) : x;
}

/** The first n samples; the set itself when that is all of it (sliceSamples copies). */
function first(ds: Dataset, n: number): Dataset {
  return n >= ds.labels.length ? ds : sliceSamples(ds, 0, n);
}

function shaped(model: Model, ds: Dataset): Dataset {
  return { ...ds, x: shapeFor(model, ds.x) };
}

export type Progress =
  | { state: "training"; event: TrainEvent | null }
  /** The last iteration of an epoch is done: the next pull evaluates accuracy (a longer pause). */
  | { state: "evaluating"; event: TrainEvent }
  | { state: "done"; event: TrainEvent | null };

export class TrainingRun {
  readonly config: RunConfig;
  readonly model: Model;
  readonly trainer: Trainer;
  /** A fixed handful of test images whose accuracy is measured often (the chart's live line). */
  readonly probe: Dataset;
  readonly #steps: AsyncGenerator<TrainEvent>;
  readonly #onEvent: (event: TrainEvent) => void;
  #iteration = 0;
  #done = false;

  constructor(config: RunConfig, mnist: Mnist, onEvent: (event: TrainEvent) => void) {
    const rng = new Rng(config.seed);
    const { model, optimizer } = build(config.model, rng.split());
    this.config = config;
    this.model = model;
    const test = shaped(model, first(mnist.test, recipes[config.model].testSize));
    this.probe = first(test, 500);
    this.trainer = new Trainer({
      model,
      optimizer,
      train: shaped(model, first(mnist.train, config.trainSize)),
      test,
      epochs: config.epochs,
      batchSize: config.batchSize,
      rng: rng.split(),
      evalSampleSize: 1000,
    });
    this.#steps = this.trainer.stepsAsync();
    this.#onEvent = onEvent;
  }

  get iteration(): number {
    return this.#iteration;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Pulls training steps for about `budgetMs` (at least one). */
  async advance(budgetMs: number): Promise<Progress> {
    const deadline = performance.now() + budgetMs;
    let event: TrainEvent | null = null;
    while (!this.#done) {
      const next = await this.#steps.next();
      if (next.done) {
        this.#done = true;
        break;
      }
      event = next.value;
      this.#onEvent(event);
      if (event.type === "iteration") {
        this.#iteration = event.iteration;
        // Stop before an epoch's evaluation, so the page can say so before it pauses.
        const epochEnd =
          event.iteration % this.trainer.iterationsPerEpoch === 0 ||
          event.iteration === this.trainer.iterations;
        if (epochEnd) return { state: "evaluating", event };
      }
      if (performance.now() >= deadline) break;
    }
    return { state: this.#done ? "done" : "training", event };
  }

  /** Accuracy on the probe images (a few milliseconds to a few hundred, by network and backend). */
  probeAccuracy(): Promise<number> {
    return accuracyAsync(this.model, this.probe.x, this.probe.labels, 100);
  }

  /** Brings the weights home from a device, so that CPU kernels can run the model. */
  async readWeights(): Promise<void> {
    for (const p of this.model.params) await p.value.read();
  }
}
