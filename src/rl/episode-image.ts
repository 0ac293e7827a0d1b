/**
 * Pictures of an episode: a strip of frames side by side (PNG) and an animation (GIF). Pure (bytes
 * in memory), so the browser can use them too.
 */
import { GifWriter } from "omggif";
import { PNG } from "pngjs";
import { Canvas } from "./canvas.js";
import type { RgbImage } from "./environment.js";

export interface StripOptions {
  /** At most this many frames, evenly spaced, the first and the last always in (default 10). */
  maxFrames?: number;
  /** Pixels between frames (default 4). */
  gap?: number;
}

/** The frames to show of `count`: evenly spaced indices, the first and the last included. */
export function stripIndices(count: number, maxFrames: number): number[] {
  if (count <= maxFrames) return Array.from({ length: count }, (_, i) => i);
  if (maxFrames === 1) return [count - 1];
  return Array.from({ length: maxFrames }, (_, i) => Math.round((i * (count - 1)) / (maxFrames - 1)));
}

/** Frames side by side, left to right, on a light grey background. */
export function frameStrip(
  frames: readonly RgbImage[],
  { maxFrames = 10, gap = 4 }: StripOptions = {},
): RgbImage {
  if (frames.length === 0) throw new RangeError("frameStrip: no frames");
  const shown = stripIndices(frames.length, maxFrames).map((i) => frames[i]);
  const height = Math.max(...shown.map((f) => f.height));
  const width = shown.reduce((w, f) => w + f.width, 0) + gap * (shown.length - 1);
  const strip = new Canvas(width, height, [200, 200, 200]);
  let x0 = 0;
  for (const frame of shown) {
    for (let y = 0; y < frame.height; y++) {
      strip.data.set(
        frame.data.subarray(y * frame.width * 3, (y + 1) * frame.width * 3),
        (y * width + x0) * 3,
      );
    }
    x0 += frame.width + gap;
  }
  return strip;
}

export function encodePng(image: RgbImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  for (let i = 0; i < image.width * image.height; i++) {
    png.data[4 * i] = image.data[3 * i];
    png.data[4 * i + 1] = image.data[3 * i + 1];
    png.data[4 * i + 2] = image.data[3 * i + 2];
    png.data[4 * i + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}

/**
 * An animated GIF of equally sized frames, `delayMs` each (GIF counts in hundredths of a second),
 * looping forever. The environments draw in a few flat colours, so one exact palette serves every
 * frame; more than 256 colours is an error.
 */
export function encodeGif(frames: readonly RgbImage[], delayMs = 100): Uint8Array {
  if (frames.length === 0) throw new RangeError("encodeGif: no frames");
  const { width, height } = frames[0];
  const index = new Map<number, number>();
  const indexed = frames.map((frame, f) => {
    if (frame.width !== width || frame.height !== height) {
      throw new RangeError(
        `encodeGif: frame ${f} is ${frame.width}×${frame.height}, frame 0 ${width}×${height}`,
      );
    }
    const pixels = new Array<number>(width * height);
    for (let i = 0; i < width * height; i++) {
      const rgb = (frame.data[3 * i] << 16) | (frame.data[3 * i + 1] << 8) | frame.data[3 * i + 2];
      let k = index.get(rgb);
      if (k === undefined) {
        if (index.size === 256) throw new RangeError("encodeGif: the frames have more than 256 colours");
        k = index.size;
        index.set(rgb, k);
      }
      pixels[i] = k;
    }
    return pixels;
  });
  let size = 2;
  while (size < index.size) size *= 2;
  const palette = [...index.keys(), ...new Array<number>(size - index.size).fill(0)];
  // Each frame at most one byte per pixel plus LZW's overhead; the header and palette on top.
  const buffer = new Uint8Array(1024 + 3 * size + frames.length * (2 * width * height + 1024));
  const gif = new GifWriter(buffer, width, height, { palette, loop: 0 });
  const delay = Math.max(1, Math.round(delayMs / 10));
  for (const pixels of indexed) gif.addFrame(0, 0, width, height, pixels, { delay });
  return buffer.slice(0, gif.end());
}
