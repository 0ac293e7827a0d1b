import { describe, expect, it } from "vitest";
import {
  compose,
  cropImages,
  flipImages,
  onFlatImages,
  randomBrightness,
  randomCrop,
  randomFlip,
  randomRotation,
  randomScale,
  randomShift,
  rotateImages,
  scaleImages,
  shiftImages,
} from "../src/data/augment.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";

/** A (1, 1, size, size) image, 0 except the given (row, column) → value entries. */
function image(size: number, pixels: [number, number, number][]): NDArray {
  const x = NDArray.zeros([1, 1, size, size]);
  for (const [r, c, v] of pixels) x.set(v, 0, 0, r, c);
  return x;
}

/** The (row, column, value) of every pixel above `eps`. */
function bright(x: NDArray, eps = 1e-6): [number, number, number][] {
  const [, , h, w] = x.shape;
  const out: [number, number, number][] = [];
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) if (x.get(0, 0, r, c) > eps) out.push([r, c, x.get(0, 0, r, c)]);
  return out;
}

function close(actual: [number, number, number][], expected: [number, number, number][]) {
  expect(actual.map(([r, c]) => [r, c])).toEqual(expected.map(([r, c]) => [r, c]));
  actual.forEach(([, , v], i) => expect(v).toBeCloseTo(expected[i][2], 6));
}

describe("deterministic transforms", () => {
  it("shift moves a bright pixel right by dx and down by dy", () => {
    close(bright(shiftImages(image(5, [[1, 1, 1]]), 2, 1)), [[2, 3, 1]]);
    close(bright(shiftImages(image(5, [[1, 1, 1]]), -1, 0)), [[1, 0, 1]]);
    expect(bright(shiftImages(image(5, [[0, 4, 1]]), 1, 0))).toEqual([]); // moved out of the image
  });

  it("rotate by 90° turns corners counter-clockwise (top-right → top-left → bottom-left)", () => {
    const x = image(5, [
      [0, 4, 1], // top-right
      [4, 0, 0.5], // bottom-left
      [2, 2, 0.25], // centre stays
    ]);
    close(bright(rotateImages(x, 90)), [
      [0, 0, 1],
      [2, 2, 0.25],
      [4, 4, 0.5],
    ]);
    // Clockwise: top-right → bottom-right, bottom-left → top-left.
    close(bright(rotateImages(x, -90)), [
      [0, 0, 0.5],
      [2, 2, 0.25],
      [4, 4, 1],
    ]);
    close(bright(rotateImages(x, 180)), [
      [0, 4, 0.5],
      [2, 2, 0.25],
      [4, 0, 1],
    ]);
  });

  it("rotate by 45° spreads a pixel bilinearly at the expected place", () => {
    // A pixel 2 right of the centre of a 5×5 image goes to (−√2, −√2) from the centre: up-right.
    const out = rotateImages(image(5, [[2, 4, 1]]), 45);
    const rows = bright(out);
    const mass = rows.reduce((s, [, , v]) => s + v, 0);
    const row = rows.reduce((s, [r, , v]) => s + r * v, 0) / mass;
    const col = rows.reduce((s, [, c, v]) => s + c * v, 0) / mass;
    expect(row).toBeCloseTo(2 - Math.SQRT2, 1);
    expect(col).toBeCloseTo(2 + Math.SQRT2, 1);
  });

  it("scale by 2 doubles a pixel's distance from the centre", () => {
    // Centre of 5×5 is (2, 2); a pixel at (2, 3) is 1 right of it. Enlarged ×2 it lands 2 right,
    // with its neighbourhood spread over the pixel between.
    const out = scaleImages(image(5, [[2, 3, 1]]), 2);
    expect(out.get(0, 0, 2, 4)).toBeCloseTo(1, 6);
    expect(out.get(0, 0, 2, 3)).toBeCloseTo(0.5, 6);
    expect(out.get(0, 0, 2, 2)).toBeCloseTo(0, 6);
    close(bright(scaleImages(image(5, [[2, 4, 1]]), 0.5)), [[2, 3, 1]]);
  });

  it("flipImages mirrors columns", () => {
    close(
      bright(
        flipImages(
          image(4, [
            [0, 0, 1],
            [3, 1, 0.5],
          ]),
        ),
      ),
      [
        [0, 3, 1],
        [3, 2, 0.5],
      ],
    );
  });

  it("crop pads with zeros and cuts the window", () => {
    const x = image(3, [[0, 0, 1]]);
    // Padded 5×5 has the pixel at (1, 1); the window at (0, 0) keeps it at (1, 1).
    close(bright(cropImages(x, 1, 0, 0)), [[1, 1, 1]]);
    close(bright(cropImages(x, 1, 1, 1)), [[0, 0, 1]]);
    expect(cropImages(x, 1, 1, 1, 2, 2).shape).toEqual([1, 1, 2, 2]);
    expect(() => cropImages(x, 1, 3, 0)).toThrow(/crop: window 3×3 at \(3, 0\) leaves the padded 5×5 image/);
  });

  it("works on every image and channel of a batch, and rejects rows", () => {
    const x = NDArray.zeros([2, 3, 4, 4]);
    x.set(1, 1, 2, 0, 0);
    const out = shiftImages(x, 1, 1);
    expect(out.get(1, 2, 1, 1)).toBe(1);
    expect(Array.from(out.data).reduce((s, v) => s + v, 0)).toBe(1);
    expect(() => shiftImages(NDArray.zeros([2, 16]), 1, 1)).toThrow(
      /expected images \(N, C, H, W\), got \(2, 16\); for rows use onFlatImages/,
    );
  });
});

describe("random transforms", () => {
  const digit = () => {
    const x = NDArray.zeros([8, 1, 9, 9]);
    for (let i = 0; i < 8; i++) for (let r = 2; r < 7; r++) x.set(1, i, 0, r, 4); // a vertical bar
    return x;
  };

  it("are reproducible from the seed and differ across images and seeds", () => {
    const t = compose(randomShift(2), randomRotation(20), randomScale(0.8, 1.2));
    const a = t(digit(), new Rng(1));
    const b = t(digit(), new Rng(1));
    const c = t(digit(), new Rng(2));
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    const first = a.data.subarray(0, 81);
    expect(
      [1, 2, 3, 4, 5, 6, 7].some((i) => a.data.subarray(81 * i, 81 * (i + 1)).join() !== first.join()),
    ).toBe(true);
  });

  it("randomShift moves by whole pixels within the limit", () => {
    const out = randomShift(2)(digit(), new Rng(5));
    for (let i = 0; i < 8; i++) {
      const img = out.data.subarray(81 * i, 81 * (i + 1));
      const on = [...img.keys()].filter((k) => img[k] > 0);
      expect(img.filter((v) => v > 0).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
      const cols = new Set(on.map((k) => k % 9));
      expect(cols.size).toBe(1);
      expect(Math.abs([...cols][0] - 4)).toBeLessThanOrEqual(2);
    }
    expect(randomShift(0)(digit(), new Rng(0)).data).toEqual(digit().data);
  });

  it("randomCrop with pad p is a shift of at most p", () => {
    const out = randomCrop(1)(digit(), new Rng(9));
    for (let i = 0; i < 8; i++) {
      const img = out.data.subarray(81 * i, 81 * (i + 1));
      const total = Array.from(img).reduce((s, v) => s + v, 0);
      expect(total).toBeGreaterThanOrEqual(4); // the 5-pixel bar loses at most one end
      const col = [...img.keys()].find((k) => img[k] > 0)! % 9;
      expect(Math.abs(col - 4)).toBeLessThanOrEqual(1);
    }
  });

  it("randomFlip(1) always mirrors, randomFlip(0) never", () => {
    const x = image(3, [[0, 0, 1]]);
    close(bright(randomFlip(1)(x, new Rng(0))), [[0, 2, 1]]);
    close(bright(randomFlip(0)(x, new Rng(0))), [[0, 0, 1]]);
  });

  it("randomBrightness scales within [1 − d, 1 + d] and clips to the range", () => {
    const x = NDArray.full([20, 1, 2, 2], 0.5);
    const out = randomBrightness(0.2)(x, new Rng(3));
    for (const v of out.data) expect(v >= 0.4 - 1e-6 && v <= 0.6 + 1e-6).toBe(true);
    const high = randomBrightness(0.5)(NDArray.full([20, 1, 1, 1], 1), new Rng(3));
    expect(Math.max(...high.data)).toBe(1);
    const unclipped = randomBrightness(0.5, null)(NDArray.full([20, 1, 1, 1], 1), new Rng(3));
    expect(Math.max(...unclipped.data)).toBeGreaterThan(1);
  });

  it("uses the same parameters for every channel of an image", () => {
    const x = NDArray.zeros([4, 3, 7, 7]);
    for (let i = 0; i < 4; i++) for (let c = 0; c < 3; c++) x.set(1, i, c, 3, 4);
    const out = compose(randomShift(2), randomRotation(30))(x, new Rng(4));
    for (let i = 0; i < 4; i++) {
      const ch = (c: number) => out.data.subarray((i * 3 + c) * 49, (i * 3 + c + 1) * 49).join();
      expect(ch(1)).toBe(ch(0));
      expect(ch(2)).toBe(ch(0));
    }
  });

  it("onFlatImages applies an image augment to rows (N, H·W)", () => {
    const rows = NDArray.zeros([2, 25]);
    rows.data[0 * 25 + 1 * 5 + 1] = 1;
    const out = onFlatImages([1, 5, 5], (x) => shiftImages(x, 1, 2))(rows, new Rng(0));
    expect(out.shape).toEqual([2, 25]);
    expect(out.data[3 * 5 + 2]).toBe(1);
    expect(() => onFlatImages([1, 5, 5], (x) => x)(NDArray.zeros([2, 24]), new Rng(0))).toThrow(
      /onFlatImages: expected rows \(N, 25\) of 1×5×5 images, got \(2, 24\)/,
    );
  });
});
