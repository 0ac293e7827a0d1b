/**
 * Book optimizer_compare_mnist.py (Figure 6-9): a 5-layer ReLU net
 * (784-100-100-100-100-10, He initialization) trained with SGD, Momentum, AdaGrad and Adam at the
 * book's default learning rates; smoothed training loss per iteration.
 *
 * Quick form: 250 iterations instead of 2,000 (same network, batch and rates).
 */
import { MultiLayerNet } from "../src/models/multi-layer-net.js";
import { createOptimizer, type OptimizerName } from "../src/optimizers/optimizer.js";
import { Rng } from "../src/rng.js";
import { lossComparison, lossRun, mapInOrder, mnist, trainIterations } from "./common.js";
import { fmt, type Experiment } from "./experiment.js";

const OPTIMIZERS: { name: string; optimizer: OptimizerName; lr: number; book1900: number }[] = [
  { name: "SGD", optimizer: "sgd", lr: 0.01, book1900: 0.15 },
  { name: "Momentum", optimizer: "momentum", lr: 0.01, book1900: 0.05 },
  { name: "AdaGrad", optimizer: "adagrad", lr: 0.01, book1900: 0.016 },
  { name: "Adam", optimizer: "adam", lr: 0.001, book1900: 0.032 },
];

export const optimizersMnist: Experiment = {
  name: "optimizers-mnist",
  title: "SGD, Momentum, AdaGrad and Adam on MNIST",
  book: "Figure 6-9, §6.1.8 (optimizer_compare_mnist.py)",
  setup: "784-100×4-10 ReLU, He init, batch 128, 2,000 iterations; lr SGD/Momentum/AdaGrad 0.01, Adam 0.001",
  quickForm: "250 iterations instead of 2,000",
  async run({ quick, seed, log }) {
    const { train } = await mnist();
    const iterations = quick ? 250 : 2000;
    const runs = await mapInOrder(OPTIMIZERS, async (o, k) => {
      // The same initial weights and batches for every optimizer: only the update rule differs.
      const model = new MultiLayerNet(
        { inputSize: 784, hiddenSizeList: [100, 100, 100, 100], outputSize: 10 },
        new Rng(seed),
      );
      const losses = await trainIterations({
        model,
        optimizer: createOptimizer(o.optimizer, { lr: o.lr }),
        train,
        iterations,
        batchSize: 128,
        rng: new Rng(seed + 1),
        log: (i, loss) => log(`  ${o.name} iteration ${i}: loss ${loss.toFixed(4)} (${k + 1}/4)`),
      });
      const run = lossRun(o.name, losses);
      return { ...o, ...run, finalSmoothed: run.smooth[run.smooth.length - 1] };
    });
    return lossComparison(runs, {
      iterations,
      title: "Optimizers on MNIST (smoothed loss)",
      caption: "Smoothed training loss: SGD is slowest; AdaGrad and Adam fall fastest.",
      yDomain: [0, 1],
      book: (r) => fmt(r.book1900),
      data: { batchSize: 128 },
    });
  },
};
