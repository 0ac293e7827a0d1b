/**
 * The book's point about ResNet (§8.2.4; He et al. 2015, Figure 1): deepening a plain network
 * stops helping — a deep chain of layers learns slower than a shallower one — and skip
 * connections, which add each block's input to its output, let the deep network learn. Three
 * networks on the same MNIST batches: a ResNet of 26 layers (stem, 12 basic blocks, Affine), the
 * same 26 layers without the skips ("plain"), and a plain network of 8 layers. Batch norm in all
 * of them, so what differs is the skips alone. Per-iteration training loss (smoothed), and the size
 * of each convolution's weight gradient on the first batch, by depth.
 *
 * Quick form: 14×14 images (MNIST averaged 2×2), widths 4/8/8, 20 layers, 120 iterations.
 */
import { takeSamples, subset, type Dataset } from "../src/data/dataset.js";
import { NDArray } from "../src/ndarray.js";
import { ResNet } from "../src/models/resnet.js";
import { Adam } from "../src/optimizers/adam.js";
import { lineChart } from "../src/plot/charts.js";
import { Rng } from "../src/rng.js";
import { lossRun, mapInOrder, mnistImages, trainIterations } from "./common.js";
import { clipped, fmt, tailMean, type Experiment } from "./experiment.js";

interface Net {
  name: string;
  layers: number;
  skips: boolean;
  blocks: number[];
}

export const resnetSkips: Experiment = {
  name: "resnet-skips",
  title: "A deep plain network vs the same depth with skip connections (ResNet)",
  book: "§8.2.4 ResNet (He et al. 2015, Figure 1)",
  setup:
    "ResNet of 26 layers (widths 8/16/32, 4 basic blocks per stage, batch norm) with and without its skips, and a plain net of 8 layers; 10,000 MNIST images, Adam lr 0.001, batch 50, 600 iterations, the same batches for all",
  quickForm:
    "14×14 images, widths 4/8/8, 3 blocks per stage (20 layers) vs a plain net of 8, 2,000 images, 120 iterations",
  async run({ quick, seed, log }) {
    const images = await mnistImages();
    let train = subset(images.train, quick ? 2000 : 10000);
    if (quick) train = { ...train, x: halve(train.x) };
    const inputShape = train.x.shape.slice(1);
    const widths = quick ? [4, 8, 8] : [8, 16, 32];
    const deep = quick ? [3, 3, 3] : [4, 4, 4];
    const iterations = quick ? 120 : 600;
    const tail = iterations / 4; // the loss compared: the mean of the last quarter
    const depth = (blocks: number[]) => 2 + 2 * blocks.reduce((s, b) => s + b, 0);
    const nets: Net[] = [
      { name: `ResNet, ${depth(deep)} layers`, layers: depth(deep), skips: true, blocks: deep },
      { name: `plain, ${depth(deep)} layers`, layers: depth(deep), skips: false, blocks: deep },
      { name: "plain, 8 layers", layers: 8, skips: false, blocks: [1, 1, 1] },
    ];
    const runs = await mapInOrder(nets, async (net, k) => {
      const model = new ResNet({ inputShape, widths, blocks: net.blocks, skips: net.skips }, new Rng(seed));
      const gradients = convGradients(model, train, seed);
      const losses = await trainIterations({
        model,
        optimizer: new Adam({ lr: quick ? 0.003 : 0.001 }),
        train,
        iterations,
        batchSize: 50,
        rng: new Rng(seed + 1), // the same batches for every network
        log: (i, loss) => log(`  ${net.name} (${k + 1}/${nets.length}) iteration ${i}: loss ${fmt(loss)}`),
      });
      const run = { ...lossRun(net.name, losses), tailMean: tailMean(losses, tail) };
      log(`  ${net.name}: mean loss of the last ${tail} iterations ${fmt(run.tailMean)}`);
      return { ...net, ...run, gradients };
    });
    const [residual, plain, shallow] = runs;
    const xs = Array.from({ length: iterations }, (_, i) => i);
    return {
      data: { images: train.labels.length, inputShape, widths, iterations, batchSize: 50, runs },
      figures: [
        {
          caption: `Smoothed training loss: the ${residual.layers}-layer ResNet learns fastest; without its skips the same depth learns slower.`,
          spec: clipped(
            lineChart(
              runs.map((r) => ({ name: r.name, x: xs, y: r.smooth })),
              {
                title: "Training loss (smoothed)",
                xTitle: "iterations",
                yTitle: "loss",
                yDomain: [0, 2.5],
                width: 480,
              },
            ),
          ),
        },
        {
          suffix: "gradients",
          caption:
            "The gradient of each convolution's weights on the first batch (RMS), by depth from the input.",
          spec: lineChart(
            runs.map((r) => ({
              name: r.name,
              x: r.gradients.map((_, i) => i + 1),
              y: r.gradients.map((g) => g.rms),
            })),
            {
              title: "Weight gradients at the start",
              xTitle: "convolution (from the input)",
              yTitle: "RMS of dL/dW",
              logY: true,
              points: true,
              width: 480,
            },
          ),
        },
      ],
      comparison: [
        {
          what: `mean training loss of the last ${tail} iterations, ResNet / plain (${residual.layers} layers)`,
          book: "plain deeper nets train worse (Fig. 1 of the ResNet paper)",
          ours: `${fmt(residual.tailMean)} / ${fmt(plain.tailMean)}`,
        },
        {
          what: `plain ${plain.layers} layers / plain 8 layers`,
          book: "the deeper plain net has the higher training error",
          ours: `${fmt(plain.tailMean)} / ${fmt(shallow.tailMean)}`,
        },
      ],
      summary: `Mean training loss of the last ${tail} of ${iterations} iterations: the ${residual.layers}-layer ResNet ${fmt(residual.tailMean)}, the same depth without skips ${fmt(plain.tailMean)}, a plain network of 8 layers ${fmt(shallow.tailMean)}.`,
    };
  },
};

/** RMS of each convolution's weight gradient on one batch, from the input onwards. */
function convGradients(model: ResNet, train: Dataset, seed: number): { name: string; rms: number }[] {
  const batch = takeSamples(train, new Rng(seed + 2).choice(train.labels.length, 50));
  model.loss(batch.x, batch.labels);
  model.backward();
  return model.params
    .filter((p) => p.name.endsWith(".W") && p.value.ndim === 4 && !p.name.includes(".proj"))
    .map((p) => {
      const g = p.grad!.data;
      let sq = 0;
      for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
      return { name: p.name, rms: Math.sqrt(sq / g.length) };
    });
}

/** (N, 1, 28, 28) → (N, 1, 14, 14) by averaging 2×2 blocks (the quick form's smaller images). */
function halve(x: NDArray): NDArray {
  const n = x.shape[0];
  const out = NDArray.zeros([n, 1, 14, 14], x.dtype);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < 14; y++) {
      for (let xx = 0; xx < 14; xx++) {
        const at = i * 784 + 2 * y * 28 + 2 * xx;
        const s = x.data[at] + x.data[at + 1] + x.data[at + 28] + x.data[at + 29];
        out.data[(i * 14 + y) * 14 + xx] = s / 4;
      }
    }
  }
  return out;
}
