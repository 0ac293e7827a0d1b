import type { NDArray } from "../ndarray.js";
import { tanh, tanhBackward } from "../ops/elementwise.js";
import type { Layer } from "./layer.js";
import { cached } from "./cached.js";

/** y = tanh(x); dx = dout · (1 − y²). */
export class Tanh implements Layer {
  readonly params = [];
  #out: NDArray | null = null;

  forward(x: NDArray): NDArray {
    this.#out = tanh(x);
    return this.#out;
  }

  backward(dout: NDArray): NDArray {
    return tanhBackward(dout, cached(this.#out, "Tanh"));
  }
}
