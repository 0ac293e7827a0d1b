// Chapter 5 of the book (§5.7.4): the two-layer net trained with backprop.
// 784-50-10 ReLU, SGD lr 0.1, batches of 100 drawn with replacement, 10,000 iterations;
// train and test accuracy after every epoch (600 iterations). Book: test accuracy ≈ 97 %.
// Run: npx tsx examples/ch05-train-neuralnet.ts [--iters 10000]
import { parseArgs } from "node:util";
import { loadMnist } from "../src/data/mnist.js";
import { Rng, SGD, Trainer, TwoLayerNet } from "../src/index.js";

const { values } = parseArgs({ options: { iters: { type: "string", default: "10000" } } });

const { train, test } = await loadMnist({ normalize: true });
const rng = new Rng(0);
const network = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, rng);
const trainer = new Trainer({
  model: network,
  optimizer: new SGD({ lr: 0.1 }),
  train,
  test,
  iterations: Number(values.iters),
  batchSize: 100,
  sampling: "replacement",
  rng,
});

const start = performance.now();
for (const event of trainer.steps()) {
  if (event.type === "epoch") {
    const seconds = ((performance.now() - start) / 1000).toFixed(1);
    console.log(
      `epoch ${event.epoch} (${seconds} s): train acc ${event.trainAcc.toFixed(4)}, test acc ${event.testAcc.toFixed(4)}`,
    );
  }
}
