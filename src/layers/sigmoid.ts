import type { NDArray } from "../ndarray.js";
import { sigmoid, sigmoidBackward } from "../ops/elementwise.js";
import type { Layer } from "./layer.js";
import { cached } from "./cached.js";

/** y = 1 / (1 + exp(−x)); dx = dout · y(1 − y). */
export class Sigmoid implements Layer {
  readonly params = [];
  #out: NDArray | null = null;

  forward(x: NDArray): NDArray {
    this.#out = sigmoid(x);
    return this.#out;
  }

  backward(dout: NDArray): NDArray {
    return sigmoidBackward(dout, cached(this.#out, "Sigmoid"));
  }
}
