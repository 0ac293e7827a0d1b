// The README's library example: SimpleConvNet on MNIST with the fast backend, through Trainer.steps().
// Run: npx tsx examples/quickstart.ts
import { Adam, Rng, SimpleConvNet, Trainer, backendInfo, loadMnist, useFastBackend } from "../src/index.js";

await useFastBackend(); // WebAssembly SIMD on every core (the reference kernels where SIMD is missing)
const { name, threads } = await backendInfo();
console.log(`backend: ${name}, ${threads} threads`);

const { train, test } = await loadMnist({ flatten: false }); // (N, 1, 28, 28), checksums verified
const rng = new Rng(1);
const model = new SimpleConvNet({}, rng);
const trainer = new Trainer({
  model,
  optimizer: new Adam({ lr: 0.001 }),
  train,
  test,
  epochs: 2,
  batchSize: 100,
  rng,
});

for (const event of trainer.steps()) {
  if (event.type === "epoch") {
    console.log(`epoch ${event.epoch}: train ${event.trainAcc.toFixed(4)}, test ${event.testAcc.toFixed(4)}`);
  }
}
