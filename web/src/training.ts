/**
 * One training run in the page, driven a slice at a time: `advance(budgetMs)` pulls
 * `Trainer.stepsAsync()` until the time budget of the current animation frame is spent, so the page
 * keeps drawing and answering while the network trains on the main thread. (The async steps run on
 * every backend; on WebGPU each step waits for its loss to come back from the GPU.)
 */
import {
  NDArray,
  Rng,
  Trainer,
  accuracyAsync,
  sliceSamples,
  type Dataset,
  type Mnist,
  type Model,
  type TrainEvent,
} from "../../src/index.js";
import { buildLab, checkConfig, type LabConfig } from "./playground/lab.js";

/** Per-epoch accuracies are measured on this many images (the book's evaluate_sample_num_per_epoch). */
const EPOCH_SAMPLE = 1000;

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
  readonly config: LabConfig;
  readonly model: Model;
  readonly trainer: Trainer;
  /** A fixed handful of test images whose accuracy is measured often (the chart's live line). */
  readonly probe: Dataset;
  /** The first convolution's filters before training (chapter 7's before/after view). */
  readonly initialFilters: Float32Array | null;
  readonly #steps: AsyncGenerator<TrainEvent>;
  readonly #onEvent: (event: TrainEvent) => void;
  #iteration = 0;
  #done = false;

  constructor(config: LabConfig, mnist: Mnist, onEvent: (event: TrainEvent) => void) {
    checkConfig(config);
    const rng = new Rng(config.seed);
    const { model, optimizer } = buildLab(config, rng.split());
    this.config = config;
    this.model = model;
    const filters = model.params.find((p) => p.value.shape.length === 4);
    this.initialFilters = filters ? Float32Array.from(filters.value.data) : null;
    const test = shaped(model, mnist.test);
    this.probe = first(test, 500);
    // The per-epoch accuracies use the first 1,000 images of each set, the last epoch too: the
    // page measures the whole test set itself afterwards, a slice per frame (one pass over 70,000
    // images at once would freeze it for seconds).
    this.trainer = new Trainer({
      model,
      optimizer,
      train: shaped(model, first(mnist.train, config.trainSize)),
      test,
      epochs: config.epochs,
      batchSize: config.batchSize,
      rng: rng.split(),
      evalSampleSize: EPOCH_SAMPLE,
      fullFinalEvaluation: false,
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
