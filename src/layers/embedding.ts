import { kernels } from "../backend/index.js";
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
  /** The last forward's ids, as given (floats): the backward kernel reads them where they live. */
  #ids: NDArray | null = null;

  /** W (V, D): one D-vector per id. */
  constructor(W: NDArray) {
    if (W.ndim !== 2) throw new ShapeError(`Embedding: W must be (V, D), got ${formatShape(W.shape)}`);
    this.W = param("W", W);
    this.params = [this.W];
  }

  forward(x: NDArray): NDArray {
    const [V, D] = this.W.value.shape;
    // Checked on the host, where a batch of ids comes from (on WebGPU an id array made on the GPU
    // must be read home first: `data` says so).
    const ids = x.data;
    for (let i = 0; i < x.size; i++) {
      const id = ids[i];
      if (!(Number.isInteger(id) && id >= 0 && id < V)) {
        throw new RangeError(
          `Embedding: id ${id} at ${i} of ${formatShape(x.shape)} is not a whole number in [0, ${V})`,
        );
      }
    }
    // The kernels take ids in W's precision (whole numbers below 2²⁴ are exact in float32).
    const idArray = x.dtype === this.W.value.dtype ? x : x.astype(this.W.value.dtype);
    this.#ids = idArray;
    const out = NDArray.zeros([...x.shape, D], this.W.value.dtype);
    kernels().embeddingForward(out.buf, this.W.value.buf, idArray.buf, x.size, D);
    return out;
  }

  backward(dout: NDArray): NDArray {
    const ids = cached(this.#ids, "Embedding");
    const [V, D] = this.W.value.shape;
    if (dout.size !== ids.size * D) {
      throw new ShapeError(
        `Embedding.backward: dout ${formatShape(dout.shape)} for ${ids.size} ids of ${D} values`,
      );
    }
    const dW = NDArray.zeros([V, D], dout.dtype);
    kernels().embeddingBackward(dW.buf, dout.buf, ids.buf, ids.size, V, D);
    this.W.grad = dW;
    return NDArray.zeros(ids.shape, dout.dtype);
  }
}
