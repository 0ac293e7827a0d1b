/**
 * Book §8.5.4 (Deep Q-Network): why the DQN paper (Mnih et al. 2015) needed experience replay and
 * a target network. The same agent learns CartPole four ways: with both, without the target network
 * (the online network computes its own targets), without replay (each update on the last 32 steps
 * in order), and without either; return per episode, smoothed and averaged over seeds, against
 * environment steps; and the paper's other measure (its Fig. 2), the average of the greedy action's
 * value over a fixed set of states a random policy visited. Beside it, the checks of the machinery: the TD loss on one fixed batch falls when
 * the network is fitted to it, the replay memory samples uniformly and consistently, and ε follows
 * its linear schedule.
 *
 * Quick form: 600 environment steps per configuration and one seed (the curves then show nothing
 * yet; the checks are the point), instead of 30,000 steps and 3 seeds. (The shipped CartPole agent
 * needed 87,500 steps to play perfectly; 30,000 keeps the full run near an hour on the shared
 * 2-core machine and is where the four configurations have already parted.)
 */
import { lineChart } from "../src/plot/charts.js";
import type { ChartSpec } from "../src/plot/render.js";
import { NDArray } from "../src/ndarray.js";
import { Adam } from "../src/optimizers/adam.js";
import { Rng } from "../src/rng.js";
import { CartPole } from "../src/rl/cartpole.js";
import type { DQN } from "../src/rl/dqn.js";
import type { QNetwork } from "../src/rl/q-network.js";
import { AgentTrainer, recipes, type AgentRecipe } from "../src/rl/train-agent.js";
import { fmt, type Experiment } from "./experiment.js";

interface Config {
  name: string;
  replay: boolean;
  targetNetwork: boolean;
}

const CONFIGS: Config[] = [
  { name: "full DQN", replay: true, targetNetwork: true },
  { name: "no target network", replay: true, targetNetwork: false },
  { name: "no replay", replay: false, targetNetwork: true },
  { name: "neither", replay: false, targetNetwork: false },
];

export interface ConfigRun {
  name: string;
  seed: number;
  returns: number[];
  endSteps: number[];
  /** Mean return of the episodes that ended in the last 10 % of the steps. */
  finalMeanReturn: number;
  bestEvaluation: number;
  /** The average max_a Q(s, a) over the held-out states, at `qSteps`. */
  qSteps?: number[];
  meanMaxQ?: number[];
}

/** The recipe of one configuration: CartPole's, without early stopping, for `steps` steps. */
function recipeOf(config: Config, steps: number, seed: number): AgentRecipe {
  const base = recipes.cartpole;
  return {
    ...base,
    steps,
    seed,
    dqn: {
      ...base.dqn,
      replay: config.replay,
      targetUpdate: config.targetNetwork ? base.dqn.targetUpdate : 0,
      learningStarts: Math.min(base.dqn.learningStarts, steps / 4),
      epsilon: { ...base.dqn.epsilon, steps: Math.min(base.dqn.epsilon.steps, steps / 2) },
    },
    evaluation: { every: Math.max(steps / 10, 1), episodes: 10, seed: 2_000_001 },
  };
}

/**
 * The paper's held-out states: `count` CartPole states visited by a uniformly random policy, in
 * episodes seeded from `Rng(seed)`, as an (count, 4) batch.
 */
export function randomPolicyStates(count: number, seed: number): NDArray {
  const rng = new Rng(seed);
  const env = new CartPole();
  const states = NDArray.zeros([count, 4], "float32");
  let observation = env.reset(rng.nextUint32());
  for (let i = 0; i < count; i++) {
    states.data.set(observation, 4 * i);
    const { observation: next, terminated, truncated } = env.step(rng.int(2));
    observation = terminated || truncated ? env.reset(rng.nextUint32()) : next;
  }
  return states;
}

/** The average over the states of the greedy action's value, max_a Q(s, a). */
export function meanMaxQ(network: QNetwork, states: NDArray): number {
  const q = network.predict(states); // (N, A)
  const [n, a] = q.shape;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let best = q.data[i * a];
    for (let j = 1; j < a; j++) best = Math.max(best, q.data[i * a + j]);
    sum += best;
  }
  return sum / n;
}

/**
 * The average max Q of each configuration, averaged over its seeds, on a symmetric-log axis: the
 * values start near 0 (and may dip below it) and, without a target network, reach 10⁸.
 */
export function qValueChart(runs: readonly ConfigRun[]): ChartSpec {
  const curves = CONFIGS.map((c) => {
    const mine = runs.filter((r) => r.name === c.name);
    return {
      name: c.name,
      x: mine[0].qSteps!,
      y: mine[0].qSteps!.map((_, i) => mine.reduce((a, r) => a + r.meanMaxQ![i], 0) / mine.length),
    };
  });
  const chart = lineChart(curves, {
    title: "Average action value on held-out states",
    xTitle: "environment steps",
    yTitle: "average max Q (symlog)",
    width: 520,
  });
  const y = (chart as { encoding: { y: Record<string, unknown> } }).encoding.y;
  y.scale = { type: "symlog" };
  y.axis = { values: [0, 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8], format: ",.0f" };
  return chart;
}

/**
 * With its targets held still, one mini-batch's TD loss is plain regression: `updates` Adam steps
 * (lr 0.001) on it should take the loss most of the way down. (The agent is done with its network.)
 */
function fixedBatchLosses(agent: DQN, updates: number): number[] {
  const batch = agent.buffer.sample(agent.settings.batchSize, new Rng(7));
  const targets = agent.targets(batch);
  const optimizer = new Adam({ lr: 0.001 });
  const losses: number[] = [];
  for (let i = 0; i < updates; i++) {
    losses.push(agent.online.loss(batch.observations, batch.actions, targets));
    agent.online.backward();
    optimizer.step(agent.online.params);
  }
  return losses;
}

/** How the memory samples: every index in range, each transition whole, counts near uniform (χ²). */
function samplingCheck(
  agent: DQN,
  draws: number,
): { chi2: number; degrees: number; torn: number; outOfRange: number } {
  const buffer = agent.buffer;
  const n = buffer.size;
  const all = buffer.gather(
    Int32Array.from({ length: n }, (_, i) => i),
    "float64",
  );
  const size = all.observations.size / n;
  // Identify a sampled transition by its observation (CartPole's states do not repeat).
  const byKey = new Map<string, number>();
  for (let i = 0; i < n; i++) byKey.set(key(all.observations, i, size), i);
  const counts = new Array<number>(n).fill(0);
  let torn = 0;
  let outOfRange = 0;
  const rng = new Rng(11);
  for (let done = 0; done < draws; done += 100) {
    const batch = buffer.sample(100, rng, "float64");
    for (let j = 0; j < 100; j++) {
      const i = byKey.get(key(batch.observations, j, size));
      if (i === undefined) {
        outOfRange++;
        continue;
      }
      counts[i]++;
      const whole =
        batch.actions[j] === all.actions[i] &&
        batch.rewards[j] === all.rewards[i] &&
        batch.terminals[j] === all.terminals[i] &&
        key(batch.nextObservations, j, size) === key(all.nextObservations, i, size);
      if (!whole) torn++;
    }
  }
  const expected = draws / n;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  return { chi2, degrees: n - 1, torn, outOfRange };
}

/**
 * One configuration's curve: at each grid step, the mean return of the last `window` episodes that
 * had ended by then, averaged over the seeds (grid steps before every seed has an episode are left out).
 */
export function seedMeanCurve(
  runs: readonly ConfigRun[],
  grid: readonly number[],
  window: number,
): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (const g of grid) {
    let sum = 0;
    let complete = true;
    for (const r of runs) {
      let ended = 0;
      while (ended < r.endSteps.length && r.endSteps[ended] <= g) ended++;
      if (ended === 0) {
        complete = false;
        break;
      }
      const recent = r.returns.slice(Math.max(0, ended - window), ended);
      sum += recent.reduce((a, b) => a + b, 0) / recent.length;
    }
    if (!complete) continue;
    x.push(g);
    y.push(sum / runs.length);
  }
  return { x, y };
}

function key(x: NDArray, row: number, size: number): string {
  return Array.from(x.data.subarray(row * size, (row + 1) * size)).join(",");
}

export const dqnExperiment: Experiment = {
  name: "dqn",
  title: "DQN on CartPole with and without experience replay and the target network",
  book: "§8.5.4 (Deep Q-Network; Mnih et al. 2015, Extended Data Table 3)",
  setup:
    "CartPole-v1, MLP 4-128-128-2, Adam lr 5e-4, batch 64, γ 0.99, replay 50,000, target copy every 500 updates, " +
    "ε 1 → 0.05 over 10,000 steps; 30,000 steps per run, seeds 1–3",
  quickForm: "600 steps per configuration, one seed",
  async run({ quick, seed, log }) {
    const steps = quick ? 600 : 30_000;
    const seeds = quick ? [seed + 1] : [seed + 1, seed + 2, seed + 3];
    const runs: ConfigRun[] = [];
    let schedule: { step: number; epsilon: number; expected: number }[] = [];
    let fixedBatch: number[] = [];
    let sampling = { chi2: 0, degrees: 0, torn: 0, outOfRange: 0 };
    const heldOut = randomPolicyStates(500, 3);
    const qEvery = steps / 100;
    for (const config of CONFIGS) {
      for (const s of seeds) {
        const recipe = recipeOf(config, steps, s);
        const trainer = new AgentTrainer(recipe);
        const epsilons: { step: number; epsilon: number; expected: number }[] = [];
        const qSteps: number[] = [];
        const qValues: number[] = [];
        for (const event of trainer.steps()) {
          if (event.type === "step" && event.step % qEvery === 0) {
            qSteps.push(event.step);
            qValues.push(meanMaxQ(trainer.agent.online, heldOut));
          }
          if (event.type === "step" && event.step % 10 === 1) {
            // The step's ε was drawn before it was counted: after t = step − 1 steps.
            const { start, end, steps: over } = recipe.dqn.epsilon;
            const t = event.step - 1;
            epsilons.push({
              step: event.step,
              epsilon: event.epsilon,
              expected: t >= over ? end : start + ((end - start) * t) / over,
            });
          }
        }
        const h = trainer.history;
        const tailFrom = steps * 0.9;
        const tail = h.returns.filter((_, i) => h.endSteps[i] > tailFrom);
        const run: ConfigRun = {
          name: config.name,
          seed: s,
          returns: h.returns,
          endSteps: h.endSteps,
          finalMeanReturn: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : 0,
          bestEvaluation: trainer.best?.meanReturn ?? 0,
          qSteps,
          meanMaxQ: qValues,
        };
        runs.push(run);
        log(
          `  ${config.name}, seed ${s}: ${h.returns.length} episodes, final mean return ${fmt(run.finalMeanReturn)}, best greedy ${fmt(run.bestEvaluation)}, average max Q ${fmt(qValues.at(-1)!)}`,
        );
        if (config === CONFIGS[0] && s === seeds[0]) {
          schedule = epsilons;
          sampling = samplingCheck(trainer.agent, 20_000);
          fixedBatch = fixedBatchLosses(trainer.agent, 500);
        }
      }
    }
    const summaries = CONFIGS.map((c) => {
      const mine = runs.filter((r) => r.name === c.name);
      const mean = (f: (r: ConfigRun) => number) => mine.reduce((a, r) => a + f(r), 0) / mine.length;
      return {
        name: c.name,
        finalMeanReturn: mean((r) => r.finalMeanReturn),
        bestEvaluation: mean((r) => r.bestEvaluation),
        finalMeanMaxQ: mean((r) => r.meanMaxQ!.at(-1)!),
      };
    });
    const epsilonError = Math.max(0, ...schedule.map((e) => Math.abs(e.epsilon - e.expected)));
    const window = quick ? 10 : 50;
    const grid = Array.from({ length: 100 }, (_, i) => ((i + 1) * steps) / 100);
    const curves = CONFIGS.map((c) => ({
      name: c.name,
      ...seedMeanCurve(
        runs.filter((r) => r.name === c.name),
        grid,
        window,
      ),
    }));
    const qChart = qValueChart(runs);
    const full = summaries[0];
    const worst = summaries.slice(1).reduce((a, b) => (a.finalMeanReturn < b.finalMeanReturn ? a : b));
    return {
      data: {
        steps,
        seeds,
        summaries,
        runs,
        checks: {
          fixedBatchLoss: { first: fixedBatch[0], last: fixedBatch.at(-1), losses: fixedBatch },
          sampling,
          epsilon: { maxError: epsilonError, points: schedule.filter((_, i) => i % 10 === 0) },
        },
      },
      figures: [
        {
          caption: `Return per CartPole episode (mean of the last ${window} episodes, averaged over ${seeds.length === 1 ? "one seed" : `${seeds.length} seeds`}) against environment steps.`,
          spec: lineChart(curves, {
            title: "DQN on CartPole: replay and target network",
            xTitle: "environment steps",
            yTitle: "return",
            width: 520,
          }),
        },
        {
          suffix: "q-values",
          caption: `The average over 500 held-out states (visited by a random policy) of max_a Q(s, a), averaged over ${seeds.length === 1 ? "one seed" : `${seeds.length} seeds`}: the paper's Fig. 2 measure. No CartPole state is worth more than 1/(1 − γ) = 100.`,
          spec: qChart,
        },
        {
          suffix: "fixed-batch",
          caption:
            "TD loss of one fixed mini-batch with its targets held, over 500 Adam steps (lr 0.001): the network can fit its targets.",
          spec: lineChart([{ name: "TD loss", x: fixedBatch.map((_, i) => i), y: fixedBatch }], {
            title: "TD loss on a fixed batch",
            xTitle: "Adam steps",
            yTitle: "Huber loss",
            logY: true,
          }),
        },
      ],
      comparison: summaries.map((s) => ({
        what: `${s.name}: mean return of the last 10 % of steps (best greedy evaluation; final average max Q)`,
        book: s.name === CONFIGS[0].name ? "the paper: replay and target network both needed" : "lower",
        ours: `${fmt(s.finalMeanReturn)} (${fmt(s.bestEvaluation)}; ${fmt(s.finalMeanMaxQ)})`,
      })),
      summary: quick
        ? `the TD loss on a fixed batch fell from ${fmt(fixedBatch[0])} to ${fmt(fixedBatch.at(-1)!)}, the memory sampled uniformly (χ² ${fmt(sampling.chi2)} on ${sampling.degrees} degrees), ε followed its schedule`
        : `full DQN ends at a mean return of ${fmt(full.finalMeanReturn)}; the weakest ablation (${worst.name}) at ${fmt(worst.finalMeanReturn)}`,
    };
  },
};
