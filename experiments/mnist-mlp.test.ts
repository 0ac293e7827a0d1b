// The MNIST optimizer and initialization experiments in their quick forms, asserting the book's conclusions.
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import type { RunOptions } from "./experiment.js";
import { initMnist } from "./init-mnist.js";
import { optimizersMnist } from "./optimizers-mnist.js";
import { twoLayerNet } from "./two-layer-net.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("MNIST MLP experiments (quick)", () => {
  it("chapter 4's two-layer net: the loss falls; train and test accuracy rise together", async () => {
    const out = await twoLayerNet.run(quick);
    const d = out.data as { lossStart: number; lossEnd: number; trainAcc: number[]; testAcc: number[] };
    expect(d.lossStart).toBeGreaterThan(2.2); // ≈ ln 10 before learning
    expect(d.lossEnd).toBeLessThan(0.6 * d.lossStart);
    expect(d.trainAcc).toHaveLength(10); // iterations 0, 100, …, 900
    expect(d.trainAcc[0]).toBeLessThan(0.3);
    const [train, test] = [d.trainAcc.at(-1)!, d.testAcc.at(-1)!];
    expect(train).toBeGreaterThan(0.7);
    expect(Math.abs(train - test)).toBeLessThan(0.05); // no overfitting, as Figure 4-12
    for (const f of out.figures) expect(await renderSvg(f.spec)).toContain("<svg");
  });

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
});
