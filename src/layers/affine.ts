import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";
import { addBias, matmul, sumRows } from "../ops/linalg.js";
import { param, type Layer, type Param } from "./layer.js";
import { cached } from "./cached.js";

/**
 * y = x·W + b. An N-D input (N, …) is treated as (N, D) rows, as the book's Affine does for
 * convolution outputs; dx comes back in the input's shape.
 */
export class Affine implements Layer {
  readonly W: Param;
  readonly b: Param;
  readonly params: readonly Param[];
  /** False when nothing reads this layer's dx (a network's first layer): backward then skips it. */
  needsInputGrad = true;
  #x: NDArray | null = null; // (N, D), a view of the input
  #xShape: Shape = [];

  /** W (in, out), b (out,). */
  constructor(W: NDArray, b: NDArray) {
    if (W.ndim !== 2 || b.ndim !== 1 || b.shape[0] !== W.shape[1]) {
      throw new ShapeError(
        `Affine: W ${formatShape(W.shape)} needs b of shape (${W.shape[1]},), got ${formatShape(b.shape)}`,
      );
    }
    if (W.dtype !== b.dtype) throw new TypeError(`Affine: W is ${W.dtype} but b is ${b.dtype}`);
    this.W = param("W", W);
    this.b = param("b", b);
    this.params = [this.W, this.b];
  }

  forward(x: NDArray): NDArray {
    const W = this.W.value;
    const x2 = x.flatten2d(); // (N, …) → (N, D)
    if (x2.shape[1] !== W.shape[0]) {
      throw new ShapeError(
        `Affine: input ${formatShape(x.shape)} has ${x2.shape[1]} features per row, W ${formatShape(W.shape)} expects ${W.shape[0]}`,
      );
    }
    this.#x = x2;
    this.#xShape = x.shape;
    return addBias(matmul(x2, W), this.b.value); // (N, out)
  }

  backward(dout: NDArray): NDArray {
    const x = cached(this.#x, "Affine");
    this.W.grad = matmul(x, dout, { transA: true }); // dW = xᵀ·dout, (D, out)
    this.b.grad = sumRows(dout); // db = Σ_rows dout, (out,)
    if (!this.needsInputGrad) return NDArray.zeros([0], dout.dtype);
    const dx = matmul(dout, this.W.value, { transB: true }); // dx = dout·Wᵀ, (N, D)
    return dx.reshape(...this.#xShape);
  }
}
