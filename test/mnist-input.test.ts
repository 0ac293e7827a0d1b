/**
 * MNIST's own preparation reproduced (src/io/input-image.ts): what `zerodl predict` does to a
 * picture and the browser demo's pad to a drawing (the same function; demo.spec.ts checks the page).
 */
import { describe, expect, it } from "vitest";
import { loadMnist, prepareImage } from "../src/index.js";

/** A white-on-black gray canvas (values 0…1) as the RGBA picture a canvas or a PNG decoder gives. */
function toMnistInput(gray: Float32Array, width: number, height: number): Float32Array | null {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = Math.round(gray[i] * 255);
    data.set([v, v, v, 255], 4 * i);
  }
  const prepared = prepareImage({ width, height, data }, { width: 28, height: 28 }, { polarity: "keep" });
  return prepared.blank ? null : prepared.image.pixels;
}

/** A 28×28 image enlarged `k`× by repeating pixels, placed at (x0, y0) on a w×h canvas. */
function enlarge(image: ArrayLike<number>, k: number, w: number, h: number, x0 = 0, y0 = 0): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < 28 * k; y++) {
    for (let x = 0; x < 28 * k; x++) {
      out[(y + y0) * w + x + x0] = image[Math.floor(y / k) * 28 + Math.floor(x / k)];
    }
  }
  return out;
}

function inkBox(image: ArrayLike<number>, threshold = 0.1) {
  let x0 = 28;
  let x1 = -1;
  let y0 = 28;
  let y1 = -1;
  for (let i = 0; i < 784; i++) {
    if (image[i] <= threshold) continue;
    const x = i % 28;
    const y = Math.floor(i / 28);
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  }
  return { width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function centreOfMass(image: ArrayLike<number>) {
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < 784; i++) {
    mass += image[i];
    cx += image[i] * (i % 28);
    cy += image[i] * Math.floor(i / 28);
  }
  return { x: cx / mass, y: cy / mass };
}

describe("prepareImage reproduces MNIST's preparation", () => {
  it("gives MNIST test images back unchanged after a 10× enlargement (and off-centre placement)", async () => {
    const { test } = await loadMnist({ subset: { train: 0, test: 50 } });
    let unchanged = 0;
    for (let k = 0; k < 50; k++) {
      const image = test.x.data.subarray(k * 784, (k + 1) * 784);
      // Anywhere on the canvas: the input depends only on the ink.
      const canvas = enlarge(image, 10, 400, 360, (k * 37) % 120, (k * 11) % 80);
      const input = toMnistInput(canvas, 400, 360)!;
      expect(input).toHaveLength(784);
      // MNIST's digits fill 20 px in their longer side; those are reproduced pixel for pixel (with
      // levels stretched: the brightest ink becomes 1, where a few MNIST digits have 254/255), but
      // for traces fainter than the ink threshold (0.1) outside the ink's box, which are dropped.
      const box = inkBox(image);
      let brightest = 0;
      for (const v of image) brightest = Math.max(brightest, v);
      if (Math.max(box.width, box.height) === 20) {
        let worst = 0;
        let worstInk = 0;
        for (let i = 0; i < 784; i++) {
          const d = Math.abs(input[i] - image[i] / brightest);
          worst = Math.max(worst, d);
          if (image[i] > 0.1) worstInk = Math.max(worstInk, d);
        }
        expect(worstInk).toBeLessThan(1e-6);
        expect(worst).toBeLessThanOrEqual(0.1);
        unchanged++;
      }
    }
    expect(unchanged).toBeGreaterThan(40);
  });

  it("scales a small off-centre stroke to 20 px and puts its centre of mass at (14, 14)", () => {
    const w = 280;
    const canvas = new Float32Array(w * w);
    // A 6 px wide, 60 px tall bar near the top-left corner.
    for (let y = 10; y < 70; y++) for (let x = 20; x < 26; x++) canvas[y * w + x] = 1;
    const input = toMnistInput(canvas, w, w)!;
    expect(inkBox(input)).toEqual({ width: 2, height: 20 });
    const c = centreOfMass(input);
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...input)).toBeCloseTo(1, 6);
  });

  it("enlarges a digit drawn smaller than 20 px without holes", () => {
    const w = 64;
    const canvas = new Float32Array(w * w);
    for (let y = 30; y < 35; y++) for (let x = 30; x < 35; x++) canvas[y * w + x] = 1; // a 5×5 square
    const input = toMnistInput(canvas, w, w)!;
    expect(inkBox(input)).toEqual({ width: 20, height: 20 });
    expect(input.reduce((a, b) => a + b, 0)).toBe(400); // every pixel of the 20×20 box is ink
  });

  it("returns null for an empty canvas (or ink below the threshold)", () => {
    expect(toMnistInput(new Float32Array(100 * 100), 100, 100)).toBeNull();
    expect(toMnistInput(new Float32Array(100 * 100).fill(0.09), 100, 100)).toBeNull();
  });
});
