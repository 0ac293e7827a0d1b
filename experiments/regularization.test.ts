// Batch norm, overfitting and the hyperparameter search in their quick forms, asserting the book's conclusions.
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import type { Trial } from "../src/train/search.js";
import { batchNorm, type ScaleRun } from "./batch-norm.js";
import type { RunOptions } from "./experiment.js";
import { hyperparameterSearch } from "./hyperparameter-search.js";
import { overfitting, type VariantRun } from "./overfitting.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("batch norm, regularization and search (quick)", () => {
  it("batch norm learns at weight scales where the plain net stalls", async () => {
    const out = await batchNorm.run(quick);
    const runs = (out.data as { runs: ScaleRun[] }).runs;
    const last = (xs: number[]) => xs[xs.length - 1];
    for (const r of runs.filter((r) => r.scale <= 0.01)) {
      expect(last(r.plain)).toBeLessThan(0.2); // stuck near chance
      expect(last(r.batchNorm)).toBeGreaterThan(0.5);
    }
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("overfitting: the plain net fits 300 images; weight decay and dropout narrow the gap", async () => {
    const out = await overfitting.run(quick);
    const [plain, decay, dropout] = (out.data as { runs: VariantRun[] }).runs;
    expect(plain.finalTrain).toBeGreaterThan(0.97);
    expect(plain.gap).toBeGreaterThan(0.2);
    expect(decay.gap).toBeLessThan(plain.gap - 0.03);
    expect(dropout.gap).toBeLessThan(plain.gap - 0.03);
    expect(decay.finalTrain).toBeLessThan(plain.finalTrain);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("hyperparameter search: the best learning rates fall in 1e-3 – 1e-2", async () => {
    const out = await hyperparameterSearch.run(quick);
    const trials = (out.data as { trials: Trial[] }).trials;
    expect(trials).toHaveLength(20);
    const best = [...trials].sort((a, b) => b.valAcc - a.valAcc).slice(0, 3);
    for (const t of best) {
      expect(t.params.lr).toBeGreaterThanOrEqual(1e-3 * 0.9);
      expect(t.params.lr).toBeLessThanOrEqual(1e-2);
    }
    expect(best[0].valAcc).toBeGreaterThan(0.3);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });
});
