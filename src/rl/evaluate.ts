import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { argmax, greedyAction } from "./dqn.js";
import type { Environment, RgbImage } from "./environment.js";
import type { QNetwork } from "./q-network.js";

export interface GreedyEvaluation {
  /** Each episode's return, in the order of the seeds. */
  returns: number[];
  lengths: number[];
  meanReturn: number;
}

/** `count` episode seeds from a generator seeded by `seed`: fresh episodes, the same ones every time. */
export function episodeSeeds(seed: number, count: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => rng.nextUint32());
}

/**
 * Plays one episode per seed greedily (ε = 0), all episodes side by side: each step is one forward
 * pass over the episodes still running. `makeEnv` builds one environment per episode.
 */
export function evaluateGreedy(
  network: QNetwork,
  makeEnv: () => Environment,
  seeds: readonly number[],
): GreedyEvaluation {
  const envs = seeds.map(() => makeEnv());
  const observations = envs.map((env, i) => env.reset(seeds[i]));
  const returns = seeds.map(() => 0);
  const lengths = seeds.map(() => 0);
  let running = envs.map((_, i) => i);
  const shape = network.spec.inputShape;
  const size = shape.reduce((p, d) => p * d, 1);
  const actions = network.actionCount;
  while (running.length > 0) {
    const x = NDArray.zeros([running.length, ...shape], network.params[0]?.value.dtype);
    running.forEach((e, k) => x.data.set(observations[e], k * size));
    const q = network.predict(x);
    const still: number[] = [];
    running.forEach((e, k) => {
      const r = envs[e].step(argmax(q.data, k * actions, actions));
      returns[e] += r.reward;
      lengths[e]++;
      observations[e] = r.observation;
      if (!r.terminated && !r.truncated) still.push(e);
    });
    running = still;
  }
  const meanReturn = returns.reduce((a, b) => a + b, 0) / Math.max(1, returns.length);
  return { returns, lengths, meanReturn };
}

export interface Episode {
  return: number;
  length: number;
  actions: number[];
  rewards: number[];
  /** The picture before the first step and after every step (length + 1 frames). */
  frames: RgbImage[];
}

/** One greedy episode with its pictures, for frame strips and animations. */
export function recordEpisode(network: QNetwork, env: Environment, seed: number): Episode {
  let observation = env.reset(seed);
  const episode: Episode = { return: 0, length: 0, actions: [], rewards: [], frames: [env.render()] };
  for (;;) {
    const action = greedyAction(network, observation);
    const r = env.step(action);
    episode.actions.push(action);
    episode.rewards.push(r.reward);
    episode.return += r.reward;
    episode.length++;
    episode.frames.push(env.render());
    if (r.terminated || r.truncated) return episode;
    observation = r.observation;
  }
}
