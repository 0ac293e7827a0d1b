// The NDArray-level ops: shape checks and allocation over kernels().
export * from "./check.js";
export * from "./conv.js";
export * from "./elementwise.js";
export * from "./linalg.js";
export * from "./softmax.js";
export * from "./recurrent.js";
