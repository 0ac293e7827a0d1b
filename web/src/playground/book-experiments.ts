/**
 * The book's experiments in the page: the very `Experiment.run` that `zerodl experiment run`
 * calls (experiments/registry.ts), in its quick form, with its Vega-Lite figures drawn by Vega in
 * the browser instead of written to files. Loaded on demand (a separate chunk with Vega).
 */
import { compile } from "vega-lite";
import * as vega from "vega";
import { provideMnist, type MnistLoader } from "../../../experiments/common.js";
import type { Experiment, ExperimentOutput } from "../../../experiments/experiment.js";
import { experiments } from "../../../experiments/registry.js";

/**
 * The experiments whose quick form takes seconds in a browser (measured in headless Chromium on
 * two cores); the others train for minutes and stay with the CLI.
 */
export const pageExperimentNames = [
  "perceptron-gates",
  "activation-functions",
  "numerical-derivative",
  "gradient-field",
  "gradient-descent",
  "optimizer-paths",
  "activation-histograms",
  "optimizers-mnist",
  "init-mnist",
  "batch-norm",
  "overfitting",
] as const;

export function pageExperiments(): Experiment[] {
  return pageExperimentNames.map((name) => {
    const found = experiments.find((e) => e.name === name);
    if (!found) throw new Error(`no experiment "${name}" in the registry`);
    return found;
  });
}

/** Where the MNIST experiments get their data in the page (the set the page already loaded). */
export function useMnist(load: MnistLoader): void {
  provideMnist(load);
}

/** Runs one experiment's quick form and draws its figures into `container`. */
export async function runInPage(
  experiment: Experiment,
  container: HTMLElement,
  options: { seed: number; log: (message: string) => void },
): Promise<{ output: ExperimentOutput; seconds: number }> {
  const t0 = performance.now();
  const output = await experiment.run({ quick: true, seed: options.seed, log: options.log });
  const seconds = (performance.now() - t0) / 1000;
  container.replaceChildren();
  for (const figure of output.figures) {
    const box = document.createElement("figure");
    const chart = document.createElement("div");
    const caption = document.createElement("figcaption");
    caption.textContent = figure.caption;
    box.append(chart, caption);
    container.append(box);
    const view = new vega.View(vega.parse(compile(figure.spec).spec), {
      renderer: "svg",
      container: chart,
      hover: true,
    });
    await view.runAsync();
  }
  return { output, seconds };
}
