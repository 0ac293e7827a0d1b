import { datasetSize, sliceSamples, takeSamples, type Dataset } from "../data/dataset.js";
import { OptionError, TrainingDivergedError, unknownOption } from "../errors.js";
import type { Param } from "../layers/layer.js";
import { assertFinite, countNonFinite, findNonFinite } from "../ops/check.js";
import type { NDArray } from "../ndarray.js";
import { deviceStep } from "../ndarray.js";
import type { Model } from "../models/model.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import { clipGrads, clipGradsOnDevice } from "../optimizers/clip.js";
import type { Rng, RngState } from "../rng.js";
import { kernels } from "../backend/index.js";
import type { Labels } from "../ndarray.js";
import { accuracySteps, type Pending } from "./accuracy.js";
import { checkResumeCounts, positiveInteger as checkedPositive, runLength } from "./run-length.js";

export type Sampling = "shuffle" | "replacement";
export const samplings: readonly Sampling[] = ["shuffle", "replacement"];

export interface TrainerOptions {
  model: Model;
  optimizer: Optimizer;
  train: Dataset;
  test: Dataset;
  /** Passes over the training set (required unless `iterations` is given). */
  epochs?: number;
  batchSize: number;
  /** Drives batch order and augmentation (each from its own split, so one does not move the other). */
  rng: Rng;
  /**
   * "shuffle" (default): each epoch is one pass over a fresh permutation, the last batch smaller
   * when the batch size does not divide N. "replacement": the book's `np.random.choice(N, batch)`
   * per iteration, ceil(N / batch) iterations counting as an epoch.
   */
  sampling?: Sampling;
  /**
   * Stop after this many iterations in all (the book's `iters_num`) instead of after `epochs`;
   * the last epoch may be cut short, and still ends with its evaluation.
   */
  iterations?: number;
  /**
   * Per-epoch accuracies on the first `evalSampleSize` samples of each set, as the book's Trainer
   * (`evaluate_sample_num_per_epoch`); the last epoch always evaluates on the full sets.
   */
  evalSampleSize?: number;
  /**
   * Scales the optimizer's learning rate before each step: lr = (its lr when the Trainer was made)
   * · schedule(iteration, iterations), iteration counting from 0 (e.g. `cosineSchedule`). It
   * depends on the iteration only, so a resumed run follows it exactly.
   */
  lrSchedule?: LearningRateSchedule;
  /**
   * false: the last epoch also evaluates on the first `evalSampleSize` samples only (default true:
   * the full sets). For callers that measure the final accuracy themselves in slices (the browser
   * playground, which must not freeze the page for a pass over 70,000 images).
   */
  fullFinalEvaluation?: boolean;
  /** Transforms each training batch's inputs (data augmentation). */
  augment?: (x: NDArray, rng: Rng) => NDArray;
  /** A held-out set whose accuracy is reported per epoch as `valAcc`. */
  validation?: Dataset;
  /**
   * Continue a run from `position()` of a trainer with the same options: the remaining batches,
   * augmentations and losses are exactly those the uninterrupted run would have had (the model's
   * and the optimizer's state are restored separately: `setRandomState`, `setState`).
   */
  resume?: TrainerPosition;
  /** Clip the gradients to this global norm before each step (`clipGrads`; recurrent networks). */
  maxGradNorm?: number;
}

/** Where a run stands (JSON-serializable), for checkpoints. */
export interface TrainerPosition {
  /** Iterations done in all. */
  iteration: number;
  /** The epoch in progress (from 1), or the next one when the last has just ended. */
  epoch: number;
  /** Batches of that epoch already trained on. */
  batchesDone: number;
  /** Sum and count of that epoch's losses so far (its mean is reported at its end). */
  lossSum: number;
  count: number;
  /** The batch generator as it was when that epoch began (its batches are drawn again and skipped). */
  batchRng: RngState;
  /** The augmentation generator as it is now. */
  augmentRng: RngState;
}

/** The factor of the base learning rate at `iteration` (from 0) of `iterations`. */
export type LearningRateSchedule = (iteration: number, iterations: number) => number;

/** Cosine decay from the base learning rate to 0 over the run (Loshchilov & Hutter's SGDR without restarts). */
export const cosineSchedule: LearningRateSchedule = (iteration, iterations) =>
  0.5 * (1 + Math.cos((Math.PI * iteration) / iterations));

export type TrainEvent =
  | { type: "iteration"; epoch: number; iteration: number; iterations: number; loss: number }
  | { type: "epoch"; epoch: number; trainAcc: number; testAcc: number; valAcc?: number; loss: number };

export interface History {
  /** The loss of every iteration, as loss() returned it for the batch. */
  loss: number[];
  trainAcc: number[];
  testAcc: number[];
  valAcc?: number[];
}

/**
 * Mini-batch training in epochs (book §6 `common/trainer.py`): for each batch, loss → backward →
 * optimizer step; after each epoch, train and test (and validation) accuracy.
 *
 * `steps()` yields an event per iteration and per epoch so a browser can train a few steps per
 * animation frame; `run()` drives it to the end and returns the history. A trainer is one run:
 * `position()` says where it stands, and a later `steps()` continues from there.
 *
 * Book: the book's Trainer evaluates after iteration 0 and then every epoch's worth of
 * iterations, and computes each logged loss with an extra forward pass after the update; here
 * accuracy is measured at the end of each epoch, and the logged loss is the one the training step
 * computed anyway (the loss of the batch before its update).
 */
export class Trainer {
  readonly model: Model;
  readonly optimizer: Optimizer;
  readonly epochs: number;
  readonly batchSize: number;
  readonly sampling: Sampling;
  readonly iterationsPerEpoch: number;
  /** Total iterations of a full run. */
  readonly iterations: number;
  readonly #options: TrainerOptions;
  readonly #batchRng: Rng;
  readonly #augmentRng: Rng;
  readonly #trainSize: number;
  // The position: see TrainerPosition.
  /** The optimizer's learning rate when the Trainer was made (what a schedule scales). */
  #baseLr = 0;
  #iteration = 0;
  #epoch = 1;
  #batchesDone = 0;
  #lossSum = 0;
  #count = 0;
  /** The batch generator's state when the epoch in progress began; null before it began. */
  #epochStart: RngState | null = null;

  constructor(options: TrainerOptions) {
    const { model, optimizer, train, test, batchSize, rng, sampling = "shuffle" } = options;
    positiveInteger("batchSize", batchSize);
    if (!samplings.includes(sampling)) throw unknownOption("sampling", sampling, samplings);
    if (options.evalSampleSize !== undefined) positiveInteger("evalSampleSize", options.evalSampleSize);
    this.#trainSize = datasetSize(train);
    datasetSize(test);
    if (options.validation) datasetSize(options.validation);
    // Once here, instead of at every step: a NaN in the data would otherwise surface as a NaN loss.
    assertFinite("Trainer: the training set's inputs", train.x);
    assertFinite("Trainer: the test set's inputs", test.x);
    if (options.validation) assertFinite("Trainer: the validation set's inputs", options.validation.x);
    if (this.#trainSize === 0) throw new OptionError("Trainer: the training set is empty");

    this.model = model;
    this.optimizer = optimizer;
    this.batchSize = batchSize;
    this.sampling = sampling;
    this.iterationsPerEpoch = Math.ceil(this.#trainSize / batchSize);
    const length = runLength("Trainer", this.iterationsPerEpoch, options);
    this.iterations = length.iterations;
    this.epochs = length.epochs;
    this.#options = options;
    if (options.lrSchedule) {
      if (typeof optimizer.lr !== "number") {
        throw new OptionError("Trainer: lrSchedule needs an optimizer with an lr to schedule");
      }
      this.#baseLr = optimizer.lr;
    }
    this.#batchRng = rng.split();
    this.#augmentRng = rng.split();
    const resume = options.resume;
    if (resume) {
      checkResumeCounts("Trainer", resume, [resume.lossSum]);
      if (resume.batchesDone > this.iterationsPerEpoch || resume.iteration > this.iterations) {
        throw new OptionError(
          `Trainer: resume position (iteration ${resume.iteration}, ${resume.batchesDone} batches into epoch ${resume.epoch}) ` +
            `is beyond this run (${this.iterations} iterations, ${this.iterationsPerEpoch} per epoch)`,
        );
      }
      this.#augmentRng.setState(resume.augmentRng);
      this.#batchRng.setState(resume.batchRng);
      this.#iteration = resume.iteration;
      this.#epoch = resume.epoch;
      this.#batchesDone = resume.batchesDone;
      this.#lossSum = resume.lossSum;
      this.#count = resume.count;
    }
  }

  /** Where the run stands now; `resume` with it continues exactly from here. */
  position(): TrainerPosition {
    return {
      iteration: this.#iteration,
      epoch: this.#epoch,
      batchesDone: this.#batchesDone,
      lossSum: this.#lossSum,
      count: this.#count,
      batchRng: this.#epochStart ?? this.#batchRng.getState(),
      augmentRng: this.#augmentRng.getState(),
    };
  }

  /**
   * The run as events, one per iteration and one per epoch. On the CPU backends; on a device backend
   * (WebGPU), whose values come back asynchronously, use `stepsAsync`.
   */
  *steps(): Generator<TrainEvent> {
    if (kernels().device) {
      throw new Error(
        `Trainer.steps(): the ${kernels().name} backend sends values back asynchronously; use stepsAsync() or runAsync()`,
      );
    }
    for (const event of this.#run(false)) yield event as TrainEvent;
  }

  /**
   * `steps` on any backend. On a device backend each iteration is recorded whole (forward, backward,
   * optimizer step) before the loss is read back, so the loss's finiteness is checked after the
   * step; the epoch's accuracies read back one batch of scores at a time.
   */
  async *stepsAsync(): AsyncGenerator<TrainEvent> {
    for (const event of this.#run(kernels().device !== undefined)) {
      if ("pending" in event) await event.pending.read();
      else yield event;
    }
  }

  /** The loop of `steps` and `stepsAsync`; with `device`, it yields what must be read back. */
  *#run(device: boolean): Generator<TrainEvent | Pending> {
    const { train, augment } = this.#options;
    while (this.#epoch <= this.epochs) {
      const epoch = this.#epoch;
      // A resumed epoch draws its batches again from the generator's state at its start and skips
      // those already trained on.
      let skip = this.#batchesDone;
      this.#epochStart = this.#batchRng.getState();
      for (const indices of this.#epochBatches()) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (this.#iteration === this.iterations) break;
        const iteration = ++this.#iteration;
        const batch = takeSamples(train, indices);
        const x = augment ? augment(batch.x, this.#augmentRng) : batch.x;
        const at = `iteration ${iteration} of ${this.iterations} (epoch ${epoch})`;
        const schedule = this.#options.lrSchedule;
        if (schedule) this.optimizer.lr = this.#baseLr * schedule(iteration - 1, this.iterations);
        const loss = device ? yield* this.#deviceStep(x, batch.labels, at) : this.#step(x, batch.labels, at);
        this.#batchesDone++;
        this.#lossSum += loss;
        this.#count++;
        yield { type: "iteration", epoch, iteration, iterations: this.iterations, loss };
      }
      // Finite gradients can still overflow a weight (a huge learning rate); a saturating sigmoid
      // may keep the losses finite, so the weights are checked before the epoch is evaluated (on a
      // device backend they come home for it, once an epoch).
      if (device) for (const p of this.model.params) yield { pending: p.value };
      const broken = this.#brokenWeights();
      if (broken) {
        throw new TrainingDivergedError(
          `training diverged: at the end of epoch ${epoch}, ${broken}. Try a smaller learning rate`,
        );
      }
      const event: TrainEvent = {
        type: "epoch",
        epoch,
        ...(yield* this.#evaluate(epoch === this.epochs, device)),
        loss: this.#lossSum / this.#count,
      };
      // Whoever stops at this event resumes at the next epoch's start.
      this.#epoch++;
      this.#epochStart = null;
      this.#batchesDone = 0;
      this.#lossSum = 0;
      this.#count = 0;
      yield event;
    }
  }

  /** One training step: loss, checks, backward, the optimizer's step; returns the loss. */
  #step(x: NDArray, labels: Labels, at: string): number {
    const { model, optimizer } = this;
    const loss = model.loss(x, labels);
    if (!Number.isFinite(loss)) throw this.#diverged(loss, at, x);
    model.backward();
    this.#checkGradients(at, loss);
    // Frozen params (transfer learning) are left as they are.
    const trainable = model.trainableParams ?? model.params;
    if (this.#options.maxGradNorm !== undefined) clipGrads(trainable, this.#options.maxGradNorm);
    optimizer.step(trainable);
    return loss;
  }

  /**
   * One training step on a device backend: recorded whole, then the loss is read back. The
   * gradients stay on the device unchecked: a non-finite one shows in the next loss.
   */
  *#deviceStep(x: NDArray, labels: Labels, at: string): Generator<Pending, number> {
    const { model, optimizer } = this;
    if (!model.lossArray) {
      throw new Error(`Trainer: this model has no lossArray(), which training on ${kernels().name} needs`);
    }
    const lossArray = model.lossArray(x, labels);
    model.backward();
    const trainable = model.trainableParams ?? model.params;
    const maxNorm = this.#options.maxGradNorm;
    // Inside the model's step: the one-value sum of squares is recycled with its other arrays.
    if (maxNorm !== undefined) deviceStep(model, false, () => clipGradsOnDevice(trainable, maxNorm));
    optimizer.step(trainable);
    yield { pending: lossArray };
    const loss = lossArray.data[0];
    if (!Number.isFinite(loss)) {
      throw new TrainingDivergedError(
        `training diverged: loss is ${loss} at ${at} (on ${kernels().name} the step was taken before its loss was read). Try a smaller learning rate`,
      );
    }
    return loss;
  }

  /**
   * The error for a NaN or ±Infinity loss: the params holding non-finite values (an update that
   * overflowed), or else the layer whose output first became non-finite (the batch run again
   * layer by layer).
   */
  #diverged(loss: number, at: string, x: NDArray): TrainingDivergedError {
    const broken = this.#brokenWeights();
    const layer = broken ? undefined : this.model.locateNonFinite?.(x);
    const why = broken ?? (layer ? `the first non-finite output is that of ${layer}` : "");
    return new TrainingDivergedError(
      `training diverged: loss is ${loss} at ${at}${why ? `; ${why}` : ""}. Try a smaller learning rate`,
    );
  }

  /** Stops before the optimizer step when a gradient holds a NaN or ±Infinity, naming its layer. */
  #checkGradients(at: string, loss: number): void {
    for (const p of this.model.trainableParams ?? this.model.params) {
      const grad = p.grad;
      const i = grad ? findNonFinite(grad.data) : -1;
      if (!grad || i < 0) continue;
      throw new TrainingDivergedError(
        `training diverged: the gradient of ${this.#paramName(p)} holds ${grad.data[i]} ` +
          `(${countNonFinite(grad.data)} of ${grad.size} values non-finite) at ${at}, with loss ${loss}; ` +
          `the step was not taken. Try a smaller learning rate`,
      );
    }
  }

  /** "the weights W2 (layer 3 (Affine)), b2 (…) hold non-finite values", or undefined. */
  #brokenWeights(): string | undefined {
    const broken = this.model.params.filter((p) => findNonFinite(p.value.data) >= 0);
    if (broken.length === 0) return undefined;
    return `the weights ${broken.map((p) => this.#paramName(p)).join(", ")} hold non-finite values (an update overflowed)`;
  }

  /** "W2 (layer 3 (Affine))", or the bare name for a model that does not say. */
  #paramName(p: Param): string {
    const layer = this.model.describeParam?.(p.name);
    return layer ? `${p.name} (${layer})` : p.name;
  }

  /** Runs `steps` to the end; the history of losses and accuracies. */
  run(): History {
    const history = this.#history();
    for (const event of this.steps()) record(history, event);
    return history;
  }

  /** `run` on any backend (see `stepsAsync`). */
  async runAsync(): Promise<History> {
    const history = this.#history();
    for await (const event of this.stepsAsync()) record(history, event);
    return history;
  }

  #history(): History {
    const history: History = { loss: [], trainAcc: [], testAcc: [] };
    if (this.#options.validation) history.valAcc = [];
    return history;
  }

  /** One epoch's batches as sample indices. */
  *#epochBatches(): Generator<Int32Array> {
    const n = this.#trainSize;
    if (this.sampling === "replacement") {
      for (let i = 0; i < this.iterationsPerEpoch; i++) yield this.#batchRng.choice(n, this.batchSize);
      return;
    }
    const order = this.#batchRng.permutation(n);
    for (let start = 0; start < n; start += this.batchSize) {
      yield order.subarray(start, Math.min(n, start + this.batchSize));
    }
  }

  *#evaluate(
    last: boolean,
    device: boolean,
  ): Generator<Pending, { trainAcc: number; testAcc: number; valAcc?: number }> {
    const { train, test, validation, evalSampleSize, fullFinalEvaluation = true } = this.#options;
    const sampled = !last || !fullFinalEvaluation;
    const model = this.model;
    function* accuracy(ds: Dataset): Generator<Pending, number> {
      const n = datasetSize(ds);
      const sample =
        evalSampleSize !== undefined && sampled && evalSampleSize < n
          ? sliceSamples(ds, 0, evalSampleSize)
          : ds;
      return device
        ? yield* accuracySteps(model, sample.x, sample.labels)
        : model.accuracy(sample.x, sample.labels);
    }
    const result: { trainAcc: number; testAcc: number; valAcc?: number } = {
      trainAcc: yield* accuracy(train),
      testAcc: yield* accuracy(test),
    };
    if (validation) result.valAcc = yield* accuracy(validation);
    return result;
  }
}

function positiveInteger(name: string, value: number | undefined): number {
  return checkedPositive("Trainer", name, value);
}

function record(history: History, event: TrainEvent): void {
  if (event.type === "iteration") {
    history.loss.push(event.loss);
  } else {
    history.trainAcc.push(event.trainAcc);
    history.testAcc.push(event.testAcc);
    if (event.valAcc !== undefined) history.valAcc?.push(event.valAcc);
  }
}
