import { describe, expect, it } from "vitest";
import { loadMnist } from "../src/data/mnist.js";
import { TwoLayerNet } from "../src/models/two-layer-net.js";
import { SGD } from "../src/optimizers/sgd.js";
import { Rng } from "../src/rng.js";
import { Trainer } from "../src/train/trainer.js";

// A few seconds of real training: the book's chapter-5 network on the first 1,000 MNIST images.
describe("training smoke test", () => {
  it("TwoLayerNet 784-50-10 on 1,000 MNIST images: the loss falls, accuracy rises", async () => {
    const { train, test } = await loadMnist({ subset: { train: 1000, test: 500 } });
    const rng = new Rng(0);
    const model = new TwoLayerNet({ inputSize: 784, hiddenSize: 50, outputSize: 10 }, rng);
    const trainer = new Trainer({
      model,
      // Book: lr 0.1 over 10,000 iterations; 0.5 gets through the slow start within 80.
      optimizer: new SGD({ lr: 0.5 }),
      train,
      test,
      epochs: 8,
      batchSize: 100,
      rng,
    });
    const history = trainer.run();
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    // Starts near ln 10 ≈ 2.3 (uniform guesses over 10 classes).
    expect(mean(history.loss.slice(0, 5))).toBeGreaterThan(2);
    expect(mean(history.loss.slice(-10))).toBeLessThan(0.3 * mean(history.loss.slice(0, 10)));
    expect(history.testAcc.at(-1)).toBeGreaterThan(0.75);
    expect(history.testAcc.at(-1)).toBeGreaterThan(history.testAcc[0]);
  });
});
