// The DQN experiment's quick form: the machinery's checks (the curves need the full run).
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import { dqnExperiment, seedMeanCurve, type ConfigRun } from "./dqn.js";

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("dqn experiment (quick)", () => {
  it("the TD loss falls on a fixed batch, the memory samples uniformly, ε follows its schedule", async () => {
    const out = await dqnExperiment.run({ quick: true, seed: 0, log: () => {} });
    const data = out.data as {
      runs: ConfigRun[];
      checks: {
        fixedBatchLoss: { first: number; last: number };
        sampling: { chi2: number; degrees: number; torn: number; outOfRange: number };
        epsilon: { maxError: number; points: { step: number; epsilon: number }[] };
      };
    };
    const { fixedBatchLoss, sampling, epsilon } = data.checks;
    expect(fixedBatchLoss.last).toBeLessThan(0.1 * fixedBatchLoss.first);
    expect(sampling.torn).toBe(0);
    expect(sampling.outOfRange).toBe(0);
    // 20,000 draws: χ² stays within its mean + 5 standard deviations (√(2·dof)) for uniform sampling.
    expect(sampling.chi2).toBeLessThan(sampling.degrees + 5 * Math.sqrt(2 * sampling.degrees));
    expect(epsilon.maxError).toBeLessThan(1e-12);
    // ε falls from 1 to 0.05 over the first 300 steps (half of 600): by hand at steps 1, 101 and 401.
    const at = (step: number) => epsilon.points.find((p) => p.step === step)!.epsilon;
    expect(at(1)).toBe(1);
    expect(at(101)).toBeCloseTo(1 - 0.95 * (100 / 300), 12);
    expect(at(401)).toBe(0.05);
    expect(data.runs.map((r) => r.name)).toEqual([
      "DQN (replay + target network)",
      "no target network",
      "no replay",
      "neither",
    ]);
    for (const r of data.runs) expect(r.returns.length).toBeGreaterThan(5);
    for (const f of out.figures) expect(await renderSvg(f.spec)).toContain("<svg");
  });

  it("averages each seed's recent episodes on a grid of steps (by hand)", () => {
    const run = (endSteps: number[], returns: number[]): ConfigRun => ({
      name: "x",
      seed: 0,
      endSteps,
      returns,
      finalMeanReturn: 0,
      bestEvaluation: 0,
    });
    const runs = [run([10, 20, 30], [1, 2, 3]), run([15, 40], [5, 7])];
    // Step 5: the first seed has no episode yet. 15: (1 + 5) / 2. 30: ((2 + 3) / 2 + 5) / 2. 40: (2.5 + 6) / 2.
    expect(seedMeanCurve(runs, [5, 15, 30, 40], 2)).toEqual({ x: [15, 30, 40], y: [3, 3.75, 4.25] });
  });
});
