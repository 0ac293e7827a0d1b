import { OptionError, unknownOption } from "../errors.js";
import type { Param } from "../layers/layer.js";
import { AdaGrad, type AdaGradOptions } from "./adagrad.js";
import { Adam, type AdamOptions } from "./adam.js";
import { Momentum, type MomentumOptions } from "./momentum.js";
import { Nesterov, type NesterovOptions } from "./nesterov.js";
import { RMSprop, type RMSpropOptions } from "./rmsprop.js";
import { SGD, type SGDOptions } from "./sgd.js";
import type { OptimizerState } from "./state.js";

/**
 * Updates params from their gradients. State (velocity, averages, step count) stays private to
 * the optimizer, keyed by Param. L2 weight decay is not here: as in the book, models add ½λΣW²
 * to the loss and λW to the gradient.
 */
export interface Optimizer {
  step(params: readonly Param[]): void;
  /** The learning rate, which a schedule may change between steps (every optimizer here has one). */
  lr?: number;
  /** Its state for `params` (a copy), so a checkpointed run continues exactly. */
  state?(params: readonly Param[]): OptimizerState;
  /** Brings its state for `params` home from a device backend (WebGPU) before `state` copies it. */
  readState?(params: readonly Param[]): Promise<void>;
  /** Restores what `state` returned (for the same params, by name). */
  setState?(params: readonly Param[], state: OptimizerState): void;
}

/** Each optimizer's options, by name. */
export interface OptimizerOptionsMap {
  sgd: SGDOptions;
  momentum: MomentumOptions;
  nesterov: NesterovOptions;
  adagrad: AdaGradOptions;
  rmsprop: RMSpropOptions;
  adam: AdamOptions;
}
export type OptimizerName = keyof OptimizerOptionsMap;
export const optimizerNames: readonly OptimizerName[] = [
  "sgd",
  "momentum",
  "nesterov",
  "adagrad",
  "rmsprop",
  "adam",
];

/** The option names each optimizer accepts (to reject a misspelt or misplaced one by name). */
const optionNames: { [N in OptimizerName]: readonly (keyof OptimizerOptionsMap[N])[] } = {
  sgd: ["lr"],
  momentum: ["lr", "momentum"],
  nesterov: ["lr", "momentum"],
  adagrad: ["lr", "eps"],
  rmsprop: ["lr", "decayRate", "eps"],
  adam: ["lr", "beta1", "beta2", "eps"],
};

/**
 * An optimizer by name, for the CLI and saved configurations: `createOptimizer("adam", { lr: 3e-4 })`.
 * An unknown name or an option the optimizer does not take is an error that lists the valid ones.
 */
export function createOptimizer<N extends OptimizerName>(
  name: N,
  options: OptimizerOptionsMap[N] = {},
): Optimizer {
  if (!Object.hasOwn(optionNames, name)) throw unknownOption("optimizer", name, optimizerNames);
  const valid: readonly string[] = optionNames[name];
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) {
      throw new OptionError(`optimizer ${name} has no option "${key}"; valid: ${valid.join(", ")}`);
    }
  }
  const n: OptimizerName = name;
  switch (n) {
    case "sgd":
      return new SGD(options as SGDOptions);
    case "momentum":
      return new Momentum(options as MomentumOptions);
    case "nesterov":
      return new Nesterov(options as NesterovOptions);
    case "adagrad":
      return new AdaGrad(options as AdaGradOptions);
    case "rmsprop":
      return new RMSprop(options as RMSpropOptions);
    case "adam":
      return new Adam(options as AdamOptions);
    default: {
      const unreachable: never = n;
      throw unknownOption("optimizer", unreachable, optimizerNames);
    }
  }
}
