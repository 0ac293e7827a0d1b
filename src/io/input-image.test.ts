import { describe, expect, it } from "vitest";
import type { RgbaImage } from "../data/image-folder.js";
import { Rng } from "../rng.js";
import { fitLikeMnist, prepareImage, resize, toGray, type InputImage } from "./input-image.js";

function rgba(width: number, height: number, gray: (x: number, y: number) => number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = gray(x, y);
      data.set([v, v, v, 255], 4 * (y * width + x));
    }
  }
  return { width, height, data };
}

function randomImage(width: number, height: number, rng: Rng): InputImage {
  const pixels = new Float32Array(width * height);
  rng.fillUniform(pixels);
  return { width, height, pixels };
}

function mean(a: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i];
  return sum / a.length;
}

/**
 * Seeded (source, target) size pairs, each side 1…400: `count` random ones plus the sizes a user's
 * pictures had when the old resize read past their edge (200×240, 280×280, 97×131, …).
 */
function sizePairs(count: number, seed: number): [number, number, number, number][] {
  const rng = new Rng(seed);
  const side = () => 1 + rng.int(400);
  const pairs: [number, number, number, number][] = [
    [200, 240, 28, 28],
    [280, 280, 28, 28],
    [97, 131, 28, 28],
    [131, 97, 20, 14],
    [240, 200, 17, 20],
    [1, 1, 28, 28],
    [1, 400, 1, 20],
    [400, 1, 20, 1],
  ];
  for (let k = 0; k < count; k++) pairs.push([side(), side(), side(), side()]);
  return pairs;
}

describe("input images", () => {
  it("grayscale uses luma and composites transparency over white", () => {
    const img: RgbaImage = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 0, 0, 0, 0]) };
    const g = toGray(img);
    expect(g.pixels[0]).toBeCloseTo(0.299, 6);
    expect(g.pixels[1]).toBe(1);
  });

  it("area resize averages what each output pixel covers", () => {
    const g = { width: 4, height: 2, pixels: Float32Array.from([0, 1, 1, 1, 0, 0, 1, 0]) };
    // 4×2 → 2×1: left block {0,1,0,0} = 0.25, right block {1,1,1,0} = 0.75.
    expect(Array.from(resize(g, 2, 1).pixels)).toEqual([0.25, 0.75]);
    // 3×1 → 2×1: each output covers 1.5 source pixels: (0 + 0.5·1)/1.5 and (0.5·1 + 1·0.5)/1.5.
    const h = { width: 3, height: 1, pixels: Float32Array.from([0, 1, 0.5]) };
    expect(Array.from(resize(h, 2, 1).pixels)).toEqual([Math.fround(1 / 3), Math.fround(2 / 3)]);
    // 1×1 → 3×3 upscale: constant.
    expect(
      Array.from(resize({ width: 1, height: 1, pixels: Float32Array.from([0.5]) }, 3, 3).pixels),
    ).toEqual(new Array(9).fill(0.5));
  });

  it("resize gives finite values within the source's range for 1,000 random size pairs", () => {
    const rng = new Rng(19);
    for (const [sw, sh, w, h] of sizePairs(1000, 19)) {
      const src = randomImage(sw, sh, rng);
      const out = resize(src, w, h).pixels;
      const lo = src.pixels.reduce((a, b) => Math.min(a, b));
      const hi = src.pixels.reduce((a, b) => Math.max(a, b));
      const bad = out.findIndex((v) => !(v >= lo - 1e-6 && v <= hi + 1e-6));
      expect(bad, `${sw}×${sh} → ${w}×${h}: pixel ${bad} is ${out[bad]}`).toBe(-1);
    }
  });

  it("resize keeps a constant image constant and conserves the mean (area)", () => {
    const rng = new Rng(7);
    for (const [sw, sh, w, h] of sizePairs(300, 7)) {
      const c = Math.fround(rng.uniform());
      const out = resize({ width: sw, height: sh, pixels: new Float32Array(sw * sh).fill(c) }, w, h).pixels;
      expect(
        out.every((v) => v === c),
        `${sw}×${sh} → ${w}×${h} of ${c}`,
      ).toBe(true);
      const src = randomImage(sw, sh, rng);
      // The mean of the output is the mean of the source (every source pixel's area lands somewhere).
      expect(mean(resize(src, w, h).pixels)).toBeCloseTo(mean(src.pixels), 5);
    }
  });

  it("prepareImage gives a finite 28×28 input in [0, 1] for every picture size", () => {
    const rng = new Rng(3);
    for (const [sw, sh] of sizePairs(400, 3)) {
      // A slanted stroke on paper, or noise, or a blank page.
      const kind = rng.int(3);
      const picture = rgba(sw, sh, (x, y) =>
        kind === 0
          ? Math.abs(x - sw / 2 - (y - sh / 2) / 4) < sw / 8 + 1
            ? 0
            : 255
          : kind === 1
            ? rng.int(256)
            : 255,
      );
      const { image } = prepareImage(picture, { width: 28, height: 28 });
      expect([image.width, image.height]).toEqual([28, 28]);
      const bad = image.pixels.findIndex((v) => !(v >= 0 && v <= 1));
      expect(bad, `${sw}×${sh} (kind ${kind}): pixel ${bad} is ${image.pixels[bad]}`).toBe(-1);
    }
  });

  it("fits the ink into a 20×20 box centred by mass where MNIST's digits have theirs", () => {
    // A 10×40 white bar at the top-left corner of a 100×100 black image.
    const bar = toGray(rgba(100, 100, (x, y) => (x < 10 && y < 40 ? 255 : 0)));
    const f = fitLikeMnist(bar)!;
    expect([f.width, f.height]).toEqual([28, 28]);
    // Scaled 40 → 20 tall, 10 → 5 wide, centre of mass (2, 9.5) moved to pixel (14, 14):
    // columns 12…16, rows 5…24 (14 − 9.5 = 4.5 rounds to 5).
    const on: [number, number][] = [];
    f.pixels.forEach((v, i) => v > 0.5 && on.push([i % 28, Math.floor(i / 28)]));
    const xs = on.map(([x]) => x);
    const ys = on.map(([, y]) => y);
    expect([Math.min(...ys), Math.max(...ys)]).toEqual([5, 24]);
    expect([Math.min(...xs), Math.max(...xs)]).toEqual([12, 16]);
    // Nothing brighter than the ink threshold: nothing to fit.
    expect(fitLikeMnist({ width: 5, height: 5, pixels: new Float32Array(25).fill(0.09) })).toBeNull();
  });

  it("prepareImage inverts a dark digit on paper and notes what it did", () => {
    const paper = rgba(56, 56, (x, y) => (Math.abs(x - 28) < 4 && Math.abs(y - 28) < 15 ? 0 : 255));
    const { image, notes } = prepareImage(paper, { width: 28, height: 28 });
    expect(notes.join("; ")).toMatch(/inverted.*56×56 → digit fitted into 28×28/);
    expect(image.pixels[0]).toBe(0); // background now black
    expect(image.pixels[14 * 28 + 14]).toBeGreaterThan(0.9); // digit now white
    // A 28×28 white-on-black image passes through untouched.
    const mnistLike = rgba(28, 28, (x) => (x === 5 ? 255 : 0));
    const same = prepareImage(mnistLike, { width: 28, height: 28 });
    expect(same.notes).toEqual([]);
    expect(same.image.pixels[5]).toBe(1);
    // A blank page is said to be blank.
    expect(
      prepareImage(
        rgba(40, 30, () => 255),
        { width: 28, height: 28 },
      ).notes,
    ).toContain("blank: no pixel brighter than 0.1");
  });
});
