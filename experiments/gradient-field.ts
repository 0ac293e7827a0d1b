/**
 * Book §4.4 (Figure 4-9): the negative gradient of f(x0, x1) = x0² + x1², computed numerically
 * on a grid, drawn as arrows: they all point to the minimum at the origin, longer further away.
 */
import { numericalGradient } from "../src/functions.js";
import { NDArray } from "../src/ndarray.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { VEGA_LITE_SCHEMA, type Experiment } from "./experiment.js";

const f = (x: NDArray) => x.data[0] ** 2 + x.data[1] ** 2;

export interface Arrow {
  x0: number;
  x1: number;
  /** −∂f/∂x0, −∂f/∂x1 */
  d0: number;
  d1: number;
}

export const gradientField: Experiment = {
  name: "gradient-field",
  title: "Gradient field of f(x0, x1) = x0² + x1²",
  book: "Figure 4-9 (§4.4)",
  setup: "x0, x1 from −2 to 2.25 in steps of 0.25 (the book's grid); arrows show −∇f",
  async run() {
    const arrows = gradientArrows(f, -2, 0.25, 18);
    const at = arrows.find((a) => a.x0 === 1 && a.x1 === 1)!;
    return {
      data: { arrows },
      figures: [
        {
          caption: "−∇f points to the origin everywhere; its length grows with the distance.",
          spec: fieldChart(arrows, { title: "−∇f of f(x0, x1) = x0² + x1²", k: 0.05, domain: [-2.25, 2.25] }),
        },
      ],
      comparison: [
        { what: "−∇f at (1, 1)", book: "(−2, −2)", ours: `(${at.d0.toFixed(6)}, ${at.d1.toFixed(6)})` },
      ],
      summary: "The negative gradient points toward the minimum at the origin from every grid point.",
    };
  },
};

/** −∇f (numerical, book §4.4) at the points of an n × n grid starting at `from` in steps of `step`. */
export function gradientArrows(f: (x: NDArray) => number, from: number, step: number, n: number): Arrow[] {
  const arrows: Arrow[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = NDArray.from([from + i * step, from + j * step], [2], "float64");
      const g = numericalGradient(f, x);
      arrows.push({ x0: x.data[0], x1: x.data[1], d0: -g.data[0], d1: -g.data[1] });
    }
  }
  return arrows;
}

/**
 * Arrows of −∇f, each k·(−∇f) long (the book's plt.quiver scales arrows to fit), with a head at the
 * tip, over the square `domain`.
 */
export function fieldChart(
  arrows: Arrow[],
  options: {
    title: string;
    k: number;
    domain: [number, number];
    /** The y range when it differs from x's (the plot keeps one unit the same length on both axes). */
    yDomain?: [number, number];
    xTitle?: string;
    yTitle?: string;
  },
): ChartSpec {
  const { k } = options;
  const rows = arrows.map((a) => ({
    ...a,
    tip0: a.x0 + k * a.d0,
    tip1: a.x1 + k * a.d1,
    // A triangle mark points up at angle 0; vega angles turn clockwise, data y points up.
    angle: (Math.atan2(a.d0, a.d1) * 180) / Math.PI,
  }));
  const scale = { domain: options.domain, nice: false };
  const yScale = { domain: options.yDomain ?? options.domain, nice: false };
  const span = (d: [number, number]) => d[1] - d[0];
  const height = Math.round((420 * span(yScale.domain)) / span(options.domain));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title,
    config: chartConfig,
    width: 420,
    height,
    data: { values: rows },
    layer: [
      {
        mark: { type: "rule", color: "#333" },
        encoding: {
          x: { field: "x0", type: "quantitative", scale, title: options.xTitle ?? "x0" },
          y: { field: "x1", type: "quantitative", scale: yScale, title: options.yTitle ?? "x1" },
          x2: { field: "tip0" },
          y2: { field: "tip1" },
        },
      },
      {
        mark: { type: "point", shape: "triangle-up", filled: true, color: "#333", size: 18 },
        encoding: {
          x: { field: "tip0", type: "quantitative", scale },
          y: { field: "tip1", type: "quantitative", scale: yScale },
          angle: { field: "angle", type: "quantitative", scale: { domain: [-360, 360], range: [-360, 360] } },
        },
      },
    ],
  } as ChartSpec;
}
