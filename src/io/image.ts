/**
 * Turning a user's picture (PNG or JPEG, any size, any colour) into a model input like MNIST's:
 * grayscale in [0, 1], white digit on black, the digit fitted into a 20×20 box and centred by its
 * centre of mass in a 28×28 image (how the MNIST images themselves were made).
 */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { RgbaImage } from "../data/image-folder.js";

/** Grayscale, values in [0, 1], row-major: what a model takes. */
export interface InputImage {
  width: number;
  height: number;
  pixels: Float32Array;
}

/** Decodes PNG or JPEG bytes, recognized by their signature; errors name the file. */
export function decodeImage(bytes: Uint8Array, fileName: string): RgbaImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new Error(`${fileName}: unreadable ${isPng ? "PNG" : "JPEG"} image (${(e as Error).message})`, {
      cause: e,
    });
  }
  throw new Error(`${fileName}: not a PNG or JPEG image`);
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

export function invert(image: InputImage): InputImage {
  return { ...image, pixels: image.pixels.map((v) => 1 - v) };
}

/** Area-averaging resize (each output pixel is the mean of the input area it covers). */
export function resize(image: InputImage, width: number, height: number): InputImage {
  const { width: sw, height: sh, pixels: src } = image;
  const out = new Float32Array(width * height);
  const fx = sw / width;
  const fy = sh / height;
  for (let oy = 0; oy < height; oy++) {
    const y0 = oy * fy;
    const y1 = y0 + fy;
    for (let ox = 0; ox < width; ox++) {
      const x0 = ox * fx;
      const x1 = x0 + fx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y1, y + 1) - Math.max(y0, y);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const wx = Math.min(x1, x + 1) - Math.max(x0, x);
          sum += src[y * sw + x] * wx * wy;
          area += wx * wy;
        }
      }
      out[oy * width + ox] = sum / area;
    }
  }
  return { width, height, pixels: out };
}

/**
 * MNIST's own preprocessing: crop to the ink, scale the longer side to `box` (20) keeping the aspect
 * ratio, and place it in a size×size (28×28) image so its centre of mass is at the centre.
 * Expects a white-on-black image. A blank image is simply resized.
 */
export function fitLikeMnist(image: InputImage, size = 28, box = 20): InputImage {
  const { width: w, height: h, pixels } = image;
  const threshold = 0.1;
  let [minX, minY, maxX, maxY] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (pixels[y * w + x] > threshold) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
  }
  if (maxX < 0) return resize(image, size, size);
  const cw = maxX - minX + 1;
  const ch = maxY - minY + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++)
    crop.set(pixels.subarray((minY + y) * w + minX, (minY + y) * w + minX + cw), y * cw);
  const scale = box / Math.max(cw, ch);
  const tw = Math.max(1, Math.round(cw * scale));
  const th = Math.max(1, Math.round(ch * scale));
  const digit = resize({ width: cw, height: ch, pixels: crop }, tw, th);

  // Centre of mass of the scaled digit → where to paste it so that point lands at the centre.
  let [mass, mx, my] = [0, 0, 0];
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = digit.pixels[y * tw + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const left = clamp(Math.round(size / 2 - mx / mass), size - tw);
  const top = clamp(Math.round(size / 2 - my / mass), size - th);
  const out = new Float32Array(size * size);
  for (let y = 0; y < th; y++) out.set(digit.pixels.subarray(y * tw, (y + 1) * tw), (top + y) * size + left);
  return { width: size, height: size, pixels: out };
}

export interface PreparedImage {
  image: InputImage;
  /** What was done to the picture, for the user (e.g. "inverted: dark digit on light background"). */
  notes: string[];
}

/**
 * A picture as a width×height model input. `polarity` "auto" inverts pictures with a light border
 * (a dark digit on paper), since MNIST digits are white on black. An image already of the model's
 * size with the right polarity is used as it is.
 */
export function prepareImage(
  rgba: RgbaImage,
  size: { width: number; height: number },
  options: { polarity?: "auto" | "invert" | "keep"; fit?: "mnist" | "stretch" } = {},
): PreparedImage {
  const notes: string[] = [];
  let image = toGray(rgba);
  const polarity = options.polarity ?? "auto";
  if (polarity === "invert" || (polarity === "auto" && borderMean(image) > 0.5)) {
    image = invert(image);
    notes.push("inverted (MNIST digits are white on black)");
  }
  if (image.width !== size.width || image.height !== size.height) {
    const from = `${image.width}×${image.height}`;
    if ((options.fit ?? "mnist") === "mnist" && size.width === size.height) {
      image = fitLikeMnist(image, size.width, Math.round((size.width * 20) / 28));
      notes.push(
        `${from} → digit fitted into ${size.width}×${size.height} as MNIST (20×20 box, centred by mass)`,
      );
    } else {
      image = resize(image, size.width, size.height);
      notes.push(`${from} → resized to ${size.width}×${size.height}`);
    }
  }
  return { image, notes };
}
