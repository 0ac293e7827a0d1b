import { assertShapes, OptionError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { sameShape } from "../ops/check.js";
import { mul, scale } from "../ops/elementwise.js";
import type { Rng } from "../rng.js";
import { cached } from "./cached.js";
import type { Layer, Mode } from "./layer.js";

export interface DropoutOptions {
  /** The fraction of units dropped in training, in [0, 1). */
  ratio?: number;
  /**
   * false (the book's form): keep units as they are in training and scale by (1 − ratio) at test.
   * true (inverted dropout): scale kept units by 1 / (1 − ratio) in training; test is the identity.
   */
  inverted?: boolean;
}

/**
 * Drops each unit with probability `ratio` in training. Both forms have the same expected output;
 * inverted dropout moves the scaling into training so inference does no work.
 */
export class Dropout implements Layer {
  readonly params = [];
  readonly ratio: number;
  readonly inverted: boolean;
  readonly #rng: Rng;
  #fixedMask: NDArray | null = null;
  // What backward multiplies dout by: the mask times the train scale, or the test scale.
  #factor: NDArray | number | null = null;

  constructor(rng: Rng, { ratio = 0.5, inverted = false }: DropoutOptions = {}) {
    if (!(ratio >= 0 && ratio < 1)) throw new OptionError(`Dropout: ratio must be in [0, 1), got ${ratio}`);
    this.#rng = rng;
    this.ratio = ratio;
    this.inverted = inverted;
  }

  /** The generator of the masks (its state goes into training checkpoints). */
  get rng(): Rng {
    return this.#rng;
  }

  /**
   * Makes every later training forward use `mask` (1 keeps a unit, 0 drops it) instead of drawing
   * one, so gradients can be checked; null goes back to random masks.
   */
  fixMask(mask: NDArray | null): void {
    this.#fixedMask = mask;
  }

  forward(x: NDArray, mode: Mode = "train"): NDArray {
    if (mode === "eval") {
      this.#factor = this.inverted ? 1 : 1 - this.ratio;
      return scale(x, this.#factor);
    }
    const keepScale = this.inverted ? 1 / (1 - this.ratio) : 1;
    const factor = NDArray.zeros(x.shape, x.dtype);
    const fixed = this.#fixedMask;
    if (fixed !== null) {
      assertShapes(
        sameShape(fixed.shape, x.shape),
        "Dropout: fixed mask does not fit the input",
        fixed.shape,
        x.shape,
        "mask",
        "x",
      );
      for (let i = 0; i < x.size; i++) factor.data[i] = fixed.data[i] !== 0 ? keepScale : 0;
    } else {
      // Book: mask = np.random.rand(*x.shape) > dropout_ratio
      for (let i = 0; i < x.size; i++) factor.data[i] = this.#rng.uniform() > this.ratio ? keepScale : 0;
    }
    this.#factor = factor;
    return mul(x, factor);
  }

  backward(dout: NDArray): NDArray {
    const factor = cached(this.#factor, "Dropout");
    return typeof factor === "number" ? scale(dout, factor) : mul(dout, factor);
  }
}
