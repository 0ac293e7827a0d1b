import { describe, expect, it } from "vitest";
import type { Dataset } from "../data/dataset.js";
import { OptionError } from "../errors.js";
import { MultiLayerNet } from "../models/multi-layer-net.js";
import { NDArray } from "../ndarray.js";
import { SGD } from "../optimizers/sgd.js";
import { Rng } from "../rng.js";
import {
  bestRanges,
  choice,
  formatSearchReport,
  logUniform,
  randomSearch,
  sampleHyperparameters,
  searchTrials,
  topTrials,
  uniform,
  type Trial,
} from "./search.js";

/** Two Gaussian blobs in 4-D: learnable in a few epochs with a fitting learning rate. */
function blobs(n: number, rng: Rng): Dataset {
  const x = NDArray.zeros([n, 4], "float64");
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let j = 0; j < 4; j++) x.data[i * 4 + j] = rng.normal(labels[i] === 0 ? -1 : 1, 0.7);
  }
  return { x, labels };
}

describe("sampling", () => {
  it("logUniform is uniform in log10: each decade gets its share, all inside the range", () => {
    const rng = new Rng(1);
    const decades = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const { lr } = sampleHyperparameters({ lr: logUniform(1e-6, 1e-2) }, rng);
      expect(lr).toBeGreaterThanOrEqual(1e-6);
      expect(lr).toBeLessThan(1e-2);
      decades[Math.floor(Math.log10(lr)) + 6]++;
    }
    // 1,000 expected per decade; a uniform (not log-uniform) draw would put ~99.9 % in the top one.
    for (const count of decades) expect(Math.abs(count - 1000)).toBeLessThan(120);
  });

  it("uniform and choice draw from their ranges; the same seed gives the same draws", () => {
    const space = { a: uniform(2, 3), b: choice([16, 32, 64]) };
    const first = Array.from({ length: 50 }, (_, i) => sampleHyperparameters(space, new Rng(i)));
    for (const p of first) {
      expect(p.a).toBeGreaterThanOrEqual(2);
      expect(p.a).toBeLessThan(3);
      expect([16, 32, 64]).toContain(p.b);
    }
    expect(new Set(first.map((p) => p.b)).size).toBe(3);
    expect(Array.from({ length: 50 }, (_, i) => sampleHyperparameters(space, new Rng(i)))).toEqual(first);
  });

  it("bad ranges are errors naming the values", () => {
    expect(() => logUniform(0, 1)).toThrow(/0 < low < high.*low 0, high 1/);
    expect(() => logUniform(1e-2, 1e-6)).toThrow(OptionError);
    expect(() => uniform(3, 2)).toThrow(/low 3, high 2/);
    expect(() => choice([])).toThrow(/at least one/);
  });
});

describe("randomSearch", () => {
  const rng = new Rng(7);
  const train = blobs(120, rng);
  const validation = blobs(60, rng);
  const build = ({ lr }: Record<string, number>, r: Rng) => ({
    model: new MultiLayerNet({ inputSize: 4, hiddenSizeList: [8], outputSize: 2 }, r, "float64"),
    optimizer: new SGD({ lr }),
  });

  it("ranks trials by validation accuracy; a usable learning rate beats a useless one", () => {
    const seen: Trial[] = [];
    const result = randomSearch({
      space: { lr: choice([1e-6, 0.1]) },
      trials: 6,
      epochs: 5,
      batchSize: 20,
      train,
      validation,
      rng: new Rng(3),
      build,
      onTrial: (t) => seen.push(t),
    });
    expect(seen).toEqual(result.trials);
    expect(result.trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const lrs = new Set(result.trials.map((t) => t.params.lr));
    expect(lrs).toEqual(new Set([1e-6, 0.1])); // both drawn with this seed
    expect(result.ranked[0].params.lr).toBe(0.1);
    expect(result.ranked[0].valAcc).toBeGreaterThan(0.9);
    const tiny = result.trials.filter((t) => t.params.lr === 1e-6);
    for (const t of tiny) expect(t.valAcc).toBeLessThan(result.ranked[0].valAcc);
    for (let i = 1; i < result.ranked.length; i++) {
      expect(result.ranked[i].valAcc).toBeLessThanOrEqual(result.ranked[i - 1].valAcc);
    }
    for (const t of result.trials) {
      expect(t.valAccHistory).toHaveLength(5);
      expect(t.valAcc).toBe(t.valAccHistory[4]);
    }
  });

  it("searchTrials runs the same search a trial at a time, returning the result at the end", () => {
    const options = {
      space: { lr: choice([1e-6, 0.1]) },
      trials: 3,
      epochs: 2,
      batchSize: 20,
      train,
      validation,
      build,
    };
    const whole = randomSearch({ ...options, rng: new Rng(4) });
    const steps = searchTrials({ ...options, rng: new Rng(4) });
    const yielded: Trial[] = [];
    let step = steps.next();
    for (; !step.done; step = steps.next()) yielded.push(step.value);
    expect(yielded).toEqual(whole.trials);
    expect(step.value).toEqual(whole);
  });

  it("judges on the validation set, not the training set", () => {
    // A validation set with flipped labels: the better a trial learns, the worse it scores.
    const flipped = { x: validation.x, labels: validation.labels.map((c) => 1 - c) };
    const result = randomSearch({
      space: { lr: choice([1e-6, 0.1]) },
      trials: 6,
      epochs: 5,
      batchSize: 20,
      train,
      validation: flipped,
      rng: new Rng(3),
      build,
    });
    expect(result.ranked[0].params.lr).toBe(1e-6);
  });

  it("a diverging trial ranks last with its error; the search goes on", () => {
    // float32 weights pushed by lr 1e30 overflow to Infinity, and the loss becomes NaN.
    const build32 = ({ lr }: Record<string, number>, r: Rng) => ({
      model: new MultiLayerNet({ inputSize: 4, hiddenSizeList: [8], outputSize: 2 }, r, "float32"),
      optimizer: new SGD({ lr }),
    });
    const result = randomSearch({
      space: { lr: choice([1e30, 0.1]) },
      trials: 4,
      epochs: 3,
      batchSize: 20,
      train: { x: train.x.astype("float32"), labels: train.labels },
      validation: { x: validation.x.astype("float32"), labels: validation.labels },
      rng: new Rng(3),
      build: build32,
    });
    const diverged = result.trials.filter((t) => t.error);
    expect(diverged.length).toBeGreaterThan(0);
    for (const t of diverged) {
      expect(t.params.lr).toBe(1e30);
      expect(t.error).toMatch(/diverged/);
    }
    expect(result.ranked[result.ranked.length - 1].error).toBeDefined();
  });

  it("report and ranges: the book's Best-k lines, the span of the best k", () => {
    const trials: Trial[] = [0.5, 0.9, 0.7].map((valAcc, index) => ({
      index,
      params: { lr: [1e-5, 3e-3, 8e-3][index], weightDecay: 1e-7 },
      valAcc,
      trainAcc: valAcc,
      valAccHistory: [valAcc],
      trainAccHistory: [valAcc],
    }));
    const result = { trials, ranked: topTrials(trials, 3) };
    expect(formatSearchReport(result, 2)).toBe(
      "Best-1 (val acc: 0.900) | lr: 0.003, weightDecay: 1.00e-7\nBest-2 (val acc: 0.700) | lr: 0.008, weightDecay: 1.00e-7",
    );
    expect(bestRanges(result, 2)).toEqual({
      lr: { min: 3e-3, max: 8e-3 },
      weightDecay: { min: 1e-7, max: 1e-7 },
    });
  });

  it("rejects a bad trial count and an empty space", () => {
    const base = { epochs: 1, batchSize: 10, train, validation, rng: new Rng(0), build };
    expect(() => randomSearch({ ...base, space: { lr: uniform(0, 1) }, trials: 0 })).toThrow(
      /trials must be a positive integer, got 0/,
    );
    expect(() => randomSearch({ ...base, space: {}, trials: 1 })).toThrow(/empty/);
  });
});
