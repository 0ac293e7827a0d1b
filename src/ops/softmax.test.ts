import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { softmax, softmaxCrossEntropy, softmaxCrossEntropyBackward } from "./softmax.js";

describe("softmax ops", () => {
  it("softmax is row-wise over the last axis and overflow-safe", () => {
    const y = softmax(
      NDArray.from(
        [
          [1000, 1000],
          [0, 0],
        ],
        undefined,
        "float64",
      ),
    );
    expect(Array.from(y.data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it("softmaxCrossEntropy sums the loss; its backward scales (p − onehot)", () => {
    const scores = NDArray.from(
      [
        [0, 0],
        [0, 0],
      ],
      undefined,
      "float64",
    );
    const t = Int32Array.from([0, 1]);
    const { probs, loss } = softmaxCrossEntropy(scores, t);
    expect(loss.shape).toEqual([1]);
    expect(loss.data[0]).toBeCloseTo(-2 * Math.log(0.5 + 1e-7), 14);
    expect(Array.from(softmaxCrossEntropyBackward(probs, t, 0.5).data)).toEqual([-0.25, 0.25, 0.25, -0.25]);
  });
});
