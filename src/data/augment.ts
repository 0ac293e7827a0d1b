/**
 * Data augmentation (the book's chapter 7.1.2 idea): small random changes to each training image
 * (shift, rotation, scale, crop, flip, brightness) so that a network sees more variety than the
 * dataset holds. Every transform is seeded through the Rng it is given, draws its parameters per
 * image, and is composable; `compose(...)` has the shape of the Trainer's `augment` option.
 *
 * Transforms take and return (N, C, H, W) batches. For flattened rows (N, H·W) wrap the augment in
 * `onFlatImages([C, H, W], augment)`: the image shape is stated, never guessed from the row length.
 *
 * Geometry: pixel (row r, column c) has coordinates x = c − cx, y = r − cy about the image centre
 * (cx, cy) = ((W − 1)/2, (H − 1)/2), with y pointing down as on screen. Resampling is bilinear;
 * pixels that come from outside the image are 0 (the background of MNIST).
 */
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, type Floats } from "../ndarray.js";
import { Rng } from "../rng.js";

/** The Trainer's `augment` option: a new batch from a batch. */
export type Augment = (x: NDArray, rng: Rng) => NDArray;

/** Applies the transforms in order. */
export function compose(...transforms: Augment[]): Augment {
  return (x, rng) => transforms.reduce((batch, t) => t(batch, rng), x);
}

/** Lets an image augment work on flattened rows (N, C·H·W) by viewing them as (N, C, H, W). */
export function onFlatImages(imageShape: readonly [number, number, number], augment: Augment): Augment {
  const [c, h, w] = imageShape;
  return (x, rng) => {
    if (x.ndim !== 2 || x.shape[1] !== c * h * w) {
      throw new ShapeError(
        `onFlatImages: expected rows (N, ${c * h * w}) of ${c}×${h}×${w} images, got ${formatShape(x.shape)}`,
      );
    }
    const out = augment(x.reshape(x.shape[0], c, h, w), rng);
    return out.reshape(out.shape[0], -1);
  };
}

// ---- Deterministic transforms: the same change to every image of the batch ----

/** Moves the content `dx` pixels right and `dy` pixels down. */
export function shiftImages(x: NDArray, dx: number, dy: number): NDArray {
  return mapImages(x, (img, out, h, w) => warp(img, out, h, w, (ox, oy) => [ox - dx, oy - dy]));
}

/** Rotates the content by `degrees` counter-clockwise (as seen on screen) about the centre. */
export function rotateImages(x: NDArray, degrees: number): NDArray {
  return mapImages(x, (img, out, h, w) => rotateImage(img, out, h, w, degrees));
}

/** Zooms the content by `factor` about the centre (> 1 enlarges). */
export function scaleImages(x: NDArray, factor: number): NDArray {
  return mapImages(x, (img, out, h, w) => warp(img, out, h, w, (ox, oy) => [ox / factor, oy / factor]));
}

/** Mirrors left and right. */
export function flipImages(x: NDArray): NDArray {
  return mapImages(x, (img, out, h, w) => {
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out[r * w + c] = img[r * w + (w - 1 - c)];
  });
}

/**
 * Pads each image with `pad` zero pixels on every side, then cuts out an (outH, outW) window whose
 * top-left corner is at (top, left) of the padded image.
 */
export function cropImages(
  x: NDArray,
  pad: number,
  top: number,
  left: number,
  outH?: number,
  outW?: number,
): NDArray {
  const [n, ch, h, w] = imageDims(x, "crop");
  const oh = outH ?? h;
  const ow = outW ?? w;
  if (top < 0 || left < 0 || top + oh > h + 2 * pad || left + ow > w + 2 * pad) {
    throw new RangeError(
      `crop: window ${oh}×${ow} at (${top}, ${left}) leaves the padded ${h + 2 * pad}×${w + 2 * pad} image`,
    );
  }
  const out = NDArray.zeros([n, ch, oh, ow], x.dtype);
  for (let p = 0; p < n * ch; p++) {
    for (let r = 0; r < oh; r++) {
      const sr = top + r - pad;
      if (sr < 0 || sr >= h) continue;
      for (let c = 0; c < ow; c++) {
        const sc = left + c - pad;
        if (sc >= 0 && sc < w) out.data[(p * oh + r) * ow + c] = x.data[(p * h + sr) * w + sc];
      }
    }
  }
  return out;
}

// ---- Random transforms: parameters drawn per image ----

/** Shifts each image by whole pixels, up to `max` in each direction. */
export function randomShift(max: number): Augment {
  return perImage((img, out, h, w, rng) => {
    const dx = rng.int(2 * max + 1) - max;
    const dy = rng.int(2 * max + 1) - max;
    warp(img, out, h, w, (ox, oy) => [ox - dx, oy - dy]);
  });
}

/** Rotates each image by an angle drawn uniformly from [−maxDegrees, maxDegrees]. */
export function randomRotation(maxDegrees: number): Augment {
  return perImage((img, out, h, w, rng) => rotateImage(img, out, h, w, rng.uniform(-maxDegrees, maxDegrees)));
}

/** Zooms each image by a factor drawn uniformly from [min, max]. */
export function randomScale(min: number, max: number): Augment {
  return perImage((img, out, h, w, rng) => {
    const factor = rng.uniform(min, max);
    warp(img, out, h, w, (ox, oy) => [ox / factor, oy / factor]);
  });
}

/** Pads by `pad` and cuts a window of the original size at a random place (per image). */
export function randomCrop(pad: number): Augment {
  return perImage((img, out, h, w, rng) => {
    // A crop of the padded image at (top, left) is a whole-pixel shift by (pad − left, pad − top).
    const dx = pad - rng.int(2 * pad + 1);
    const dy = pad - rng.int(2 * pad + 1);
    warp(img, out, h, w, (ox, oy) => [ox - dx, oy - dy]);
  });
}

/** Mirrors each image with probability `p` (default ½). Not for digits: a mirrored 2 is no 2. */
export function randomFlip(p = 0.5): Augment {
  return perImage((img, out, h, w, rng) => {
    const flip = rng.uniform() < p;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) out[r * w + c] = img[r * w + (flip ? w - 1 - c : c)];
    }
  });
}

/**
 * Multiplies each image by a factor drawn from [1 − delta, 1 + delta], then clips to `range`
 * (default [0, 1], for normalized pixels; null for no clipping).
 */
export function randomBrightness(delta: number, range: readonly [number, number] | null = [0, 1]): Augment {
  return perImage((img, out, _h, _w, rng) => {
    const factor = rng.uniform(1 - delta, 1 + delta);
    for (let i = 0; i < img.length; i++) {
      const v = img[i] * factor;
      out[i] = range ? Math.min(range[1], Math.max(range[0], v)) : v;
    }
  });
}

// ---- Plumbing ----

/** One image plane in, one out (same size): `img` and `out` are H·W views, row-major. */
type PlaneFn = (img: Floats, out: Floats, h: number, w: number) => void;

function imageDims(x: NDArray, what: string): [number, number, number, number] {
  if (x.ndim !== 4) {
    throw new ShapeError(
      `${what}: expected images (N, C, H, W), got ${formatShape(x.shape)}; for rows use onFlatImages`,
    );
  }
  return x.shape as unknown as [number, number, number, number];
}

function mapImages(x: NDArray, fn: PlaneFn): NDArray {
  const [n, ch, h, w] = imageDims(x, "augment");
  const out = NDArray.zeros(x.shape, x.dtype);
  const size = h * w;
  for (let p = 0; p < n * ch; p++) {
    fn(x.data.subarray(p * size, (p + 1) * size), out.data.subarray(p * size, (p + 1) * size), h, w);
  }
  return out;
}

/** A random transform: its parameters are drawn once per image and shared by the image's channels. */
function perImage(fn: (img: Floats, out: Floats, h: number, w: number, rng: Rng) => void): Augment {
  return (x, rng) => {
    const [n, ch, h, w] = imageDims(x, "augment");
    const out = NDArray.zeros(x.shape, x.dtype);
    const size = h * w;
    for (let i = 0; i < n; i++) {
      const seed = rng.nextUint32();
      for (let c = 0; c < ch; c++) {
        const p = i * ch + c;
        // Every channel replays the image's draws from the same seed.
        fn(
          x.data.subarray(p * size, (p + 1) * size),
          out.data.subarray(p * size, (p + 1) * size),
          h,
          w,
          new Rng(seed),
        );
      }
    }
    return out;
  };
}

function rotateImage(img: Floats, out: Floats, h: number, w: number, degrees: number): void {
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  // Output (x', y') comes from input (x, y) = R(−θ)(x', y'); with y down, a counter-clockwise
  // turn on screen maps x' = x·cos + y·sin, y' = −x·sin + y·cos, whose inverse is below.
  warp(img, out, h, w, (ox, oy) => [ox * cos - oy * sin, ox * sin + oy * cos]);
}

/**
 * Fills `out` by sampling `img` where `source` sends each output pixel (both in centred
 * coordinates), with bilinear interpolation and zeros outside.
 */
function warp(
  img: Floats,
  out: Floats,
  h: number,
  w: number,
  source: (x: number, y: number) => readonly [number, number],
): void {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const [sx, sy] = source(c - cx, r - cy);
      out[r * w + c] = bilinear(img, h, w, sy + cy, sx + cx);
    }
  }
}

function bilinear(img: Floats, h: number, w: number, r: number, c: number): number {
  // Snap values within rounding of a whole pixel (cos 90° is 6e-17, not 0) so exact moves stay exact.
  const rr = Math.abs(r - Math.round(r)) < 1e-9 ? Math.round(r) : r;
  const cc = Math.abs(c - Math.round(c)) < 1e-9 ? Math.round(c) : c;
  const r0 = Math.floor(rr);
  const c0 = Math.floor(cc);
  const fr = rr - r0;
  const fc = cc - c0;
  const at = (i: number, j: number) => (i >= 0 && i < h && j >= 0 && j < w ? img[i * w + j] : 0);
  return (
    (1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c0 + 1)) +
    fr * ((1 - fc) * at(r0 + 1, c0) + fc * at(r0 + 1, c0 + 1))
  );
}
