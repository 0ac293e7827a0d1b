import { describe, expect, it } from "vitest";
import { Affine } from "../layers/affine.js";
import type { Layer } from "../layers/layer.js";
import { Relu } from "../layers/relu.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { classifierReport, penultimateFeatures, sampleQuality } from "./sample-quality.js";

/** A "classifier" whose scores are the input rows themselves (N, classes). */
const identity = { predict: (x: NDArray) => x };

describe("classifierReport", () => {
  it("counts confident samples (top probability ≥ threshold) and the share of each class", () => {
    // softmax([ln 19, 0]) = [0.95, 0.05], softmax([0, ln 3]) = [0.25, 0.75]
    const scores = NDArray.from([Math.log(19), 0, 0, Math.log(19), 0, Math.log(3), 5, 5], [4, 2], "float64");
    const r = classifierReport(identity, scores, { batchSize: 3 });
    expect(r.count).toBe(4);
    expect(r.confident).toBe(0.5); // rows 0 and 1; row 2 has 0.75, row 3 has 0.5
    expect(r.classShares).toEqual([0.5, 0.5]); // row 3's tie goes to the first class
    expect(r.meanConfidence).toBeCloseTo((0.95 + 0.95 + 0.75 + 0.5) / 4, 12);
    expect(classifierReport(identity, scores, { threshold: 0.7 }).confident).toBe(0.75);
  });

  it("refuses an empty set", () => {
    expect(() => classifierReport(identity, NDArray.zeros([0, 3]))).toThrow(
      /no images to score, got \(0, 3\)/,
    );
  });
});

/** A two-layer classifier: Affine (4 → 3), ReLU, Affine (3 → 2). */
function tinyClassifier(rng: Rng) {
  const w = (rows: number, cols: number) => {
    const a = NDArray.zeros([rows, cols], "float64");
    rng.fillNormal(a.data);
    return a;
  };
  const layers: Layer[] = [
    new Affine(w(4, 3), NDArray.zeros([3], "float64")),
    new Relu(),
    new Affine(w(3, 2), NDArray.zeros([2], "float64")),
  ];
  return {
    layers,
    predict: (x: NDArray) => layers.reduce((y, l) => l.forward(y, "eval"), x),
  };
}

describe("penultimateFeatures", () => {
  it("is the input of the last Affine layer, batch by batch", () => {
    const rng = new Rng(1);
    const c = tinyClassifier(rng);
    const x = NDArray.zeros([5, 4], "float64");
    rng.fillNormal(x.data);
    const features = penultimateFeatures(c, x, 2);
    expect(features.shape).toEqual([5, 3]);
    const W = c.layers[0].params[0].value.data;
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += x.data[i * 4 + k] * W[k * 3 + j];
        expect(features.data[i * 3 + j]).toBeCloseTo(Math.max(0, s), 12);
      }
    }
  });
});

describe("sampleQuality", () => {
  it("scores 0 for generated images equal to the reference half, and the floor from the other half", async () => {
    const rng = new Rng(2);
    const c = tinyClassifier(rng);
    const half = NDArray.zeros([50, 4], "float64");
    rng.fillNormal(half.data);
    const real = NDArray.zeros([100, 4], "float64");
    real.data.set(half.data);
    real.data.set(half.data, half.size);
    const q = await sampleQuality(c, half, real, { chunk: 7 });
    expect(q.realHalf).toBe(50);
    // Scored 7 at a time, the report is the one of all 50 at once.
    const whole = classifierReport(c, half);
    expect(q.report.count).toBe(50);
    expect(q.report.confident).toBeCloseTo(whole.confident, 12);
    expect(q.report.meanConfidence).toBeCloseTo(whole.meanConfidence, 12);
    q.report.classShares.forEach((share, j) => expect(share).toBeCloseTo(whole.classShares[j], 12));
    expect(q.frechet).toBeCloseTo(0, 6);
    expect(q.frechetFloor).toBeCloseTo(0, 6);
    const shifted = half.clone();
    for (let i = 0; i < shifted.size; i++) shifted.data[i] += 3;
    expect((await sampleQuality(c, shifted, real)).frechet).toBeGreaterThan(0.1);
  });
});
