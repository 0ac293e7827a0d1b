/**
 * Bring your own images: decoded pictures of any size or colour become a dataset in MNIST's form
 * (grayscale, 28×28 by default), with a note of every conversion made. The folder walking and PNG
 * decoding live in node/image-folder.ts; in a browser, decode with a canvas (ImageData has the
 * same RGBA layout) and call `imagesToDataset` directly.
 */
import { NDArray } from "../ndarray.js";
import type { Dataset } from "./dataset.js";
import { DataError } from "./errors.js";

/** A decoded image: 4 bytes (R, G, B, A) per pixel, row-major, as pngjs and ImageData hold it. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** Whether the source had colour (it is converted to gray) or transparency. */
  colour?: boolean;
  alpha?: boolean;
}

/** A grayscale image, values in 0…255. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface LabelledImage {
  /** Where it came from, for messages. */
  name: string;
  /** Index into `classNames`. */
  label: number;
  image: RgbaImage;
}

export interface ImageDatasetOptions {
  /** Target (height, width), default 28×28. */
  imageShape?: readonly [number, number];
  /** Pixels / 255 (default true). */
  normalize?: boolean;
  /** (N, H·W) rows (default true); otherwise (N, 1, H, W). */
  flatten?: boolean;
  /** 255 − v: MNIST digits are light on dark, most scans are dark on light (default false). */
  invert?: boolean;
}

/**
 * Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B), the weights PIL's convert("L") uses.
 * Transparent pixels count as black, MNIST's background.
 */
export function toGrayscale(img: RgbaImage): GrayImage {
  const n = img.width * img.height;
  if (img.data.length !== 4 * n) {
    throw new DataError(
      `image of ${img.width}×${img.height} needs ${4 * n} RGBA bytes, has ${img.data.length}`,
    );
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [r, g, b, a] = [img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2], img.data[4 * i + 3]];
    out[i] = ((0.299 * r + 0.587 * g + 0.114 * b) * a) / 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/**
 * Resizes to (height, width): area averaging where a dimension shrinks (every source pixel
 * contributes by the area it covers, so thin strokes survive), bilinear where it grows.
 */
export function resizeGray(img: GrayImage, height: number, width: number): GrayImage {
  if (img.width === width && img.height === height) return img;
  const rows = resampleAxis(img.height, height);
  const cols = resampleAxis(img.width, width);
  const out = new Float32Array(height * width);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      let sum = 0;
      for (const [sr, wr] of rows[r])
        for (const [sc, wc] of cols[c]) sum += wr * wc * img.data[sr * img.width + sc];
      out[r * width + c] = sum;
    }
  }
  return { width, height, data: out };
}

/** For each output index along one axis: the source indices and weights (summing to 1). */
function resampleAxis(from: number, to: number): [number, number][][] {
  const out: [number, number][][] = [];
  const ratio = from / to;
  for (let i = 0; i < to; i++) {
    const taps: [number, number][] = [];
    if (to < from) {
      // Output pixel i covers source interval [i·ratio, (i+1)·ratio).
      const lo = i * ratio;
      const hi = lo + ratio;
      for (let s = Math.floor(lo); s < Math.ceil(hi); s++) {
        const overlap = Math.min(hi, s + 1) - Math.max(lo, s);
        if (overlap > 1e-12) taps.push([s, overlap / ratio]);
      }
    } else {
      // Pixel centres aligned: source coordinate of output centre i.
      const x = Math.min(Math.max((i + 0.5) * ratio - 0.5, 0), from - 1);
      const s0 = Math.floor(x);
      const f = x - s0;
      taps.push([s0, 1 - f]);
      if (f > 0) taps.push([s0 + 1, f]);
    }
    out.push(taps);
  }
  return out;
}

/** Converts images to a dataset; returns notes that say what was done (e.g. "12 images resized"). */
export function imagesToDataset(
  images: readonly LabelledImage[],
  classNames: readonly string[],
  options: ImageDatasetOptions = {},
): { dataset: Dataset; notes: string[] } {
  const [h, w] = options.imageShape ?? [28, 28];
  if (images.length === 0) throw new DataError("no images");
  const pixels = new Float32Array(images.length * h * w);
  const labels = new Int32Array(images.length);
  const resized = new Map<string, number>();
  let coloured = 0;
  let transparent = 0;
  const scale = options.normalize === false ? 1 : 1 / 255;

  images.forEach(({ name, label, image }, n) => {
    if (!(Number.isInteger(label) && label >= 0 && label < classNames.length)) {
      throw new DataError(`${name}: label ${label} is not a class in 0..${classNames.length - 1}`);
    }
    labels[n] = label;
    if (image.colour) coloured++;
    if (image.alpha) transparent++;
    if (image.width !== w || image.height !== h) {
      const size = `${image.width}×${image.height}`;
      resized.set(size, (resized.get(size) ?? 0) + 1);
    }
    const gray = resizeGray(toGrayscale(image), h, w);
    for (let i = 0; i < h * w; i++) {
      const v = options.invert ? 255 - gray.data[i] : gray.data[i];
      pixels[n * h * w + i] = v * scale;
    }
  });

  const notes: string[] = [];
  if (coloured)
    notes.push(`${coloured} colour image(s) converted to grayscale (luma 0.299 R + 0.587 G + 0.114 B)`);
  if (transparent) notes.push(`${transparent} image(s) with transparency: transparent pixels count as black`);
  for (const [size, count] of resized) {
    notes.push(
      `${count} image(s) of ${size} resized to ${w}×${h} (area average when shrinking, bilinear when growing)`,
    );
  }
  if (options.invert)
    notes.push("inverted (255 − v): dark strokes on light paper became light on dark, as in MNIST");

  const shape = options.flatten === false ? [images.length, 1, h, w] : [images.length, h * w];
  return { dataset: { x: new NDArray(pixels, shape), labels, classNames }, notes };
}
