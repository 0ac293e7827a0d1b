import type { Labels, NDArray } from "../ndarray.js";

export type Mode = "train" | "eval";

/** A learnable tensor and its gradient (filled by the owning layer's backward). */
export interface Param {
  readonly name: string;
  value: NDArray;
  grad: NDArray | null;
}

/** The book's layer: forward caches what backward needs (in #private fields). */
export interface Layer {
  readonly params: readonly Param[];
  forward(x: NDArray, mode: Mode): NDArray;
  /** Never mutates `dout`. Fills each param's grad and returns dL/dx. */
  backward(dout: NDArray): NDArray;
  /**
   * Layers that can skip dL/dx declare this (default true). A network sets it false on its first
   * layer, whose dx nobody reads; backward then returns an empty (0,) array instead.
   */
  needsInputGrad?: boolean;
}

/**
 * A layer of several inputs, where a graph's branches meet (Add, Concat). Backward returns one
 * gradient per input, in order; like a Layer's, they may share memory with `dout` (Add hands
 * `dout` itself to every input), so nobody writes into them.
 */
export interface MergeLayer {
  readonly params: readonly Param[];
  /** Tells a graph this layer takes a list of inputs. */
  readonly merge: true;
  forward(xs: readonly NDArray[], mode: Mode): NDArray;
  /** Never mutates `dout`. Fills each param's grad and returns dL/dx for each input. */
  backward(dout: NDArray): NDArray[];
}

/** A final layer that turns scores and labels into a scalar loss. */
export interface LossLayer {
  forward(y: NDArray, t: Labels): number;
  /** `forward` with the loss as a (1,) array, which a device backend keeps until it is read. */
  lossArray?(y: NDArray, t: Labels): NDArray;
  backward(): NDArray;
}

export function param(name: string, value: NDArray): Param {
  return { name, value, grad: null };
}
