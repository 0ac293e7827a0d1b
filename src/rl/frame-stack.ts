import type { Environment, RgbImage, StepResult } from "./environment.js";

/**
 * The last `k` observations stacked along the channel axis, as the DQN paper feeds its network the
 * last 4 screens: motion (where the ball drifts) is visible only across frames. Observations of
 * shape (C, H, W) become (k·C, H, W), oldest first; at reset the first frame fills every slot.
 */
export class FrameStack implements Environment {
  readonly name: string;
  readonly observationShape: readonly number[];
  readonly actions: readonly string[];
  readonly #frames: Float32Array[] = [];
  readonly #frameSize: number;

  constructor(
    readonly env: Environment,
    readonly k: number,
  ) {
    if (!(Number.isInteger(k) && k >= 1))
      throw new RangeError(`FrameStack k must be an integer ≥ 1, got ${k}`);
    const [c, ...rest] = env.observationShape;
    this.name = env.name;
    this.actions = env.actions;
    this.observationShape = [k * c, ...rest];
    this.#frameSize = env.observationShape.reduce((p, d) => p * d, 1);
  }

  reset(seed: number): Float32Array {
    const first = this.env.reset(seed);
    this.#frames.length = 0;
    for (let i = 0; i < this.k; i++) this.#frames.push(first);
    return this.#stacked();
  }

  step(action: number): StepResult {
    const result = this.env.step(action);
    this.#frames.shift();
    this.#frames.push(result.observation);
    return { ...result, observation: this.#stacked() };
  }

  render(): RgbImage {
    return this.env.render();
  }

  #stacked(): Float32Array {
    const out = new Float32Array(this.k * this.#frameSize);
    this.#frames.forEach((frame, i) => out.set(frame, i * this.#frameSize));
    return out;
  }
}
