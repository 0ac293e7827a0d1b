/**
 * `npx tsx bench/rl.ts`: milliseconds per DQN environment step (acting, storing, one update of the
 * shipped recipe's batch with its target-network forward pass) for the two shipped agents, on the
 * reference kernels and on the WASM backend with 1 and 2 threads, side by side in one process.
 * Median of 5 blocks of 300 steps after 200 warm-up updates. Backs the rl commands' default of one
 * thread.
 */
import { setKernels, setThreads, useFastBackend } from "../src/backend/index.js";
import { reference } from "../src/backend/reference.js";
import { AgentTrainer, recipes } from "../src/rl/train-agent.js";
import type { EnvironmentName } from "../src/rl/environments.js";

const backends = ["reference", "wasm, 1 thread", "wasm, 2 threads"] as const;

async function use(backend: (typeof backends)[number]): Promise<void> {
  if (backend === "reference") {
    setKernels(reference);
    return;
  }
  await useFastBackend();
  await setThreads(backend === "wasm, 1 thread" ? 1 : 2);
}

function msPerStep(env: EnvironmentName, blocks: number, steps: number): number {
  const recipe = recipes[env];
  const trainer = new AgentTrainer({
    ...recipe,
    dqn: { ...recipe.dqn, learningStarts: 200, epsilon: { start: 1, end: 0.05, steps: 1000 } },
    evaluation: undefined,
  });
  const agent = trainer.agent;
  for (const _ of agent.run(400)); // fill the memory, 200 warm-up updates
  const times: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now();
    for (const _ of agent.run(steps));
    times.push((performance.now() - t0) / steps);
  }
  return times.sort((a, b) => a - b)[Math.floor(blocks / 2)];
}

const rows: string[] = [];
for (const env of ["catch", "cartpole"] as const) {
  const cells: string[] = [];
  for (const backend of backends) {
    await use(backend);
    cells.push(msPerStep(env, 5, 300).toFixed(2));
  }
  const { batchSize } = recipes[env].dqn;
  rows.push(`| ${env} (batch ${batchSize}) | ${cells.join(" | ")} |`);
}
console.log(`| ms per DQN step | ${backends.join(" | ")} |`);
console.log(`| --- | ${backends.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(row);
process.exit(0);
