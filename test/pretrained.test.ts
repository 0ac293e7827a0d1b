// The pretrained models in models/ reproduce the book's accuracies on the 10,000 test images of
// their dataset (inference only). Each was trained by the command in the README; its file records the command's
// settings and the accuracy measured when training ended, which must be what we measure here.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, loadMnist, useFastBackend, type Dataset, type DatasetName } from "../src/index.js";
import { loadModel } from "../src/io/model-file.js";

const models: { file: string; dataset: DatasetName; minAccuracy: number }[] = [
  { file: "two-layer", dataset: "mnist", minAccuracy: 0.97 }, // book ≈ 97 %
  { file: "simple-conv", dataset: "mnist", minAccuracy: 0.989 }, // book 98.9 %
  { file: "deep-conv", dataset: "mnist", minAccuracy: 0.993 }, // book 99.4 %
  { file: "fashion-simple-conv", dataset: "fashion-mnist", minAccuracy: 0.9 }, // issue 3's bar
];

const testSets = new Map<DatasetName, Dataset>();
beforeAll(async () => {
  await useFastBackend();
  for (const dataset of new Set(models.map((m) => m.dataset))) {
    testSets.set(dataset, (await loadMnist({ dataset, normalize: true, flatten: false })).test);
  }
});

for (const { file, dataset, minAccuracy } of models) {
  describe(`models/${file}.safetensors`, () => {
    const path = fileURLToPath(new URL(`../models/${file}.safetensors`, import.meta.url));

    it("is in the repository", () => {
      expect(existsSync(path)).toBe(true);
    });

    it(`reaches ≥ ${(minAccuracy * 100).toFixed(1)} % on the ${dataset} test set`, async () => {
      const { model, info } = await loadModel(path);
      const test = testSets.get(dataset)!;
      const x = test.x.reshape(test.x.shape[0], ...model.spec.inputShape);
      const { accuracy } = evaluate(model, x, test.labels, 10);
      expect(accuracy).toBeGreaterThanOrEqual(minAccuracy);
      const recorded = (info.results as { testAcc?: number } | undefined)?.testAcc;
      expect(recorded).toBeDefined();
      expect(accuracy).toBeCloseTo(recorded!, 3);
    });
  });
}
