import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";
import { cached } from "./cached.js";
import type { Layer, Mode, Param } from "./layer.js";

/**
 * The mean of each channel over its whole H×W plane: (N, C, H, W) → (N, C). GoogLeNet and ResNet
 * end with it instead of large Affine layers (book §8.2). It is average pooling with one window the
 * size of the input, and runs on those kernels; backward spreads dout / (H·W) over each plane.
 */
export class GlobalAveragePooling implements Layer {
  readonly params: readonly Param[] = [];
  #xShape: Shape | null = null;

  forward(x: NDArray, _mode: Mode): NDArray {
    if (x.ndim !== 4) {
      throw new ShapeError(
        `GlobalAveragePooling: expected an (N, C, H, W) input, got ${formatShape(x.shape)}`,
      );
    }
    const [N, C, H, W] = x.shape;
    const out = NDArray.zeros([N, C], x.dtype);
    kernels().avgPool(out.buf, x.buf, N, C, H, W, H, W, 1, 0);
    this.#xShape = x.shape;
    return out;
  }

  backward(dout: NDArray): NDArray {
    const xShape = cached(this.#xShape, "GlobalAveragePooling");
    const [N, C, H, W] = xShape;
    if (dout.ndim !== 2 || dout.shape[0] !== N || dout.shape[1] !== C) {
      throw new ShapeError(
        `GlobalAveragePooling: dout ${formatShape(dout.shape)} does not match the output ${formatShape([N, C])}`,
      );
    }
    const dx = NDArray.zeros(xShape, dout.dtype);
    kernels().avgPoolBackward(dx.buf, dout.buf, N, C, H, W, H, W, 1, 0);
    return dx;
  }
}
