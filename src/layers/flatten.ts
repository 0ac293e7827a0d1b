import type { NDArray, Shape } from "../ndarray.js";
import type { Layer } from "./layer.js";
import { cached } from "./cached.js";

/** (N, …) → (N, D): a reshape view forward, and dout reshaped back to the input's shape. */
export class Flatten implements Layer {
  readonly params = [];
  #xShape: Shape | null = null;

  forward(x: NDArray): NDArray {
    this.#xShape = x.shape;
    return x.flatten2d();
  }

  backward(dout: NDArray): NDArray {
    return dout.reshape(...cached(this.#xShape, "Flatten"));
  }
}
