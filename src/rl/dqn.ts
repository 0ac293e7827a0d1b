import { OptionError, TrainingDivergedError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import type { Rng } from "../rng.js";
import type { Environment } from "./environment.js";
import { QNetwork } from "./q-network.js";
import { ReplayBuffer, type TransitionBatch } from "./replay-buffer.js";
import { checkSchedule, epsilonAt, type EpsilonSchedule } from "./schedule.js";

/** DQN's knobs (Mnih et al. 2015, "Human-level control through deep reinforcement learning"). */
export interface DQNSettings {
  /** Discount γ of future rewards. */
  gamma: number;
  /** Transitions per update. */
  batchSize: number;
  /** Replay memory: the last this many transitions. */
  bufferSize: number;
  /** Environment steps of play (at ε's start value) before the first update. */
  learningStarts: number;
  /** Environment steps per update (the paper: 4). */
  trainEvery: number;
  /**
   * C: updates between copies of the online network into the target network. 0 = no target
   * network: the online network computes its own targets (the paper's ablation).
   */
  targetUpdate: number;
  /** Sample mini-batches uniformly from the memory; false = learn from the last `batchSize` steps in order. */
  replay: boolean;
  epsilon: EpsilonSchedule;
  /** Adam's learning rate (when no optimizer is given). */
  lr: number;
}

export const dqnDefaults: DQNSettings = {
  gamma: 0.99,
  batchSize: 32,
  bufferSize: 50_000,
  learningStarts: 1_000,
  trainEvery: 1,
  targetUpdate: 500,
  replay: true,
  epsilon: { start: 1, end: 0.05, steps: 10_000 },
  lr: 0.001,
};

export interface DQNOptions extends Partial<DQNSettings> {
  env: Environment;
  /** The online Q-network (learns); the target network is a copy of it. */
  network: QNetwork;
  /** Every random choice: episode seeds, exploration, mini-batches. */
  rng: Rng;
  /** Default: Adam with `lr`. */
  optimizer?: Optimizer;
}

export type DQNEvent =
  | { type: "step"; step: number; epsilon: number; loss: number | null }
  | { type: "episode"; episode: number; step: number; return: number; length: number; epsilon: number };

/**
 * The DQN agent: an online Q-network learning from a replay memory, with targets from a target
 * network copied from it every C updates, playing ε-greedily on a linear schedule. Two networks are
 * two models with one optimizer (the target network is never trained); the environment is a plain
 * seeded object whose episodes take their seeds from `rng`.
 *
 * Each environment step: choose a (ε-greedy), step, store (s, a, r, s′, terminated); every
 * `trainEvery` steps after `learningStarts`, one update on a mini-batch:
 *   y = r + γ·(1 − terminated)·max_a′ Q_target(s′, a′),  loss = Huber(Q(s, a) − y),  Adam step.
 * A truncated episode (time limit) is not terminal: its last state keeps its future value.
 */
export class DQN {
  readonly settings: DQNSettings;
  readonly env: Environment;
  readonly online: QNetwork;
  /** Null without a target network (targetUpdate 0). */
  readonly target: QNetwork | null;
  readonly buffer: ReplayBuffer;
  readonly optimizer: Optimizer;
  readonly rng: Rng;
  #step = 0;
  #updates = 0;
  #episode = 0;
  /** The episode in progress: its observation now (null before the next reset), return and length. */
  #observation: Float32Array | null = null;
  #return = 0;
  #length = 0;

  constructor(options: DQNOptions) {
    const { env, network, rng, optimizer, ...given } = options;
    const settings = { ...dqnDefaults, ...given };
    checkSettings(settings);
    const shape = network.spec.inputShape;
    if (shape.length !== env.observationShape.length || shape.some((d, i) => d !== env.observationShape[i])) {
      throw new OptionError(
        `DQN: the network takes observations of shape [${shape.join(", ")}], ${env.name} gives [${env.observationShape.join(", ")}]`,
      );
    }
    if (network.actionCount !== env.actions.length) {
      throw new OptionError(
        `DQN: the network has ${network.actionCount} action values, ${env.name} has ${env.actions.length} actions`,
      );
    }
    this.settings = settings;
    this.env = env;
    this.online = network;
    this.rng = rng;
    this.optimizer = optimizer ?? new Adam({ lr: settings.lr });
    this.buffer = new ReplayBuffer(
      settings.replay ? settings.bufferSize : settings.batchSize,
      env.observationShape,
    );
    if (settings.targetUpdate > 0) {
      this.target = new QNetwork(network.spec, rng.split(), network.params[0]?.value.dtype);
      this.target.copyFrom(network);
    } else {
      this.target = null;
    }
  }

  /** Environment steps taken. */
  get stepCount(): number {
    return this.#step;
  }

  /** Parameter updates made. */
  get updateCount(): number {
    return this.#updates;
  }

  /** ε now. */
  get epsilon(): number {
    return epsilonAt(this.settings.epsilon, this.#step);
  }

  /** With probability ε a uniformly random action, otherwise the greedy one. */
  act(observation: Float32Array, epsilon: number): number {
    if (this.rng.uniform() < epsilon) return this.rng.int(this.env.actions.length);
    return greedyAction(this.online, observation);
  }

  /**
   * Plays and learns for `steps` more environment steps, one event per step and one at the end of
   * each episode. A pulled generator, so a browser can run a few steps per animation frame.
   */
  *run(steps: number): Generator<DQNEvent> {
    const end = this.#step + steps;
    while (this.#step < end) {
      // An episode cut by the end of a run goes on in the next run.
      const observation = (this.#observation ??= this.env.reset(this.rng.nextUint32()));
      const epsilon = this.epsilon;
      const action = this.act(observation, epsilon);
      const { observation: next, reward, terminated, truncated } = this.env.step(action);
      this.buffer.add(observation, action, reward, next, terminated);
      this.#step++;
      this.#return += reward;
      this.#length++;
      const { learningStarts, trainEvery } = this.settings;
      const loss = this.#step > learningStarts && this.#step % trainEvery === 0 ? this.update() : null;
      yield { type: "step", step: this.#step, epsilon, loss };
      this.#observation = next;
      if (terminated || truncated) {
        this.#episode++;
        yield {
          type: "episode",
          episode: this.#episode,
          step: this.#step,
          return: this.#return,
          length: this.#length,
          epsilon,
        };
        this.#observation = null;
        this.#return = 0;
        this.#length = 0;
      }
    }
  }

  /** One update on a mini-batch from the memory (or the latest steps); returns its TD loss. */
  update(): number {
    const { batchSize, replay, targetUpdate } = this.settings;
    const dtype = this.online.params[0]?.value.dtype ?? "float32";
    const batch = replay
      ? this.buffer.sample(batchSize, this.rng, dtype)
      : this.buffer.recent(batchSize, dtype);
    const loss = this.online.loss(batch.observations, batch.actions, this.targets(batch));
    if (!Number.isFinite(loss)) {
      // Before the step, so the network keeps its last finite weights.
      throw new TrainingDivergedError(
        `DQN diverged: the TD loss is ${loss} at update ${this.#updates + 1} (environment step ${this.#step}). Try a smaller learning rate`,
      );
    }
    this.online.backward();
    this.optimizer.step(this.online.params);
    this.#updates++;
    if (this.target && this.#updates % targetUpdate === 0) this.target.copyFrom(this.online);
    return loss;
  }

  /** y = r + γ·(1 − terminated)·max_a′ Q(s′, a′), Q the target network's (or the online one's without). */
  targets(batch: TransitionBatch): NDArray {
    const next = (this.target ?? this.online).predict(batch.nextObservations); // (B, A)
    const [b, a] = next.shape;
    const y = NDArray.zeros([b], next.dtype);
    for (let i = 0; i < b; i++) {
      let best = next.data[i * a];
      for (let j = 1; j < a; j++) best = Math.max(best, next.data[i * a + j]);
      y.data[i] = batch.rewards[i] + (batch.terminals[i] ? 0 : this.settings.gamma * best);
    }
    return y;
  }
}

/** The action of highest value (the first of equal ones). */
export function greedyAction(network: QNetwork, observation: Float32Array): number {
  const x = NDArray.zeros([1, ...network.spec.inputShape], network.params[0]?.value.dtype);
  x.data.set(observation);
  return argmax(network.predict(x).data, 0, network.actionCount);
}

export function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let j = 1; j < length; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

function checkSettings(s: DQNSettings): void {
  const integer = (key: keyof DQNSettings, min: number) => {
    const v = s[key];
    if (!(Number.isInteger(v) && (v as number) >= min))
      throw new OptionError(`DQN ${key} must be an integer ≥ ${min}, got ${v}`);
  };
  integer("batchSize", 1);
  integer("bufferSize", 1);
  integer("learningStarts", 0);
  integer("trainEvery", 1);
  integer("targetUpdate", 0);
  if (!(s.gamma >= 0 && s.gamma <= 1)) throw new OptionError(`DQN gamma must be in [0, 1], got ${s.gamma}`);
  if (!(s.lr > 0 && Number.isFinite(s.lr))) throw new OptionError(`DQN lr must be a number > 0, got ${s.lr}`);
  checkSchedule(s.epsilon);
}
