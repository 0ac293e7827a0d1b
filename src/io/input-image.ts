/**
 * Turning a picture (any size, any colour) into a model input like MNIST's: grayscale in [0, 1],
 * white digit on black, the digit fitted into a 20×20 box and centred by its centre of mass in a
 * 28×28 image (how the MNIST images themselves were made). Pure: the CLI's `predict` (after
 * decoding a file, src/io/image.ts) and the browser's drawing pad (from a canvas) run the same code.
 */
import type { RgbaImage } from "../data/image-folder.js";

/** Grayscale, values in [0, 1], row-major: what a model takes. */
export interface InputImage {
  width: number;
  height: number;
  pixels: Float32Array;
}

/** Luma (ITU-R 601, as PIL's convert("L")), transparent pixels composited over white. */
export function toGray(image: RgbaImage): InputImage {
  const { width, height, data } = image;
  const pixels = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3] / 255;
    const luma = (0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]) / 255;
    pixels[i] = a * luma + (1 - a);
  }
  return { width, height, pixels };
}

/** Mean of the outermost pixels: a light border means a dark digit on light paper. */
export function borderMean(image: InputImage): number {
  const { width: w, height: h, pixels } = image;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y === 0 || y === h - 1 || x === 0 || x === w - 1) {
        sum += pixels[y * w + x];
        n++;
      }
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** The median of the outermost pixels: the background's level, even where the digit touches an edge. */
function borderMedian(image: InputImage): number {
  const { width: w, height: h, pixels } = image;
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(pixels[x], pixels[(h - 1) * w + x]);
  for (let y = 1; y < h - 1; y++) border.push(pixels[y * w], pixels[y * w + w - 1]);
  border.sort((a, b) => a - b);
  return border[Math.floor(border.length / 2)];
}

/**
 * Levels like MNIST's (background 0, the brightest ink 1): v → (v − background) / (ink − background),
 * clipped to [0, 1], with the background the median of the border. Paper is rarely white and ink
 * rarely black; without this, gray paper turned dark is "ink" everywhere. A picture with less
 * contrast than `minContrast` is left as it is (there is no digit to bring out).
 */
export function stretchLevels(
  image: InputImage,
  minContrast = 0.05,
): { image: InputImage; changed: boolean } {
  const background = borderMedian(image);
  const ink = image.pixels.reduce((a, b) => Math.max(a, b), 0);
  if (ink - background < minContrast || (background === 0 && ink === 1)) return { image, changed: false };
  const scale = 1 / (ink - background);
  const pixels = image.pixels.map((v) => Math.min(1, Math.max(0, (v - background) * scale)));
  return { image: { ...image, pixels }, changed: true };
}

export function invert(image: InputImage): InputImage {
  return { ...image, pixels: image.pixels.map((v) => 1 - v) };
}

/** The source pixels one output pixel covers along an axis: `first`, `first + 1`, … with their overlaps. */
interface Span {
  first: number;
  weights: number[];
}

/**
 * Resizing n pixels to m along one axis, in integer units of 1/m source pixel: source pixel s
 * covers [s·m, (s+1)·m) and output pixel o covers [o·n, (o+1)·n), so every bound and overlap is
 * an exact integer, each output's overlaps sum to n, and no index reaches past n − 1. (Bounds in
 * floating point, o·(n/m) + n/m, can land just above n and read one pixel past the edge.)
 */
function areaSpans(n: number, m: number): Span[] {
  const spans: Span[] = [];
  for (let o = 0; o < m; o++) {
    const lo = o * n;
    const hi = lo + n;
    const first = Math.floor(lo / m);
    const weights: number[] = [];
    for (let s = first; s * m < hi; s++) weights.push(Math.min(hi, (s + 1) * m) - Math.max(lo, s * m));
    spans.push({ first, weights });
  }
  return spans;
}

/**
 * Area-averaging resize: each output pixel is the mean of the source area it covers (pixels cut
 * by its edges count in proportion), so a constant image stays that constant and the image's mean
 * is conserved. Reads only inside the source.
 */
export function resize(image: InputImage, width: number, height: number): InputImage {
  const { width: sw, height: sh, pixels: src } = image;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new RangeError(`resize: target size ${width}×${height} must be positive integers`);
  }
  if (sw <= 0 || sh <= 0 || src.length !== sw * sh) {
    throw new RangeError(`resize: a ${sw}×${sh} image needs ${sw * sh} pixels, got ${src.length}`);
  }
  const xs = areaSpans(sw, width);
  const ys = areaSpans(sh, height);
  const area = sw * sh; // each output pixel's weights sum to sh·sw
  const out = new Float32Array(width * height);
  for (let oy = 0; oy < height; oy++) {
    const { first: y0, weights: wy } = ys[oy];
    for (let ox = 0; ox < width; ox++) {
      const { first: x0, weights: wx } = xs[ox];
      let sum = 0;
      for (let j = 0; j < wy.length; j++) {
        const row = (y0 + j) * sw + x0;
        let rowSum = 0;
        for (let i = 0; i < wx.length; i++) rowSum += src[row + i] * wx[i];
        sum += rowSum * wy[j];
      }
      out[oy * width + ox] = sum / area;
    }
  }
  return { width, height, pixels: out };
}

/** Pixels brighter than this are ink (after polarity): they decide the digit's box. */
export const INK_THRESHOLD = 0.1;

/** Where MNIST's digits have their centre of mass: pixel (14, 14) of 28×28, in index coordinates
 * (the mean over its 10,000 test images is (14.01, 13.99), each within about ±0.3). */
const MNIST_CENTRE = 14 / 28;

/**
 * MNIST's own preprocessing: crop to the ink, scale the longer side to `box` (20) keeping the aspect
 * ratio (area averaging, which gives MNIST's soft edges), and place it in a size×size (28×28) image
 * so its centre of mass lands where MNIST's do. Expects a white-on-black image. Null when no pixel
 * is brighter than INK_THRESHOLD (nothing to fit).
 */
export function fitLikeMnist(image: InputImage, size = 28, box = 20): InputImage | null {
  const { width: w, height: h, pixels } = image;
  let [minX, minY, maxX, maxY] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (pixels[y * w + x] > INK_THRESHOLD) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  if (maxX < 0) return null;
  const cw = maxX - minX + 1;
  const ch = maxY - minY + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++)
    crop.set(pixels.subarray((minY + y) * w + minX, (minY + y) * w + minX + cw), y * cw);
  const scale = box / Math.max(cw, ch);
  const tw = Math.max(1, Math.round(cw * scale));
  const th = Math.max(1, Math.round(ch * scale));
  const digit = resize({ width: cw, height: ch, pixels: crop }, tw, th);

  // Centre of mass of the scaled digit (index coordinates) → where to paste it. The crop holds ink
  // (> INK_THRESHOLD), so its mass is positive.
  let [mass, mx, my] = [0, 0, 0];
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = digit.pixels[y * tw + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const left = clamp(Math.round(size * MNIST_CENTRE - mx / mass), size - tw);
  const top = clamp(Math.round(size * MNIST_CENTRE - my / mass), size - th);
  const out = new Float32Array(size * size);
  for (let y = 0; y < th; y++) out.set(digit.pixels.subarray(y * tw, (y + 1) * tw), (top + y) * size + left);
  return { width: size, height: size, pixels: out };
}

export interface PreparedImage {
  image: InputImage;
  /** No pixel is brighter than INK_THRESHOLD (after polarity): nothing was drawn. */
  blank: boolean;
  /** What was done to the picture, for the user (e.g. "inverted: dark digit on light background"). */
  notes: string[];
}

export interface PrepareOptions {
  /** "auto" (default) inverts a picture with a light border (a dark digit on paper). */
  polarity?: "auto" | "invert" | "keep";
  /** "mnist" (default, square inputs): fit the ink like MNIST; "stretch": resize the whole picture. */
  fit?: "mnist" | "stretch";
}

/**
 * A picture as a width×height model input with values in [0, 1]: grayscale; inverted when
 * `polarity` says so ("auto": a light border means a dark digit on paper, and MNIST digits are
 * white on black); levels stretched so the background is 0 and the brightest ink 1; then the ink
 * fitted into the model's size as MNIST did (or the picture resized). An image already of the
 * model's size, polarity and levels is used as it is.
 */
export function prepareImage(
  rgba: RgbaImage,
  size: { width: number; height: number },
  options: PrepareOptions = {},
): PreparedImage {
  if (!(rgba.width > 0 && rgba.height > 0 && rgba.data.length === rgba.width * rgba.height * 4)) {
    throw new RangeError(
      `prepareImage: a ${rgba.width}×${rgba.height} RGBA picture needs ${rgba.width * rgba.height * 4} bytes, got ${rgba.data.length}`,
    );
  }
  const notes: string[] = [];
  let image = toGray(rgba);
  const polarity = options.polarity ?? "auto";
  if (polarity === "invert" || (polarity === "auto" && borderMean(image) > 0.5)) {
    image = invert(image);
    notes.push("inverted (MNIST digits are white on black)");
  }
  const levels = stretchLevels(image);
  if (levels.changed) {
    image = levels.image;
    notes.push("levels stretched: background to 0, the brightest ink to 1");
  }
  if (image.width !== size.width || image.height !== size.height) {
    const from = `${image.width}×${image.height}`;
    const fitted =
      (options.fit ?? "mnist") === "mnist" && size.width === size.height
        ? fitLikeMnist(image, size.width, Math.round((size.width * 20) / 28))
        : null;
    if (fitted) {
      image = fitted;
      notes.push(
        `${from} → digit fitted into ${size.width}×${size.height} as MNIST (20×20 box, centred by mass)`,
      );
    } else {
      image = resize(image, size.width, size.height);
      notes.push(`${from} → resized to ${size.width}×${size.height}`);
    }
  }
  const blank = !image.pixels.some((v) => v > INK_THRESHOLD);
  if (blank) notes.push(`blank: no pixel brighter than ${INK_THRESHOLD}`);
  // Rounding can leave a value a few ulps outside [0, 1]; the model gets exactly [0, 1].
  const pixels = image.pixels;
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(1, Math.max(0, pixels[i]));
  return { image, blank, notes };
}
