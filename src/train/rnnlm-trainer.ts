import { OptionError } from "../errors.js";
import { consecutiveBatches, type RnnLm } from "../models/rnnlm.js";
import { clipGrads } from "../optimizers/clip.js";
import type { Optimizer } from "../optimizers/optimizer.js";

export interface RnnlmTrainerOptions {
  model: RnnLm;
  optimizer: Optimizer;
  /** The training text as token ids. */
  corpus: Int32Array;
  /** Held-out token ids: their perplexity is measured after each epoch. */
  test?: Int32Array;
  epochs: number;
  /** Parallel streams through the text. */
  batchSize: number;
  /** Steps per chunk: backpropagation is truncated to this many steps (truncated BPTT). */
  timeSize: number;
  /** Clip the gradients to this global norm before each step (the sequel clips at 0.25 with SGD). */
  maxGradNorm?: number;
}

export type RnnlmEvent =
  | { type: "iteration"; epoch: number; iteration: number; iterations: number; loss: number }
  | { type: "epoch"; epoch: number; trainPerplexity: number; testPerplexity?: number; seconds: number };

export interface RnnlmHistory {
  loss: number[];
  trainPerplexity: number[];
  testPerplexity: number[];
}

/**
 * The sequel's RnnlmTrainer: each epoch reads the text once as `batchSize` streams of consecutive
 * `timeSize`-token chunks, the LSTM state carried from chunk to chunk (reset at each epoch's
 * start), gradients clipped, one optimizer step per chunk. Training perplexity is exp of the
 * epoch's mean loss; the held-out perplexity is measured after the epoch in eval mode.
 * `steps()` yields per iteration and per epoch, so a browser can train a few chunks per frame.
 */
export class RnnlmTrainer {
  readonly options: RnnlmTrainerOptions;
  readonly iterationsPerEpoch: number;

  constructor(options: RnnlmTrainerOptions) {
    const { corpus, batchSize, timeSize, epochs } = options;
    for (const [name, v] of Object.entries({ epochs, batchSize, timeSize })) {
      if (!(Number.isInteger(v) && v > 0))
        throw new OptionError(`RnnlmTrainer: ${name} must be a positive integer, got ${v}`);
    }
    this.iterationsPerEpoch = consecutiveBatches(corpus, batchSize, timeSize).iterations;
    if (this.iterationsPerEpoch === 0) {
      throw new OptionError(
        `RnnlmTrainer: ${corpus.length} tokens are too few for ${batchSize} streams of ${timeSize}-token chunks`,
      );
    }
    this.options = options;
  }

  *steps(): Generator<RnnlmEvent> {
    const { model, optimizer, corpus, test, epochs, batchSize, timeSize, maxGradNorm } = this.options;
    const batches = consecutiveBatches(corpus, batchSize, timeSize);
    const dtype = model.params[0].value.dtype;
    const iterations = epochs * batches.iterations;
    let iteration = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      model.resetState();
      let lossSum = 0;
      for (let i = 0; i < batches.iterations; i++) {
        const { xs, ts } = batches.batch(i, dtype);
        const loss = model.loss(xs, ts);
        if (!Number.isFinite(loss)) {
          throw new Error(
            `training diverged: loss is ${loss} at iteration ${iteration + 1}; try a smaller learning rate`,
          );
        }
        model.backward();
        if (maxGradNorm !== undefined) clipGrads(model.params, maxGradNorm);
        optimizer.step(model.params);
        lossSum += loss;
        yield { type: "iteration", epoch, iteration: ++iteration, iterations, loss };
      }
      const trainPerplexity = Math.exp(lossSum / batches.iterations);
      const testPerplexity = test ? model.perplexity(test, batchSize, timeSize) : undefined;
      model.resetState();
      const seconds = (performance.now() - start) / 1000;
      yield { type: "epoch", epoch, trainPerplexity, ...(test ? { testPerplexity } : {}), seconds };
    }
  }

  run(): RnnlmHistory {
    const history: RnnlmHistory = { loss: [], trainPerplexity: [], testPerplexity: [] };
    for (const e of this.steps()) {
      if (e.type === "iteration") history.loss.push(e.loss);
      else {
        history.trainPerplexity.push(e.trainPerplexity);
        if (e.testPerplexity !== undefined) history.testPerplexity.push(e.testPerplexity);
      }
    }
    return history;
  }
}
