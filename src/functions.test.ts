import { describe, expect, it } from "vitest";
import {
  crossEntropyError,
  gradientDescent,
  identity,
  meanSquaredError,
  numericalDiff,
  numericalGradient,
  relu,
  sigmoid,
  softmax,
  stepFunction,
  tanh,
} from "./functions.js";
import { NDArray } from "./ndarray.js";
import { assertAllClose } from "./testing/gradcheck.js";

const f64 = (values: number[]) => NDArray.from(values, undefined, "float64");
const sumOfSquares = (x: NDArray) => Array.from(x.data).reduce((s, v) => s + v * v, 0);

describe("activation functions (chapter 3)", () => {
  it("step, sigmoid, ReLU, tanh and identity at hand-checked points", () => {
    const x = f64([-1, 0, 2]);
    expect(Array.from(stepFunction(x).data)).toEqual([0, 0, 1]);
    expect(Array.from(relu(x).data)).toEqual([0, 0, 2]);
    const s = sigmoid(x).data;
    expect(s[0]).toBeCloseTo(0.2689414213699951, 15); // book: [0.26894142, 0.5, 0.88079708] for −1, 0, 2
    expect(s[1]).toBe(0.5);
    expect(s[2]).toBeCloseTo(0.8807970779778823, 15);
    expect(tanh(x).data[2]).toBeCloseTo((Math.exp(4) - 1) / (Math.exp(4) + 1), 15);
    const id = identity(x);
    expect(id.data).toEqual(x.data);
    expect(id.data).not.toBe(x.data);
  });

  it("sigmoid of −1000 is 0, not NaN", () => {
    expect(Array.from(sigmoid(f64([-1000, 1000])).data)).toEqual([0, 1]);
  });

  it("softmax matches the book's [0.3, 2.9, 4.0] example and sums to 1", () => {
    const y = softmax(f64([0.3, 2.9, 4.0])).data;
    const e = [Math.exp(0.3), Math.exp(2.9), Math.exp(4.0)];
    const sum = e[0] + e[1] + e[2];
    e.forEach((v, i) => expect(y[i]).toBeCloseTo(v / sum, 15));
    expect(y[0]).toBeCloseTo(0.01821127, 8); // book: [0.01821127, 0.24519181, 0.73659691]
  });

  it("softmax of [1010, 1000, 990] is finite (the max is subtracted)", () => {
    const y = softmax(f64([1010, 1000, 990])).data;
    expect(Array.from(y).every(Number.isFinite)).toBe(true);
    expect(y[0]).toBeCloseTo(9.999546e-1, 8); // book: [9.99954600e-01, 4.53978686e-05, 2.06106005e-09]
    expect(y[2]).toBeCloseTo(2.06106005e-9, 16);
  });

  it("softmax works row-wise", () => {
    const y = softmax(
      NDArray.from(
        [
          [1, 1],
          [0, Math.log(3)],
        ],
        undefined,
        "float64",
      ),
    );
    assertAllClose(y.data, [0.5, 0.5, 0.25, 0.75], 1e-15, 0, "softmax rows");
  });
});

describe("loss functions (chapter 4)", () => {
  // Book 4.2: the "2" is right; y puts 0.6 on it (first example) or 0.1 (second, on "7").
  const t = f64([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  const yRight = f64([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]);
  const yWrong = f64([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]);

  it("mean squared error: 0.0975 and 0.5975", () => {
    expect(meanSquaredError(yRight, t)).toBeCloseTo(0.0975, 12);
    expect(meanSquaredError(yWrong, t)).toBeCloseTo(0.5975, 12);
  });

  it("cross-entropy: −log 0.6 and −log 0.1, with a one-hot or a label target", () => {
    expect(crossEntropyError(yRight, t)).toBeCloseTo(-Math.log(0.6 + 1e-7), 12); // book: 0.510825457099
    expect(crossEntropyError(yWrong, t)).toBeCloseTo(2.302584092994546, 12);
    expect(crossEntropyError(yRight, Int32Array.from([2]))).toBeCloseTo(0.510825457099338, 12);
  });

  it("cross-entropy averages over a batch", () => {
    const y = NDArray.from(
      [yRight.toArray() as number[], yWrong.toArray() as number[]],
      undefined,
      "float64",
    );
    const mean = (-Math.log(0.6 + 1e-7) - Math.log(0.1 + 1e-7)) / 2;
    expect(crossEntropyError(y, Int32Array.from([2, 2]))).toBeCloseTo(mean, 12);
  });

  it("cross-entropy names what does not fit", () => {
    expect(() => crossEntropyError(yRight, Int32Array.from([2, 3]))).toThrow(
      /\(1, 10\) need 1 labels, got 2/,
    );
    expect(() => crossEntropyError(yRight, f64([1, 0]))).toThrow(/\(10,\).*\(2,\)/);
  });
});

describe("numerical differentiation and gradient descent (chapter 4)", () => {
  const function1 = (x: number) => 0.01 * x ** 2 + 0.1 * x;
  const function2 = (x: NDArray) => sumOfSquares(x);

  it("numericalDiff of 0.01x² + 0.1x is ≈ 0.2 at 5 and ≈ 0.3 at 10", () => {
    expect(numericalDiff(function1, 5)).toBeCloseTo(0.2, 9); // book: 0.1999999999990898
    expect(numericalDiff(function1, 10)).toBeCloseTo(0.3, 9); // book: 0.2999999999986347
  });

  it("numericalGradient of x0² + x1²: (3, 4) → (6, 8), (0, 2) → (0, 4), (3, 0) → (6, 0)", () => {
    for (const [p, g] of [
      [
        [3, 4],
        [6, 8],
      ],
      [
        [0, 2],
        [0, 4],
      ],
      [
        [3, 0],
        [6, 0],
      ],
    ]) {
      const x = f64(p);
      const grad = numericalGradient(function2, x);
      expect(grad.data[0]).toBeCloseTo(g[0], 6);
      expect(grad.data[1]).toBeCloseTo(g[1], 6);
      expect(Array.from(x.data)).toEqual(p); // restored
    }
  });

  it("numericalGradient refuses float32", () => {
    expect(() => numericalGradient(function2, NDArray.from([1, 2]))).toThrow(/needs float64 \(got float32\)/);
  });

  it("gradient descent on x0² + x1² from (−3, 4), lr 0.1, 100 steps reaches ≈ (0, 0)", () => {
    const { x, history } = gradientDescent(function2, f64([-3, 4]), 0.1, 100);
    // Each exact step multiplies x by (1 − 2·0.1) = 0.8: 0.8^100 ≈ 2e-10.
    expect(Math.abs(x.data[0])).toBeLessThan(1e-8); // book: [-6.1e-10, 8.1e-10]
    expect(Math.abs(x.data[1])).toBeLessThan(1e-8);
    expect(x.data[0]).toBeCloseTo(-3 * 0.8 ** 100, 12);
    expect(history).toHaveLength(100);
    expect(Array.from(history[0].data)).toEqual([-3, 4]);
    expect(history[1].data[0]).toBeCloseTo(-2.4, 9);
  });

  it("too large or too small a learning rate does not converge (book: lr 10 and 1e-10)", () => {
    const big = gradientDescent(function2, f64([-3, 4]), 10, 100).x;
    expect(Math.abs(big.data[0])).toBeGreaterThan(1e6);
    const small = gradientDescent(function2, f64([-3, 4]), 1e-10, 100).x;
    expect(small.data[0]).toBeCloseTo(-3, 6);
  });
});
