// The MNIST MLP experiments in their quick forms, each asserting the book's conclusion.
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import type { Trial } from "../src/train/search.js";
import { batchNorm, type ScaleRun } from "./batch-norm.js";
import type { RunOptions } from "./experiment.js";
import { hyperparameterSearch } from "./hyperparameter-search.js";
import { initMnist } from "./init-mnist.js";
import { optimizersMnist } from "./optimizers-mnist.js";
import { overfitting, type VariantRun } from "./overfitting.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("MNIST MLP experiments (quick)", () => {
  it("optimizers: SGD ends above Momentum, AdaGrad and Adam", async () => {
    const out = await optimizersMnist.run(quick);
    const runs = (out.data as { runs: { name: string; tailMean: number }[] }).runs;
    const sgd = runs.find((r) => r.name === "SGD")!.tailMean;
    for (const r of runs.filter((r) => r.name !== "SGD")) expect(sgd).toBeGreaterThan(r.tailMean * 1.5);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("init: std 0.01 does not learn, Xavier and He do (He fastest)", async () => {
    const runs = ((await initMnist.run(quick)).data as { runs: { name: string; tailMean: number }[] }).runs;
    const loss = Object.fromEntries(runs.map((r) => [r.name, r.tailMean]));
    expect(loss["std=0.01"]).toBeGreaterThan(2.25); // ≈ ln 10: uniform guessing
    expect(loss.Xavier).toBeLessThan(2.0);
    expect(loss.He).toBeLessThan(1.0);
    expect(loss.He).toBeLessThan(loss.Xavier);
  });

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
