import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { encodeGrayPng, tileImages } from "./tiles.js";

describe("tileImages", () => {
  it("tiles images row by row with gaps, mapping the range to 0–255", () => {
    // Three 2×2 images in [−1, 1]: −1 is black, 1 white, 0 mid-gray.
    const images = NDArray.from([-1, 1, 0, 1, 1, 1, 1, 1, -1, -1, -1, -1], [3, 1, 2, 2]);
    const t = tileImages(images, { columns: 2, gap: 1, background: 50 });
    expect([t.width, t.height]).toEqual([5, 5]);
    const row = (y: number) => Array.from(t.pixels.subarray(y * 5, y * 5 + 5));
    expect(row(0)).toEqual([0, 255, 50, 255, 255]);
    expect(row(1)).toEqual([128, 255, 50, 255, 255]);
    expect(row(2)).toEqual([50, 50, 50, 50, 50]);
    expect(row(3)).toEqual([0, 0, 50, 50, 50]); // the empty fourth cell stays background
  });

  it("enlarges by an integer scale, clips outside the range, and defaults to a square grid", () => {
    const images = NDArray.from([2, -3, 0.5, 0.5], [4, 1, 1, 1]);
    const t = tileImages(images, { scale: 2, gap: 0, range: [0, 1] });
    expect([t.width, t.height]).toEqual([4, 4]);
    expect(Array.from(t.pixels.subarray(0, 4))).toEqual([255, 255, 0, 0]);
    expect(t.pixels[3 * 4]).toBe(128);
  });

  it("refuses what it cannot draw, naming it", () => {
    expect(() => tileImages(NDArray.zeros([2, 3, 4, 4]))).toThrow(/grayscale images, got \(2, 3, 4, 4\)/);
    expect(() => tileImages(NDArray.from([0, NaN], [2, 1, 1, 1]))).toThrow(/image 1 has a non-finite value/);
    expect(() => tileImages(NDArray.zeros([1, 1, 2, 2]), { columns: 0 })).toThrow(/columns must be/);
  });

  it("encodes a PNG that decodes to the same gray levels", () => {
    const t = tileImages(NDArray.from([-1, 0, 0.5, 1], [1, 1, 2, 2]));
    const png = PNG.sync.read(Buffer.from(encodeGrayPng(t)));
    expect([png.width, png.height]).toEqual([2, 2]);
    expect([0, 1, 2, 3].map((i) => png.data[4 * i])).toEqual([0, 128, 191, 255]);
  });
});
