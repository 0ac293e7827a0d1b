import { ShapeError, formatShape } from "../errors.js";
import { shapeSize, type NDArray, type Shape } from "../ndarray.js";
import { cached } from "./cached.js";
import type { Layer } from "./layer.js";

/**
 * (N, …) → (N, ...shape): a view of each sample in another shape (a DCGAN generator's Affine output
 * (N, C·H·W) as feature maps (N, C, H, W)); backward reshapes dout back. Flatten is its inverse.
 */
export class Reshape implements Layer {
  readonly params = [];
  /** One sample's shape, without the batch axis. */
  readonly shape: readonly number[];
  #xShape: Shape | null = null;

  constructor(shape: readonly number[]) {
    if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ShapeError(`Reshape: the sample shape must be positive integers, got ${formatShape(shape)}`);
    }
    this.shape = [...shape];
  }

  forward(x: NDArray): NDArray {
    const per = shapeSize(x.shape.slice(1));
    if (x.ndim < 2 || per !== shapeSize(this.shape)) {
      throw new ShapeError(
        `Reshape: input ${formatShape(x.shape)} does not hold (N, ${this.shape.join(", ")}) samples of ${shapeSize(this.shape)} values`,
      );
    }
    this.#xShape = x.shape;
    return x.reshape(x.shape[0], ...this.shape);
  }

  backward(dout: NDArray): NDArray {
    return dout.reshape(...cached(this.#xShape, "Reshape"));
  }
}
