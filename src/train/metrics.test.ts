import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { argmaxRows, confusionMatrix, evaluate, perClassAccuracy, softmaxRows } from "./metrics.js";

describe("metrics", () => {
  const scores = NDArray.from([
    [0.1, 2, -1],
    [3, 0, 0],
    [0, 0, 5],
    [1, 4, 0],
  ]);

  it("argmax and softmax per row", () => {
    expect(Array.from(argmaxRows(scores))).toEqual([1, 0, 2, 1]);
    const p = softmaxRows(NDArray.from([[0, Math.log(3)]], undefined, "float64"));
    expect(p[0][0]).toBeCloseTo(0.25, 12);
    expect(p[0][1]).toBeCloseTo(0.75, 12);
    // Large scores do not overflow.
    expect(softmaxRows(NDArray.from([[1000, 1000]]))[0]).toEqual([0.5, 0.5]);
  });

  it("confusion matrix counts [true][predicted]; per-class accuracy is its diagonal share", () => {
    const actual = Int32Array.from([1, 0, 2, 2]);
    const predicted = Int32Array.from([1, 0, 2, 1]);
    const m = confusionMatrix(actual, predicted, 4);
    expect(m).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    expect(perClassAccuracy(m)).toEqual([1, 1, 0.5, null]);
    expect(() => confusionMatrix(actual, predicted.subarray(1), 4)).toThrow(/4 labels but 3 predictions/);
    expect(() => confusionMatrix(Int32Array.from([5]), Int32Array.from([0]), 4)).toThrow(/label 5/);
  });

  it("evaluate batches the model's predictions", () => {
    const seen: number[] = [];
    const model = {
      predict: (x: NDArray) => {
        seen.push(x.shape[0]);
        return x; // the inputs are the scores
      },
    };
    const r = evaluate(model, scores, Int32Array.from([1, 0, 2, 2]), 3, 3);
    expect(seen).toEqual([3, 1]);
    expect(r.accuracy).toBe(0.75);
    expect(Array.from(r.predicted)).toEqual([1, 0, 2, 1]);
    expect(r.perClass).toEqual([1, 1, 0.5]);
  });
});
