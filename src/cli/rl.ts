/**
 * `zerodl rl train --env catch|cartpole` trains a DQN agent with a progress bar and saves its
 * Q-network, history, learning-curve chart and an episode's pictures; `zerodl rl play MODEL` plays
 * greedy episodes with it and reports the mean return.
 */
import { Command, Option } from "commander";
import cliProgress from "cli-progress";
import { writeFileAtomic } from "../io/atomic.js";
import { lineChart, movingAverage } from "../plot/charts.js";
import { writeChart } from "../plot/render.js";
import { loadAgent, saveAgent } from "../rl/agent-file.js";
import type { DQNSettings } from "../rl/dqn.js";
import { encodeGif, encodePng, frameStrip } from "../rl/episode-image.js";
import {
  createEnvironment,
  environmentNames,
  type EnvironmentName,
  type EnvironmentSpec,
} from "../rl/environments.js";
import { episodeSeeds, evaluateGreedy, recordEpisode, type GreedyEvaluation } from "../rl/evaluate.js";
import type { QNetwork } from "../rl/q-network.js";
import { AgentTrainer, recipes, type AgentHistory, type AgentRecipe } from "../rl/train-agent.js";
import { CliError, chooseBackend, stripExtension, type CliIo } from "./common.js";

/**
 * The Q-networks are small and their batches tiny: one thread beats two (the threads' handoffs
 * cost more than they share), so rl commands run on one unless --threads says otherwise.
 */
const SMALL_NETWORK_THREADS = "1, for these small networks";

/** The default seed of `play`'s episodes: not the training run's generator (seed 1) nor its evaluations'. */
export const PLAY_SEED = 100;

export interface RlTrainOptions {
  env: EnvironmentName;
  steps?: number;
  seed?: number;
  lr?: number;
  gamma?: number;
  batchSize?: number;
  bufferSize?: number;
  learningStarts?: number;
  trainEvery?: number;
  targetUpdate?: number;
  replay: boolean;
  epsilonEnd?: number;
  epsilonSteps?: number;
  frames?: number;
  evalEvery?: number;
  evalEpisodes?: number;
  earlyStop: boolean;
  episodes: number;
  out?: string;
  pictures: boolean;
  backend?: "fast" | "reference";
  threads?: number;
}

export interface RlPlayOptions {
  env?: EnvironmentName;
  episodes: number;
  seed: number;
  gif?: string;
  strip?: string;
  json?: boolean;
  backend?: "fast" | "reference";
  threads?: number;
}

/** The recipe of `options.env` with the options given on the command line applied. */
export function recipeFor(options: RlTrainOptions): AgentRecipe {
  const base = structuredClone(recipes[options.env]);
  const dqn: DQNSettings = {
    ...base.dqn,
    ...defined({
      lr: options.lr,
      gamma: options.gamma,
      batchSize: options.batchSize,
      bufferSize: options.bufferSize,
      learningStarts: options.learningStarts,
      trainEvery: options.trainEvery,
      targetUpdate: options.targetUpdate,
    }),
    replay: options.replay,
    epsilon: { ...base.dqn.epsilon, ...defined({ end: options.epsilonEnd, steps: options.epsilonSteps }) },
  };
  const env = { ...base.env, ...defined({ frames: options.frames }) } as EnvironmentSpec;
  const evaluation = base.evaluation && {
    ...base.evaluation,
    ...defined({ every: options.evalEvery, episodes: options.evalEpisodes }),
  };
  if (evaluation && !options.earlyStop) delete evaluation.stopAt;
  return {
    ...base,
    env,
    dqn,
    steps: options.steps ?? base.steps,
    seed: options.seed ?? base.seed,
    evaluation,
  };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** "caught 97 of 100 balls (97.0 %)" for Catch; the return's range otherwise. */
export function describeReturns(env: EnvironmentName, evaluation: GreedyEvaluation): string {
  const { returns, meanReturn } = evaluation;
  const n = returns.length;
  const head = `mean return ${meanReturn.toFixed(2)} over ${n} episodes (min ${Math.min(...returns)}, max ${Math.max(...returns)})`;
  if (env !== "catch") return head;
  const caught = returns.filter((r) => r > 0).length;
  return `${head}; caught ${caught} of ${n} balls (${((100 * caught) / n).toFixed(1)} %)`;
}

export async function rlTrainCommand(options: RlTrainOptions, io: CliIo): Promise<number> {
  const recipe = recipeFor(options);
  const out = options.out ?? `runs/dqn-${options.env}.safetensors`;
  if (!out.endsWith(".safetensors"))
    throw new CliError(`--out ${out}: the model file must end in .safetensors`);
  io.err(
    await chooseBackend(
      options.backend,
      options.threads ?? (options.backend === "reference" ? undefined : 1),
    ),
  );
  const trainer = new AgentTrainer(recipe);
  const { dqn } = recipe;
  io.err(
    `training DQN on ${recipe.env.name}${(recipe.env.frames ?? 1) > 1 ? ` (${recipe.env.frames} frames stacked)` : ""}: ` +
      `${recipe.steps} steps at most, adam lr ${dqn.lr}, batch ${dqn.batchSize}, γ ${dqn.gamma}, ` +
      `replay ${dqn.replay ? dqn.bufferSize : "off"}, target network ${dqn.targetUpdate > 0 ? `every ${dqn.targetUpdate} updates` : "off"}, ` +
      `ε ${dqn.epsilon.start} → ${dqn.epsilon.end} over ${dqn.epsilon.steps} steps, seed ${recipe.seed}`,
  );

  const bar = io.progressStream
    ? new cliProgress.SingleBar(
        {
          stream: io.progressStream,
          format:
            "steps [{bar}] {value}/{total} | episode {episode} | return {ret} | ε {eps} | ETA {eta_formatted}",
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(recipe.steps, 0, { episode: 0, ret: "-", eps: "1.00" });
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
  };
  process.on("SIGINT", onSigint);
  const t0 = performance.now();
  const history = trainer.history;
  try {
    for (const event of trainer.steps()) {
      if (event.type === "step") {
        if (event.step % 50 === 0) {
          const recent = history.returns.slice(-100);
          const ret = recent.length ? (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(2) : "-";
          bar?.update(event.step, { episode: history.returns.length, ret, eps: event.epsilon.toFixed(2) });
        }
      } else if (event.type === "evaluation") {
        const line =
          `step ${event.step}: greedy mean return ${event.meanReturn.toFixed(2)} over ${event.returns.length} episodes` +
          (event.best ? " (best so far)" : "") +
          `  (${((performance.now() - t0) / 1000).toFixed(0)} s)`;
        if (bar) bar.stop();
        io.out(line);
        if (bar) bar.start(recipe.steps, event.step, { episode: history.returns.length, ret: "-", eps: "-" });
        // Let Ctrl-C and the bar's timer run.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (interrupted) break;
    }
  } finally {
    bar?.stop();
    process.off("SIGINT", onSigint);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (interrupted)
    io.err(`interrupted after ${trainer.agent.stepCount} steps: saving the best network so far`);
  const best = trainer.best;
  io.err(
    `trained ${trainer.agent.stepCount} steps, ${history.returns.length} episodes in ${seconds.toFixed(1)} s` +
      (best
        ? `; kept the network of step ${best.step} (greedy mean return ${best.meanReturn.toFixed(2)})`
        : ""),
  );

  const test = evaluateGreedy(
    trainer.network,
    () => createEnvironment(recipe.env),
    episodeSeeds(PLAY_SEED, options.episodes),
  );
  io.out(
    `test (ε = 0, ${options.episodes} fresh episodes, seed ${PLAY_SEED}): ${describeReturns(recipe.env.name, test)}`,
  );
  const results = {
    testMeanReturn: test.meanReturn,
    testEpisodes: options.episodes,
    testSeed: PLAY_SEED,
    ...(recipe.env.name === "catch"
      ? { caughtFraction: test.returns.filter((r) => r > 0).length / test.returns.length }
      : {}),
    steps: trainer.agent.stepCount,
    episodes: history.returns.length,
    bestStep: best?.step,
    seconds: Math.round(seconds * 10) / 10,
    ...(interrupted ? { interrupted: true } : {}),
  };
  await saveAgent(out, trainer.network, { training: { ...recipe }, history: { ...history }, results });
  const base = stripExtension(out);
  await writeFileAtomic(`${base}.history.json`, JSON.stringify({ recipe, results, history }, null, 1));
  const chart = await writeChart(learningCurveChart(history, recipe.env.name), `${base}.history`);
  const written = [out, `${base}.history.json`, chart.svg, chart.png];
  if (options.pictures)
    written.push(...(await writeEpisodePictures(trainer.network, recipe.env, base, PLAY_SEED)));
  io.out(`saved ${written.join(", ")}`);
  return interrupted ? 130 : 0;
}

/** Return per episode (moving average of 100) against environment steps, and the greedy evaluations. */
export function learningCurveChart(history: AgentHistory, env: string, title = `DQN on ${env}`) {
  const window = Math.min(100, Math.max(1, history.returns.length));
  return lineChart(
    [
      { name: `${window}-episode mean`, x: history.endSteps, y: movingAverage(history.returns, window) },
      {
        name: "greedy evaluation",
        x: history.evaluations.map((e) => e.step),
        y: history.evaluations.map((e) => e.meanReturn),
      },
    ],
    {
      title,
      xTitle: "environment steps",
      yTitle: "return per episode",
      width: 480,
    },
  );
}

/** `BASE.episode.png` (a strip of frames) and `BASE.episode.gif` (the whole episode) of one greedy episode. */
async function writeEpisodePictures(
  network: QNetwork,
  env: EnvironmentSpec,
  base: string,
  seed: number,
): Promise<string[]> {
  const episode = recordEpisode(network, createEnvironment(env), episodeSeeds(seed, 1)[0]);
  const strip = `${base}.episode.png`;
  const gif = `${base}.episode.gif`;
  await writeFileAtomic(strip, encodePng(frameStrip(episode.frames)));
  // CartPole's 500 steps at 10 frames/s would take almost a minute: keep every 5th frame there.
  const every = episode.frames.length > 100 ? 5 : 1;
  await writeFileAtomic(
    gif,
    encodeGif(
      episode.frames.filter((_, i) => i % every === 0),
      every === 1 ? 250 : 100,
    ),
  );
  return [strip, gif];
}

export async function rlPlayCommand(path: string, options: RlPlayOptions, io: CliIo): Promise<void> {
  io.err(
    await chooseBackend(
      options.backend,
      options.threads ?? (options.backend === "reference" ? undefined : 1),
    ),
  );
  const { network, env } = await loadAgent(path);
  if (options.env !== undefined && options.env !== env.name) {
    throw new CliError(`${path} was trained on ${env.name}, not ${options.env}`);
  }
  const seeds = episodeSeeds(options.seed, options.episodes);
  const evaluation = evaluateGreedy(network, () => createEnvironment(env), seeds);
  if (options.json) {
    io.out(
      JSON.stringify(
        { model: path, env, episodes: options.episodes, seed: options.seed, ...evaluation },
        null,
        2,
      ),
    );
  } else {
    io.out(
      `${path}: ${env.name}, ${options.episodes} greedy episodes (ε = 0, episode seeds from --seed ${options.seed})`,
    );
    io.out(describeReturns(env.name, evaluation));
  }
  if (options.gif || options.strip) {
    const episode = recordEpisode(network, createEnvironment(env), seeds[0]);
    if (options.strip) await writeFileAtomic(options.strip, encodePng(frameStrip(episode.frames)));
    if (options.gif) await writeFileAtomic(options.gif, encodeGif(episode.frames, 100));
    io.err(
      `the first episode (return ${episode.return}, ${episode.length} steps) drawn to ${[options.strip, options.gif].filter(Boolean).join(", ")}`,
    );
  }
}

/** Adds `rl train` and `rl play` to the program. */
export function registerRlCommand(
  program: Command,
  io: CliIo,
  helpers: {
    integer: (what: string, min?: number) => (value: string) => number;
    number: (what: string, min: number, max?: number) => (value: string) => number;
    addBackendOptions: (command: Command, defaultThreads?: string) => void;
  },
  setExitCode: (code: number) => void,
): void {
  const { integer, number, addBackendOptions } = helpers;
  const rl = program
    .command("rl")
    .description("reinforcement learning: train DQN agents on games and watch them play");
  rl.command("train")
    .description("train a DQN agent and save its Q-network, learning curve and an episode's pictures")
    .addOption(new Option("--env <name>", "the game").choices(environmentNames).makeOptionMandatory())
    .option(
      "--steps <n>",
      "environment steps at most (default: the recipe's, 20000 catch, 150000 cartpole)",
      integer("--steps"),
    )
    .option("--seed <n>", "random seed (weights, episodes, exploration, mini-batches)", integer("--seed", 0))
    .option("--lr <rate>", "Adam's learning rate", number("--lr", 0))
    .option("--gamma <g>", "discount of future rewards", number("--gamma", 0, 1))
    .option("--batch-size <n>", "transitions per update", integer("--batch-size"))
    .option("--buffer-size <n>", "replay memory size", integer("--buffer-size"))
    .option("--learning-starts <n>", "steps of play before the first update", integer("--learning-starts", 0))
    .option("--train-every <n>", "environment steps per update", integer("--train-every"))
    .option(
      "--target-update <c>",
      "updates between target-network copies; 0 = no target network",
      integer("--target-update", 0),
    )
    .option("--no-replay", "learn from the last steps in order instead of sampling the replay memory")
    .option("--epsilon-end <e>", "final exploration rate", number("--epsilon-end", 0, 1))
    .option(
      "--epsilon-steps <n>",
      "steps over which ε falls from 1 to its end",
      integer("--epsilon-steps", 0),
    )
    .option("--frames <k>", "frames stacked per observation", integer("--frames"))
    .option(
      "--eval-every <n>",
      "steps between greedy evaluations (the best network is kept)",
      integer("--eval-every"),
    )
    .option("--eval-episodes <n>", "episodes per evaluation", integer("--eval-episodes"))
    .option("--no-early-stop", "train all --steps even after a perfect evaluation")
    .option("--episodes <n>", "fresh greedy episodes of the final test", integer("--episodes"), 100)
    .option("--out <file>", "where to save the agent (default runs/dqn-ENV.safetensors)")
    .option("--no-pictures", "do not draw an episode (BASE.episode.png and .gif)")
    .action(async (options: RlTrainOptions) => setExitCode(await rlTrainCommand(options, io)));
  addBackendOptions(rl.commands.at(-1)!, SMALL_NETWORK_THREADS);
  rl.command("play")
    .description("play greedy episodes (ε = 0) with a trained agent and report the mean return")
    .argument("<model>", "agent file (.safetensors) from rl train")
    .addOption(
      new Option("--env <name>", "check the agent was trained on this game").choices(environmentNames),
    )
    .option("--episodes <n>", "episodes to play", integer("--episodes"), 100)
    .option("--seed <n>", "seeds the episodes", integer("--seed", 0), PLAY_SEED)
    .option("--gif <file>", "draw the first episode as an animated GIF")
    .option("--strip <file>", "draw the first episode as a strip of frames (PNG)")
    .option("--json", "print the returns as JSON")
    .action((model: string, options: RlPlayOptions) => rlPlayCommand(model, options, io));
  addBackendOptions(rl.commands.at(-1)!, SMALL_NETWORK_THREADS);
}
