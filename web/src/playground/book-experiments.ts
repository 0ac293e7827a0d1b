/**
 * The book's experiments in the page: the very `Experiment.run` that `zerodl experiment run`
 * calls (experiments/registry.ts), in its quick form, with its Vega-Lite figures drawn by Vega in
 * the browser instead of written to files. Loaded on demand (a separate chunk with Vega).
 */
import { compile } from "vega-lite";
import * as vega from "vega";
import { provideMnist, type MnistLoader } from "../../../experiments/common.js";
import type { Experiment, ExperimentOutput } from "../../../experiments/experiment.js";
import { activationFunctions } from "../../../experiments/activation-functions.js";
import { activationHistograms } from "../../../experiments/activation-histograms.js";
import { batchNorm } from "../../../experiments/batch-norm.js";
import { gradientDescentExperiment } from "../../../experiments/gradient-descent.js";
import { gradientField } from "../../../experiments/gradient-field.js";
import { initMnist } from "../../../experiments/init-mnist.js";
import { numericalDerivative } from "../../../experiments/numerical-derivative.js";
import { optimizerPaths } from "../../../experiments/optimizer-paths.js";
import { optimizersMnist } from "../../../experiments/optimizers-mnist.js";
import { overfitting } from "../../../experiments/overfitting.js";
import { perceptronGates } from "../../../experiments/perceptron-gates.js";

/**
 * The experiments whose quick form takes seconds in a browser (measured in headless Chromium on
 * two cores), in the book's order: the registry's own objects (experiments/registry.ts lists them
 * all; the others train for minutes, or read files, and stay with the CLI). Imported one by one so
 * the page's chunk holds no Node-only code.
 */
export const pageExperimentList: readonly Experiment[] = [
  perceptronGates,
  activationFunctions,
  numericalDerivative,
  gradientField,
  gradientDescentExperiment,
  optimizerPaths,
  optimizersMnist,
  activationHistograms,
  initMnist,
  batchNorm,
  overfitting,
];

export function pageExperiments(): readonly Experiment[] {
  return pageExperimentList;
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
