import { ShapeError, formatShape } from "../errors.js";
import type { NDArray } from "../ndarray.js";
import { Affine } from "./affine.js";
import type { Layer, Param } from "./layer.js";

/**
 * The sequel's TimeAffine: one Affine applied at every step, (N, T, D) → (N, T, M) — any leading
 * axes, over the last one. (Affine itself flattens everything after the batch axis.)
 */
export class TimeAffine implements Layer {
  readonly W: Param;
  readonly b: Param;
  readonly params: readonly Param[];
  readonly #affine: Affine;
  #xShape: readonly number[] = [];

  /** W (D, M), b (M,). */
  constructor(W: NDArray, b: NDArray) {
    this.#affine = new Affine(W, b);
    this.W = this.#affine.W;
    this.b = this.#affine.b;
    this.params = this.#affine.params;
  }

  get needsInputGrad(): boolean {
    return this.#affine.needsInputGrad;
  }
  set needsInputGrad(v: boolean) {
    this.#affine.needsInputGrad = v;
  }

  forward(x: NDArray): NDArray {
    const [D, M] = this.W.value.shape;
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== D) {
      throw new ShapeError(`TimeAffine: expected input (…, ${D}), got ${formatShape(x.shape)}`);
    }
    this.#xShape = x.shape;
    return this.#affine.forward(x.reshape(-1, D)).reshape(...x.shape.slice(0, -1), M);
  }

  backward(dout: NDArray): NDArray {
    const M = this.W.value.shape[1];
    const dx = this.#affine.backward(dout.reshape(-1, M));
    return this.needsInputGrad ? dx.reshape(...this.#xShape) : dx;
  }
}
