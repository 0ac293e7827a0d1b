// The DQN experiment's quick form: the machinery's checks (the curves need the full run).
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";
import { QNetwork } from "../src/rl/q-network.js";
import { dqnExperiment, meanMaxQ, randomPolicyStates, seedMeanCurve, type ConfigRun } from "./dqn.js";

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("dqn experiment (quick)", () => {
  it("the TD loss falls on a fixed batch, the memory samples uniformly, ε follows its schedule; without a target network the values run away", async () => {
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
    expect(data.runs.map((r) => r.name)).toEqual(["full DQN", "no target network", "no replay", "neither"]);
    for (const r of data.runs) expect(r.returns.length).toBeGreaterThan(5);
    // 450 updates in: with a target network the held-out states' values stay small; without one
    // they pass 100 = 1/(1 − γ), more than any CartPole state can be worth.
    const finalQ = (name: string) => data.runs.find((r) => r.name === name)!.meanMaxQ!.at(-1)!;
    expect(finalQ("full DQN")).toBeLessThan(10);
    expect(finalQ("no replay")).toBeLessThan(10);
    expect(finalQ("no target network")).toBeGreaterThan(100);
    expect(finalQ("neither")).toBeGreaterThan(100);
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

  it("averages the greedy action's value over states (by hand)", () => {
    const net = new QNetwork(
      { kind: "q-network", inputShape: [2], outputSize: 2, layers: [{ type: "affine", outputSize: 2 }] },
      new Rng(0),
      "float64",
    );
    // Q(s) = s·W + b with W = [[1, 0], [0, 2]], b = [0, −1].
    net.params[0].value.data.set([1, 0, 0, 2]);
    net.params[1].value.data.set([0, -1]);
    const states = NDArray.from([3, 1, 0, 4], [2, 2], "float64");
    // Q(3, 1) = (3, 1): max 3; Q(0, 4) = (0, 7): max 7.
    expect(meanMaxQ(net, states)).toBe(5);
  });

  it("collects the held-out states from a seeded random policy", () => {
    const a = randomPolicyStates(300, 3);
    expect(a.shape).toEqual([300, 4]);
    expect(randomPolicyStates(300, 3).data).toEqual(a.data);
    expect(randomPolicyStates(300, 4).data).not.toEqual(a.data);
    // Every state is one the episode had not yet ended in: |x| ≤ 2.4 m, |θ| ≤ 12°.
    for (let i = 0; i < 300; i++) {
      expect(Math.abs(a.data[4 * i])).toBeLessThanOrEqual(2.4);
      expect(Math.abs(a.data[4 * i + 2])).toBeLessThanOrEqual((12 * Math.PI) / 180);
    }
    // Within an episode x moves by τ·ẋ (0.02 s); where it does not, a new episode began. A random
    // policy's episodes last about 22 steps, so 300 states hold about 13 of them.
    let resets = 0;
    for (let i = 0; i + 1 < 300; i++) {
      if (Math.abs(a.data[4 * (i + 1)] - (a.data[4 * i] + 0.02 * a.data[4 * i + 1])) > 1e-4) resets++;
    }
    expect(resets).toBeGreaterThan(5);
    expect(resets).toBeLessThan(30);
  });
});
