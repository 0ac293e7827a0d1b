import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { CartPole } from "./cartpole.js";
import { Catch } from "./catch.js";
import { DQN } from "./dqn.js";
import { FrameStack } from "./frame-stack.js";
import { QNetwork, defaultQNetworkSpec, type QNetworkSpec } from "./q-network.js";
import { createEnvironment } from "./environments.js";
import { episodeSeeds, evaluateGreedy, recordEpisode } from "./evaluate.js";
import { AgentTrainer, type AgentRecipe } from "./train-agent.js";

const mlp = (inputs: number, actions: number): QNetworkSpec => ({
  kind: "q-network",
  inputShape: [inputs],
  outputSize: actions,
  layers: [{ type: "affine", outputSize: 5 }, { type: "tanh" }, { type: "affine", outputSize: actions }],
});

describe("QNetwork", () => {
  it("gradient-checks its TD loss through an MLP and a conv net (float64)", () => {
    const rng = new Rng(5);
    const conv: QNetworkSpec = {
      kind: "q-network",
      inputShape: [2, 4, 4],
      outputSize: 3,
      layers: [
        { type: "convolution", filters: 2, fh: 3, fw: 3, pad: 1 },
        { type: "tanh" },
        { type: "affine", outputSize: 3 },
      ],
      huberDelta: 0.5,
    };
    for (const spec of [mlp(4, 3), conv]) {
      const net = new QNetwork(spec, rng, "float64");
      const x = randomUpstream([6, ...spec.inputShape], rng);
      const actions = Int32Array.from([0, 2, 1, 1, 0, 2]);
      const targets = randomUpstream([6], rng);
      net.loss(x, actions, targets);
      net.backward();
      checkGradients(() => net.loss(x, actions, targets), net.params);
    }
  });

  it("names its params the book's way and copies weights for the target network", () => {
    const a = new QNetwork(mlp(4, 2), new Rng(1));
    const b = new QNetwork(mlp(4, 2), new Rng(2));
    expect(a.params.map((p) => p.name)).toEqual(["W1", "b1", "W2", "b2"]);
    const x = NDArray.from([0.1, -0.2, 0.3, 0.4], [1, 4]);
    expect(a.predict(x).shape).toEqual([1, 2]);
    expect(b.predict(x).data).not.toEqual(a.predict(x).data);
    b.copyFrom(a);
    expect(b.predict(x).data).toEqual(a.predict(x).data);
    expect(() => b.copyFrom(new QNetwork(mlp(3, 2), new Rng(0)))).toThrow(/W1 has 15 values, W1 20/);
  });

  it("refuses a spec whose layers do not end in one value per action", () => {
    expect(() => new QNetwork({ ...mlp(4, 2), outputSize: 3 }, new Rng(0))).toThrow(
      /end in samples of shape \(2\), not the 3 action values/,
    );
    expect(() => new QNetwork({ ...mlp(4, 2), extra: 1 } as QNetworkSpec, new Rng(0))).toThrow(
      /no option "extra"/,
    );
  });

  it("has the shipped shapes: an MLP for a state, convolutions for stacked frames", () => {
    expect(
      new QNetwork(defaultQNetworkSpec([4], 2), new Rng(0)).predict(NDArray.zeros([3, 4])).shape,
    ).toEqual([3, 2]);
    expect(
      new QNetwork(defaultQNetworkSpec([2, 10, 10], 3), new Rng(0)).predict(NDArray.zeros([3, 2, 10, 10]))
        .shape,
    ).toEqual([3, 3]);
  });
});

/** A Q-network Q(s) = s·W + b with the given weights (one affine layer). */
function linearQ(W: number[][], b: number[], inputShape = [W.length]): QNetwork {
  const net = new QNetwork(
    {
      kind: "q-network",
      inputShape,
      outputSize: b.length,
      layers: [{ type: "affine", outputSize: b.length }],
    },
    new Rng(0),
    "float64",
  );
  net.params[0].value.data.set(W.flat());
  net.params[1].value.data.set(b);
  return net;
}

describe("DQN", () => {
  it("computes y = r + γ·max Q_target(s′) by hand, 0 future value when terminated", () => {
    const env = new CartPole();
    const network = linearQ(
      [
        [1, 0],
        [0, 2],
        [0, 0],
        [0, 0],
      ],
      [0.5, 0],
    );
    const agent = new DQN({ env, network, rng: new Rng(0), gamma: 0.9, targetUpdate: 10 });
    const batch = {
      observations: NDArray.zeros([3, 4], "float64"),
      actions: Int32Array.of(0, 1, 0),
      rewards: Float64Array.of(1, 1, -1),
      // Q(s′) = [s0 + 0.5, 2·s1]: [2.5, 2], [0.5, 6], [3.5, 4]
      nextObservations: NDArray.from([2, 1, 0, 0, 0, 3, 0, 0, 3, 2, 0, 0], [3, 4], "float64"),
      terminals: Uint8Array.of(0, 0, 1),
    };
    // 1 + 0.9·2.5 = 3.25; 1 + 0.9·6 = 6.4; terminal: −1.
    expect([...agent.targets(batch).data].map((v) => +v.toFixed(12))).toEqual([3.25, 6.4, -1]);
    // The target network, not the online one, gives Q(s′): change the online weights, same targets.
    network.params[1].value.data.set([100, 100]);
    expect(agent.targets(batch).data[0]).toBeCloseTo(3.25, 12);
    // Without a target network the online network bootstraps itself: 1 + 0.9·102 = 92.8.
    const selfish = new DQN({ env, network, rng: new Rng(0), gamma: 0.9, targetUpdate: 0 });
    expect(selfish.target).toBeNull();
    expect(selfish.targets(batch).data[0]).toBeCloseTo(92.8, 12);
  });

  it("copies the online network into the target network every C updates", () => {
    const env = new FrameStack(new Catch({ rows: 5, columns: 5 }), 2);
    const network = new QNetwork(defaultQNetworkSpec(env.observationShape, 3), new Rng(1));
    const agent = new DQN({
      env,
      network,
      rng: new Rng(2),
      targetUpdate: 3,
      learningStarts: 4,
      batchSize: 4,
    });
    const same = () =>
      agent.target!.params.every((p, i) =>
        p.value.data.every((v, k) => v === network.params[i].value.data[k]),
      );
    const seen: [number, boolean][] = [];
    for (const event of agent.run(12)) {
      if (event.type === "step") seen.push([agent.updateCount, same()]);
    }
    // Steps 1–4 fill the memory; updates 1, 2, 3, … follow; the copy comes after updates 3 and 6.
    expect(seen.map(([u]) => u)).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seen.map(([, s]) => s)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
      false,
    ]);
  });

  it("stores a time-limit end as non-terminal and a fall as terminal", () => {
    const network = new QNetwork(mlp(4, 2), new Rng(1));
    const agent = new DQN({
      env: new CartPole({ maxSteps: 5 }),
      network,
      rng: new Rng(3),
      learningStarts: 100,
    });
    const events = [...agent.run(5)];
    expect(events.at(-1)).toMatchObject({ type: "episode", return: 5, length: 5 });
    expect([...agent.buffer.gather([0, 1, 2, 3, 4]).terminals]).toEqual([0, 0, 0, 0, 0]);
    const falling = new DQN({
      env: new CartPole(),
      network,
      rng: new Rng(3),
      learningStarts: 100,
      epsilon: { start: 0, end: 0, steps: 0 },
    });
    // Greedy play of an untrained network pushes one way until the pole falls.
    const episode = [...falling.run(200)].find((e) => e.type === "episode")!;
    expect(episode.type === "episode" && episode.length < 100).toBe(true);
    const last = falling.buffer.gather([(episode as { length: number }).length - 1]);
    expect(last.terminals[0]).toBe(1);
  });

  it("explores uniformly with ε = 1 and acts greedily with ε = 0", () => {
    const env = new Catch({ rows: 3, columns: 3 });
    const network = linearQ(
      Array.from({ length: 9 }, () => [0, 0, 0]),
      [0, 1, 0],
      [1, 3, 3],
    );
    const agent = new DQN({ env, network, rng: new Rng(4), targetUpdate: 0 });
    const counts = [0, 0, 0];
    const obs = new Float32Array(9);
    for (let i = 0; i < 3000; i++) counts[agent.act(obs, 1)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(100);
    for (let i = 0; i < 50; i++) expect(agent.act(obs, 0)).toBe(1);
  });

  it("stops with a clear error when the TD loss stops being finite", () => {
    const network = new QNetwork(mlp(4, 2), new Rng(1));
    const agent = new DQN({
      env: new CartPole(),
      network,
      rng: new Rng(0),
      learningStarts: 10,
      batchSize: 4,
    });
    for (const _ of agent.run(10));
    network.params[2].value.data[0] = NaN; // W2: every Q(s, 0) is NaN
    expect(() => agent.update()).toThrow(
      /DQN diverged: the TD loss is NaN at update 1 \(environment step 10\)/,
    );
  });

  it("checks the network against the environment and its settings", () => {
    const network = new QNetwork(mlp(4, 2), new Rng(1));
    expect(() => new DQN({ env: new Catch(), network, rng: new Rng(0) })).toThrow(
      /network takes observations of shape \[4\], catch gives \[1, 10, 10\]/,
    );
    expect(() => new DQN({ env: new CartPole(), network, rng: new Rng(0), batchSize: 0 })).toThrow(
      /batchSize must be an integer ≥ 1/,
    );
    expect(() => new DQN({ env: new CartPole(), network, rng: new Rng(0), gamma: 2 })).toThrow(/gamma/);
  });
});

describe("greedy evaluation", () => {
  it("plays all episodes side by side exactly as one by one", () => {
    const rng = new Rng(6);
    for (const spec of [{ name: "cartpole" }, { name: "catch", frames: 2 }] as const) {
      const env = createEnvironment(spec);
      const network = new QNetwork(defaultQNetworkSpec(env.observationShape, env.actions.length), rng);
      const seeds = episodeSeeds(3, 12);
      const together = evaluateGreedy(network, () => createEnvironment(spec), seeds);
      const alone = seeds.map((seed) => recordEpisode(network, createEnvironment(spec), seed));
      expect(together.returns).toEqual(alone.map((e) => e.return));
      expect(together.lengths).toEqual(alone.map((e) => e.length));
      expect(alone[0].frames).toHaveLength(alone[0].length + 1);
    }
  });
});

describe("AgentTrainer", () => {
  const recipe: AgentRecipe = {
    env: { name: "catch", frames: 2, options: { rows: 5, columns: 5 } },
    dqn: {
      gamma: 0.9,
      batchSize: 8,
      bufferSize: 100,
      learningStarts: 20,
      trainEvery: 1,
      targetUpdate: 10,
      replay: true,
      epsilon: { start: 1, end: 0.1, steps: 50 },
      lr: 0.001,
    },
    network: {
      kind: "q-network",
      inputShape: [2, 5, 5],
      outputSize: 3,
      layers: [
        { type: "convolution", filters: 2, fh: 3, fw: 3, stride: 2, pad: 1 },
        { type: "relu" },
        { type: "affine", outputSize: 3 },
      ],
    },
    steps: 120,
    seed: 3,
    evaluation: { every: 40, episodes: 5, seed: 9 },
  };

  it("is reproducible from its seed", () => {
    const a = new AgentTrainer(recipe);
    const b = new AgentTrainer(recipe);
    const c = new AgentTrainer({ ...recipe, seed: 4 });
    const [ha, hb, hc] = [a.run(), b.run(), c.run()];
    expect(ha.returns.length).toBe(30); // 120 steps of 4-step episodes
    expect(hb).toEqual(ha);
    expect(a.network.params.map((p) => [...p.value.data])).toEqual(
      b.network.params.map((p) => [...p.value.data]),
    );
    expect(hc.losses).not.toEqual(ha.losses);
    expect(ha.evaluations.map((e) => e.step)).toEqual([40, 80, 120]);
  });

  it("ends with the best evaluation's network and stops at `stopAt`", () => {
    const trainer = new AgentTrainer({
      ...recipe,
      evaluation: { every: 40, episodes: 5, seed: 9, stopAt: -1 },
    });
    trainer.run();
    // Any evaluation reaches −1 (every ball missed at worst): it stops after the first.
    expect(trainer.history.evaluations.length).toBe(1);
    const kept = new AgentTrainer(recipe);
    kept.run();
    const best = Math.max(...kept.history.evaluations.map((e) => e.meanReturn));
    expect(kept.best!.meanReturn).toBe(best);
    expect(kept.evaluate(recipe.evaluation!).meanReturn).toBe(best);
  });
});
