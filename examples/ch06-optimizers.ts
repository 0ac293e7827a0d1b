// Chapter 6 of the book (§6.1): SGD, Momentum, AdaGrad and Adam (plus Nesterov and RMSprop).
// 1. The descent of f(x, y) = x²/20 + y² from (−7, 2), 30 steps, with the book's learning rates.
// 2. A 5-layer net (4 × 100 ReLU units) on MNIST, batch 128, the loss every 100 iterations.
// Run: npx tsx examples/ch06-optimizers.ts [--iters 2000]   (--iters 0 skips the MNIST part)
import { parseArgs } from "node:util";
import { loadMnist } from "../src/data/mnist.js";
import { takeSamples } from "../src/data/dataset.js";
import { MultiLayerNet, NDArray, Rng, createOptimizer, param, type OptimizerName } from "../src/index.js";

const { values } = parseArgs({ options: { iters: { type: "string", default: "2000" } } });

// 1. optimizer_compare_naive.py
const rates: [OptimizerName, number][] = [
  ["sgd", 0.95],
  ["momentum", 0.1],
  ["nesterov", 0.1],
  ["adagrad", 1.5],
  ["rmsprop", 0.1],
  ["adam", 0.3],
];
console.log("f(x, y) = x²/20 + y² from (−7, 2), 30 steps:");
for (const [name, lr] of rates) {
  const xy = param("xy", NDArray.from([-7, 2], [2], "float64"));
  const optimizer = createOptimizer(name, { lr });
  for (let i = 0; i < 30; i++) {
    const [x, y] = xy.value.data;
    xy.grad = NDArray.from([x / 10, 2 * y], [2], "float64"); // ∇f
    optimizer.step([xy]);
  }
  const [x, y] = xy.value.data;
  console.log(`  ${name.padEnd(8)} lr ${String(lr).padEnd(4)} → (${x.toFixed(4)}, ${y.toFixed(4)})`);
}

// 2. optimizer_compare_mnist.py: each optimizer trains its own copy of the same network.
const iterations = Number(values.iters);
if (iterations > 0) {
  const { train } = await loadMnist({ normalize: true });
  const names: OptimizerName[] = ["sgd", "momentum", "adagrad", "adam"];
  const networks = names.map(
    () =>
      new MultiLayerNet({ inputSize: 784, hiddenSizeList: [100, 100, 100, 100], outputSize: 10 }, new Rng(0)),
  );
  // Book: SGD lr 0.01 (its default), Momentum 0.01, AdaGrad 0.01, Adam 0.001 — the defaults here too.
  const optimizers = names.map((name) => createOptimizer(name));
  const rng = new Rng(1);
  for (let i = 0; i < iterations; i++) {
    const batch = takeSamples(train, rng.choice(train.labels.length, 128));
    const losses = networks.map((network, k) => {
      const loss = network.loss(batch.x, batch.labels);
      network.backward();
      optimizers[k].step(network.params);
      return loss;
    });
    if (i % 100 === 0) {
      console.log(`iteration ${i}: ` + names.map((name, k) => `${name} ${losses[k].toFixed(4)}`).join(", "));
    }
  }
}
