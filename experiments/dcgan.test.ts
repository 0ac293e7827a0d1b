// The DCGAN experiment in its quick form: both losses move, the shapes are right, the generator's
// output stays in tanh's range, and every figure renders.
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import { dcgan, DCGAN_SETTINGS } from "./dcgan.js";

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("dcgan experiment (quick)", () => {
  it("trains a few steps: losses move, images are (N, 1, 28, 28) in (−1, 1), figures render", async () => {
    const out = await dcgan.run({ quick: true, seed: 0, log: () => {} });
    const d = out.data as {
      history: { dLoss: number[]; gLoss: number[] };
      snapshots: { iteration: number; confident: number }[];
      outputShape: number[];
      outputRange: [number, number];
      quality: { report: { count: number; classShares: number[] }; frechet: number; frechetFloor: number };
      walk: { from: number; to: number; labels: number[] };
    };
    const { iterations, snapshots, finalSamples } = DCGAN_SETTINGS.quick;
    expect(d.history.dLoss).toHaveLength(iterations);
    for (const losses of [d.history.dLoss, d.history.gLoss]) {
      expect(losses.every(Number.isFinite)).toBe(true);
      const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
      const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
      expect(Math.abs(last - first)).toBeGreaterThan(0.05); // the game has moved
    }
    // An untrained discriminator (weights from N(0, 0.02²)) says about 0.5 to everything: BCE near
    // ln 2 per batch, 2 ln 2 for its two batches.
    expect(Math.abs(d.history.dLoss[0] - 2 * Math.log(2))).toBeLessThan(0.25);
    expect(Math.abs(d.history.gLoss[0] - Math.log(2))).toBeLessThan(0.25);
    expect(d.snapshots.map((s) => s.iteration)).toEqual(snapshots);
    expect(d.outputShape).toEqual([100, 1, 28, 28]);
    expect(d.outputRange[0]).toBeGreaterThan(-1);
    expect(d.outputRange[1]).toBeLessThan(1);
    expect(d.outputRange[1] - d.outputRange[0]).toBeGreaterThan(0.1);
    expect(d.quality.report.count).toBe(finalSamples);
    expect(d.quality.report.classShares.reduce((a, b) => a + b)).toBeCloseTo(1, 9);
    expect(d.quality.frechetFloor).toBeGreaterThan(0);
    expect(d.quality.frechet).toBeGreaterThan(d.quality.frechetFloor); // 40 steps are far from real digits
    expect(d.walk.labels).toHaveLength(DCGAN_SETTINGS.walkSteps);
    for (const figure of out.figures) expect(await renderSvg(figure.spec)).toContain("<svg");
  });
});
