import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Labels } from "../ndarray.js";

/** Softmax over the last axis (a 1-D array is one row), overflow-safe: the row max is subtracted. */
export function softmax(x: NDArray): NDArray {
  if (x.ndim === 0) throw new ShapeError(`softmax: expected at least 1 axis, got ${formatShape(x.shape)}`);
  const cols = x.shape[x.ndim - 1];
  const out = NDArray.zeros(x.shape, x.dtype);
  kernels().softmax(out.buf, x.buf, cols === 0 ? 0 : x.size / cols, cols);
  return out;
}

/** Scores (N, C) and N labels in [0, C): throws naming what does not fit. */
export function assertLabels(what: string, scores: NDArray, t: Labels): void {
  if (scores.ndim !== 2)
    throw new ShapeError(`${what}: expected scores (N, C), got ${formatShape(scores.shape)}`);
  const [n, c] = scores.shape;
  if (t.length !== n) {
    throw new ShapeError(`${what}: scores ${formatShape(scores.shape)} need ${n} labels, got ${t.length}`);
  }
  for (let i = 0; i < n; i++) {
    if (!(t[i] >= 0 && t[i] < c)) throw new RangeError(`${what}: label ${t[i]} at ${i} is outside [0, ${c})`);
  }
}

/**
 * Fused softmax + cross-entropy over class labels: the probabilities (N, C) and the SUMMED loss
 * Σ −log(p[i, t_i] + 1e-7) (the book's delta keeps log away from 0), as a (1,) array (on a device
 * backend it stays on the device until read).
 */
export function softmaxCrossEntropy(scores: NDArray, t: Labels): { probs: NDArray; loss: NDArray } {
  assertLabels("softmaxCrossEntropy", scores, t);
  const [n, c] = scores.shape;
  const probs = NDArray.zeros(scores.shape, scores.dtype);
  const loss = NDArray.zeros([1], scores.dtype);
  kernels().softmaxCrossEntropy(loss.buf, probs.buf, scores.buf, t, n, c);
  return { probs, loss };
}

/** (probs − onehot(t)) · scale: with scale 1/N, the gradient of the mean loss. */
export function softmaxCrossEntropyBackward(probs: NDArray, t: Labels, scale: number): NDArray {
  assertLabels("softmaxCrossEntropyBackward", probs, t);
  const [n, c] = probs.shape;
  const dx = NDArray.zeros(probs.shape, probs.dtype);
  kernels().softmaxCrossEntropyBackward(dx.buf, probs.buf, t, n, c, scale);
  return dx;
}
