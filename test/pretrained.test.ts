// The pretrained models in models/ reproduce the book's accuracies on the 10,000 MNIST test images
// (inference only). Each was trained by the command in the README; its file records the command's
// settings and the accuracy measured when training ended, which must be what we measure here.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, loadMnist, useFastBackend, type Dataset } from "../src/index.js";
import { loadModel } from "../src/io/model-file.js";

const models = [
  { file: "two-layer", minAccuracy: 0.97 }, // book ≈ 97 %
  { file: "simple-conv", minAccuracy: 0.989 }, // book 98.9 %
  { file: "deep-conv", minAccuracy: 0.993 }, // book 99.4 %
];

let test: Dataset;
beforeAll(async () => {
  await useFastBackend();
  ({ test } = await loadMnist({ normalize: true, flatten: false }));
});

describe.each(models)("models/$file.safetensors", ({ file, minAccuracy }) => {
  const path = fileURLToPath(new URL(`../models/${file}.safetensors`, import.meta.url));

  it("is in the repository", () => {
    expect(existsSync(path)).toBe(true);
  });

  it(`reaches ≥ ${(minAccuracy * 100).toFixed(1)} % on the MNIST test set`, async () => {
    const { model, info } = await loadModel(path);
    const x = test.x.reshape(test.x.shape[0], ...model.spec.inputShape);
    const { accuracy } = evaluate(model, x, test.labels, 10);
    expect(accuracy).toBeGreaterThanOrEqual(minAccuracy);
    const recorded = (info.results as { testAcc?: number } | undefined)?.testAcc;
    expect(recorded).toBeDefined();
    expect(accuracy).toBeCloseTo(recorded!, 3);
  });
});
