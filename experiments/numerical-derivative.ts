/**
 * Book §4.3.2 (Figures 4-6, 4-7): f(x) = 0.01x² + 0.1x and its tangent lines at x = 5 and x = 10,
 * with slopes from the central-difference numerical derivative (true slopes 0.2 and 0.3).
 */
import { numericalDiff } from "../src/functions.js";
import { lineChart } from "../src/plot/charts.js";
import { type Experiment } from "./experiment.js";

const f = (x: number) => 0.01 * x * x + 0.1 * x;

export const numericalDerivative: Experiment = {
  name: "numerical-derivative",
  title: "Numerical derivative and tangent lines",
  book: "Figures 4-6, 4-7 (§4.3.2)",
  setup: "f(x) = 0.01x² + 0.1x on [0, 20]; slope by central differences, h = 1e-4",
  async run() {
    const xs = Array.from({ length: 201 }, (_, i) => i * 0.1);
    const tangents = [5, 10].map((at) => {
      const slope = numericalDiff(f, at);
      // The book's tangent_line: y = slope·x + (f(at) − slope·at).
      const intercept = f(at) - slope * at;
      return { at, slope, exact: 0.02 * at + 0.1, y: xs.map((x) => slope * x + intercept) };
    });
    const series = [
      { name: "f(x)", x: xs, y: xs.map(f) },
      ...tangents.map((t) => ({ name: `tangent at ${t.at}`, x: xs, y: t.y })),
    ];
    return {
      data: { x: xs, f: xs.map(f), tangents: tangents.map(({ at, slope, exact }) => ({ at, slope, exact })) },
      figures: [
        {
          caption: "The numerical derivative's slopes make lines that touch f at x = 5 and x = 10.",
          spec: lineChart(series, {
            title: "f(x) = 0.01x² + 0.1x and its tangents",
            xTitle: "x",
            yTitle: "f(x)",
            width: 480,
          }),
        },
      ],
      comparison: tangents.map((t) => ({
        what: `slope at x = ${t.at}`,
        book: t.at === 5 ? "0.1999999999990898" : "0.2999999999986347",
        ours: String(t.slope),
      })),
      summary: `Central differences give slopes ${tangents.map((t) => t.slope.toFixed(6)).join(" and ")} (exact 0.2 and 0.3).`,
    };
  },
};
