/**
 * The book's functions of chapters 3 and 4 on NDArrays: activations, losses, numerical
 * differentiation and gradient descent. The layers in `layers/` are their forward/backward pairs.
 */
import { ShapeError, formatShape } from "./errors.js";
import { NDArray, type Labels } from "./ndarray.js";
import * as ew from "./ops/elementwise.js";
import { assertSameShape } from "./ops/check.js";
import { assertLabels, softmax as softmaxRows } from "./ops/softmax.js";
import { numericalGradient as centralDifferences } from "./testing/gradcheck.js";

// ---- activations (chapter 3) ------------------------------------------------------------

/** 1 where x > 0, else 0 (the perceptron's activation). */
export function stepFunction(x: NDArray): NDArray {
  const y = NDArray.zeros(x.shape, x.dtype);
  for (let i = 0; i < x.size; i++) y.data[i] = x.data[i] > 0 ? 1 : 0;
  return y;
}

/** 1 / (1 + exp(−x)); exp is only taken of non-positive numbers, so −1000 gives 0, not NaN. */
export function sigmoid(x: NDArray): NDArray {
  return ew.sigmoid(x);
}

export function relu(x: NDArray): NDArray {
  return ew.relu(x);
}

export function tanh(x: NDArray): NDArray {
  return ew.tanh(x);
}

/** The output layer of a regression: y = x (a copy). */
export function identity(x: NDArray): NDArray {
  return x.clone();
}

/** Softmax of a vector, or of each row (last axis); the max is subtracted first, so no overflow. */
export function softmax(x: NDArray): NDArray {
  return softmaxRows(x);
}

// ---- losses (chapter 4) -----------------------------------------------------------------

/** The book's ½ Σ (y − t)², summed over everything it is given. */
export function meanSquaredError(y: NDArray, t: NDArray): number {
  assertSameShape("meanSquaredError (y, t)", y, t);
  let sum = 0;
  for (let i = 0; i < y.size; i++) sum += (y.data[i] - t.data[i]) ** 2;
  return 0.5 * sum;
}

/**
 * The book's batch cross-entropy, −Σ log(y[i, t_i] + 1e-7) / N, for probabilities y (N, C) or one
 * sample (C,). The target is class labels (one per row), or a one-hot (or soft) target of y's
 * shape: −Σ t ⊙ log(y + 1e-7) / N.
 */
export function crossEntropyError(y: NDArray, t: Labels | NDArray): number {
  const y2 = y.ndim === 1 ? y.reshape(1, y.size) : y; // one sample is a batch of one
  if (y2.ndim !== 2)
    throw new ShapeError(`crossEntropyError: expected y (N, C) or (C,), got ${formatShape(y.shape)}`);
  const [n, c] = y2.shape;
  const delta = 1e-7; // keeps log away from −∞ when a probability is 0
  let sum = 0;
  if (t instanceof NDArray) {
    assertSameShape("crossEntropyError (y, one-hot t)", y, t);
    for (let i = 0; i < y.size; i++) sum -= t.data[i] * Math.log(y.data[i] + delta);
  } else {
    assertLabels("crossEntropyError", y2, t);
    for (let i = 0; i < n; i++) sum -= Math.log(y2.data[i * c + t[i]] + delta);
  }
  return sum / n;
}

// ---- numerical differentiation and gradient descent (chapter 4) ----------------------------

/** Central difference (f(x + h) − f(x − h)) / 2h, h = 1e-4 as the book chooses. */
export function numericalDiff(f: (x: number) => number, x: number, h = 1e-4): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

/**
 * ∂f/∂x by central differences for every element of x. x is changed in place and restored, so
 * f may also ignore its argument and read shared parameters (the book's `lambda W: net.loss(x, t)`).
 * x must be float64: float32 cannot represent x ± 1e-4 well enough.
 */
export function numericalGradient(f: (x: NDArray) => number, x: NDArray, h = 1e-4): NDArray {
  if (x.dtype !== "float64") {
    throw new TypeError(`numericalGradient needs float64 (got ${x.dtype}); use x.astype("float64")`);
  }
  return centralDifferences(() => f(x), x, h);
}

export interface DescentResult {
  /** The final point. */
  x: NDArray;
  /** The point before each step (stepNum entries), as the book's `x_history`. */
  history: NDArray[];
}

/** stepNum steps of x ← x − lr·∇f(x) with the numerical gradient, from a float64 copy of initX. */
export function gradientDescent(
  f: (x: NDArray) => number,
  initX: NDArray,
  lr = 0.01,
  stepNum = 100,
): DescentResult {
  let x = initX.astype("float64");
  const history: NDArray[] = [];
  for (let i = 0; i < stepNum; i++) {
    history.push(x.clone());
    const grad = numericalGradient(f, x);
    x = ew.axpby(1, x, -lr, grad);
  }
  return { x, history };
}
