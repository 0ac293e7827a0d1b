/**
 * Book misclassified_mnist.py (Figure 8-2, §8.1.1): the test
 * images a trained DeepConvNet gets wrong, each captioned "true → predicted". Many are hard even
 * for people.
 *
 * Quick form: the first 500 test images (and, without a pretrained model, the slim net).
 */
import { subset } from "../src/data/dataset.js";
import { imageGrid } from "../src/plot/charts.js";
import { mnistImages } from "./common.js";
import { trainedDeepConvNet } from "./deep-convnet-model.js";
import { fmt, type Experiment } from "./experiment.js";

const SHOWN = 20;

export const misclassified: Experiment = {
  name: "misclassified",
  title: "DeepConvNet: misclassified test images",
  book: "Figure 8-2, §8.1.1 (misclassified_mnist.py)",
  setup:
    "DeepConvNet from models/ (else trained briefly); predictions on the 10,000 test images; the first 20 mistakes",
  quickForm: "500 test images; without a pretrained model a slim DeepConvNet trained on 2,000 images",
  async run({ quick, seed, log }) {
    const { model, source, pretrained } = await trainedDeepConvNet({ quick, seed, log });
    const test = quick ? subset((await mnistImages()).test, 500) : (await mnistImages()).test;
    const n = test.labels.length;
    const wrong: { index: number; label: number; predicted: number }[] = [];
    for (let start = 0; start < n; start += 100) {
      const end = Math.min(n, start + 100);
      const scores = model.predict(test.x.sliceRows(start, end)); // (B, 10)
      for (let i = 0; i < end - start; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (scores.data[i * 10 + c] > scores.data[i * 10 + best]) best = c;
        if (best !== test.labels[start + i])
          wrong.push({ index: start + i, label: test.labels[start + i], predicted: best });
      }
    }
    const accuracy = 1 - wrong.length / n;
    const shown = wrong.slice(0, SHOWN);
    const images = shown.map((w) => ({
      pixels: test.x.data.subarray(w.index * 784, (w.index + 1) * 784),
      width: 28,
      height: 28,
    }));
    return {
      data: { source, pretrained, testImages: n, accuracy, misclassified: wrong },
      figures: [
        {
          caption: `The first ${shown.length} misclassified test images, "true → predicted" (${source}).`,
          spec: imageGrid(
            images,
            shown.map((w) => `${w.label} → ${w.predicted}`),
            { title: `Misclassified: ${wrong.length} of ${n} test images`, columns: 10, scale: 2 },
          ),
        },
      ],
      comparison: [
        {
          what: "test accuracy",
          book: "0.9938 (§8.1.1)",
          ours: `${fmt(accuracy)}${pretrained ? "" : " (briefly trained)"}`,
        },
        { what: "misclassified test images", book: "about 62 of 10,000", ours: `${wrong.length} of ${n}` },
      ],
      summary: `${wrong.length} of ${n} test images misclassified (accuracy ${fmt(accuracy)}; ${source}).`,
    };
  },
};
