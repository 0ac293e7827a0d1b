// Reinforcement learning (book §8.5.4): environments, DQN and its parts. Browser-safe; agent files
// and episode pictures come from "zerodl/node".
export * from "./environment.js";
export * from "./canvas.js";
export * from "./cartpole.js";
export * from "./catch.js";
export * from "./frame-stack.js";
export * from "./environments.js";
export * from "./replay-buffer.js";
export * from "./schedule.js";
export * from "./q-network.js";
export * from "./dqn.js";
export * from "./evaluate.js";
export * from "./train-agent.js";
