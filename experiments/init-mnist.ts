/**
 * Book weight_init_compare.py (Figure 6-15): the same 5-layer ReLU net on MNIST with weights of
 * std 0.01, Xavier (√(1/n)) and He (√(2/n)); SGD lr 0.01, batch 128, smoothed training loss.
 *
 * Quick form: 400 iterations (Xavier starts slowly) instead of 2,000.
 */
import type { WeightInit } from "../src/init.js";
import { MultiLayerNet } from "../src/models/multi-layer-net.js";
import { SGD } from "../src/optimizers/sgd.js";
import { Rng } from "../src/rng.js";
import { lossComparison, lossRun, mapInOrder, mnist, trainIterations } from "./common.js";
import type { Experiment } from "./experiment.js";

const INITS: { name: string; init: WeightInit; book1900: string }[] = [
  { name: "std=0.01", init: 0.01, book1900: "2.30" },
  { name: "Xavier", init: "sigmoid", book1900: "0.38" },
  { name: "He", init: "relu", book1900: "0.29" },
];

export const initMnist: Experiment = {
  name: "init-mnist",
  title: "Weight initialization compared on MNIST",
  book: "Figure 6-15, §6.2.4 (weight_init_compare.py)",
  setup: "784-100×4-10 ReLU, SGD lr 0.01, batch 128, 2,000 iterations; init std 0.01, Xavier, He",
  quickForm: "400 iterations instead of 2,000",
  async run({ quick, seed, log }) {
    const { train } = await mnist();
    const iterations = quick ? 400 : 2000;
    const runs = await mapInOrder(INITS, async (it) => {
      const model = new MultiLayerNet(
        { inputSize: 784, hiddenSizeList: [100, 100, 100, 100], outputSize: 10, weightInitStd: it.init },
        new Rng(seed),
      );
      const losses = await trainIterations({
        model,
        optimizer: new SGD({ lr: 0.01 }),
        train,
        iterations,
        batchSize: 128,
        rng: new Rng(seed + 1),
        log: (i, loss) => log(`  ${it.name} iteration ${i}: loss ${loss.toFixed(4)}`),
      });
      return { ...it, ...lossRun(it.name, losses) };
    });
    return lossComparison(runs, {
      iterations,
      title: "Weight initialization on MNIST (smoothed loss)",
      caption:
        "With std 0.01 the loss stays at ln 10 ≈ 2.30 (nothing is learned); He falls fastest, Xavier close behind.",
      yDomain: [0, 2.5],
      book: (r) => r.book1900,
    });
  },
};
