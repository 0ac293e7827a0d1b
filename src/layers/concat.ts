import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Shape } from "../ndarray.js";
import { cached } from "./cached.js";
import type { MergeLayer, Mode, Param } from "./layer.js";

/**
 * Concatenation on the channel axis (axis 1): (N, C₁, …) ⊕ (N, C₂, …) → (N, C₁ + C₂, …), the
 * merge of an Inception block's branches (GoogLeNet, book §8.2.2). Every other axis must agree.
 * Backward cuts dout back into the inputs' channel ranges. Both are block copies (`copyBlocks`:
 * one contiguous run per input and sample), so they run where the arrays live (WebGPU included).
 */
export class Concat implements MergeLayer {
  readonly params: readonly Param[] = [];
  readonly merge = true;
  #shapes: Shape[] | null = null;

  /** The output shape for these input shapes; throws naming the first that does not fit. */
  outputShape(shapes: readonly Shape[]): number[] {
    if (shapes.length < 2) throw new RangeError(`Concat: needs at least 2 inputs, got ${shapes.length}`);
    const first = shapes[0];
    if (first.length < 2)
      throw new ShapeError(`Concat: inputs need a channel axis, got ${formatShape(first)}`);
    let channels = 0;
    shapes.forEach((s, i) => {
      if (s.length !== first.length || s.some((d, k) => k !== 1 && d !== first[k])) {
        throw new ShapeError(
          `Concat: input ${i} has shape ${formatShape(s)}, input 0 has ${formatShape(first)}; all axes but 1 (channels) must agree`,
        );
      }
      channels += s[1];
    });
    return [first[0], channels, ...first.slice(2)];
  }

  forward(xs: readonly NDArray[], _mode: Mode): NDArray {
    const out = NDArray.zeros(this.outputShape(xs.map((x) => x.shape)), xs[0].dtype);
    for (const x of xs) {
      if (x.dtype !== out.dtype) throw new TypeError(`Concat: inputs mix ${out.dtype} and ${x.dtype}`);
    }
    // Per sample, each input's channels are one contiguous run (C_i · H · W values).
    const n = out.shape[0];
    const outRun = n === 0 ? 0 : out.size / n;
    let offset = 0;
    for (const x of xs) {
      const run = n === 0 ? 0 : x.size / n;
      kernels().copyBlocks(out.buf, x.buf, n, run, outRun, offset, run, 0);
      offset += run;
    }
    this.#shapes = xs.map((x) => x.shape);
    return out;
  }

  backward(dout: NDArray): NDArray[] {
    const shapes = cached(this.#shapes, "Concat");
    const expected = this.outputShape(shapes);
    if (dout.ndim !== expected.length || dout.shape.some((d, k) => d !== expected[k])) {
      throw new ShapeError(
        `Concat: dout ${formatShape(dout.shape)} does not match the output ${formatShape(expected)}`,
      );
    }
    const n = dout.shape[0];
    const outRun = n === 0 ? 0 : dout.size / n;
    let offset = 0;
    return shapes.map((shape) => {
      const dx = NDArray.zeros(shape, dout.dtype);
      const run = n === 0 ? 0 : dx.size / n;
      kernels().copyBlocks(dx.buf, dout.buf, n, run, run, 0, outRun, offset);
      offset += run;
      return dx;
    });
  }
}
