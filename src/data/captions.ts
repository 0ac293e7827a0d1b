/**
 * Captioned canvases made from MNIST digits, for the image captioner (book §8.4.3): a 28×(28·4)
 * canvas holds 1 to 4 digits side by side, left to right, at seeded positions, and its caption is
 * the digits in words ("three seven one"). Canvases from training digits train; canvases from test
 * digits test, so every test digit is one the model never saw.
 */
import { NDArray, type Labels } from "../ndarray.js";
import { Rng } from "../rng.js";
import type { Dataset } from "./dataset.js";

export const DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/**
 * The captioner's tokens: `<start>` begins every caption the decoder reads, `<end>` ends every
 * caption it writes, then the ten digit words. Padding after `<end>` is the ignore label −1.
 */
export const CAPTION_TOKENS = ["<start>", "<end>", ...DIGIT_WORDS];
export const START = 0;
export const END = 1;
/** The token id of digit d. */
export const digitToken = (d: number): number => d + 2;

export interface CanvasOptions {
  /** Digits per canvas: uniform in [1, maxDigits] (default 4). */
  maxDigits?: number;
  /** Canvas width in pixels (default 28 · maxDigits); the height is the digits' 28. */
  width?: number;
}

/** Where one canvas's digits come from and where they go. */
export interface CanvasLayout {
  /** Indices into the digit set, left to right. */
  digits: number[];
  /** Left edge of each digit's 28×28 box. */
  lefts: number[];
}

/**
 * `count` canvases over a set of digit images (N, 1, 28, 28) with labels. Layouts are drawn once
 * from `seed` (which digits, how many, the gaps between them); pixels are drawn on demand, batch
 * by batch, so a large set costs no memory. The digits of one canvas are distinct images drawn
 * with replacement across canvases; the free width is split into random gaps (left margin,
 * between digits, right margin), so the boxes never overlap.
 */
export class DigitCanvases {
  readonly count: number;
  readonly maxDigits: number;
  readonly width: number;
  readonly height = 28;
  readonly layouts: readonly CanvasLayout[];
  readonly #digits: Dataset;

  constructor(digits: Dataset, count: number, seed: number, options: CanvasOptions = {}) {
    const { maxDigits = 4 } = options;
    const width = options.width ?? 28 * maxDigits;
    if (digits.x.ndim !== 4 || digits.x.shape[2] !== 28 || digits.x.shape[3] !== 28) {
      throw new RangeError(
        `DigitCanvases: digits must be (N, 1, 28, 28) images, got (${digits.x.shape.join(", ")})`,
      );
    }
    if (!(Number.isInteger(maxDigits) && maxDigits >= 1) || width < 28 * maxDigits) {
      throw new RangeError(
        `DigitCanvases: ${maxDigits} digits need a width ≥ ${28 * maxDigits}, got ${width}`,
      );
    }
    const rng = new Rng(seed);
    const n = digits.labels.length;
    const layouts: CanvasLayout[] = [];
    for (let i = 0; i < count; i++) {
      const k = 1 + rng.int(maxDigits);
      const chosen = Array.from(rng.choice(n, k, false));
      // The free width split at k sorted cut points into k + 1 gaps.
      const free = width - 28 * k;
      const cuts = Array.from({ length: k }, () => rng.int(free + 1)).sort((a, b) => a - b);
      layouts.push({ digits: chosen, lefts: cuts.map((c, j) => c + 28 * j) });
    }
    this.count = count;
    this.maxDigits = maxDigits;
    this.width = width;
    this.layouts = layouts;
    this.#digits = digits;
  }

  /** The digits of canvas i, left to right. */
  digitsOf(i: number): number[] {
    return this.layouts[i].digits.map((d) => this.#digits.labels[d]);
  }

  /** The caption of canvas i in words: "three seven one". */
  caption(i: number): string {
    return this.digitsOf(i)
      .map((d) => DIGIT_WORDS[d])
      .join(" ");
  }

  /** The canvases `indices` as images (B, 1, 28, width), black with white digits like MNIST. */
  images(indices: ArrayLike<number>): NDArray {
    const { width, height } = this;
    const out = NDArray.zeros([indices.length, 1, height, width], this.#digits.x.dtype);
    const src = this.#digits.x.data;
    for (let b = 0; b < indices.length; b++) {
      const { digits, lefts } = this.layouts[indices[b]];
      digits.forEach((d, j) => {
        for (let y = 0; y < 28; y++) {
          const row = src.subarray(d * 784 + y * 28, d * 784 + y * 28 + 28);
          out.data.set(row, (b * height + y) * width + lefts[j]);
        }
      });
    }
    return out;
  }

  /**
   * The decoder's teacher-forced sequences for `indices`, T = maxDigits + 1 steps: inputs
   * `<start> w1 … wk <end> …` (N, T) as ids in floats, and targets `w1 … wk <end> −1 …` (N·T),
   * −1 being padding the loss ignores.
   */
  sequences(indices: ArrayLike<number>): { inputs: NDArray; targets: Labels } {
    const T = this.maxDigits + 1;
    const inputs = NDArray.full([indices.length, T], END, this.#digits.x.dtype);
    const targets = new Int32Array(indices.length * T).fill(-1);
    for (let b = 0; b < indices.length; b++) {
      const words = this.digitsOf(indices[b]).map(digitToken);
      inputs.data[b * T] = START;
      words.forEach((w, j) => {
        inputs.data[b * T + j + 1] = w;
        targets[b * T + j] = w;
      });
      targets[b * T + words.length] = END;
    }
    return { inputs, targets };
  }
}
