/**
 * `zerodl experiment list` and `zerodl experiment run NAME|all [--quick] [--seed N] [--out DIR]`.
 * `registerExperimentCommand(program)` adds the command to the zerodl CLI; ./run.ts runs it alone.
 */
import { Command, InvalidArgumentError } from "commander";
import { useFastBackend } from "../src/backend/index.js";
import { experiments } from "./registry.js";
import { findExperiment, runAll, runExperiment, writeIndex } from "./runner.js";

export interface ExperimentIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: ExperimentIo = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
};

function integer(what: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}.`);
    return n;
  };
}

export function registerExperimentCommand(program: Command, io: ExperimentIo = defaultIo): Command {
  const command = program
    .command("experiment")
    .description("reproduce the book's figures: data in results/NAME.json, pictures as SVG and PNG");

  command
    .command("list")
    .description("list the experiments")
    .action(() => {
      const width = Math.max(...experiments.map((e) => e.name.length));
      for (const e of experiments) io.out(`${e.name.padEnd(width)}  ${e.title} (book: ${e.book})`);
    });

  command
    .command("run")
    .description(
      "run experiments by name, or all of them; writes OUT/NAME.json, the pictures and OUT/index.html",
    )
    .argument("<names...>", `experiment names (see 'experiment list') or "all"`)
    .option("--quick", "the seconds-long form (less data, fewer iterations)", false)
    .option("--seed <n>", "seed of every random choice", integer("--seed", 0), 0)
    .option("--out <dir>", "where to write the results", "results")
    .option("--backend <name>", "fast (WASM SIMD) or reference kernels", "fast")
    .option("--threads <n>", "threads of the fast backend (default: every core)", integer("--threads", 1))
    .action(
      async (
        names: string[],
        opts: { quick: boolean; seed: number; out: string; backend: string; threads?: number },
      ) => {
        if (opts.backend !== "fast" && opts.backend !== "reference") {
          throw new InvalidArgumentError(`--backend must be fast or reference, got "${opts.backend}"`);
        }
        // Unknown names fail before any work starts.
        const selected = names.includes("all") ? null : names.map(findExperiment);
        if (opts.backend === "fast") {
          await useFastBackend(opts.threads === undefined ? {} : { threads: opts.threads });
        }
        const options = { quick: opts.quick, seed: opts.seed, outDir: opts.out, log: io.err };
        if (selected) {
          // One process for several: the chapter-8 pair shares one trained DeepConvNet.
          for (const experiment of selected) {
            const result = await runExperiment(experiment, options);
            io.out(`${opts.out}/${result.name}.json`);
            for (const f of result.figures) io.out(`${opts.out}/${f.file} (+ .png)`);
          }
          await writeIndex(opts.out);
        } else {
          await runAll(options);
          io.out(`${opts.out}/index.html`);
        }
      },
    );
  return command;
}
