import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { DigitCanvases, digitToken, END, START } from "./captions.js";
import type { Dataset } from "./dataset.js";

/** Ten 28×28 "digits": image d is filled with (d + 1) / 10, its label is d. */
function fakeDigits(): Dataset {
  const x = NDArray.zeros([10, 1, 28, 28]);
  for (let d = 0; d < 10; d++) x.data.fill((d + 1) / 10, d * 784, (d + 1) * 784);
  return { x, labels: Int32Array.from({ length: 10 }, (_, d) => d) };
}

describe("DigitCanvases", () => {
  const canvases = new DigitCanvases(fakeDigits(), 200, 7);

  it("holds 1 to 4 distinct digits per canvas, boxes inside the canvas and not overlapping", () => {
    const counts = new Set<number>();
    for (const { digits, lefts } of canvases.layouts) {
      counts.add(digits.length);
      expect(new Set(digits).size).toBe(digits.length);
      expect(lefts[0]).toBeGreaterThanOrEqual(0);
      expect(lefts.at(-1)! + 28).toBeLessThanOrEqual(112);
      for (let j = 1; j < lefts.length; j++) expect(lefts[j]).toBeGreaterThanOrEqual(lefts[j - 1] + 28);
    }
    expect([...counts].sort()).toEqual([1, 2, 3, 4]);
  });

  it("draws the digits where the layout says, and captions them left to right in words", () => {
    const i = canvases.layouts.findIndex((l) => l.digits.length === 3);
    const { digits, lefts } = canvases.layouts[i];
    const image = canvases.images([i]);
    expect(image.shape).toEqual([1, 1, 28, 112]);
    digits.forEach((d, j) => expect(image.get(0, 0, 14, lefts[j] + 3)).toBeCloseTo((d + 1) / 10, 6));
    const words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    expect(canvases.caption(i)).toBe(digits.map((d) => words[d]).join(" "));
    // Outside every box the canvas is black.
    const inBox = (x: number) => lefts.some((l) => x >= l && x < l + 28);
    for (let x = 0; x < 112; x++) if (!inBox(x)) expect(image.get(0, 0, 14, x)).toBe(0);
  });

  it("gives teacher-forced sequences: <start> words then <end>, targets padded with −1", () => {
    const i = canvases.layouts.findIndex((l) => l.digits.length === 2);
    const [a, b] = canvases.digitsOf(i).map(digitToken);
    const { inputs, targets } = canvases.sequences([i]);
    expect(Array.from(inputs.data)).toEqual([START, a, b, END, END]);
    expect(Array.from(targets)).toEqual([a, b, END, -1, -1]);
  });

  it("is the same for the same seed and different for another", () => {
    expect(new DigitCanvases(fakeDigits(), 200, 7).layouts).toEqual(canvases.layouts);
    expect(new DigitCanvases(fakeDigits(), 200, 8).layouts).not.toEqual(canvases.layouts);
  });
});
