import type { DType } from "../ndarray.js";
import { Rng } from "../rng.js";
import { DQN, dqnDefaults, type DQNEvent, type DQNSettings } from "./dqn.js";
import { createEnvironment, type EnvironmentName, type EnvironmentSpec } from "./environments.js";
import { episodeSeeds, evaluateGreedy } from "./evaluate.js";
import { QNetwork, defaultQNetworkSpec, type QNetworkSpec } from "./q-network.js";

/** Greedy evaluations during training, on their own episode seeds; the best network is kept. */
export interface EvaluationSettings {
  /** Environment steps between evaluations. */
  every: number;
  /** Greedy episodes per evaluation. */
  episodes: number;
  /** Seeds the evaluation episodes (the same episodes every time, none of the training ones). */
  seed: number;
  /** Stop training once an evaluation's mean return reaches this (the game's best score). */
  stopAt?: number;
}

/** Everything a training run is defined by (stored in the agent's model file). */
export interface AgentRecipe {
  env: EnvironmentSpec;
  /** The Q-network; by default `defaultQNetworkSpec` for the environment's observations. */
  network?: QNetworkSpec;
  dqn: DQNSettings;
  /** Environment steps at most. */
  steps: number;
  seed: number;
  evaluation?: EvaluationSettings;
}

/**
 * The recipes of the shipped agents. Catch: frames stacked in pairs (the ball's drift), a short
 * exploration schedule. CartPole: a larger batch and a slower learning rate. DQN's returns on
 * CartPole swing up and down between evaluations (a well-known trait of it), so training stops at
 * the first perfect evaluation (all 20 episodes last 500 steps) and the best network is kept.
 */
export const recipes: Record<EnvironmentName, AgentRecipe> = {
  catch: {
    env: { name: "catch", frames: 2 },
    dqn: {
      ...dqnDefaults,
      bufferSize: 20_000,
      targetUpdate: 250,
      epsilon: { start: 1, end: 0.05, steps: 8_000 },
    },
    steps: 20_000,
    seed: 1,
    evaluation: { every: 1_000, episodes: 100, seed: 2_000_001, stopAt: 1 },
  },
  cartpole: {
    env: { name: "cartpole" },
    dqn: {
      ...dqnDefaults,
      batchSize: 64,
      bufferSize: 50_000,
      targetUpdate: 500,
      lr: 0.0005,
      epsilon: { start: 1, end: 0.05, steps: 10_000 },
    },
    steps: 150_000,
    seed: 1,
    evaluation: { every: 2_500, episodes: 20, seed: 2_000_001, stopAt: 500 },
  },
};

export type AgentEvent =
  DQNEvent | { type: "evaluation"; step: number; meanReturn: number; best: boolean; returns: number[] };

/** What a run leaves for its record and charts. */
export interface AgentHistory {
  /** Per episode: its return, its length and the environment step it ended at. */
  returns: number[];
  lengths: number[];
  endSteps: number[];
  /** The mean TD loss of each block of `lossEvery` updates. */
  losses: number[];
  lossEvery: number;
  evaluations: { step: number; meanReturn: number }[];
}

/**
 * Trains a DQN agent from a recipe: builds the environment and the Q-network from the seed, plays
 * and learns, evaluates greedily every `evaluation.every` steps and keeps the best network (it is
 * in `network` when the run ends). A pulled generator, like the Trainer.
 */
export class AgentTrainer {
  readonly recipe: AgentRecipe;
  readonly network: QNetwork;
  readonly agent: DQN;
  readonly history: AgentHistory = {
    returns: [],
    lengths: [],
    endSteps: [],
    losses: [],
    lossEvery: 100,
    evaluations: [],
  };
  /** The best evaluation so far and the step it came at. */
  best: { meanReturn: number; step: number } | null = null;
  #bestWeights: Float32Array[] | Float64Array[] | null = null;

  constructor(recipe: AgentRecipe, dtype: DType = "float32") {
    this.recipe = structuredClone(recipe);
    const env = createEnvironment(recipe.env);
    const rng = new Rng(recipe.seed);
    const spec = recipe.network ?? defaultQNetworkSpec(env.observationShape, env.actions.length);
    this.recipe.network = spec;
    this.network = new QNetwork(spec, rng.split(), dtype);
    this.agent = new DQN({ env, network: this.network, rng, ...recipe.dqn });
  }

  *steps(): Generator<AgentEvent> {
    const { steps, evaluation } = this.recipe;
    const every = evaluation?.every ?? steps;
    let lossSum = 0;
    let lossCount = 0;
    while (this.agent.stepCount < steps) {
      for (const event of this.agent.run(Math.min(every, steps - this.agent.stepCount))) {
        if (event.type === "episode") {
          this.history.returns.push(event.return);
          this.history.lengths.push(event.length);
          this.history.endSteps.push(event.step);
        } else if (event.loss !== null) {
          lossSum += event.loss;
          if (++lossCount === this.history.lossEvery) {
            this.history.losses.push(lossSum / lossCount);
            lossSum = lossCount = 0;
          }
        }
        yield event;
      }
      if (evaluation) {
        const result = this.evaluate(evaluation);
        yield result;
        if (evaluation.stopAt !== undefined && result.meanReturn >= evaluation.stopAt) break;
      }
    }
    if (this.#bestWeights) this.network.params.forEach((p, i) => p.value.data.set(this.#bestWeights![i]));
  }

  /** Runs to the end; returns the history. */
  run(): AgentHistory {
    for (const _ of this.steps());
    return this.history;
  }

  evaluate(settings: EvaluationSettings): Extract<AgentEvent, { type: "evaluation" }> {
    const seeds = episodeSeeds(settings.seed, settings.episodes);
    const { returns, meanReturn } = evaluateGreedy(
      this.network,
      () => createEnvironment(this.recipe.env),
      seeds,
    );
    const step = this.agent.stepCount;
    this.history.evaluations.push({ step, meanReturn });
    const best = this.best === null || meanReturn > this.best.meanReturn;
    if (best) {
      this.best = { meanReturn, step };
      this.#bestWeights = this.network.params.map((p) => p.value.data.slice()) as Float32Array[];
    }
    return { type: "evaluation", step, meanReturn, best, returns };
  }
}
