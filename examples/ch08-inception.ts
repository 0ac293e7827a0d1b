// Chapter 8 of the book (§8.2.2): a network with an Inception block (GoogLeNet's), written as a
// graph — four branches side by side on one input, concatenated on the channel axis — and trained
// on MNIST with Adam for one epoch (about 1,000 images per second on 2 cores).
// Run: npx tsx examples/ch08-inception.ts [--epochs 1] [--train-size 60000]
import { parseArgs } from "node:util";
import { Adam, Graph, GraphBuilder, Rng, Trainer, loadMnist, useFastBackend } from "../src/index.js";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "1" },
    "train-size": { type: "string", default: "60000" },
  },
});

const g = new GraphBuilder({ x: [1, 28, 28] });
const stem = g.add("pool", { type: "pooling", ph: 2, pw: 2, stride: 2 }, g.convRelu("stem", "x", 32, 3));

// GoogLeNet's block: four branches side by side, concatenated on the channel axis.
const b1 = g.convRelu("inc.1x1", stem, 16, 1);
const b2 = g.convRelu("inc.3x3", g.convRelu("inc.3x3.reduce", stem, 16, 1), 32, 3);
const b3 = g.convRelu("inc.5x5", g.convRelu("inc.5x5.reduce", stem, 8, 1), 8, 5);
const b4 = g.convRelu(
  "inc.pool.proj",
  g.add("inc.pool", { type: "pooling", ph: 3, pw: 3, pad: 1 }, stem),
  8,
  1,
);
const inc = g.add("inc", { type: "concat" }, [b1, b2, b3, b4]); // 16 + 32 + 8 + 8 = 64 channels

g.add("gap", { type: "global-average-pooling" }, inc);
g.add("fc", { type: "affine", outputSize: 10 }, "gap");

await useFastBackend();
const model = Graph.build(g.spec(), new Rng(1)); // softmax-cross-entropy on the last node
const { train, test } = await loadMnist({
  flatten: false,
  subset: { train: Number(values["train-size"]), test: 10000 },
});
const trainer = new Trainer({
  model,
  optimizer: new Adam(),
  train,
  test,
  epochs: Number(values.epochs),
  batchSize: 100,
  rng: new Rng(1),
});
for (const event of trainer.steps()) {
  if (event.type === "iteration" && event.iteration % 100 === 0) {
    console.log(`iteration ${event.iteration}/${event.iterations}: loss ${event.loss.toFixed(4)}`);
  } else if (event.type === "epoch") {
    console.log(`epoch ${event.epoch}: train ${event.trainAcc.toFixed(4)}, test ${event.testAcc.toFixed(4)}`);
  }
}
console.log(`${model.params.reduce((s, p) => s + p.value.size, 0)} params in ${model.nodes.length} nodes`);
