/**
 * Runs experiments and writes what they produce: `OUT/NAME.json` (settings, data, the book's
 * numbers beside ours), `OUT/NAME[-suffix].svg/.png` per figure, and for `all` an index page.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../src/io/atomic.js";
import { writeChart } from "../src/plot/render.js";
import type { Experiment, ExperimentOutput, RunOptions } from "./experiment.js";
import { experiments } from "./registry.js";
import { indexPage } from "./index-page.js";

export interface RunnerOptions extends RunOptions {
  outDir: string;
}

/** What `NAME.json` holds. */
export interface ResultFile extends Omit<ExperimentOutput, "figures"> {
  name: string;
  title: string;
  book: string;
  setup: string;
  quick: boolean;
  /** Set when a quick run differs from the full one: what it reduced. */
  quickForm?: string;
  seed: number;
  seconds: number;
  finishedAt: string;
  figures: { file: string; caption: string }[];
}

export function findExperiment(name: string): Experiment {
  const found = experiments.find((e) => e.name === name);
  if (!found) {
    throw new Error(`no experiment "${name}"; valid: ${experiments.map((e) => e.name).join(", ")}, all`);
  }
  return found;
}

export async function runExperiment(experiment: Experiment, options: RunnerOptions): Promise<ResultFile> {
  const { outDir, quick, seed, log } = options;
  await mkdir(outDir, { recursive: true });
  const start = performance.now();
  log(`${experiment.name}: running${quick ? " (quick)" : ""}…`);
  const output = await experiment.run({ quick, seed, log });
  const seconds = (performance.now() - start) / 1000;
  const figures: ResultFile["figures"] = [];
  for (const figure of output.figures) {
    const base = figure.suffix ? `${experiment.name}-${figure.suffix}` : experiment.name;
    await writeChart(figure.spec, join(outDir, base));
    figures.push({ file: `${base}.svg`, caption: figure.caption });
  }
  const result: ResultFile = {
    name: experiment.name,
    title: experiment.title,
    book: experiment.book,
    setup: experiment.setup,
    quick,
    ...(quick && experiment.quickForm ? { quickForm: experiment.quickForm } : {}),
    seed,
    seconds: Number(seconds.toFixed(2)),
    finishedAt: new Date().toISOString(),
    summary: output.summary,
    comparison: output.comparison,
    figures,
    data: output.data,
  };
  await writeFileAtomic(join(outDir, `${experiment.name}.json`), JSON.stringify(result, null, 1) + "\n");
  log(`${experiment.name}: done in ${seconds.toFixed(1)} s — ${output.summary}`);
  return result;
}

/**
 * Runs every experiment, then writes `index.html` from every `NAME.json` in `outDir` (so a page
 * after re-running one experiment still shows the others' latest results).
 */
export async function runAll(options: RunnerOptions): Promise<ResultFile[]> {
  const results: ResultFile[] = [];
  for (const experiment of experiments) results.push(await runExperiment(experiment, options));
  await writeIndex(options.outDir);
  return results;
}

export async function writeIndex(outDir: string): Promise<string> {
  const results: ResultFile[] = [];
  for (const experiment of experiments) {
    try {
      results.push(JSON.parse(await readFile(join(outDir, `${experiment.name}.json`), "utf8")) as ResultFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  const path = join(outDir, "index.html");
  await writeFileAtomic(path, indexPage(results));
  return path;
}
