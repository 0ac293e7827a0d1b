/**
 * `zerodl rl train` and `zerodl rl play` end to end on short CartPole runs (the reference backend,
 * a few seconds), and their errors.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GifReader } from "omggif";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadAgent } from "../src/rl/agent-file.js";
import { cli } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zerodl-cli-rl-"));
const agent = join(dir, "cp.safetensors");
const quick = [
  "--env",
  "cartpole",
  "--steps",
  "400",
  "--learning-starts",
  "100",
  "--batch-size",
  "16",
  "--eval-every",
  "200",
  "--eval-episodes",
  "3",
  "--episodes",
  "5",
  "--backend",
  "reference",
];
let train: Awaited<ReturnType<typeof cli>>;

beforeAll(async () => {
  train = await cli("rl", "train", ...quick, "--out", agent);
});

describe("zerodl rl train", () => {
  it("trains, evaluates, tests on fresh episodes and writes the agent, its curve and an episode", () => {
    expect(train.code).toBe(0);
    expect(train.stderr).toContain("training DQN on cartpole: 400 steps at most, adam lr 0.0005, batch 16");
    expect(train.stdout).toMatch(/step 200: greedy mean return [\d.]+ over 3 episodes/);
    expect(train.stdout).toMatch(/step 400: greedy mean return [\d.]+ over 3 episodes/);
    expect(train.stdout).toMatch(
      /test \(ε = 0, 5 fresh episodes, seed 100\): mean return [\d.]+ over 5 episodes/,
    );
    for (const ext of [
      ".safetensors",
      ".history.json",
      ".history.svg",
      ".history.png",
      ".episode.png",
      ".episode.gif",
    ]) {
      expect(existsSync(join(dir, `cp${ext}`))).toBe(true);
    }
    const { recipe, history, results } = JSON.parse(readFileSync(join(dir, "cp.history.json"), "utf8"));
    expect(recipe).toMatchObject({ env: { name: "cartpole" }, steps: 400, seed: 1 });
    expect(recipe.dqn).toMatchObject({
      batchSize: 16,
      learningStarts: 100,
      replay: true,
      targetUpdate: 500,
    });
    expect(history.returns.reduce((a: number, b: number) => a + b, 0)).toBe(history.endSteps.at(-1));
    expect(history.evaluations.map((e: { step: number }) => e.step)).toEqual([200, 400]);
    expect(results.steps).toBe(400);
    const strip = PNG.sync.read(readFileSync(join(dir, "cp.episode.png")));
    expect(strip.height).toBe(200);
    expect(new GifReader(readFileSync(join(dir, "cp.episode.gif"))).width).toBe(300);
  });

  it("is reproducible: the same command, the same network", async () => {
    const again = join(dir, "again.safetensors");
    expect((await cli("rl", "train", ...quick, "--no-pictures", "--out", again)).code).toBe(0);
    const [a, b] = await Promise.all([loadAgent(agent), loadAgent(again)]);
    a.network.params.forEach((p, i) => expect(p.value.data).toEqual(b.network.params[i].value.data));
    expect(existsSync(join(dir, "again.episode.png"))).toBe(false);
  });

  it("takes the ablations' switches", async () => {
    const out = join(dir, "bare.safetensors");
    const r = await cli(
      "rl",
      "train",
      ...quick,
      "--no-replay",
      "--target-update",
      "0",
      "--no-pictures",
      "--out",
      out,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("replay off, target network off");
    expect((await loadAgent(out)).info.training).toMatchObject({ dqn: { replay: false, targetUpdate: 0 } });
  });
});

describe("zerodl rl play", () => {
  it("reports the mean return of greedy episodes and draws the first", async () => {
    const gif = join(dir, "play.gif");
    const strip = join(dir, "play.png");
    const r = await cli(
      "rl",
      "play",
      agent,
      "--env",
      "cartpole",
      "--episodes",
      "4",
      "--gif",
      gif,
      "--strip",
      strip,
      "--backend",
      "reference",
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("cartpole, 4 greedy episodes (ε = 0, episode seeds from --seed 100)");
    expect(r.stdout).toMatch(/mean return [\d.]+ over 4 episodes \(min \d+, max \d+\)/);
    expect(existsSync(gif) && existsSync(strip)).toBe(true);
    const json = await cli("rl", "play", agent, "--episodes", "5", "--json", "--backend", "reference");
    const result = JSON.parse(json.stdout);
    expect(result.returns).toHaveLength(5);
    // The same 5 episodes as the training command's test.
    const { results } = JSON.parse(readFileSync(join(dir, "cp.history.json"), "utf8"));
    expect(result.meanReturn).toBe(results.testMeanReturn);
  });

  it("says what is wrong with the wrong game or a classifier's file", async () => {
    const wrong = await cli("rl", "play", agent, "--env", "catch", "--backend", "reference");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("was trained on cartpole, not catch");
    const classifier = await cli("rl", "play", "models/two-layer.safetensors", "--backend", "reference");
    expect(classifier.code).toBe(1);
    expect(classifier.stderr).toMatch(/it is a "two-layer" model, not a DQN agent's Q-network/);
    const missing = await cli("rl", "train", "--backend", "reference");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("--env <name>");
    const bad = await cli("rl", "train", "--env", "pong");
    expect(bad.stderr).toContain("Allowed choices are catch, cartpole");
  });

  it("zerodl info shows the Q-network and its training record", async () => {
    const r = await cli("info", agent);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("architecture  q-network  input (4,) → 2 action values");
    expect(r.stdout).toMatch(/results {7}testMeanReturn [\d.]+, testEpisodes 5, testSeed 100, steps 400/);
  });
});
