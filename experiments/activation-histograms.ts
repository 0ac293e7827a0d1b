/**
 * Book weight_init_activation_histogram.py (Figures 6-10, 6-11, 6-13, 6-14): 1,000 random inputs of 100 values
 * go through 5 layers of 100 units (no bias); histograms of each layer's activations for weights
 * of std 1, std 0.01, Xavier (√(1/100)) and He (√(2/100)), with sigmoid, tanh and ReLU.
 *
 * What the book shows: sigmoid with std 1 pushes activations to 0 and 1 (vanishing gradients);
 * std 0.01 squeezes them to 0.5 (every unit alike: no expressive power); Xavier keeps them
 * spread. With ReLU, std 0.01 and Xavier shrink layer by layer while He keeps them alike.
 *
 * Quick form: 200 inputs instead of 1,000.
 */
import * as ops from "../src/ops/index.js";
import { NDArray } from "../src/ndarray.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { Rng } from "../src/rng.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";

const NODES = 100;
const LAYERS = 5;
const BINS = 30;
export const INITS: { name: string; std: number }[] = [
  { name: "std=1", std: 1 },
  { name: "std=0.01", std: 0.01 },
  { name: "Xavier", std: Math.sqrt(1 / NODES) },
  { name: "He", std: Math.sqrt(2 / NODES) },
];
export const ACTIVATIONS = {
  sigmoid: { fn: ops.sigmoid, range: [0, 1] },
  tanh: { fn: ops.tanh, range: [-1, 1] },
  relu: { fn: ops.relu, range: [0, 1] },
} as const;
type ActivationName = keyof typeof ACTIVATIONS;

export interface LayerStats {
  activation: ActivationName;
  init: string;
  layer: number;
  /** Counts in BINS equal bins over the activation's range (values outside are not counted). */
  counts: number[];
  mean: number;
  std: number;
  /** Fraction of values within 0.02 of the range's ends (sigmoid saturation) or exactly 0 (ReLU). */
  saturated: number;
}

export function activationStats(samples: number, seed: number): LayerStats[] {
  const out: LayerStats[] = [];
  for (const [activation, { fn, range }] of Object.entries(ACTIVATIONS) as [
    ActivationName,
    (typeof ACTIVATIONS)[ActivationName],
  ][]) {
    for (const { name, std } of INITS) {
      // Book: the same input for every setting (np.random.randn(1000, 100)).
      const rng = new Rng(seed);
      let x = NDArray.zeros([samples, NODES], "float64");
      rng.fillNormal(x.data, 1);
      for (let layer = 1; layer <= LAYERS; layer++) {
        const w = NDArray.zeros([NODES, NODES], "float64");
        rng.fillNormal(w.data, std);
        x = fn(ops.matmul(x, w));
        out.push({ activation, init: name, layer, ...histogram(x.data, range[0], range[1], activation) });
      }
    }
  }
  return out;
}

function histogram(values: ArrayLike<number>, lo: number, hi: number, activation: ActivationName) {
  const counts = new Array<number>(BINS).fill(0);
  let sum = 0;
  let sumSq = 0;
  let saturated = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    sum += v;
    sumSq += v * v;
    if (activation === "relu" ? v === 0 : v < lo + 0.02 || v > hi - 0.02) saturated++;
    if (v >= lo && v <= hi) counts[Math.min(BINS - 1, Math.floor(((v - lo) / (hi - lo)) * BINS))]++;
  }
  const mean = sum / values.length;
  return {
    counts,
    mean,
    std: Math.sqrt(Math.max(0, sumSq / values.length - mean * mean)),
    saturated: saturated / values.length,
  };
}

export const activationHistograms: Experiment = {
  name: "activation-histograms",
  title: "Activation distributions across 5 layers for four weight scales",
  book: "Figures 6-10, 6-11, 6-13, 6-14, §6.2 (weight_init_activation_histogram.py)",
  setup:
    "1,000 × 100 N(0, 1) inputs, 5 layers of 100 without bias; std 1, 0.01, Xavier, He; sigmoid, tanh, ReLU; 30 bins",
  quickForm: "200 inputs instead of 1,000",
  async run({ quick, seed }) {
    const samples = quick ? 200 : 1000;
    const stats = activationStats(samples, seed);
    const pick = (a: ActivationName, init: string, layer: number) =>
      stats.find((s) => s.activation === a && s.init === init && s.layer === layer)!;
    const figures = (Object.keys(ACTIVATIONS) as ActivationName[]).map((a) => ({
      suffix: a,
      caption: {
        sigmoid: "Sigmoid: std 1 saturates at 0 and 1, std 0.01 collapses to 0.5, Xavier stays spread.",
        tanh: "tanh: std 1 saturates at ±1, std 0.01 collapses to 0, Xavier stays spread.",
        relu: "ReLU (the 0 bin cut at 7,000 as the book's Figure 6-14): std 0.01 and Xavier shrink with depth, He keeps the spread. As in the book, std 1 is left out: its activations reach 10⁴–10⁵ by the fifth layer, far beyond this axis.",
      }[a],
      spec: histogramChart(
        // The book's ReLU figure (6-14) compares std 0.01, Xavier and He only.
        stats.filter((s) => s.activation === a && !(a === "relu" && s.init === "std=1")),
        a,
        samples,
      ),
    }));
    return {
      data: { samples, nodes: NODES, layers: LAYERS, bins: BINS, stats },
      figures,
      comparison: [
        {
          what: "sigmoid std=1, layer 5: share near 0 or 1",
          book: "most (Fig. 6-10)",
          ours: fmt(pick("sigmoid", "std=1", 5).saturated),
        },
        {
          what: "sigmoid std=0.01, layer 5: activation std",
          book: "≈ 0 (all near 0.5, Fig. 6-11)",
          ours: fmt(pick("sigmoid", "std=0.01", 5).std),
        },
        {
          what: "sigmoid Xavier, layer 5: activation std",
          book: "spread (Fig. 6-13)",
          ours: fmt(pick("sigmoid", "Xavier", 5).std),
        },
        {
          what: "ReLU std=0.01 / Xavier / He, layer 5: activation std",
          book: "shrinking / shrinking / steady",
          ours: ["std=0.01", "Xavier", "He"].map((i) => fmt(pick("relu", i, 5).std)).join(" / "),
        },
      ],
      summary: `ReLU layer-5 std: std 0.01 ${fmt(pick("relu", "std=0.01", 5).std)}, Xavier ${fmt(pick("relu", "Xavier", 5).std)}, He ${fmt(pick("relu", "He", 5).std)} (layer 1: ${fmt(pick("relu", "He", 1).std)}).`,
    };
  },
};

function histogramChart(stats: LayerStats[], activation: ActivationName, samples: number): ChartSpec {
  const [lo, hi] = ACTIVATIONS[activation].range;
  const width = (hi - lo) / BINS;
  const rows = stats.flatMap((s) =>
    s.counts.map((count, k) => ({
      init: s.init,
      layer: `${s.layer}-layer`,
      start: lo + k * width,
      end: lo + (k + 1) * width,
      count,
    })),
  );
  // Book: plt.ylim(0, 7000) for ReLU, where half the values are 0 (for 1,000 samples; scaled to ours).
  const yMax = activation === "relu" ? (7000 * samples) / 1000 : undefined;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${activation}: activations of 5 layers (rows: weight init)`,
    config: { ...chartConfig, facet: { spacing: 8 } },
    data: { values: rows },
    facet: {
      row: {
        field: "init",
        type: "nominal",
        sort: INITS.map((i) => i.name),
        title: "initial weights (y: values per bin)",
      },
      column: { field: "layer", type: "nominal", title: null },
    },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 130,
      height: 80,
      mark: { type: "rect", color: "#1f77b4", clip: true },
      encoding: {
        x: {
          field: "start",
          type: "quantitative",
          title: "activation",
          scale: { domain: [lo, hi], nice: false },
        },
        x2: { field: "end" },
        y: {
          field: "count",
          type: "quantitative",
          title: null, // named once, in the row title (a title per panel would repeat 15 times)
          ...(yMax ? { scale: { domain: [0, yMax] } } : {}),
        },
        y2: { datum: 0 },
      },
    },
  } as ChartSpec;
}
