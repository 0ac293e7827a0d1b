/**
 * Book §3.2 (Figures 3-6, 3-7, 3-8): the step function, sigmoid and ReLU (and tanh, used in
 * chapter 5) on [−5, 5], computed with the library's own functions.
 */
import { relu, sigmoid, stepFunction, tanh } from "../src/functions.js";
import { NDArray } from "../src/ndarray.js";
import { lineChart } from "../src/plot/charts.js";
import type { Experiment } from "./experiment.js";

export const activationFunctions: Experiment = {
  name: "activation-functions",
  title: "Activation functions: step, sigmoid, ReLU, tanh",
  book: "Figures 3-6 – 3-9 (§3.2)",
  setup: "x from −5 to 5 in steps of 0.1 (the book's np.arange(-5.0, 5.0, 0.1))",
  async run() {
    const xs = Array.from({ length: 101 }, (_, i) => -5 + i * 0.1);
    const x = NDArray.from(xs, [xs.length], "float64");
    const curves = {
      step: Array.from(stepFunction(x).data),
      sigmoid: Array.from(sigmoid(x).data),
      relu: Array.from(relu(x).data),
      tanh: Array.from(tanh(x).data),
    };
    const series = Object.entries(curves).map(([name, y]) => ({ name, x: xs, y }));
    return {
      data: { x: xs, ...curves },
      figures: [
        {
          caption: "The step function jumps at 0; sigmoid is its smooth version; ReLU passes positives.",
          spec: lineChart(series, {
            title: "Activation functions",
            xTitle: "x",
            yTitle: "h(x)",
            yDomain: [-1.1, 5],
          }),
        },
      ],
      comparison: [
        { what: "sigmoid(0)", book: "0.5", ours: String(curves.sigmoid[50]) },
        { what: "step(−0.1), step(0.1)", book: "0, 1", ours: `${curves.step[49]}, ${curves.step[51]}` },
      ],
      summary: "Step, sigmoid and ReLU have the book's shapes; sigmoid is a smoothed step.",
    };
  },
};
