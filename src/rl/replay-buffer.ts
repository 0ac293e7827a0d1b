import { NDArray, shapeSize, type DType } from "../ndarray.js";
import type { Rng } from "../rng.js";

/** A mini-batch of transitions (s, a, r, s′, terminal), the observations shaped for the network. */
export interface TransitionBatch {
  /** (B, ...observationShape) */
  observations: NDArray;
  actions: Int32Array;
  rewards: Float64Array;
  /** (B, ...observationShape) */
  nextObservations: NDArray;
  /** 1 where the episode terminated at s′ (no future value), 0 otherwise (a truncated end included). */
  terminals: Uint8Array;
}

/**
 * Experience replay (Mnih et al. 2015): the last `capacity` transitions in a ring, sampled uniformly
 * so that a mini-batch mixes many episodes and moments instead of the last few correlated steps.
 */
export class ReplayBuffer {
  readonly capacity: number;
  readonly observationShape: readonly number[];
  readonly #obsSize: number;
  readonly #observations: Float32Array;
  readonly #nextObservations: Float32Array;
  readonly #actions: Int32Array;
  readonly #rewards: Float64Array;
  readonly #terminals: Uint8Array;
  /** Transitions stored so far (at most `capacity`). */
  #size = 0;
  /** Where the next transition goes. */
  #next = 0;

  constructor(capacity: number, observationShape: readonly number[]) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) {
      throw new RangeError(`ReplayBuffer capacity must be an integer ≥ 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.observationShape = [...observationShape];
    this.#obsSize = shapeSize(observationShape);
    this.#observations = new Float32Array(capacity * this.#obsSize);
    this.#nextObservations = new Float32Array(capacity * this.#obsSize);
    this.#actions = new Int32Array(capacity);
    this.#rewards = new Float64Array(capacity);
    this.#terminals = new Uint8Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Stores a transition, overwriting the oldest when full. */
  add(
    observation: Float32Array,
    action: number,
    reward: number,
    nextObservation: Float32Array,
    terminal: boolean,
  ): void {
    const n = this.#obsSize;
    if (observation.length !== n || nextObservation.length !== n) {
      throw new RangeError(
        `ReplayBuffer: observations of ${n} values expected (shape [${this.observationShape.join(", ")}]), got ${observation.length} and ${nextObservation.length}`,
      );
    }
    const k = this.#next;
    this.#observations.set(observation, k * n);
    this.#nextObservations.set(nextObservation, k * n);
    this.#actions[k] = action;
    this.#rewards[k] = reward;
    this.#terminals[k] = terminal ? 1 : 0;
    this.#next = (k + 1) % this.capacity;
    this.#size = Math.min(this.#size + 1, this.capacity);
  }

  /** `batchSize` transitions drawn uniformly with replacement (as the paper's minibatch sampling). */
  sample(batchSize: number, rng: Rng, dtype: DType = "float32"): TransitionBatch {
    if (this.#size === 0) throw new RangeError("ReplayBuffer.sample: the buffer is empty");
    return this.gather(rng.choice(this.#size, batchSize), dtype);
  }

  /** The last `batchSize` transitions, oldest first (learning without replay: consecutive, correlated). */
  recent(batchSize: number, dtype: DType = "float32"): TransitionBatch {
    const b = Math.min(batchSize, this.#size);
    return this.gather(
      Int32Array.from({ length: b }, (_, i) => this.#size - b + i),
      dtype,
    );
  }

  /** The transitions at `indices`, counted from the oldest stored (0) to the newest (size − 1). */
  gather(indices: ArrayLike<number>, dtype: DType = "float32"): TransitionBatch {
    const n = this.#obsSize;
    const b = indices.length;
    const observations = NDArray.zeros([b, ...this.observationShape], dtype);
    const nextObservations = NDArray.zeros([b, ...this.observationShape], dtype);
    const actions = new Int32Array(b);
    const rewards = new Float64Array(b);
    const terminals = new Uint8Array(b);
    const oldest = this.#size < this.capacity ? 0 : this.#next;
    for (let i = 0; i < b; i++) {
      const age = indices[i];
      if (!(Number.isInteger(age) && age >= 0 && age < this.#size)) {
        throw new RangeError(`ReplayBuffer: index ${age} is not in [0, ${this.#size})`);
      }
      const k = (oldest + age) % this.capacity;
      observations.data.set(this.#observations.subarray(k * n, (k + 1) * n), i * n);
      nextObservations.data.set(this.#nextObservations.subarray(k * n, (k + 1) * n), i * n);
      actions[i] = this.#actions[k];
      rewards[i] = this.#rewards[k];
      terminals[i] = this.#terminals[k];
    }
    return { observations, actions, rewards, nextObservations, terminals };
  }
}
