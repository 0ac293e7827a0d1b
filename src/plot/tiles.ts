/**
 * Images tiled into one picture (a GAN's sample grid): (N, 1, H, W) values → an 8-bit grayscale
 * image, and that image as PNG bytes. Pure (pngjs encodes in memory); writing files is the caller's.
 */
import { PNG } from "pngjs";
import { ShapeError, formatShape } from "../errors.js";
import type { NDArray } from "../ndarray.js";

/** An 8-bit grayscale picture, rows top to bottom. */
export interface GrayPicture {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export interface TileOptions {
  /** Images per row (default: ⌈√N⌉, a square grid). */
  columns?: number;
  /** Pixels between images, drawn in the background gray (default 2). */
  gap?: number;
  /** The values shown black and white (default [−1, 1], a tanh generator's range); clipped outside. */
  range?: readonly [number, number];
  /** Each pixel drawn as scale × scale (default 1). */
  scale?: number;
  /** The gray (0–255) between images (default 128). */
  background?: number;
}

/** Tiles (N, 1, H, W) images row by row into one picture (values in `range` → 0–255). */
export function tileImages(images: NDArray, options: TileOptions = {}): GrayPicture {
  if (images.ndim !== 4 || images.shape[1] !== 1 || images.shape[0] === 0) {
    throw new ShapeError(
      `tileImages: expected (N ≥ 1, 1, H, W) grayscale images, got ${formatShape(images.shape)}`,
    );
  }
  const [n, , h, w] = images.shape;
  const columns = options.columns ?? Math.ceil(Math.sqrt(n));
  const { gap = 2, scale = 1, background = 128 } = options;
  const [low, high] = options.range ?? [-1, 1];
  for (const [name, v, min] of [
    ["columns", columns, 1],
    ["gap", gap, 0],
    ["scale", scale, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min)
      throw new RangeError(`tileImages: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  if (!(high > low)) throw new RangeError(`tileImages: range [${low}, ${high}] is empty`);
  const rows = Math.ceil(n / columns);
  const cellW = w * scale + gap;
  const cellH = h * scale + gap;
  const width = columns * cellW - gap;
  const height = rows * cellH - gap;
  const pixels = new Uint8Array(width * height).fill(background);
  const data = images.data;
  for (let k = 0; k < n; k++) {
    const top = Math.floor(k / columns) * cellH;
    const left = (k % columns) * cellW;
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const v = data[k * h * w + Math.floor(y / scale) * w + Math.floor(x / scale)];
        if (!Number.isFinite(v)) {
          throw new RangeError(
            `tileImages: image ${k} has a non-finite value (${v}) at row ${Math.floor(y / scale)}, column ${Math.floor(x / scale)}`,
          );
        }
        const t = Math.min(1, Math.max(0, (v - low) / (high - low)));
        pixels[(top + y) * width + left + x] = Math.round(t * 255);
      }
    }
  }
  return { width, height, pixels };
}

/** PNG bytes of a grayscale picture. */
export function encodeGrayPng(image: GrayPicture): Uint8Array {
  const { width, height, pixels } = image;
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[4 * i] = png.data[4 * i + 1] = png.data[4 * i + 2] = pixels[i];
    png.data[4 * i + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
