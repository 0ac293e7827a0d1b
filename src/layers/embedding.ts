import { ShapeError, formatShape } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { param, type Layer, type Param } from "./layer.js";
import { cached } from "./cached.js";

/**
 * Word vectors by index (the sequel's Embedding): ids of any shape (…) → W's rows (…, D). The ids
 * are whole numbers in [0, V) stored as floats, so an Embedding stacks like any layer; backward
 * adds each dout row into dW at its id (ids used twice get both) and returns a zero gradient for
 * the ids, which have none.
 *
 * Book: the sequel has Embedding for (N,) and TimeEmbedding for (N, T); one layer takes any shape.
 */
export class Embedding implements Layer {
  readonly W: Param;
  readonly params: readonly Param[];
  #ids: Int32Array | null = null;
  #idsShape: readonly number[] = [];

  /** W (V, D): one D-vector per id. */
  constructor(W: NDArray) {
    if (W.ndim !== 2) throw new ShapeError(`Embedding: W must be (V, D), got ${formatShape(W.shape)}`);
    this.W = param("W", W);
    this.params = [this.W];
  }

  forward(x: NDArray): NDArray {
    const [V, D] = this.W.value.shape;
    const ids = new Int32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const id = x.data[i];
      if (!(Number.isInteger(id) && id >= 0 && id < V)) {
        throw new RangeError(
          `Embedding: id ${id} at ${i} of ${formatShape(x.shape)} is not a whole number in [0, ${V})`,
        );
      }
      ids[i] = id;
    }
    this.#ids = ids;
    this.#idsShape = x.shape;
    const W = this.W.value.data;
    const out = NDArray.zeros([...x.shape, D], this.W.value.dtype);
    for (let i = 0; i < ids.length; i++) out.data.set(W.subarray(ids[i] * D, (ids[i] + 1) * D), i * D);
    return out;
  }

  backward(dout: NDArray): NDArray {
    const ids = cached(this.#ids, "Embedding");
    const [V, D] = this.W.value.shape;
    if (dout.size !== ids.length * D) {
      throw new ShapeError(
        `Embedding.backward: dout ${formatShape(dout.shape)} for ${ids.length} ids of ${D} values`,
      );
    }
    const dW = NDArray.zeros([V, D], dout.dtype);
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i] * D;
      for (let j = 0; j < D; j++) dW.data[row + j] += dout.data[i * D + j];
    }
    this.W.grad = dW;
    return NDArray.zeros(this.#idsShape, dout.dtype);
  }
}
