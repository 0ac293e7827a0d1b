import { DigitCanvases, digitToken, type CanvasOptions } from "../data/captions.js";
import type { Dataset } from "../data/dataset.js";
import { OptionError } from "../errors.js";
import type { Captioner, CaptionOptions } from "../models/captioner.js";
import { clipGrads } from "../optimizers/clip.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import { Rng } from "../rng.js";
import { cosineSchedule } from "./trainer.js";

/** How well captions match: every word right (exact), overall and by caption length. */
export interface CaptionAccuracy {
  exact: number;
  count: number;
  perLength: { length: number; count: number; exact: number }[];
  /** The generated captions, in words, canvas by canvas. */
  captions: string[];
}

/** Captions the canvases `[0, limit)` and scores them against the truth. */
export function evaluateCaptions(
  model: Captioner,
  canvases: DigitCanvases,
  options: CaptionOptions & { limit?: number } = {},
): CaptionAccuracy {
  const n = Math.min(canvases.count, options.limit ?? canvases.count);
  const batchSize = options.batchSize ?? 100;
  const byLength = new Map<number, { count: number; right: number }>();
  const captions: string[] = [];
  let right = 0;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const got = model.caption(canvases.images(indices), { ...options, batchSize });
    indices.forEach((index, i) => {
      const truth = canvases.digitsOf(index).map(digitToken);
      const ok = truth.length === got[i].length && truth.every((t, k) => t === got[i][k]);
      const entry = byLength.get(truth.length) ?? { count: 0, right: 0 };
      entry.count++;
      if (ok) entry.right++;
      byLength.set(truth.length, entry);
      if (ok) right++;
      captions.push(got[i].map((id) => model.spec.tokens[id]).join(" "));
    });
  }
  return {
    exact: n === 0 ? 0 : right / n,
    count: n,
    perLength: [...byLength.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([length, e]) => ({ length, count: e.count, exact: e.right / e.count })),
    captions,
  };
}

export interface CaptionerTrainerOptions {
  model: Captioner;
  optimizer: Optimizer;
  /** Training digits (N, 1, 28, 28) with labels: each epoch draws fresh canvases from them. */
  trainDigits: Dataset;
  /** Canvases per epoch. */
  trainCanvases: number;
  /** Test canvases (from the test digits): exact-caption accuracy after each epoch (greedy). */
  test?: DigitCanvases;
  /** Test canvases measured per epoch (default all of them). */
  testLimit?: number;
  epochs: number;
  batchSize: number;
  /** Seeds each epoch's canvases (epoch e uses a generator split e times from it). */
  seed: number;
  canvas?: CanvasOptions;
  /** Clip the gradients to this global norm before each step. */
  maxGradNorm?: number;
  /**
   * Decay the optimizer's learning rate to this by the last step, along a half cosine (from its
   * lr when the trainer was made). Chained runs (`--from`) that each end where the next begins
   * follow one piecewise-cosine schedule.
   */
  lrEnd?: number;
}

export type CaptionerEvent =
  | { type: "iteration"; epoch: number; iteration: number; iterations: number; loss: number }
  | { type: "epoch"; epoch: number; loss: number; test?: CaptionAccuracy; seconds: number };

/**
 * Trains a captioner on canvases made afresh each epoch from the training digits (so the model
 * sees new arrangements every epoch), teacher-forced, one optimizer step per batch; after each
 * epoch, the exact-caption accuracy on the test canvases.
 */
export class CaptionerTrainer {
  readonly options: CaptionerTrainerOptions;
  readonly iterationsPerEpoch: number;

  constructor(options: CaptionerTrainerOptions) {
    const { trainCanvases, epochs, batchSize } = options;
    for (const [name, v] of Object.entries({ trainCanvases, epochs, batchSize })) {
      if (!(Number.isInteger(v) && v > 0)) {
        throw new OptionError(`CaptionerTrainer: ${name} must be a positive integer, got ${v}`);
      }
    }
    const { lrEnd, optimizer } = options;
    if (lrEnd !== undefined) {
      if (!(Number.isFinite(lrEnd) && lrEnd >= 0)) {
        throw new OptionError(`CaptionerTrainer: lrEnd must be a number ≥ 0, got ${lrEnd}`);
      }
      if (typeof optimizer.lr !== "number") {
        throw new OptionError("CaptionerTrainer: lrEnd needs an optimizer with an lr to schedule");
      }
    }
    this.options = options;
    this.iterationsPerEpoch = Math.ceil(trainCanvases / batchSize);
  }

  *steps(): Generator<CaptionerEvent> {
    const { model, optimizer, trainDigits, trainCanvases, test, epochs, batchSize, maxGradNorm } =
      this.options;
    const seeds = new Rng(this.options.seed);
    const iterations = epochs * this.iterationsPerEpoch;
    const lrStart = optimizer.lr;
    const { lrEnd } = this.options;
    let iteration = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      const canvases = new DigitCanvases(
        trainDigits,
        trainCanvases,
        seeds.split().int(2 ** 31),
        this.options.canvas,
      );
      let lossSum = 0;
      for (let first = 0; first < trainCanvases; first += batchSize) {
        const indices = Array.from(
          { length: Math.min(batchSize, trainCanvases - first) },
          (_, i) => first + i,
        );
        const { inputs, targets } = canvases.sequences(indices);
        const loss = model.loss(canvases.images(indices), inputs, targets);
        if (!Number.isFinite(loss)) {
          throw new Error(
            `training diverged: loss is ${loss} at iteration ${iteration + 1}; try a smaller learning rate`,
          );
        }
        model.backward();
        if (maxGradNorm !== undefined) clipGrads(model.params, maxGradNorm);
        if (lrEnd !== undefined && lrStart !== undefined) {
          const progress = iterations > 1 ? iteration / (iterations - 1) : 1;
          optimizer.lr = lrEnd + (lrStart - lrEnd) * cosineSchedule(progress, 1);
        }
        optimizer.step(model.params);
        lossSum += loss;
        yield { type: "iteration", epoch, iteration: ++iteration, iterations, loss };
      }
      const result = test ? evaluateCaptions(model, test, { limit: this.options.testLimit }) : undefined;
      const seconds = (performance.now() - start) / 1000;
      yield {
        type: "epoch",
        epoch,
        loss: lossSum / this.iterationsPerEpoch,
        ...(result ? { test: result } : {}),
        seconds,
      };
    }
  }
}
