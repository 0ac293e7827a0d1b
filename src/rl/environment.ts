/**
 * What an agent plays: a plain seeded object (DESIGN.md: environments are plain objects with
 * `reset(seed)` and `step(action)`). The API is Gymnasium's: `terminated` when the game itself
 * ends (the pole fell, the ball landed), `truncated` when a time limit cut it short. DQN treats
 * the two differently: a terminated state has no future value, a truncated one does.
 */

/** An RGB picture, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface StepResult {
  /** The observation after the step (a new array, shaped `observationShape`). */
  observation: Float32Array;
  reward: number;
  /** The episode ended by the game's own rule. */
  terminated: boolean;
  /** The episode was cut off by a time limit. */
  truncated: boolean;
}

export interface Environment {
  /** The environment's registered name ("cartpole", "catch"). */
  readonly name: string;
  /** One observation's shape: [4] for CartPole's state, [C, H, W] for pixels. */
  readonly observationShape: readonly number[];
  /** Action names; the actions are 0 … actions.length − 1. */
  readonly actions: readonly string[];
  /** Starts an episode; everything random in it is drawn from `seed`. Returns the first observation. */
  reset(seed: number): Float32Array;
  /** Applies an action; an error after the episode ended (call reset). */
  step(action: number): StepResult;
  /** The current state as a picture (for episode strips and animations). */
  render(): RgbImage;
}

/** Throws a clear error for an action outside [0, count). */
export function checkAction(env: { name: string; actions: readonly string[] }, action: number): void {
  if (!Number.isInteger(action) || action < 0 || action >= env.actions.length) {
    throw new RangeError(
      `${env.name}: action ${action} is not one of 0 … ${env.actions.length - 1} (${env.actions.join(", ")})`,
    );
  }
}
