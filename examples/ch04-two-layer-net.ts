// Chapter 4 of the book (§4.5): a two-layer net with sigmoid units learns MNIST by mini-batch SGD.
// The book computes gradients numerically here and notes that this is far too slow for the whole
// run, so the run uses backprop (chapter 5). `--numerical` first times both on 3 images.
// Run: npx tsx examples/ch04-two-layer-net.ts [--iters 10000] [--numerical]
import { parseArgs } from "node:util";
import { sliceSamples } from "../src/data/dataset.js";
import { loadMnist } from "../src/data/mnist.js";
import { Rng, SGD, Trainer, TwoLayerNet } from "../src/index.js";

const { values } = parseArgs({
  options: { iters: { type: "string", default: "10000" }, numerical: { type: "boolean", default: false } },
});

const { train, test } = await loadMnist({ normalize: true });
const rng = new Rng(0);
// Book: TwoLayerNet(input_size=784, hidden_size=50, output_size=10), weight_init_std 0.01.
const network = new TwoLayerNet(
  { inputSize: 784, hiddenSize: 50, outputSize: 10, activation: "sigmoid" },
  rng,
);

if (values.numerical) {
  // Two forward passes per weight, 39,760 weights: the reason chapter 5 exists.
  const few = sliceSamples(train, 0, 3);
  for (const method of ["gradient", "numericalGradient"] as const) {
    const start = performance.now();
    network[method](few.x, few.labels);
    console.log(`${method} of 3 images: ${(performance.now() - start).toFixed(1)} ms`);
  }
}

// Book: iters_num 10000, batch_size 100, learning_rate 0.1, batches drawn with replacement,
// accuracy every 600 iterations (one epoch of 60,000 images).
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
for (const event of trainer.steps()) {
  if (event.type === "epoch") {
    console.log(
      `epoch ${event.epoch}: loss ${event.loss.toFixed(4)}, train acc ${event.trainAcc.toFixed(4)}, test acc ${event.testAcc.toFixed(4)}`,
    );
  }
}
