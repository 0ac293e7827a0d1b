import { loadMnist, Rng, Trainer, sliceSamples } from "./src/index.js";
import { buildLab } from "./web/src/playground/lab.js";
const m = await loadMnist({ onNote: () => {} });
for (const activation of ["relu", "sigmoid"] as const) {
  const cfg = { architecture: "mlp", depth: 1, width: 50, activation, init: "std", initStd: 0.01, batchNorm: false, dropout: 0, weightDecay: 0, optimizer: "sgd", lr: 0.1, trainSize: 10000, epochs: 2, batchSize: 100, seed: 1 } as const;
  const rng = new Rng(1);
  const { model, optimizer } = buildLab(cfg as any, rng.split());
  const t = new Trainer({ model, optimizer, train: sliceSamples(m.train, 0, 10000), test: m.test, epochs: 2, batchSize: 100, rng: rng.split(), evalSampleSize: 1000, fullFinalEvaluation: false });
  const h = t.run();
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  console.log(activation, mean(h.loss.slice(0, 10)).toFixed(3), mean(h.loss.slice(-10)).toFixed(3), h.testAcc);
}
