/**
 * Book Figures 6-3, 6-5, 6-6, 6-7 and 6-8 (optimizer_compare_naive.py): the paths of SGD, Momentum, AdaGrad and Adam on
 * f(x, y) = x²/20 + y² from (−7, 2), 30 updates each, with the book's learning rates. The
 * library's own optimizers update two scalar Params with the exact gradient (x/10, 2y).
 */
import { param } from "../src/layers/layer.js";
import { NDArray } from "../src/ndarray.js";
import { createOptimizer, type OptimizerName } from "../src/optimizers/optimizer.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { VEGA_LITE_SCHEMA, type Experiment } from "./experiment.js";

const SETTINGS: { name: string; optimizer: OptimizerName; lr: number }[] = [
  { name: "SGD", optimizer: "sgd", lr: 0.95 },
  { name: "Momentum", optimizer: "momentum", lr: 0.1 },
  { name: "AdaGrad", optimizer: "adagrad", lr: 1.5 },
  { name: "Adam", optimizer: "adam", lr: 0.3 },
];
const STEPS = 30;

export const f = (x: number, y: number) => (x * x) / 20 + y * y;

export interface Path {
  name: string;
  lr: number;
  /** The start and the point after each update (STEPS + 1). */
  points: [number, number][];
}

export function optimizerPath(optimizer: OptimizerName, lr: number, steps = STEPS): [number, number][] {
  const x = param("x", NDArray.from([-7], [1], "float64"));
  const y = param("y", NDArray.from([2], [1], "float64"));
  const opt = createOptimizer(optimizer, { lr });
  const points: [number, number][] = [[-7, 2]];
  for (let i = 0; i < steps; i++) {
    x.grad = NDArray.from([x.value.data[0] / 10], [1], "float64");
    y.grad = NDArray.from([2 * y.value.data[0]], [1], "float64");
    opt.step([x, y]);
    points.push([x.value.data[0], y.value.data[0]]);
  }
  return points;
}

export const optimizerPaths: Experiment = {
  name: "optimizer-paths",
  title: "Optimizer paths on f(x, y) = x²/20 + y²",
  book: "Figures 6-3, 6-5 – 6-8, §6.1 (optimizer_compare_naive.py)",
  setup: "From (−7, 2), 30 updates: SGD lr 0.95, Momentum lr 0.1, AdaGrad lr 1.5, Adam lr 0.3",
  async run() {
    const paths: Path[] = SETTINGS.map((s) => ({
      name: s.name,
      lr: s.lr,
      points: optimizerPath(s.optimizer, s.lr),
    }));
    const finals = paths.map((p) => {
      const [x, y] = p.points[STEPS];
      return { name: p.name, x, y, f: f(x, y) };
    });
    // SGD's zigzag: how often y changes sign along the path (the book's picture: it bounces across the valley).
    const signFlips = paths.map(
      (p) => p.points.slice(1).filter(([, y], i) => Math.sign(y) !== Math.sign(p.points[i][1])).length,
    );
    return {
      data: {
        start: [-7, 2],
        steps: STEPS,
        paths,
        finals,
        ySignFlips: Object.fromEntries(paths.map((p, i) => [p.name, signFlips[i]])),
      },
      figures: [
        {
          caption:
            "SGD zigzags along y; Momentum rolls like a ball; AdaGrad damps y at once; Adam mixes both.",
          spec: pathChart(paths),
        },
      ],
      comparison: finals.map((e) => ({
        what: `${e.name}: f after 30 updates`,
        book: "(figure only)",
        ours: `${e.f.toPrecision(3)} at (${e.x.toFixed(2)}, ${e.y.toFixed(2)})`,
      })),
      summary: `All four approach (0, 0); y changes sign ${signFlips.join(", ")} times for ${paths.map((p) => p.name).join(", ")}.`,
    };
  },
};

function pathChart(paths: Path[]): ChartSpec {
  const xScale = { domain: [-10, 10], nice: false };
  const yScale = { domain: [-5, 5], nice: false };
  // Contours of x²/20 + y² = c are ellipses with half-axes √(20c) and √c.
  const levels = [0.25, 0.75, 1.5, 2.5, 3.5, 5, 7];
  const contours = levels.flatMap((c) =>
    Array.from({ length: 121 }, (_, k) => {
      const t = (k * Math.PI) / 60;
      return { c, k, x: Math.sqrt(20 * c) * Math.cos(t), y: Math.sqrt(c) * Math.sin(t) };
    }),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Optimizers on f(x, y) = x²/20 + y², 30 updates from (−7, 2)",
    config: chartConfig,
    columns: 2,
    concat: paths.map((p) => ({
      title: `${p.name} (lr ${p.lr})`,
      width: 320,
      height: 200,
      layer: [
        {
          data: { values: contours },
          mark: { type: "line", color: "#bbb", strokeWidth: 1, clip: true },
          encoding: {
            x: { field: "x", type: "quantitative", scale: xScale },
            y: { field: "y", type: "quantitative", scale: yScale },
            detail: { field: "c" },
            order: { field: "k" },
          },
        },
        {
          data: { values: [{ x: 0, y: 0 }] },
          mark: { type: "point", shape: "cross", size: 80, color: "#000", filled: true },
          encoding: {
            x: { field: "x", type: "quantitative", scale: xScale },
            y: { field: "y", type: "quantitative", scale: yScale },
          },
        },
        {
          data: { values: p.points.map(([x, y], step) => ({ x, y, step })) },
          mark: {
            type: "line",
            color: "#d62728",
            point: { filled: true, size: 20, color: "#d62728" },
            clip: true,
          },
          encoding: {
            x: { field: "x", type: "quantitative", scale: xScale, title: "x" },
            y: { field: "y", type: "quantitative", scale: yScale, title: "y" },
            order: { field: "step" },
          },
        },
      ],
    })),
  } as ChartSpec;
}
