/**
 * Book overfit_weight_decay.py and overfit_dropout.py (Figures 6-20, 6-21, 6-23): a 7-layer net
 * (784-100×6-10, ReLU, He) trained on only 300 MNIST images (SGD lr 0.01, batch 100) overfits:
 * training accuracy reaches 100 % while test accuracy stays far below. Weight decay λ = 0.1 and
 * dropout (ratio 0.2) narrow that gap. Train and test accuracy per epoch.
 *
 * Quick form: lr 0.05 for 50 epochs (≈ 250 epochs' worth of lr 0.01 steps), 500 test images.
 */
import { subset } from "../src/data/dataset.js";
import { MultiLayerNetExtend } from "../src/models/multi-layer-net-extend.js";
import { SGD } from "../src/optimizers/sgd.js";
import { seriesStyle } from "../src/plot/charts.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { Rng } from "../src/rng.js";
import { mapInOrder, mnist, trainEpochs } from "./common.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";

const VARIANTS = [
  { name: "no regularization", figure: "6-20", epochs: 201, options: {} },
  { name: "weight decay λ=0.1", figure: "6-21", epochs: 201, options: { weightDecayLambda: 0.1 } },
  { name: "dropout 0.2", figure: "6-23", epochs: 301, options: { useDropout: true, dropoutRatio: 0.2 } },
] as const;

export interface VariantRun {
  name: string;
  figure: string;
  trainAcc: number[];
  testAcc: number[];
  /** Mean train − test accuracy over the last 10 epochs. */
  gap: number;
  finalTrain: number;
  finalTest: number;
}

export const overfitting: Experiment = {
  name: "overfitting",
  title: "Overfitting on 300 images; weight decay and dropout",
  book: "Figures 6-20, 6-21, 6-23, §6.4 (overfit_weight_decay.py, overfit_dropout.py)",
  setup:
    "784-100×6-10 ReLU, He init, 300 training images, full test set, SGD lr 0.01, batch 100; 201 epochs (dropout: 301)",
  quickForm: "lr 0.05 for 50 epochs, 500 test images",
  async run({ quick, seed, log }) {
    const data = await mnist();
    const train = subset(data.train, 300);
    const test = quick ? subset(data.test, 500) : data.test;
    const runs: VariantRun[] = await mapInOrder(VARIANTS, async (v) => {
      const model = new MultiLayerNetExtend(
        { inputSize: 784, hiddenSizeList: [100, 100, 100, 100, 100, 100], outputSize: 10, ...v.options },
        new Rng(seed),
      );
      const [curve] = await trainEpochs({
        models: [{ model, optimizer: new SGD({ lr: quick ? 0.05 : 0.01 }) }],
        train,
        test,
        epochs: quick ? 50 : v.epochs,
        batchSize: 100,
        rng: new Rng(seed + 1),
      });
      const tail = (xs: number[]) => xs.slice(-10);
      const gap =
        tail(curve.trainAcc).reduce((s, a, i) => s + a - tail(curve.testAcc)[i], 0) /
        tail(curve.trainAcc).length;
      const run = {
        name: v.name,
        figure: v.figure,
        ...curve,
        gap,
        finalTrain: curve.trainAcc[curve.trainAcc.length - 1],
        finalTest: curve.testAcc[curve.testAcc.length - 1],
      };
      log(`  ${v.name}: train ${fmt(run.finalTrain)}, test ${fmt(run.finalTest)}, gap ${fmt(gap)}`);
      return run;
    });
    return {
      data: { trainImages: 300, testImages: test.labels.length, runs },
      figures: [
        {
          caption: "Train (solid) and test (dashed) accuracy: weight decay and dropout narrow the gap.",
          spec: overfittingChart(runs),
        },
      ],
      comparison: runs.map((r) => ({
        what: `${r.name} (Fig. ${r.figure}): final train / test accuracy`,
        book: {
          "6-20": "train reaches 1.0, test far below",
          "6-21": "train stays below 1.0, gap narrower",
          "6-23": "gap narrower, train below 1.0",
        }[r.figure]!,
        ours: `${fmt(r.finalTrain)} / ${fmt(r.finalTest)} (gap ${fmt(r.gap)})`,
      })),
      summary: `Train − test gap over the last 10 epochs: ${runs.map((r) => `${r.name} ${fmt(r.gap)}`).join(", ")}.`,
    };
  },
};

/** The figure, from the runs (exported so a saved run's data can be drawn again). */
export function overfittingChart(runs: VariantRun[]): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Overfitting on 300 images",
    config: chartConfig,
    columns: 3,
    concat: runs.map((r) => ({
      title: `${r.name} (Fig. ${r.figure})`,
      width: 260,
      height: 200,
      data: {
        values: [
          ...r.trainAcc.map((acc, epoch) => ({ epoch, acc, set: "train" })),
          ...r.testAcc.map((acc, epoch) => ({ epoch, acc, set: "test" })),
        ],
      },
      mark: { type: "line" },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epochs" },
        y: { field: "acc", type: "quantitative", title: "accuracy", scale: { domain: [0, 1] } },
        ...seriesStyle("set", ["train", "test"]),
      },
    })),
  } as ChartSpec;
}
