/**
 * Book hyperparameter_optimization.py (Figure 6-24, §6.5): random search over the learning rate
 * 10^U(−6, −2) and weight decay 10^U(−8, −4) for a 7-layer net (784-100×6-10) trained 50 epochs
 * on 400 of the first 500 MNIST images, judged on the other 100 (validation, never test data);
 * the best 20 trials' validation (solid) and training (dashed) accuracy curves.
 *
 * The search is the library's `randomSearch`, run a trial at a time (`searchTrials`, src/train/search.ts).
 *
 * Quick form: 20 trials of 10 epochs with a 784-50-50-10 net and batches of 25 (16 updates an epoch).
 */
import { splitValidation, subset } from "../src/data/dataset.js";
import { MultiLayerNet } from "../src/models/multi-layer-net.js";
import { SGD } from "../src/optimizers/sgd.js";
import { seriesStyle } from "../src/plot/charts.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { Rng } from "../src/rng.js";
import {
  bestRanges,
  formatSearchReport,
  logUniform,
  searchTrials,
  topTrials,
  type Trial,
} from "../src/train/search.js";
import { breathe, mnist } from "./common.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";

const SHOWN = 20;

export const hyperparameterSearch: Experiment = {
  name: "hyperparameter-search",
  title: "Random hyperparameter search on a validation split",
  book: "Figure 6-24, §6.5 (hyperparameter_optimization.py)",
  setup:
    "500 MNIST images, 20 % held out for validation; 784-100×6-10 ReLU, SGD, batch 100, 50 epochs; lr = 10^U(−6,−2), weight decay = 10^U(−8,−4); 100 trials",
  quickForm: "20 trials of 10 epochs, 784-50-50-10, batch 25",
  async run({ quick, seed, log }) {
    const rng = new Rng(seed);
    const { train, validation } = splitValidation(subset((await mnist()).train, 500), 0.2, rng.split());
    const hidden = quick ? [50, 50] : [100, 100, 100, 100, 100, 100];
    const steps = searchTrials({
      space: { lr: logUniform(1e-6, 1e-2), weightDecay: logUniform(1e-8, 1e-4) },
      trials: quick ? 20 : 100,
      epochs: quick ? 10 : 50,
      batchSize: quick ? 25 : 100,
      sampling: "replacement", // as the book's Trainer: np.random.choice per iteration
      train,
      validation,
      rng,
      build: ({ lr, weightDecay }, trialRng) => ({
        model: new MultiLayerNet(
          { inputSize: 784, hiddenSizeList: hidden, outputSize: 10, weightDecayLambda: weightDecay },
          trialRng,
        ),
        optimizer: new SGD({ lr }),
      }),
    });
    // One trial at a time, the event loop let run in between (see breathe).
    let step = steps.next();
    for (; !step.done; step = steps.next()) {
      const t = step.value;
      log(
        `  trial ${t.index + 1}: val acc ${t.valAcc.toFixed(3)} | lr ${fmt(t.params.lr)}, weight decay ${fmt(t.params.weightDecay)}`,
      );
      await breathe();
    }
    const result = step.value;
    const best = topTrials(result.trials, SHOWN);
    const ranges = bestRanges(result, 5);
    log(formatSearchReport(result, 5));
    return {
      data: { trials: result.trials, report: formatSearchReport(result, SHOWN), bestRanges: ranges },
      figures: [
        {
          caption: "The best trials (solid: validation, dashed: training accuracy), best first.",
          spec: chart(best),
        },
      ],
      comparison: [
        {
          what: "learning rates of the 5 best trials",
          book: "0.001 – 0.01",
          ours: `${fmt(ranges.lr.min)} – ${fmt(ranges.lr.max)}`,
        },
        {
          what: "weight decay of the 5 best trials",
          book: "1e-8 – 1e-6",
          ours: `${fmt(ranges.weightDecay.min)} – ${fmt(ranges.weightDecay.max)}`,
        },
        { what: "best validation accuracy", book: "0.83 (Best-1)", ours: fmt(best[0].valAcc) },
      ],
      summary: `Best: val acc ${best[0].valAcc.toFixed(3)} at lr ${fmt(best[0].params.lr)}, weight decay ${fmt(best[0].params.weightDecay)}; the 5 best lrs span ${fmt(ranges.lr.min)}–${fmt(ranges.lr.max)}.`,
    };
  },
};

function chart(best: Trial[]): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `Random search: the best ${best.length} of the trials`,
    config: { ...chartConfig, concat: { spacing: 6 } },
    columns: 5,
    concat: best.map((t, i) => ({
      title: {
        text: [
          `Best-${i + 1} (val ${t.valAcc.toFixed(2)})`,
          `lr ${fmt(t.params.lr)}, wd ${fmt(t.params.weightDecay)}`,
        ],
        fontSize: 10,
      },
      width: 130,
      height: 90,
      data: {
        values: [
          ...t.valAccHistory.map((acc, epoch) => ({ epoch, acc, set: "validation" })),
          ...t.trainAccHistory.map((acc, epoch) => ({ epoch, acc, set: "train" })),
        ],
      },
      mark: { type: "line" },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch" },
        y: { field: "acc", type: "quantitative", title: "accuracy", scale: { domain: [0, 1] } },
        ...seriesStyle("set", ["validation", "train"]),
      },
    })),
  } as ChartSpec;
}
