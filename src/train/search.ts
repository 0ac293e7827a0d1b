/**
 * Random hyperparameter search (book §6.5): sample each hyperparameter from a range — learning
 * rates and weight decay on a log scale, 10^U(a, b) — train briefly, judge on VALIDATION data
 * (never the test data, which would tune the model to it), keep the best, narrow the ranges.
 *
 * Point it at any network: `build(params, rng)` returns the model and optimizer for one trial.
 *
 * ```ts
 * const result = randomSearch({
 *   space: { lr: logUniform(1e-6, 1e-2), weightDecay: logUniform(1e-8, 1e-4) },
 *   trials: 100, epochs: 50, batchSize: 100, train, validation, rng: new Rng(0),
 *   build: ({ lr, weightDecay }, rng) => ({
 *     model: new MultiLayerNet({ inputSize: 784, hiddenSizeList: [100, 100], outputSize: 10, weightDecayLambda: weightDecay }, rng),
 *     optimizer: new SGD({ lr }),
 *   }),
 * });
 * console.log(formatSearchReport(result, 5));
 * ```
 */
import { datasetSize, type Dataset } from "../data/dataset.js";
import { OptionError, TrainingDivergedError } from "../errors.js";
import type { Model } from "../models/model.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import type { Rng } from "../rng.js";
import { Trainer, type Sampling } from "./trainer.js";

/** Where one hyperparameter is drawn from. */
export type Distribution =
  | { kind: "log-uniform"; low: number; high: number }
  | { kind: "uniform"; low: number; high: number }
  | { kind: "choice"; values: readonly number[] };

/** 10^U(log10 low, log10 high): the book's `10 ** np.random.uniform(-6, -2)` is logUniform(1e-6, 1e-2). */
export function logUniform(low: number, high: number): Distribution {
  if (!(low > 0 && high > low && Number.isFinite(high))) {
    throw new OptionError(`logUniform needs 0 < low < high (finite), got low ${low}, high ${high}`);
  }
  return { kind: "log-uniform", low, high };
}

export function uniform(low: number, high: number): Distribution {
  if (!(high > low && Number.isFinite(low) && Number.isFinite(high))) {
    throw new OptionError(`uniform needs low < high (finite), got low ${low}, high ${high}`);
  }
  return { kind: "uniform", low, high };
}

export function choice(values: readonly number[]): Distribution {
  if (values.length === 0) throw new OptionError("choice needs at least one value");
  return { kind: "choice", values: [...values] };
}

export type SearchSpace = Record<string, Distribution>;
export type Hyperparameters = Record<string, number>;

/** One draw from every distribution of the space (in the space's key order). */
export function sampleHyperparameters(space: SearchSpace, rng: Rng): Hyperparameters {
  const params: Hyperparameters = {};
  for (const [name, d] of Object.entries(space)) {
    switch (d.kind) {
      case "log-uniform":
        params[name] = 10 ** rng.uniform(Math.log10(d.low), Math.log10(d.high));
        break;
      case "uniform":
        params[name] = rng.uniform(d.low, d.high);
        break;
      case "choice":
        params[name] = d.values[rng.int(d.values.length)];
        break;
      default: {
        const unknown: never = d;
        throw new OptionError(`unknown distribution ${JSON.stringify(unknown)}`);
      }
    }
  }
  return params;
}

export interface Trial {
  /** 0-based, in the order the trials ran. */
  index: number;
  params: Hyperparameters;
  /** Validation accuracy after the last epoch: what trials are ranked by. */
  valAcc: number;
  trainAcc: number;
  /** Per epoch. */
  valAccHistory: number[];
  trainAccHistory: number[];
  /** Set when training diverged (the trial then ranks last, with valAcc 0). */
  error?: string;
}

export interface SearchOptions {
  space: SearchSpace;
  trials: number;
  /** Builds one trial's model and optimizer from its hyperparameters. */
  build: (params: Hyperparameters, rng: Rng) => { model: Model; optimizer: Optimizer };
  train: Dataset;
  /** Held out from the training data; the test data stays untouched by the search. */
  validation: Dataset;
  epochs: number;
  batchSize: number;
  rng: Rng;
  sampling?: Sampling;
  /** Called after each trial (progress). */
  onTrial?: (trial: Trial) => void;
}

export interface SearchResult {
  /** In the order they ran. */
  trials: Trial[];
  /** Best first (highest final validation accuracy; ties keep run order). */
  ranked: Trial[];
}

/** The book's random search: `trials` trainings, each on hyperparameters drawn from `space`. */
export function randomSearch(options: SearchOptions): SearchResult {
  const steps = searchTrials(options);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    options.onTrial?.(step.value);
  }
}

/**
 * The same search one trial at a time: each `next()` trains a trial and yields it, and the
 * generator returns the result. A caller can let other work run between trials (a page between
 * frames, a test between trials so that its runner is answered), as with `Trainer.steps()`.
 */
export function* searchTrials(options: SearchOptions): Generator<Trial, SearchResult, void> {
  const { space, trials, build, train, validation, epochs, batchSize, rng, sampling } = options;
  if (!Number.isInteger(trials) || trials < 1) {
    throw new OptionError(`randomSearch: trials must be a positive integer, got ${trials}`);
  }
  if (Object.keys(space).length === 0) throw new OptionError("randomSearch: the search space is empty");
  datasetSize(validation);
  const done: Trial[] = [];
  for (let index = 0; index < trials; index++) {
    const params = sampleHyperparameters(space, rng);
    const trialRng = rng.split();
    const { model, optimizer } = build(params, trialRng);
    // The Trainer's "test" set is the validation set here: the search never sees test data.
    const trainer = new Trainer({
      model,
      optimizer,
      train,
      test: validation,
      epochs,
      batchSize,
      rng: trialRng,
      sampling,
    });
    let trial: Trial;
    try {
      const history = trainer.run();
      trial = {
        index,
        params,
        valAcc: history.testAcc[history.testAcc.length - 1],
        trainAcc: history.trainAcc[history.trainAcc.length - 1],
        valAccHistory: history.testAcc,
        trainAccHistory: history.trainAcc,
      };
    } catch (e) {
      if (!(e instanceof TrainingDivergedError)) throw e;
      trial = {
        index,
        params,
        valAcc: 0,
        trainAcc: 0,
        valAccHistory: [],
        trainAccHistory: [],
        error: e.message,
      };
    }
    done.push(trial);
    yield trial;
  }
  return { trials: done, ranked: topTrials(done, done.length) };
}

/** The `k` trials with the highest final validation accuracy, best first. */
export function topTrials(trials: readonly Trial[], k: number): Trial[] {
  return [...trials].sort((a, b) => b.valAcc - a.valAcc || a.index - b.index).slice(0, k);
}

/** The book's report: `Best-1 (val acc: 0.83) | lr: 0.0092, weight decay: 3.86e-07`, one line per trial. */
export function formatSearchReport(result: SearchResult, k: number): string {
  return topTrials(result.trials, k)
    .map((t, i) => {
      const params = Object.entries(t.params)
        .map(
          ([name, v]) =>
            `${name}: ${v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3))}`,
        )
        .join(", ");
      return `Best-${i + 1} (val acc: ${t.valAcc.toFixed(3)}) | ${params}${t.error ? ` (${t.error})` : ""}`;
    })
    .join("\n");
}

/**
 * The range each hyperparameter spans among the `k` best trials: where to narrow the search
 * next (the book's step 3).
 */
export function bestRanges(result: SearchResult, k: number): Record<string, { min: number; max: number }> {
  const best = topTrials(result.trials, k);
  const ranges: Record<string, { min: number; max: number }> = {};
  for (const t of best) {
    for (const [name, v] of Object.entries(t.params)) {
      const r = (ranges[name] ??= { min: v, max: v });
      r.min = Math.min(r.min, v);
      r.max = Math.max(r.max, v);
    }
  }
  return ranges;
}
