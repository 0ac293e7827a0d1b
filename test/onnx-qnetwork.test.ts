// ONNX export of the shipped DQN agents, judged by ONNX Runtime: their Q-networks are chains of the
// layers exportOnnx already writes (affine, convolution, ReLU), so the same graph runs them. Each
// agent's values on 200 observations of its own game must agree within 1e-4, with the same greedy actions.
import { beforeAll, describe, expect, it } from "vitest";
import { NDArray, Rng, createEnvironment, useFastBackend } from "../src/index.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import type { ModelSpec } from "../src/models/model.js";
import { loadAgent } from "../src/rl/agent-file.js";
import { compareScores, runOnnx } from "./onnx-runtime.js";
import { modelsDir, shippedModels } from "./shipped-models.js";

const agents = (await shippedModels()).filter((m) => m.kind === "q-network").map((m) => m.file);

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("the shipped DQN agents exported to ONNX run in ONNX Runtime with the same values", () => {
  it("ships both agents", () => {
    expect(agents.sort()).toEqual(["dqn-cartpole.safetensors", "dqn-catch.safetensors"]);
  });

  for (const file of agents) {
    it(`${file}: 200 observations of a random policy, values within 1e-4, the same greedy actions`, async () => {
      const { network, env: spec } = await loadAgent(modelsDir + file);
      const env = createEnvironment(spec);
      const rng = new Rng(5);
      const n = 200;
      const size = env.observationShape.reduce((a, b) => a * b, 1);
      const x = NDArray.zeros([n, ...env.observationShape], "float32");
      let observation = env.reset(rng.nextUint32());
      for (let i = 0; i < n; i++) {
        x.data.set(observation, i * size);
        const step = env.step(rng.int(env.actions.length));
        observation = step.terminated || step.truncated ? env.reset(rng.nextUint32()) : step.observation;
      }
      const onnx = exportOnnx(
        { spec: network.spec as unknown as ModelSpec, layers: network.layers, params: network.params },
        { classes: [...env.actions], name: file.replace(".safetensors", "") },
      );
      const ours = network.predict(x);
      const theirs = await runOnnx(onnx, x);
      expect(theirs.dims).toEqual(ours.shape);
      const { maxDiff, differentClasses } = compareScores(ours.data, theirs.data, env.actions.length);
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
      expect(differentClasses).toEqual([]);
    });
  }
});
