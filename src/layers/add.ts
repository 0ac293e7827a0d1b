import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { sameShape } from "../ops/check.js";
import type { MergeLayer, Mode, Param } from "./layer.js";

/**
 * The tensor sum of two or more inputs of one shape: the merge of a skip connection (ResNet's
 * y = F(x) + x, book §8.2.4). Backward hands `dout` to every input unchanged — an addition node
 * passes its gradient through (book §5.3.1) — as the same array, not copies.
 *
 * Book: §5.4.2's AddLayer adds two scalars; it stays as it is (AddLayer).
 */
export class Add implements MergeLayer {
  readonly params: readonly Param[] = [];
  readonly merge = true;
  #inputs = 0;

  forward(xs: readonly NDArray[], _mode: Mode): NDArray {
    if (xs.length < 2) throw new RangeError(`Add: needs at least 2 inputs, got ${xs.length}`);
    const first = xs[0];
    for (let i = 1; i < xs.length; i++) {
      if (!sameShape(xs[i].shape, first.shape)) {
        throw new ShapeError(
          `Add: input ${i} has shape ${formatShape(xs[i].shape)}, input 0 has ${formatShape(first.shape)}`,
        );
      }
      if (xs[i].dtype !== first.dtype) {
        throw new TypeError(`Add: input ${i} is ${xs[i].dtype}, input 0 is ${first.dtype}`);
      }
    }
    const out = NDArray.zeros(first.shape, first.dtype);
    kernels().axpby(out.buf, 1, first.buf, 1, xs[1].buf);
    for (let i = 2; i < xs.length; i++) kernels().axpby(out.buf, 1, out.buf, 1, xs[i].buf);
    this.#inputs = xs.length;
    return out;
  }

  backward(dout: NDArray): NDArray[] {
    if (this.#inputs === 0) throw new Error("Add.backward called before forward");
    return Array.from({ length: this.#inputs }, () => dout);
  }
}
