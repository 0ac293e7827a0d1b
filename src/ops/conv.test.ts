import { describe, expect, it } from "vitest";
import { ShapeError } from "../errors.js";
import { NDArray } from "../ndarray.js";
import { col2im, convOutputSize, im2col } from "./conv.js";

describe("convOutputSize (Equation 6.1)", () => {
  it("computes the book's examples", () => {
    // Book figure 7-6: 4×4 input, 3×3 filter, pad 1, stride 1 → 4; figure 7-7: 7×7, 3×3, stride 2 → 3.
    expect(convOutputSize(4, 3, 1, 1)).toBe(4);
    expect(convOutputSize(7, 3, 2, 0)).toBe(3);
    expect(convOutputSize(28, 5, 1, 0)).toBe(24);
    expect(convOutputSize(24, 2, 2, 0)).toBe(12);
  });

  it("floors a size that does not divide evenly: windows never run past the padded input", () => {
    expect(convOutputSize(28, 5, 2, 0)).toBe(12); // ⌊23 / 2⌋ + 1
    expect(convOutputSize(28, 3, 2, 1)).toBe(14); // ResNet's 3×3 stride-2 downsampling
    expect(convOutputSize(28, 1, 2, 0)).toBe(14); // and its 1×1 stride-2 projection
    expect(convOutputSize(6, 2, 4, 1, "W")).toBe(2);
  });

  it("rejects a filter larger than the padded input", () => {
    expect(() => convOutputSize(2, 5, 1, 1)).toThrow(ShapeError);
    expect(() => convOutputSize(2, 5, 1, 1)).toThrow(/H=2, FH=5, P=1, S=1/);
  });

  it("rejects non-integer or non-positive sizes", () => {
    expect(() => convOutputSize(4, 3, 0, 0)).toThrow(/S must be an integer ≥ 1/);
    expect(() => convOutputSize(4, 2, 1, -1)).toThrow(/P must be an integer ≥ 0/);
  });
});

describe("im2col / col2im", () => {
  it("unrolls windows in the book's layout (N·OH·OW, C·FH·FW)", () => {
    // One 3×3 channel, 2×2 windows, stride 1: four windows, each row-major.
    const x = NDArray.from([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], "float64");
    const col = im2col(x, 2, 2);
    expect(col.shape).toEqual([4, 4]);
    expect(col.toArray()).toEqual([
      [1, 2, 4, 5],
      [2, 3, 5, 6],
      [4, 5, 7, 8],
      [5, 6, 8, 9],
    ]);
  });

  it("matches the book's im2col shapes (7.4.3)", () => {
    expect(im2col(NDArray.zeros([1, 3, 7, 7]), 5, 5, 1, 0).shape).toEqual([9, 75]);
    expect(im2col(NDArray.zeros([10, 3, 7, 7]), 5, 5, 1, 0).shape).toEqual([90, 75]);
  });

  it("reads padding as zeros and keeps the dtype", () => {
    const x = NDArray.from([5], [1, 1, 1, 1], "float64");
    const col = im2col(x, 3, 3, 1, 1);
    expect(col.dtype).toBe("float64");
    expect(Array.from(col.data)).toEqual([0, 0, 0, 0, 5, 0, 0, 0, 0]);
  });

  it("col2im sums overlapping windows", () => {
    const ones = NDArray.full([4, 4], 1, "float64");
    const dx = col2im(ones, [1, 1, 3, 3], 2, 2, 1, 0);
    // How many 2×2 windows cover each cell of a 3×3 image.
    expect(Array.from(dx.data)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });

  it("rejects inputs that are not (N, C, H, W) and a col that does not fit", () => {
    expect(() => im2col(NDArray.zeros([3, 7, 7]), 3, 3)).toThrow(
      /im2col: expected an \(N, C, H, W\) input, got \(3, 7, 7\)/,
    );
    expect(() => col2im(NDArray.zeros([4, 5]), [1, 1, 3, 3], 2, 2)).toThrow(
      /col \(4, 5\).*expected \(4, 4\)/,
    );
    expect(() => im2col(NDArray.zeros([1, 1, 6, 6]), 7, 3, 2, 0)).toThrow(/H=6, FH=7, P=0, S=2/);
    // 6 − 3 = 3 does not divide by 2: two windows per axis, the last row and column unread.
    expect(im2col(NDArray.zeros([1, 1, 6, 6]), 3, 3, 2, 0).shape).toEqual([4, 9]);
  });
});
