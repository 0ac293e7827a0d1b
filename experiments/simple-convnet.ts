/**
 * Book train_convnet.py and visualize_filter.py / apply_filter.py (§7.5, Figures 7-24 and 7-25 for the filter
 * figures of §7.6): SimpleConvNet (conv 30×5×5 → ReLU → pool → 100 → 10) trained with Adam
 * (lr 0.001, batch 100, 20 epochs, per-epoch accuracy on 1,000 samples as the book's Trainer);
 * its 30 first-layer filters before and after training; and the trained filters applied to a
 * digit (the response maps show which edges each filter picks up).
 *
 * Quick form: 1,000 training images, 2 epochs, batch 50; accuracy on 500 test images.
 */
import { subset } from "../src/data/dataset.js";
import { NDArray } from "../src/ndarray.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { im2col } from "../src/ops/conv.js";
import { matmul } from "../src/ops/linalg.js";
import { Adam } from "../src/optimizers/adam.js";
import { imageGrid, imagePanels, lossAccuracyChart, type ChartImage } from "../src/plot/charts.js";
import { Rng } from "../src/rng.js";
import { Trainer } from "../src/train/trainer.js";
import { breathe, mnistImages } from "./common.js";
import { fmt, type Experiment } from "./experiment.js";

/** Filter k of W (FN, 1, FH, FW) as an image, scaled to [0, 1] over the whole bank (as the book's imshow per filter). */
export function filterImages(W: NDArray): ChartImage[] {
  const [fn, , fh, fw] = W.shape;
  const size = fh * fw;
  return Array.from({ length: fn }, (_, k) => normalized(W.data.subarray(k * size, (k + 1) * size), fw, fh));
}

function normalized(values: ArrayLike<number>, width: number, height: number): ChartImage {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const pixels = Array.from(values, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5));
  return { pixels, width, height };
}

/**
 * Mean correlation of horizontally and vertically neighbouring weights in each filter: about 0
 * for random filters, positive once they become smooth edge and blob detectors.
 */
export function neighbourCorrelation(W: NDArray): number {
  const [fn, c, fh, fw] = W.shape;
  let total = 0;
  for (let k = 0; k < fn * c; k++) {
    const f = Array.from(W.data.subarray(k * fh * fw, (k + 1) * fh * fw));
    const mean = f.reduce((a, b) => a + b, 0) / f.length;
    let num = 0;
    let pairs = 0;
    let den = 0;
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const v = f[i * fw + j] - mean;
        den += v * v;
        if (j + 1 < fw) {
          num += v * (f[i * fw + j + 1] - mean);
          pairs++;
        }
        if (i + 1 < fh) {
          num += v * (f[(i + 1) * fw + j] - mean);
          pairs++;
        }
      }
    }
    total += num / pairs / (den / f.length);
  }
  return total / (fn * c);
}

/** Captions "1" … "n". */
const numbers = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}`);

/** Nearest-neighbour enlargement, so a 5×5 filter shows at the size of its 24×24 response. */
function enlarge(image: ChartImage, factor: number): ChartImage {
  const width = image.width * factor;
  const height = image.height * factor;
  const pixels = new Array<number>(width * height);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      pixels[i * width + j] = image.pixels[Math.floor(i / factor) * image.width + Math.floor(j / factor)];
    }
  }
  return { pixels, width, height };
}

/** Indices of the `k` smoothest trained filters (highest neighbour correlation): the edge and stroke detectors. */
function smoothest(W: NDArray, k: number): number[] {
  const [fn, c, fh, fw] = W.shape;
  const size = c * fh * fw;
  return Array.from({ length: fn }, (_, f) => ({
    f,
    r: neighbourCorrelation(new NDArray(W.data.slice(f * size, (f + 1) * size), [1, c, fh, fw])),
  }))
    .sort((a, b) => b.r - a.r)
    .slice(0, k)
    .map((x) => x.f);
}

/** Convolves one image (1, 1, H, W) with each filter of W (FN, 1, FH, FW): FN response maps. */
export function filterResponses(image: NDArray, W: NDArray): ChartImage[] {
  const [fn, , fh, fw] = W.shape;
  const [, , h, w] = image.shape;
  const oh = h - fh + 1;
  const ow = w - fw + 1;
  const col = im2col(image, fh, fw, 1, 0); // (OH·OW, FH·FW)
  const out = matmul(col, W.reshape(fn, fh * fw), { transB: true }); // (OH·OW, FN)
  return Array.from({ length: fn }, (_, k) => {
    const map = new Float64Array(oh * ow);
    for (let p = 0; p < oh * ow; p++) map[p] = out.data[p * fn + k];
    return normalized(map, ow, oh);
  });
}

export const simpleConvnet: Experiment = {
  name: "simple-convnet",
  title: "SimpleConvNet: training curve, first-layer filters, filter responses",
  book: "§7.5 (train_convnet.py); Figures 7-24, 7-25 (§7.6.1, visualize_filter.py, apply_filter.py)",
  setup:
    "SimpleConvNet (30 filters 5×5, 100 hidden), Adam lr 0.001, batch 100, 20 epochs on 60,000 images; accuracy per epoch on 1,000 samples, final on the full sets",
  quickForm: "1,000 training images, 2 epochs, batch 50, 500 test images",
  async run({ quick, seed, log }) {
    const data = await mnistImages();
    const train = quick ? subset(data.train, 1000) : data.train;
    const test = quick ? subset(data.test, 500) : data.test;
    const model = new SimpleConvNet({}, new Rng(seed));
    const W1 = model.params.find((p) => p.name === "W1")!.value;
    const before = W1.clone();
    const trainer = new Trainer({
      model,
      optimizer: new Adam({ lr: 0.001 }),
      train,
      test,
      epochs: quick ? 2 : 20,
      batchSize: quick ? 50 : 100,
      rng: new Rng(seed + 1),
      evalSampleSize: 1000,
    });
    const history = { loss: [] as number[], trainAcc: [] as number[], testAcc: [] as number[] };
    for (const event of trainer.steps()) {
      await breathe();
      if (event.type === "iteration") {
        history.loss.push(event.loss);
        if (event.iteration % 100 === 0)
          log(`  iteration ${event.iteration}/${event.iterations}: loss ${event.loss.toFixed(4)}`);
      } else {
        history.trainAcc.push(event.trainAcc);
        history.testAcc.push(event.testAcc);
        log(`  epoch ${event.epoch}: train acc ${fmt(event.trainAcc)}, test acc ${fmt(event.testAcc)}`);
      }
    }
    const correlation = { before: neighbourCorrelation(before), after: neighbourCorrelation(W1) };
    const digit = data.test.x.sliceRows(0, 1); // (1, 1, 28, 28): a 7
    const responses = filterResponses(digit, W1);
    const shown = smoothest(W1, 12);
    const trainedFilters = filterImages(W1);
    const finalTest = history.testAcc[history.testAcc.length - 1];
    return {
      data: {
        trainImages: train.labels.length,
        testImages: test.labels.length,
        history,
        filterNeighbourCorrelation: correlation,
      },
      figures: [
        {
          caption: "Loss per iteration and accuracy per epoch (train and test).",
          spec: lossAccuracyChart(history, { title: "SimpleConvNet on MNIST" }),
        },
        {
          suffix: "filters",
          caption:
            "The 30 first-layer filters before (left) and after (right) training, as the book's Figure 7-24: random noise becomes smooth edge and blob detectors. Each filter is scaled from its own minimum to its maximum, drawn pixel by pixel (dark = large).",
          spec: imagePanels(
            [
              { title: "before training", images: filterImages(before), captions: numbers(30) },
              { title: "after training", images: filterImages(W1), captions: numbers(30) },
            ],
            { title: "SimpleConvNet's first-layer filters (5×5)", columns: 6, scale: 6 },
          ),
        },
        {
          suffix: "responses",
          caption:
            "A test digit and its responses to the 12 smoothest trained filters (dark = strong): each reacts to edges or strokes of one orientation.",
          spec: imageGrid(
            // Rows of: the input, then three (filter, response) pairs.
            shown.flatMap((k, i) => [
              ...(i % 3 === 0 ? [normalized(digit.data, 28, 28)] : []),
              enlarge(trainedFilters[k], 5),
              responses[k],
            ]),
            shown.flatMap((k, i) => [
              ...(i % 3 === 0 ? ["input"] : []),
              `filter ${k + 1}`,
              `response ${k + 1}`,
            ]),
            { title: "Trained filters applied to a digit", columns: 7, scale: 2 },
          ),
        },
      ],
      comparison: [
        {
          what: "test accuracy after training",
          book: "≈ 0.99 (train_convnet.py, 20 epochs)",
          ours: `${fmt(finalTest)}${quick ? " (quick run)" : ""}`,
        },
        {
          what: "filter smoothness (neighbour correlation) before → after",
          book: "random → structured (figure)",
          ours: `${fmt(correlation.before)} → ${fmt(correlation.after)}`,
        },
      ],
      summary: `Test accuracy ${fmt(finalTest)}; the filters' neighbour correlation went ${fmt(correlation.before)} → ${fmt(correlation.after)}.`,
    };
  },
};
