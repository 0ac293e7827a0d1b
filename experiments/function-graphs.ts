/**
 * The book's graphs of functions that the other experiments do not draw: y = log x (Figure 4-3,
 * §4.2.2: why the cross-entropy error grows without bound as the right class's probability falls to
 * 0), the surface of f(x0, x1) = x0² + x1² (Figure 4-8, §4.3.3), and the function chapter 6
 * optimizes, f(x, y) = x²/20 + y²: its surface and contour lines (Figure 6-1) and its gradient
 * field (Figure 6-2), whose arrows mostly do not point at the minimum — the reason SGD zigzags.
 *
 * A surface is drawn as a wireframe in an oblique projection (Vega-Lite has no 3-D marks): the
 * lines of constant x0 and of constant x1, each point moved by its height.
 */
import type { NDArray } from "../src/ndarray.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";
import { fieldChart, gradientArrows } from "./gradient-field.js";

type Fn2 = (x0: number, x1: number) => number;

const bowl: Fn2 = (x0, x1) => x0 ** 2 + x1 ** 2;
/** Book §6.1.2: f(x, y) = x²/20 + y², elongated along x. */
const elongated: Fn2 = (x, y) => x ** 2 / 20 + y ** 2;

export const functionGraphs: Experiment = {
  name: "function-graphs",
  title: "log x, and the surfaces of x0² + x1² and x²/20 + y²",
  book: "Figures 4-3, 4-8 (§4.2.2, §4.3.3); 6-1, 6-2 (§6.1.2)",
  setup:
    "log x on (0, 1]; x0² + x1² on [−3, 3]²; x²/20 + y² on [−10, 10] × [−5, 5] as surface and contours; −∇(x²/20 + y²) on the book's grid",
  async run() {
    const logPoints = Array.from({ length: 200 }, (_, i) => (i + 1) / 200).map((x) => ({
      x,
      y: Math.log(x),
    }));
    const elongatedGrad = gradientArrows((p: NDArray) => elongated(p.data[0], p.data[1]), -10, 1, 21).filter(
      (a) => Math.abs(a.x1) <= 5,
    );
    // Where the arrows point: at (x, y) the descent direction (−x/10, −2y) misses the origin unless y = 0 or x = 0.
    const pointsAtMinimum = elongatedGrad.filter((a) => {
      const cross = a.x0 * a.d1 - a.x1 * a.d0;
      return Math.hypot(a.d0, a.d1) > 0 && Math.abs(cross) < 1e-6 * Math.hypot(a.x0, a.x1, 1);
    }).length;
    return {
      data: { logPoints, elongatedGradient: elongatedGrad },
      figures: [
        {
          suffix: "log",
          caption:
            "y = log x (Figure 4-3): the cross-entropy error −log y is 0 when the right class gets probability 1 and grows without bound as it falls to 0.",
          spec: logChart(logPoints),
        },
        {
          suffix: "bowl",
          caption: "f(x0, x1) = x0² + x1² (Figure 4-8): a bowl whose lowest point is the origin.",
          spec: surfaceChart(bowl, {
            x: [-3, 3],
            y: [-3, 3],
            title: "f(x0, x1) = x0² + x1²",
            xTitle: "x0",
            yTitle: "x1",
          }),
        },
        {
          suffix: "elongated",
          caption:
            "f(x, y) = x²/20 + y² (Figure 6-1): a trough stretched along x; left its surface, right its contour lines (f = 1, 2, 4, …).",
          spec: {
            $schema: VEGA_LITE_SCHEMA,
            config: chartConfig,
            hconcat: [
              strip(
                surfaceChart(elongated, {
                  x: [-10, 10],
                  y: [-5, 5],
                  title: "surface",
                  xTitle: "x",
                  yTitle: "y",
                }),
              ),
              strip(contourChart(elongated, [-10, 10], [-5, 5], [0.5, 1, 2, 4, 8, 16])),
            ],
            title: "f(x, y) = x²/20 + y²",
          } as ChartSpec,
        },
        {
          suffix: "elongated-gradient",
          caption:
            "−∇f of f(x, y) = x²/20 + y² (Figure 6-2): the arrows point at the y = 0 line far more than at the minimum (0, 0), so plain SGD zigzags across the trough.",
          spec: fieldChart(elongatedGrad, {
            title: "−∇f of f(x, y) = x²/20 + y²",
            k: 0.09, // the longest arrow (at y = ±5) spans 0.9 of the grid step, so arrows do not overlap
            domain: [-10.5, 10.5],
            yDomain: [-5.5, 5.5],
            xTitle: "x",
            yTitle: "y",
          }),
        },
      ],
      comparison: [
        {
          what: "log 1, log 0.1, log 0.005",
          book: "0, −2.3, → −∞",
          ours: [1, 0.1, 0.005].map((x) => fmt(Math.log(x))).join(", "),
        },
        {
          what: "arrows of −∇(x²/20 + y²) that point at the minimum",
          book: "few (only on the axes)",
          ours: `${pointsAtMinimum} of ${elongatedGrad.length}`,
        },
      ],
      summary: `log x falls without bound toward 0; of the ${elongatedGrad.length} arrows of −∇(x²/20 + y²), ${pointsAtMinimum} point at the minimum.`,
    };
  },
};

/** The sub-chart of a single-view spec (no $schema or config: those belong to the top level). */
function strip(spec: ChartSpec): ChartSpec {
  const { $schema: _schema, config: _config, ...rest } = spec as unknown as Record<string, unknown>;
  return rest as unknown as ChartSpec;
}

function logChart(points: { x: number; y: number }[]): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "y = log x",
    config: chartConfig,
    width: 380,
    height: 260,
    data: { values: points },
    mark: { type: "line", strokeWidth: 2, color: "#0072B2", clip: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: "x", scale: { domain: [0, 1] } },
      y: { field: "y", type: "quantitative", title: "y = log x", scale: { domain: [-5, 0] } },
    },
  } as ChartSpec;
}

/**
 * A wireframe of f over a rectangle, in an oblique projection: screen x = x + 0.5·y·cos 30°,
 * screen y = f + 0.5·y·sin 30° (scaled so the rectangle's depth shows): lines of constant x and of
 * constant y.
 */
function surfaceChart(
  f: Fn2,
  o: { x: [number, number]; y: [number, number]; title: string; xTitle: string; yTitle: string },
): ChartSpec {
  const n = 25;
  const [x0, x1] = o.x;
  const [y0, y1] = o.y;
  const zMax = Math.max(f(x0, y0), f(x1, y1), f(x0, y1), f(x1, y0));
  // Depth drawn as a shear: the far edge sits up and to the right of the near one.
  const depth = (y: number) => (y - y0) / (y1 - y0);
  const project = (x: number, y: number) => ({
    sx: (x - x0) / (x1 - x0) + 0.45 * depth(y),
    sy: f(x, y) / zMax + 0.55 * depth(y),
  });
  const rows: { line: string; order: number; sx: number; sy: number }[] = [];
  for (let i = 0; i <= n; i++) {
    const x = x0 + ((x1 - x0) * i) / n;
    const y = y0 + ((y1 - y0) * i) / n;
    for (let j = 0; j <= 4 * n; j++) {
      const t = j / (4 * n);
      rows.push({ line: `x=${i}`, order: j, ...project(x, y0 + (y1 - y0) * t) });
      rows.push({ line: `y=${i}`, order: j, ...project(x0 + (x1 - x0) * t, y) });
    }
  }
  const none = { axis: null } as const;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: o.title,
      subtitle: `${o.xTitle} from ${x0} to ${x1} across, ${o.yTitle} from ${y0} to ${y1} into the page; height = f`,
    },
    config: chartConfig,
    width: 380,
    height: 300,
    data: { values: rows },
    mark: { type: "line", strokeWidth: 0.8, color: "#0072B2" },
    encoding: {
      x: { field: "sx", type: "quantitative", ...none, scale: { domain: [0, 1.45] } },
      y: { field: "sy", type: "quantitative", ...none, scale: { domain: [0, 1.55] } },
      detail: { field: "line", type: "nominal" },
      order: { field: "order", type: "quantitative" },
    },
  } as ChartSpec;
}

/**
 * Contour lines of f at the given levels over a rectangle: each cell of a fine grid contributes the
 * segment where f crosses the level (marching squares, one segment per cell for a convex f).
 */
function contourChart(f: Fn2, xs: [number, number], ys: [number, number], levels: number[]): ChartSpec {
  const n = 120;
  const segments: { level: number; id: string; x: number; y: number }[] = [];
  const at = (i: number, j: number) =>
    [xs[0] + ((xs[1] - xs[0]) * i) / n, ys[0] + ((ys[1] - ys[0]) * j) / n] as const;
  for (const level of levels) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const corners = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
        const values = corners.map(([x, y]) => f(x, y) - level);
        const crossings: [number, number][] = [];
        for (let k = 0; k < 4; k++) {
          const a = values[k];
          const b = values[(k + 1) % 4];
          if (a < 0 !== b < 0) {
            const t = a / (a - b);
            const [ax, ay] = corners[k];
            const [bx, by] = corners[(k + 1) % 4];
            crossings.push([ax + t * (bx - ax), ay + t * (by - ay)]);
          }
        }
        if (crossings.length === 2) {
          const id = `${level}:${i}:${j}`;
          for (const [x, y] of crossings) segments.push({ level, id, x, y });
        }
      }
    }
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "contour lines",
    config: chartConfig,
    width: 380,
    height: 190,
    data: { values: [...segments, { level: 0, id: "min", x: 0, y: 0 }] },
    layer: [
      {
        transform: [{ filter: "datum.id !== 'min'" }],
        mark: { type: "line", strokeWidth: 1.2 },
        encoding: {
          x: { field: "x", type: "quantitative", title: "x", scale: { domain: xs, nice: false } },
          y: { field: "y", type: "quantitative", title: "y", scale: { domain: ys, nice: false } },
          detail: { field: "id", type: "nominal" },
          color: {
            field: "level",
            type: "quantitative",
            title: "f",
            scale: { scheme: "viridis", type: "log" },
          },
        },
      },
      {
        transform: [{ filter: "datum.id === 'min'" }],
        mark: { type: "point", shape: "cross", size: 80, color: "#000", filled: true },
        encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
      },
    ],
  } as ChartSpec;
}
