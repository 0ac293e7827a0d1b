import { OptionError, unknownOption } from "./errors.js";
import { NDArray, type DType, type Shape } from "./ndarray.js";
import type { Rng } from "./rng.js";

/**
 * Weight initialization (book §6.2): weights are drawn from N(0, std²), where std depends on the
 * number of inputs each unit sees (its fan-in n). Biases start at zero.
 */

/** Maps a layer's fan-in to the standard deviation of its initial weights. */
export type Initializer = (fanIn: number) => number;

/** A fixed standard deviation, whatever the fan-in (the book's `weight_init_std = 0.01`). */
export function initStd(std: number): Initializer {
  if (!(std > 0) || !Number.isFinite(std)) {
    throw new OptionError(`weight init std must be a positive finite number, got ${std}`);
  }
  return () => std;
}

/** Xavier (Glorot) initialization: std = √(1/n). Suits sigmoid and tanh. */
export const xavier: Initializer = (fanIn) => Math.sqrt(1 / fanIn);

/** He initialization: std = √(2/n). Suits ReLU. */
export const he: Initializer = (fanIn) => Math.sqrt(2 / fanIn);

/** The book's `weight_init_std` argument: a number, or the name of an activation or a scheme. */
export type WeightInit = number | "relu" | "he" | "sigmoid" | "xavier";
export const weightInitNames = ["relu", "he", "sigmoid", "xavier"] as const;

/** The initializer a `weight_init_std` argument stands for (as the book's MultiLayerNet reads it). */
export function initializer(init: WeightInit): Initializer {
  if (typeof init === "number") return initStd(init);
  switch (init) {
    case "relu":
    case "he":
      return he;
    case "sigmoid":
    case "xavier":
      return xavier;
    default:
      throw unknownOption("weight init", init, ["a positive number", ...weightInitNames]);
  }
}

/**
 * A weight array of the given shape drawn from N(0, std²), std chosen by `init` for `fanIn`.
 * For an Affine weight (in, out) the fan-in is `in`; for a convolution filter (FN, C, FH, FW) it
 * is C·FH·FW (see `convFanIn`).
 */
export function initWeights(
  shape: Shape,
  init: WeightInit | Initializer,
  fanIn: number,
  rng: Rng,
  dtype: DType = "float32",
): NDArray {
  if (!(fanIn > 0) || !Number.isInteger(fanIn)) {
    throw new OptionError(`fan-in must be a positive integer, got ${fanIn}`);
  }
  const std = (typeof init === "function" ? init : initializer(init))(fanIn);
  const w = NDArray.zeros(shape, dtype);
  rng.fillNormal(w.data, std);
  return w;
}

/** The fan-in of a convolution filter bank (FN, C, FH, FW): each output sees C·FH·FW inputs. */
export function convFanIn(channels: number, fh: number, fw: number): number {
  return channels * fh * fw;
}
