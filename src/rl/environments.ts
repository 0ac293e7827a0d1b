import { unknownOption } from "../errors.js";
import { CartPole, type CartPoleOptions } from "./cartpole.js";
import { Catch, type CatchOptions } from "./catch.js";
import type { Environment } from "./environment.js";
import { FrameStack } from "./frame-stack.js";

export type EnvironmentName = "catch" | "cartpole";
export const environmentNames: readonly EnvironmentName[] = ["catch", "cartpole"];

/** An environment as plain JSON (saved with a trained agent, so `play` rebuilds what it learned on). */
export type EnvironmentSpec =
  | { name: "catch"; options?: CatchOptions; frames?: number }
  | { name: "cartpole"; options?: CartPoleOptions; frames?: number };

/** Builds the environment of `spec`; `frames` > 1 stacks that many frames (FrameStack). */
export function createEnvironment(spec: EnvironmentSpec): Environment {
  let env: Environment;
  const name: EnvironmentName = spec.name;
  switch (name) {
    case "catch":
      env = new Catch(spec.options as CatchOptions);
      break;
    case "cartpole":
      env = new CartPole(spec.options as CartPoleOptions);
      break;
    default: {
      const unknown: never = name;
      throw unknownOption("environment", unknown, environmentNames);
    }
  }
  const frames = spec.frames ?? 1;
  return frames === 1 ? env : new FrameStack(env, frames);
}
