import type { NDArray } from "../ndarray.js";
import { relu, reluBackward } from "../ops/elementwise.js";
import { cached } from "./cached.js";
import type { Layer } from "./layer.js";

/** y = max(x, 0); dx = dout where x > 0. */
export class Relu implements Layer {
  readonly params = [];
  // The output doubles as the book's mask: out > 0 exactly where x > 0.
  #out: NDArray | null = null;

  forward(x: NDArray): NDArray {
    this.#out = relu(x);
    return this.#out;
  }

  backward(dout: NDArray): NDArray {
    return reluBackward(dout, cached(this.#out, "Relu"));
  }
}
