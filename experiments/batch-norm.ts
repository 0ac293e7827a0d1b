/**
 * Book batch_norm_test.py (Figures 6-18 and 6-19): MultiLayerNetExtend (5 hidden layers of 100, ReLU) with
 * and without batch normalization, trained side by side on the same batches of 1,000 MNIST
 * images (SGD lr 0.01, batch 100, 20 epochs), for 16 weight scales from 1 down to 1e-4. Training
 * accuracy per epoch, as the book plots.
 *
 * Quick form: 3 scales (0.1, 0.01, 0.001), 500 images, 10 epochs.
 */
import { subset } from "../src/data/dataset.js";
import { MultiLayerNetExtend } from "../src/models/multi-layer-net-extend.js";
import { SGD } from "../src/optimizers/sgd.js";
import { seriesStyle } from "../src/plot/charts.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";
import { Rng } from "../src/rng.js";
import { mapInOrder, mnist, trainEpochs } from "./common.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";

/** np.logspace(0, -4, num=count) */
export function logspace(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 10 ** ((-4 * i) / (count - 1)));
}

export interface ScaleRun {
  scale: number;
  batchNorm: number[];
  plain: number[];
  /** The iteration where a net's loss overflowed and its training stopped (undefined: never). */
  divergedAt: { batchNorm?: number; plain?: number };
}

export const batchNorm: Experiment = {
  name: "batch-norm",
  title: "Batch normalization vs none, for 16 initial weight scales",
  book: "Figures 6-18, 6-19, §6.3.2 (batch_norm_test.py)",
  setup:
    "MultiLayerNetExtend 784-100×5-10 ReLU, 1,000 training images, SGD lr 0.01, batch 100, 20 epochs; weight std = logspace(0, −4, 16)",
  quickForm: "3 scales (0.1, 0.01, 0.001), 500 images, 10 epochs",
  async run({ quick, seed, log }) {
    const train = subset((await mnist()).train, quick ? 500 : 1000);
    const scales = quick ? [0.1, 0.01, 0.001] : logspace(16);
    const epochs = quick ? 10 : 20;
    const runs: ScaleRun[] = await mapInOrder(scales, async (scale, k) => {
      const options = {
        inputSize: 784,
        hiddenSizeList: [100, 100, 100, 100, 100],
        outputSize: 10,
        weightInitStd: scale,
      };
      const bn = new MultiLayerNetExtend({ ...options, useBatchnorm: true }, new Rng(seed));
      const plain = new MultiLayerNetExtend(options, new Rng(seed));
      const [withBn, without] = await trainEpochs({
        models: [
          { model: bn, optimizer: new SGD({ lr: 0.01 }) },
          { model: plain, optimizer: new SGD({ lr: 0.01 }) },
        ],
        train,
        epochs,
        batchSize: 100,
        rng: new Rng(seed + 1),
      });
      const run = {
        scale,
        batchNorm: withBn.trainAcc,
        plain: without.trainAcc,
        divergedAt: { batchNorm: withBn.divergedAt, plain: without.divergedAt },
      };
      log(
        `  ${k + 1}/${scales.length} scale ${fmt(scale)}: batch norm ${fmt(run.batchNorm[epochs - 1])}, plain ${fmt(run.plain[epochs - 1])}`,
      );
      return run;
    });
    const last = (xs: number[]) => xs[xs.length - 1];
    const bnWins = runs.filter((r) => last(r.batchNorm) > last(r.plain)).length;
    // The run nearest to std 0.01 (the book's usual small initial std) for the single-scale figure.
    const single = runs.reduce((a, b) =>
      Math.abs(Math.log10(b.scale) + 2) < Math.abs(Math.log10(a.scale) + 2) ? b : a,
    );
    return {
      data: { images: train.labels.length, epochs, runs },
      figures: [
        {
          caption: "Solid: with batch norm; dashed: without. Batch norm learns fast at almost every scale.",
          spec: chart(runs),
        },
        {
          suffix: "single",
          caption: `One of the scales (std ${fmt(single.scale)}) as the book's Figure 6-18: with batch norm the net learns from the first epochs; without, far more slowly.`,
          spec: singleChart(single),
        },
      ],
      comparison: [
        {
          what: "scales where batch norm ends higher",
          book: "almost all (Fig. 6-19)",
          ours: `${bnWins} of ${runs.length}`,
        },
        ...runs
          .filter((_, i) => i % (quick ? 1 : 5) === 0)
          .map((r) => ({
            what: `final train acc at scale ${fmt(r.scale)} (BN / plain)`,
            book: "(figure)",
            ours: `${fmt(last(r.batchNorm))} / ${fmt(last(r.plain))}`,
          })),
      ],
      summary: `Batch norm ends with the higher training accuracy at ${bnWins} of ${runs.length} weight scales.`,
    };
  },
};

const NETS = ["batch norm", "normal (no BN)"];

/** The book's Figure 6-18: one weight scale, the two nets' training accuracy per epoch. */
function singleChart(run: ScaleRun): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `Batch norm's effect at weight std ${fmt(run.scale)}`,
    config: chartConfig,
    width: 360,
    height: 240,
    data: {
      values: [
        ...run.batchNorm.map((acc, epoch) => ({ epoch, acc, net: NETS[0] })),
        ...run.plain.map((acc, epoch) => ({ epoch, acc, net: NETS[1] })),
      ],
    },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epochs" },
      y: { field: "acc", type: "quantitative", title: "training accuracy", scale: { domain: [0, 1] } },
      ...seriesStyle("net", NETS),
    },
  } as ChartSpec;
}

function chart(runs: ScaleRun[]): ChartSpec {
  const rows = runs.flatMap((r, k) => {
    const label = `${k + 1}. W: ${fmt(r.scale)}`;
    return [
      ...r.batchNorm.map((acc, epoch) => ({ panel: label, k, epoch, acc, net: NETS[0] })),
      ...r.plain.map((acc, epoch) => ({ panel: label, k, epoch, acc, net: NETS[1] })),
    ];
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Training accuracy with (solid) and without (dashed) batch norm",
    config: { ...chartConfig, facet: { spacing: 10 } },
    data: { values: rows },
    facet: {
      field: "panel",
      type: "nominal",
      sort: { field: "k" },
      title: null,
      header: { labelFontSize: 11 },
    },
    columns: 4,
    spec: {
      width: 150,
      height: 100,
      mark: { type: "line" },
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epochs" },
        y: { field: "acc", type: "quantitative", title: "accuracy", scale: { domain: [0, 1] } },
        ...seriesStyle("net", NETS),
      },
    },
  } as ChartSpec;
}
