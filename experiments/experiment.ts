/**
 * What every experiment is: a name, the book figure it reproduces, and a `run` that computes the
 * data and chart specs with no I/O. `runExperiment` (./runner.ts) writes `results/NAME.json` and
 * the pictures; tests call `run` directly and assert the book's conclusion on the returned data.
 */
import type { ChartSpec } from "../src/plot/render.js";

export interface RunOptions {
  /** The seconds-long form (small data, few iterations) the tests run. */
  quick: boolean;
  /** Seeds every Rng of the run. */
  seed: number;
  /** Progress notes (the runner prints them; tests drop them). */
  log: (message: string) => void;
}

/** A picture: written as `NAME.svg/png` (the first) or `NAME-suffix.svg/png`. */
export interface Figure {
  suffix?: string;
  caption: string;
  spec: ChartSpec;
}

/** One number the book reports, beside ours (for the docs table and the index page). */
export interface Comparison {
  what: string;
  book: string;
  ours: string;
}

export interface ExperimentOutput {
  /** The data behind the figures (JSON-serializable). */
  data: Record<string, unknown>;
  figures: Figure[];
  comparison: Comparison[];
  /** One sentence: what the run shows (checked against the book's conclusion by the tests). */
  summary: string;
}

export interface Experiment {
  name: string;
  title: string;
  /** The book figures and sections, numbered as in the Japanese and English editions. */
  book: string;
  /** What the full run does. */
  setup: string;
  /** What `--quick` reduces; absent when the quick form is the full one (it already takes seconds). */
  quickForm?: string;
  run(options: RunOptions): Promise<ExperimentOutput>;
}

/** The book's smoothing of a loss curve for the MNIST comparisons (`smooth_curve`: a Kaiser-window average). */
export function smoothCurve(values: readonly number[]): number[] {
  // Book: common/util.py smooth_curve, window_len 11, Kaiser β = 2, reflected ends.
  const windowLen = 11;
  if (values.length < windowLen) return [...values];
  const kaiser = kaiserWindow(windowLen, 2);
  const sum = kaiser.reduce((a, b) => a + b, 0);
  const padded: number[] = [];
  for (let i = windowLen - 1; i > 0; i--) padded.push(values[i]);
  padded.push(...values);
  for (let i = values.length - 1; i > values.length - windowLen; i--) padded.push(values[i]);
  const convolved: number[] = [];
  for (let i = 0; i + windowLen <= padded.length; i++) {
    let acc = 0;
    for (let k = 0; k < windowLen; k++) acc += (kaiser[k] / sum) * padded[i + k];
    convolved.push(acc);
  }
  // (N + 10 points) → the N aligned with the input, as the book's `y[5:len(y)-5]`.
  return convolved.slice(5, convolved.length - 5);
}

function kaiserWindow(n: number, beta: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = (2 * i) / (n - 1) - 1;
    out.push(besselI0(beta * Math.sqrt(1 - r * r)) / besselI0(beta));
  }
  return out;
}

function besselI0(x: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 30; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

/** The mean of the last `n` values (a steadier "final loss" than one noisy mini-batch). */
export function tailMean(values: readonly number[], n: number): number {
  const tail = values.slice(Math.max(0, values.length - n));
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

/** A number for tables: 3 significant digits. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

/** A single-view spec with its marks clipped to the plot (for a fixed y range, as the book's plt.ylim). */
export function clipped(spec: ChartSpec): ChartSpec {
  const s = spec as { mark?: string | Record<string, unknown> };
  const mark = typeof s.mark === "string" ? { type: s.mark } : s.mark;
  return { ...spec, mark: { ...mark, clip: true } } as ChartSpec;
}

export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
