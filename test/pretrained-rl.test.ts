// The trained DQN agents in models/ meet issue 16's targets when they play 100 fresh greedy episodes
// (ε = 0): Catch from pixels catches ≥ 95 % of the balls, CartPole's mean return is ≥ 475. Each was
// trained by the command in the README; its file records that command's recipe and the result of
// the same 100 episodes at the end of training, which must be what we measure here.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { setThreads, useFastBackend } from "../src/backend/index.js";
import { loadAgent } from "../src/rl/agent-file.js";
import { createEnvironment } from "../src/rl/environments.js";
import { episodeSeeds, evaluateGreedy } from "../src/rl/evaluate.js";
import { PLAY_SEED } from "../src/cli/rl.js";

beforeAll(async () => {
  // What `zerodl rl train` and `rl play` run on.
  await useFastBackend();
  await setThreads(1);
});

const agents = [
  { file: "dqn-catch", env: "catch", target: "≥ 95 % of the balls caught" },
  { file: "dqn-cartpole", env: "cartpole", target: "a mean return ≥ 475" },
] as const;

for (const { file, env, target } of agents) {
  describe(`models/${file}.safetensors`, () => {
    const path = fileURLToPath(new URL(`../models/${file}.safetensors`, import.meta.url));

    it("is in the repository", () => {
      expect(existsSync(path)).toBe(true);
    });

    it(`plays 100 fresh greedy episodes with ${target}`, async () => {
      const { network, env: spec, info } = await loadAgent(path);
      expect(spec.name).toBe(env);
      const seeds = episodeSeeds(PLAY_SEED, 100);
      // Fresh episodes: their seeds come from Rng(100), training's from Rng(1) and its evaluations' from Rng(2000001).
      const { returns, meanReturn } = evaluateGreedy(network, () => createEnvironment(spec), seeds);
      if (env === "catch") {
        const caught = returns.filter((r) => r === 1).length;
        expect(caught + returns.filter((r) => r === -1).length).toBe(100);
        expect(caught).toBeGreaterThanOrEqual(95);
      } else {
        expect(meanReturn).toBeGreaterThanOrEqual(475);
      }
      const results = info.results as { testMeanReturn: number; testSeed: number; testEpisodes: number };
      expect([results.testSeed, results.testEpisodes]).toEqual([PLAY_SEED, 100]);
      expect(meanReturn).toBeCloseTo(results.testMeanReturn, 6);
    });
  });
}
