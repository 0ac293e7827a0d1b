/**
 * Book ch04/train_neuralnet.py (Figures 4-11 and 4-12, §4.5.2–4.5.3): the two-layer net of
 * chapter 4 (784-50-10, sigmoid hidden layer, weights N(0, 0.01²), zero biases) learns MNIST by
 * mini-batch SGD (lr 0.1, batches of 100 drawn with replacement, 10,000 iterations). The loss of
 * every iteration falls; train and test accuracy, recorded every epoch's worth of iterations
 * (600 = 60,000 / 100, from iteration 0 as the book's `i % iter_per_epoch == 0`), rise together:
 * no overfitting.
 *
 * Book: the book's chapter-4 network also offers `numerical_gradient`, far too slow for this run;
 * its script trains with the backprop `gradient`, as we do.
 *
 * Quick form: 10,000 training images, 1,000 iterations (an epoch is 100); the full test set (its
 * first images are harder than the rest, so a subset would open a gap that is not overfitting).
 */
import { subset } from "../src/data/dataset.js";
import { TwoLayerNet } from "../src/models/two-layer-net.js";
import { SGD } from "../src/optimizers/sgd.js";
import { STROKE_LEGEND, seriesStyle } from "../src/plot/charts.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { Rng } from "../src/rng.js";
import { mnist, trainIterations } from "./common.js";
import { VEGA_LITE_SCHEMA, fmt, tailMean, type Experiment } from "./experiment.js";

/** The right panel of Figure 4-11: the first 1,000 iterations. */
const ZOOM = 1000;

export const twoLayerNet: Experiment = {
  name: "two-layer-net",
  title: "Chapter 4's two-layer net learns MNIST: loss and accuracy",
  book: "Figures 4-11, 4-12, §4.5 (ch04/train_neuralnet.py)",
  setup:
    "784-50-10, sigmoid, weights N(0, 0.01²); SGD lr 0.1, batch 100 drawn with replacement, 10,000 iterations on 60,000 images; train and test accuracy every 600 iterations on the full sets",
  quickForm: "10,000 training images, 1,000 iterations (accuracy every 100)",
  async run({ quick, seed, log }) {
    const data = await mnist();
    const train = quick ? subset(data.train, 10_000) : data.train;
    const test = data.test;
    const iterations = quick ? 1000 : 10_000;
    const batchSize = 100;
    const iterationsPerEpoch = Math.max(Math.floor(train.labels.length / batchSize), 1);
    const model = new TwoLayerNet(
      { inputSize: 784, hiddenSize: 50, outputSize: 10, weightInitStd: 0.01, activation: "sigmoid" },
      new Rng(seed),
    );
    const trainAcc: number[] = [];
    const testAcc: number[] = [];
    const losses = await trainIterations({
      model,
      optimizer: new SGD({ lr: 0.1 }),
      train,
      iterations,
      batchSize,
      rng: new Rng(seed + 1),
      afterStep: (i) => {
        if (i % iterationsPerEpoch !== 0) return;
        trainAcc.push(model.accuracy(train.x, train.labels));
        testAcc.push(model.accuracy(test.x, test.labels));
        log(
          `  iteration ${i}: train acc ${fmt(trainAcc[trainAcc.length - 1])}, test acc ${fmt(testAcc[testAcc.length - 1])}`,
        );
      },
    });
    const finalTrain = trainAcc[trainAcc.length - 1];
    const finalTest = testAcc[testAcc.length - 1];
    const lossStart = tailMean(losses.slice(0, 10), 10);
    const lossEnd = tailMean(losses, 100);
    return {
      data: {
        trainImages: train.labels.length,
        testImages: test.labels.length,
        iterations,
        batchSize,
        iterationsPerEpoch,
        losses,
        trainAcc,
        testAcc,
        lossStart,
        lossEnd,
      },
      figures: [
        {
          caption: `The mini-batch loss of every iteration (left: all ${iterations.toLocaleString("en")}, right: the first ${Math.min(ZOOM, iterations).toLocaleString("en")}), as the book's Figure 4-11: it falls fast at first, then slowly.`,
          spec: lossChart(losses),
        },
        {
          suffix: "accuracy",
          caption: `Train (solid) and test (dashed) accuracy every ${iterationsPerEpoch} iterations (one epoch), as the book's Figure 4-12: the two rise together, so the net does not overfit.`,
          spec: accuracyChart(trainAcc, testAcc),
        },
      ],
      comparison: [
        {
          what: "loss: first 10 iterations → last 100 (means)",
          book: "≈ 2.3 → well below 0.5 (Fig. 4-11)",
          ours: `${fmt(lossStart)} → ${fmt(lossEnd)}`,
        },
        {
          what: "final train / test accuracy",
          book: "both ≈ 0.95, no gap (Fig. 4-12)",
          ours: `${fmt(finalTrain)} / ${fmt(finalTest)}`,
        },
      ],
      summary: `Loss ${fmt(lossStart)} → ${fmt(lossEnd)}; final train accuracy ${fmt(finalTrain)}, test ${fmt(finalTest)} (gap ${fmt(finalTrain - finalTest)}).`,
    };
  },
};

/** Figure 4-11: the raw loss per iteration, all of it and the first 1,000 iterations. */
function lossChart(losses: readonly number[]): ChartSpec {
  const panel = (title: string, count: number) => ({
    title,
    width: 320,
    height: 220,
    data: { values: losses.slice(0, count).map((loss, iteration) => ({ iteration, loss })) },
    mark: { type: "line", strokeWidth: 1, color: "#0072B2" },
    encoding: {
      x: { field: "iteration", type: "quantitative", title: "iteration" },
      y: { field: "loss", type: "quantitative", title: "loss", scale: { domain: [0, 3] } },
    },
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Two-layer net on MNIST: the training loss",
    config: chartConfig,
    hconcat: [
      panel(`all ${losses.length.toLocaleString("en")} iterations`, losses.length),
      panel(`the first ${Math.min(ZOOM, losses.length).toLocaleString("en")}`, ZOOM),
    ],
  } as ChartSpec;
}

const SETS = ["train acc", "test acc"];

/** Figure 4-12: train and test accuracy per epoch. */
function accuracyChart(trainAcc: readonly number[], testAcc: readonly number[]): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Two-layer net on MNIST: accuracy per epoch",
    config: chartConfig,
    width: 360,
    height: 240,
    data: {
      values: [
        ...trainAcc.map((acc, epoch) => ({ epoch, acc, set: SETS[0] })),
        ...testAcc.map((acc, epoch) => ({ epoch, acc, set: SETS[1] })),
      ],
    },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epochs", axis: { tickMinStep: 1 } },
      y: { field: "acc", type: "quantitative", title: "accuracy", scale: { domain: [0, 1] } },
      ...seriesStyle("set", SETS, null, { orient: "bottom-right", ...STROKE_LEGEND }),
    },
  } as ChartSpec;
}
