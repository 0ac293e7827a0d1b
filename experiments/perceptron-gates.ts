/**
 * Book §2.3–2.5 (Figures 2-6 to 2-8, 2-13): the AND, NAND and OR perceptrons split the input
 * plane with one straight line; XOR needs a curve, which the two-layer perceptron makes.
 * Each gate is evaluated on a grid over [−0.5, 1.5]², its output coloring the plane.
 */
import { AND, NAND, OR, XOR, type Bit } from "../src/perceptron.js";
import { chartConfig } from "../src/plot/render.js";
import type { ChartSpec } from "../src/plot/render.js";
import { VEGA_LITE_SCHEMA, type Experiment } from "./experiment.js";

const gates: Record<string, (x1: number, x2: number) => Bit> = { AND, NAND, OR, XOR };
const STEP = 0.05;

export const perceptronGates: Experiment = {
  name: "perceptron-gates",
  title: "Perceptron gates and their decision regions",
  book: "Figures 2-6, 2-7, 2-8, 2-13 (§2.3–2.5)",
  setup: "The book's weights (AND: w = (0.5, 0.5), b = −0.7; NAND; OR); XOR = AND(NAND, OR); a 0.05 grid",
  async run() {
    const grid: { gate: string; x1: number; x2: number; y: Bit }[] = [];
    const truth: Record<string, Bit[]> = {};
    for (const [name, gate] of Object.entries(gates)) {
      for (let i = 0; i <= 40; i++) {
        for (let j = 0; j <= 40; j++) {
          const x1 = -0.5 + i * STEP;
          const x2 = -0.5 + j * STEP;
          grid.push({ gate: name, x1, x2, y: gate(x1, x2) });
        }
      }
      truth[name] = [gate(0, 0), gate(1, 0), gate(0, 1), gate(1, 1)];
    }
    const corners = Object.entries(truth).flatMap(([gate, ys]) =>
      [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ].map(([x1, x2], k) => ({ gate, x1, x2, y: ys[k] })),
    );
    return {
      data: { truthTable: truth, inputs: ["00", "10", "01", "11"], grid },
      figures: [
        {
          caption: "Each gate's output over the plane; XOR's region is not a half-plane.",
          spec: gateChart(grid, corners),
        },
      ],
      comparison: Object.entries(truth).map(([gate, ys]) => ({
        what: `${gate} on 00, 10, 01, 11`,
        book: { AND: "0 0 0 1", NAND: "1 1 1 0", OR: "0 1 1 1", XOR: "0 1 1 0" }[gate] ?? "",
        ours: ys.join(" "),
      })),
      summary: "AND, NAND and OR are single perceptrons (one straight boundary); XOR takes two layers.",
    };
  },
};

function gateChart(
  grid: { gate: string; x1: number; x2: number; y: Bit }[],
  corners: { gate: string; x1: number; x2: number; y: Bit }[],
): ChartSpec {
  const axis = (field: string) => ({
    field,
    type: "quantitative",
    scale: { domain: [-0.5, 1.5], nice: false },
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Perceptron decision regions (grey: output 1)",
    config: chartConfig,
    columns: 4,
    concat: Object.keys(gates).map((gate) => ({
      title: gate,
      width: 170,
      height: 170,
      layer: [
        {
          data: { values: grid.filter((r) => r.gate === gate) },
          transform: [
            { calculate: `datum.x1 - ${STEP / 2}`, as: "left" },
            { calculate: `datum.x1 + ${STEP / 2}`, as: "right" },
            { calculate: `datum.x2 - ${STEP / 2}`, as: "bottom" },
            { calculate: `datum.x2 + ${STEP / 2}`, as: "top" },
          ],
          mark: { type: "rect" },
          encoding: {
            x: { ...axis("left"), title: "x1" },
            x2: { field: "right" },
            y: { ...axis("bottom"), title: "x2" },
            y2: { field: "top" },
            fill: {
              field: "y",
              type: "nominal",
              scale: { domain: [0, 1], range: ["#ffffff", "#cccccc"] },
              legend: null,
            },
          },
        },
        {
          data: { values: corners.filter((r) => r.gate === gate) },
          mark: { type: "point", filled: true, size: 120 },
          encoding: {
            x: axis("x1"),
            y: axis("x2"),
            shape: {
              field: "y",
              type: "nominal",
              scale: { domain: [0, 1], range: ["circle", "triangle-up"] },
              title: "output",
            },
            color: {
              field: "y",
              type: "nominal",
              scale: { domain: [0, 1], range: ["#1f77b4", "#d62728"] },
              title: "output",
            },
          },
        },
      ],
    })),
  } as ChartSpec;
}
