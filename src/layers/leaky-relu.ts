import type { NDArray } from "../ndarray.js";
import { leakyRelu, leakyReluBackward } from "../ops/elementwise.js";
import { cached } from "./cached.js";
import type { Layer } from "./layer.js";

export interface LeakyReluOptions {
  /** The slope for negative inputs (default 0.01, as PyTorch and ONNX; the DCGAN paper uses 0.2). */
  alpha?: number;
}

/**
 * y = x for x > 0, α·x otherwise; dx = dout there, α·dout elsewhere. Unlike ReLU, a unit whose
 * input is negative still passes a gradient, which keeps a GAN's discriminator from going silent.
 */
export class LeakyRelu implements Layer {
  readonly params = [];
  readonly alpha: number;
  // With α ≥ 0 the output has the input's sign, so it doubles as the mask (as in Relu).
  #out: NDArray | null = null;

  constructor({ alpha = 0.01 }: LeakyReluOptions = {}) {
    if (!(alpha >= 0 && alpha < 1)) throw new RangeError(`LeakyRelu: alpha ${alpha} must be in [0, 1)`);
    this.alpha = alpha;
  }

  forward(x: NDArray): NDArray {
    this.#out = leakyRelu(x, this.alpha);
    return this.#out;
  }

  backward(dout: NDArray): NDArray {
    return leakyReluBackward(dout, cached(this.#out, "LeakyRelu"), this.alpha);
  }
}
