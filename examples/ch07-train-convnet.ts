// Chapter 7 of the book (§7.5): SimpleConvNet on MNIST with Adam (lr 0.001), batches of 100,
// 20 epochs, accuracy per epoch on 1,000 samples (full sets at the end). Book: test acc ≈ 98.9 %.
// Run: npx tsx examples/ch07-train-convnet.ts [--epochs 20] [--train-size 60000] [--test-size 10000]
import { parseArgs } from "node:util";
import { loadMnist } from "../src/data/mnist.js";
import { Adam, Rng, SimpleConvNet, Trainer } from "../src/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "20" },
    "train-size": { type: "string", default: "60000" },
    "test-size": { type: "string", default: "10000" },
  },
});

const { train, test } = await loadMnist({
  normalize: true,
  flatten: false, // (N, 1, 28, 28) images
  subset: { train: Number(values["train-size"]), test: Number(values["test-size"]) },
});
const rng = new Rng(0);
// Book: conv 30 filters 5×5 (pad 0, stride 1), hidden 100, weight_init_std 0.01.
const network = new SimpleConvNet({ inputShape: [1, 28, 28] }, rng);
const trainer = new Trainer({
  model: network,
  optimizer: new Adam({ lr: 0.001 }),
  train,
  test,
  epochs: Number(values.epochs),
  batchSize: 100,
  evalSampleSize: 1000,
  rng,
});

const start = performance.now();
for (const event of trainer.steps()) {
  if (event.type === "iteration" && event.iteration % 100 === 0) {
    console.log(`iteration ${event.iteration}/${event.iterations}: loss ${event.loss.toFixed(4)}`);
  } else if (event.type === "epoch") {
    const minutes = ((performance.now() - start) / 60000).toFixed(1);
    console.log(
      `=== epoch ${event.epoch} (${minutes} min): train acc ${event.trainAcc.toFixed(4)}, test acc ${event.testAcc.toFixed(4)}`,
    );
  }
}
