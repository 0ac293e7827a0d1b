/**
 * PNG and JPEG decoding that trusts nothing in the file. The pixel decoding is pngjs's and
 * jpeg-js's; before either runs, the file's structure is walked here (PNG: signature, every
 * chunk's length and CRC, the IHDR fields, chunk order, the inflated data's exact size; JPEG: the
 * marker segments, the frame header, the scan running to an end-of-image marker), and the
 * picture's size is checked against a limit, so that a corrupt, truncated or hostile file fails
 * with a DataError that names the file and what is wrong, in bounded time and memory, instead of
 * a decoder's internal error, a silently half-decoded picture, or a multi-gigabyte allocation.
 * Node only (zlib, Buffer); a browser decodes pictures with a canvas.
 */
import { inflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { concatBytes } from "../data/bytes.js";
import { DataError } from "../data/errors.js";
import type { RgbaImage } from "../data/image-folder.js";

/** The largest picture decoded: 64 megapixels (8000 × 8000; 256 MB as RGBA). */
export const MAX_IMAGE_PIXELS = 64_000_000;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && PNG_SIGNATURE.slice(0, 4).every((b, i) => bytes[i] === b);
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** A PNG or JPEG picture, recognized by its signature, as RGBA bytes. */
export function decodePicture(bytes: Uint8Array, name: string): RgbaImage {
  if (isPng(bytes)) return decodePngStrict(bytes, name);
  if (isJpeg(bytes)) return decodeJpegStrict(bytes, name);
  const start = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new DataError(
    `${name}: not a PNG or JPEG image (${bytes.length === 0 ? "empty file" : `starts with ${start}`})`,
  );
}

// ---------------------------------------------------------------------------------------------
// PNG (https://www.w3.org/TR/png/)

/** Bit depths allowed for each colour type, and the samples per pixel. */
const PNG_COLOUR_TYPES: Record<number, { depths: number[]; samples: number; name: string }> = {
  0: { depths: [1, 2, 4, 8, 16], samples: 1, name: "grayscale" },
  2: { depths: [8, 16], samples: 3, name: "RGB" },
  3: { depths: [1, 2, 4, 8], samples: 1, name: "palette" },
  4: { depths: [8, 16], samples: 2, name: "grayscale + alpha" },
  6: { depths: [8, 16], samples: 4, name: "RGBA" },
};

/** Critical chunks this reader knows; any other critical chunk makes the file unreadable. */
const PNG_CRITICAL = new Set(["IHDR", "PLTE", "IDAT", "IEND"]);

interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlace: number;
}

/** Checks a PNG's structure and size, then decodes it (any bit depth or colour type) to RGBA. */
export function decodePngStrict(
  bytes: Uint8Array,
  name: string,
): RgbaImage & { colour: boolean; alpha: boolean } {
  const fail = (what: string): never => {
    throw new DataError(`${name}: ${what}`);
  };
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    fail(`corrupt PNG: the 8-byte signature is wrong or cut (${bytes.length} bytes in the file)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PngHeader | null = null;
  let palette = false;
  const idat: Uint8Array[] = [];
  let idatEnded = false;
  let ended = false;
  for (let at = 8, index = 0; at < bytes.length; index++) {
    if (ended) fail(`corrupt PNG: ${bytes.length - at} bytes after the IEND chunk`);
    if (at + 8 > bytes.length) fail(`truncated PNG: a chunk header at byte ${at} is cut off`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`corrupt PNG: chunk ${index} at byte ${at} has no valid type`);
    if (length > 0x7fffffff) fail(`corrupt PNG: chunk ${type} at byte ${at} claims ${length} bytes`);
    const end = at + 12 + length;
    if (end > bytes.length) {
      fail(
        `truncated PNG: chunk ${type} at byte ${at} needs ${length + 12} bytes, the file ends ${bytes.length - at} bytes after its start`,
      );
    }
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) {
      fail(`corrupt PNG: chunk ${type} at byte ${at} fails its CRC check`);
    }
    if (index === 0 && type !== "IHDR") fail(`corrupt PNG: the first chunk is ${type}, not IHDR`);
    if (idat.length > 0 && type !== "IDAT") idatEnded = true;
    switch (type) {
      case "IHDR":
        if (index !== 0) fail(`corrupt PNG: a second IHDR chunk at byte ${at}`);
        header = pngHeader(data, fail);
        break;
      case "PLTE":
        if (length === 0 || length % 3 !== 0 || length > 768) {
          fail(`corrupt PNG: palette of ${length} bytes (expected 3 per entry, at most 256 entries)`);
        }
        if (idat.length > 0) fail(`corrupt PNG: the palette comes after the image data`);
        palette = true;
        break;
      case "IDAT":
        if (idatEnded) fail(`corrupt PNG: image data (IDAT) chunks are not consecutive`);
        idat.push(data);
        break;
      case "IEND":
        if (length !== 0) fail(`corrupt PNG: IEND chunk of ${length} bytes`);
        ended = true;
        break;
      default:
        // Upper case first letter: critical, cannot be skipped (PNG §5.4).
        if (type.charCodeAt(0) < 0x61 && !PNG_CRITICAL.has(type)) {
          fail(`unsupported PNG: unknown critical chunk ${type}`);
        }
    }
    at = end;
  }
  if (!ended) fail(`truncated PNG: no IEND chunk (the file ends after ${bytes.length} bytes)`);
  if (idat.length === 0) fail(`corrupt PNG: no image data (IDAT chunk)`);
  const h = header!;
  if (h.colourType === 3 && !palette) fail(`corrupt PNG: a palette image without a PLTE chunk`);

  // The inflated data must be exactly the filtered scanlines the header announces.
  const expected = pngDataSize(h);
  let inflated: Buffer;
  try {
    inflated = inflateSync(idat.length === 1 ? idat[0] : concatBytes(idat), {
      maxOutputLength: expected + 1,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      fail(`corrupt PNG: more image data than ${h.width}×${h.height} pixels need (${expected} bytes)`);
    }
    fail(`corrupt PNG: the image data does not decompress (${(e as Error).message})`);
  }
  if (inflated!.length !== expected) {
    fail(
      `truncated PNG: the image data holds ${inflated!.length} of the ${expected} bytes ${h.width}×${h.height} pixels need`,
    );
  }

  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    fail(`corrupt PNG (${(e as Error).message})`);
  }
  if (png!.width !== h.width || png!.height !== h.height || png!.data.length !== 4 * h.width * h.height) {
    fail(`corrupt PNG: decoded to ${png!.width}×${png!.height}, the header says ${h.width}×${h.height}`);
  }
  // pngjs always expands to RGBA; `color` and `alpha` describe the file itself.
  return {
    width: png!.width,
    height: png!.height,
    data: new Uint8Array(png!.data.buffer, png!.data.byteOffset, png!.data.byteLength),
    colour: png!.color,
    alpha: png!.alpha,
  };
}

function pngHeader(data: Uint8Array, fail: (what: string) => never): PngHeader {
  if (data.length !== 13) fail(`corrupt PNG: IHDR chunk of ${data.length} bytes, expected 13`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const header = {
    width: view.getUint32(0),
    height: view.getUint32(4),
    depth: data[8],
    colourType: data[9],
    interlace: data[12],
  };
  const kind = PNG_COLOUR_TYPES[header.colourType];
  if (kind === undefined) fail(`corrupt PNG: colour type ${header.colourType} does not exist`);
  if (!kind.depths.includes(header.depth)) {
    fail(
      `corrupt PNG: bit depth ${header.depth} is not allowed for ${kind.name} (${kind.depths.join(", ")})`,
    );
  }
  if (data[10] !== 0 || data[11] !== 0) fail(`corrupt PNG: unknown compression or filter method`);
  if (header.interlace > 1) fail(`corrupt PNG: unknown interlace method ${header.interlace}`);
  checkSize(header.width, header.height, "PNG", fail);
  return header;
}

/** Bytes of the filtered scanlines (a filter byte per row), over the seven passes when interlaced. */
function pngDataSize(h: PngHeader): number {
  const bitsPerPixel = h.depth * PNG_COLOUR_TYPES[h.colourType].samples;
  const rows = (width: number, height: number) =>
    width === 0 || height === 0 ? 0 : height * (1 + Math.ceil((width * bitsPerPixel) / 8));
  if (h.interlace === 0) return rows(h.width, h.height);
  // Adam7: each pass's (x0, y0, dx, dy).
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    total += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  }
  return total;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG uses it (ISO 3309, the zlib one). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// JPEG (ITU T.81, JFIF)

/** Frame types (SOFn) jpeg-js decodes: baseline, extended sequential and progressive Huffman. */
const JPEG_DECODABLE_FRAMES = new Set([0xc0, 0xc1, 0xc2]);
const JPEG_FRAMES = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Walks a JPEG's marker segments and scans, checks its size, then decodes it to RGBA. */
export function decodeJpegStrict(bytes: Uint8Array, name: string): RgbaImage {
  const fail = (what: string): never => {
    throw new DataError(`${name}: ${what}`);
  };
  const truncated = (what: string): never =>
    fail(`truncated JPEG: ${what} (the file has ${bytes.length} bytes)`);
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) fail(`corrupt JPEG: no start-of-image marker`);
  let frame: { width: number; height: number; type: number } | null = null;
  let scans = 0;
  let scanBytes = 0;
  let at = 2;
  for (;;) {
    if (at >= bytes.length) truncated(`no end-of-image marker`);
    if (bytes[at] !== 0xff) fail(`corrupt JPEG: expected a marker at byte ${at}, found 0x${hex(bytes[at])}`);
    while (at < bytes.length && bytes[at] === 0xff) at++; // fill bytes
    if (at >= bytes.length) truncated(`no end-of-image marker`);
    const marker = bytes[at++];
    if (marker === 0xd9) break; // EOI; anything after it is not part of the picture
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x00) {
      fail(`corrupt JPEG: marker 0xff${hex(marker)} out of place at byte ${at - 2}`);
    }
    if (marker === 0x01) continue; // TEM: no segment
    if (at + 2 > bytes.length) truncated(`segment 0xff${hex(marker)} at byte ${at - 2} is cut off`);
    const length = (bytes[at] << 8) | bytes[at + 1];
    if (length < 2) fail(`corrupt JPEG: segment 0xff${hex(marker)} at byte ${at - 2} has length ${length}`);
    if (at + length > bytes.length)
      truncated(`segment 0xff${hex(marker)} at byte ${at - 2} needs ${length} bytes`);
    const segment = bytes.subarray(at + 2, at + length);
    at += length;
    if (JPEG_FRAMES.has(marker)) {
      if (frame) fail(`corrupt JPEG: a second frame header`);
      if (!JPEG_DECODABLE_FRAMES.has(marker)) {
        fail(
          `unsupported JPEG: frame type 0xff${hex(marker)} (lossless or arithmetic coding); zerodl reads baseline and progressive JPEG`,
        );
      }
      if (segment.length < 6) fail(`corrupt JPEG: frame header of ${segment.length} bytes`);
      const height = (segment[1] << 8) | segment[2];
      const width = (segment[3] << 8) | segment[4];
      const components = segment[5];
      if (components !== 1 && components !== 3 && components !== 4) {
        fail(`corrupt JPEG: ${components} colour components (expected 1, 3 or 4)`);
      }
      if (segment.length !== 6 + 3 * components) {
        fail(`corrupt JPEG: frame header of ${segment.length} bytes for ${components} components`);
      }
      checkSize(width, height, "JPEG", fail);
      frame = { width, height, type: marker };
    } else if (marker === 0xda) {
      if (!frame) fail(`corrupt JPEG: a scan before the frame header`);
      scans++;
      const scanStart = at;
      // Entropy-coded data: runs to the next marker that is not a stuffed 0xff00 or a restart.
      for (;;) {
        while (at < bytes.length && bytes[at] !== 0xff) at++;
        if (at + 1 >= bytes.length) truncated(`the image data of scan ${scans} is cut off`);
        const next = bytes[at + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          at += next === 0xff ? 1 : 2;
          continue;
        }
        break;
      }
      scanBytes += at - scanStart;
    }
  }
  if (!frame) fail(`corrupt JPEG: no frame header (SOF)`);
  if (scans === 0) fail(`corrupt JPEG: no image data (SOS)`);
  // Every 8×8 block costs at least a bit of image data (a 1-bit DC code; progressive scans code runs
  // of empty blocks in a few bits), and colour may be subsampled 2×2: so at least blocks / 32 bytes,
  // and blocks / 64 leaves a margin. A few hundred bytes claiming 8000×8000 pixels would otherwise
  // have jpeg-js allocate and decode a 256 MB picture before failing.
  const blocks = Math.ceil(frame!.width / 8) * Math.ceil(frame!.height / 8);
  if (scanBytes * 64 < blocks) {
    truncated(
      `${scanBytes} bytes of image data cannot hold ${frame!.width}×${frame!.height} pixels (at least ${Math.ceil(blocks / 64)})`,
    );
  }

  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false, // never a half-decoded picture
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    const message = (e as Error).message;
    // An end-of-image marker in the middle of the image data: the rest was cut off.
    if (/unexpected marker: ffd9/.test(message)) {
      fail(`truncated JPEG: the image data ends before the last row (${message})`);
    }
    fail(`corrupt JPEG (${message})`);
  }
  if (image!.width !== frame!.width || image!.height !== frame!.height) {
    fail(
      `corrupt JPEG: decoded to ${image!.width}×${image!.height}, the header says ${frame!.width}×${frame!.height}`,
    );
  }
  if (image!.data.length !== 4 * image!.width * image!.height) {
    fail(`corrupt JPEG: decoded ${image!.data.length} bytes for ${image!.width}×${image!.height} pixels`);
  }
  return { width: image!.width, height: image!.height, data: image!.data };
}

function checkSize(width: number, height: number, format: string, fail: (what: string) => never): void {
  if (width === 0 || height === 0) fail(`corrupt ${format}: size ${width}×${height}`);
  if (width * height > MAX_IMAGE_PIXELS) {
    fail(`${format} of ${width}×${height} pixels is over the ${MAX_IMAGE_PIXELS / 1e6}-megapixel limit`);
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}
