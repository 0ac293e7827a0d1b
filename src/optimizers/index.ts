export * from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Momentum, type MomentumOptions } from "./momentum.js";
export { Nesterov, type NesterovOptions } from "./nesterov.js";
export { AdaGrad, type AdaGradOptions } from "./adagrad.js";
export { RMSprop, type RMSpropOptions } from "./rmsprop.js";
export { Adam, type AdamOptions } from "./adam.js";
export type { OptimizerState } from "./state.js";
export { clipGrads, clipGradsOnDevice } from "./clip.js";
