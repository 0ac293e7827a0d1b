/**
 * Book §4.4.1 (Figure 4-10): gradient descent on f(x0, x1) = x0² + x1² from (−3, 4), 20 steps,
 * with the book's learning rates: 0.1 walks to the minimum, 10 overshoots and blows up, 1e-10
 * hardly moves.
 */
import { gradientDescent } from "../src/functions.js";
import { NDArray } from "../src/ndarray.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { VEGA_LITE_SCHEMA, type Experiment } from "./experiment.js";

const f = (x: NDArray) => x.data[0] ** 2 + x.data[1] ** 2;
const LEARNING_RATES = [0.1, 10, 1e-10];
/** Figure 4-10 draws 20 steps; the numbers the book prints (§4.4.1) come after its default 100. */
const STEPS = 20;
const PRINTED_STEPS = 100;

export interface Trajectory {
  lr: number;
  /** The first STEPS + 1 points (start, then after each step). */
  points: [number, number][];
  /** After PRINTED_STEPS steps. */
  final: [number, number];
}

export const gradientDescentExperiment: Experiment = {
  name: "gradient-descent",
  title: "Gradient descent on x0² + x1² with three learning rates",
  book: "Figure 4-10 (§4.4.1)",
  setup:
    "From (−3, 4), 20 steps drawn (100 for the printed final points) of x ← x − lr·∇f (numerical gradient), lr = 0.1, 10, 1e-10",
  async run() {
    const trajectories: Trajectory[] = LEARNING_RATES.map((lr) => {
      const { x, history } = gradientDescent(f, NDArray.from([-3, 4], [2], "float64"), lr, PRINTED_STEPS);
      const points = [...history, x]
        .slice(0, STEPS + 1)
        .map((p) => [p.data[0], p.data[1]] as [number, number]);
      return { lr, points, final: [x.data[0], x.data[1]] };
    });
    const show = (p: [number, number]) => `(${p.map((v) => v.toPrecision(4)).join(", ")})`;
    return {
      data: { start: [-3, 4], steps: STEPS, trajectories },
      figures: [
        {
          caption: "lr 0.1 reaches the minimum; lr 10 diverges; lr 1e-10 stays at the start.",
          spec: trajectoryChart(trajectories),
        },
      ],
      comparison: [
        { what: "after 100 steps, lr 0.1", book: "(−6.1e-10, 8.1e-10)", ours: show(trajectories[0].final) },
        { what: "after 100 steps, lr 10", book: "(−2.58e+13, −1.29e+12)", ours: show(trajectories[1].final) },
        {
          what: "after 100 steps, lr 1e-10",
          book: "(−2.99999994, 3.99999992)",
          ours: show(trajectories[2].final),
        },
      ],
      summary: `After 100 steps lr 0.1 ends at ${show(trajectories[0].final)}, lr 10 at ${show(trajectories[1].final)}, lr 1e-10 at ${show(trajectories[2].final)}.`,
    };
  },
};

/** The first step whose point lies outside the drawn frame (0 if none). */
function outside(t: Trajectory): number {
  const k = t.points.findIndex(([x0, x1]) => Math.abs(x0) > 4.5 || Math.abs(x1) > 4.5);
  return Math.max(0, k);
}

function trajectoryChart(trajectories: Trajectory[]): ChartSpec {
  const scale = { domain: [-4.5, 4.5], nice: false };
  const circles = [1, 2, 3, 4, 5].flatMap((r) =>
    Array.from({ length: 73 }, (_, k) => ({
      r,
      k,
      x0: r * Math.cos((k * Math.PI) / 36),
      x1: r * Math.sin((k * Math.PI) / 36),
    })),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Gradient descent from (−3, 4), 20 steps",
    config: chartConfig,
    columns: 3,
    concat: trajectories.map((t) => ({
      title: outside(t)
        ? `lr = ${t.lr}: leaves at step ${outside(t)}, e.g. (${t.points[outside(t)].map((v) => v.toPrecision(3)).join(", ")})`
        : `lr = ${t.lr}`,
      width: 240,
      height: 240,
      layer: [
        {
          data: { values: circles },
          mark: { type: "line", color: "#ccc", strokeDash: [3, 3], clip: true },
          encoding: {
            x: { field: "x0", type: "quantitative", scale },
            y: { field: "x1", type: "quantitative", scale },
            detail: { field: "r" },
            order: { field: "k" },
          },
        },
        {
          // Up to the first point outside the frame: its segment shows the way out, and the
          // renderer never sees the astronomically large coordinates that follow.
          data: {
            values: t.points
              .slice(0, outside(t) ? outside(t) + 1 : undefined)
              .map(([x0, x1], step) => ({ x0, x1, step })),
          },
          mark: { type: "line", point: true, color: "#1f77b4", clip: true },
          encoding: {
            x: { field: "x0", type: "quantitative", scale, title: "x0" },
            y: { field: "x1", type: "quantitative", scale, title: "x1" },
            order: { field: "step" },
          },
        },
      ],
    })),
  } as ChartSpec;
}
