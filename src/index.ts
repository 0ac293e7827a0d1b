// Public API: re-exports only.
export * from "./ndarray.js";
export * from "./rng.js";
export * from "./errors.js";
export type { Kernels } from "./backend/kernels.js";
export { kernels, setKernels, withKernels } from "./backend/index.js";
export { reference } from "./backend/reference.js";
export type { Mode, Param, Layer, LossLayer } from "./layers/layer.js";
// models branch (chapters 6–8): initializers, optimizers, networks, training
export * from "./init.js";
export * from "./optimizers/index.js";
export * from "./models/index.js";
export * from "./train/trainer.js";
