import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { DataError } from "../data/errors.js";
import { loadMnist } from "../data/mnist.js";
import { MAX_IMAGE_PIXELS, crc32, decodePicture } from "./image-decode.js";

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../test/fixtures/images/${name}`, import.meta.url)));

/** The first four MNIST test digits (7, 2, 1, 0) as bytes 0…255, which the fixtures were made from. */
let digits: Uint8Array[] = [];
beforeAll(async () => {
  const { test } = await loadMnist({ subset: { train: 0, test: 4 }, normalize: false });
  digits = [0, 1, 2, 3].map((k) => Uint8Array.from(test.x.data.subarray(k * 784, (k + 1) * 784)));
});

/** The red channel of an RGBA picture. */
const red = (data: Uint8Array | Uint8ClampedArray) =>
  Uint8Array.from({ length: data.length / 4 }, (_, i) => data[4 * i]);

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** A PNG put together chunk by chunk (CRCs computed here), for files a normal encoder never writes. */
function png(chunks: [string, Uint8Array][]): Uint8Array {
  const parts: number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  for (const [type, data] of chunks) {
    const body = new Uint8Array([...new TextEncoder().encode(type), ...data]);
    const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    parts.push(...u32(data.length), ...body, ...u32(crc32(body)));
  }
  return new Uint8Array(parts);
}

function ihdr(width: number, height: number, depth = 8, colourType = 0, interlace = 0): Uint8Array {
  const out = new Uint8Array(13);
  const view = new DataView(out.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  out.set([depth, colourType, 0, 0, interlace], 8);
  return out;
}

/** A w×h 8-bit grayscale PNG whose scanlines (filter byte 0 each) hold `rows` bytes in all. */
function grayPng(w: number, h: number, rows = h * (w + 1)): Uint8Array {
  return png([
    ["IHDR", ihdr(w, h)],
    ["IDAT", new Uint8Array(deflateSync(new Uint8Array(rows)))],
    ["IEND", new Uint8Array(0)],
  ]);
}

describe("decodePicture: PNG", () => {
  it("decodes Pillow's PNGs of MNIST digits in every colour type to the digits' pixels", () => {
    expect(red(decodePicture(fixture("digit7-gray.png"), "a").data)).toEqual(digits[0]);
    expect(red(decodePicture(fixture("digit2-palette.png"), "a").data)).toEqual(digits[1]);
    // 16 bit: v·257, which pngjs scales back to 8 bits.
    expect(red(decodePicture(fixture("digit0-16bit.png"), "a").data)).toEqual(digits[3]);
    const rgb = decodePicture(fixture("digit7-rgb.png"), "a");
    expect(red(rgb.data)).toEqual(digits[0].map((v) => 255 - v));
    const la = decodePicture(fixture("digit2-la.png"), "a");
    expect(red(la.data)).toEqual(digits[1]);
    expect(la.data[3]).toBe(40); // alpha of a background pixel
    const bits = decodePicture(fixture("digit1-1bit.png"), "a");
    expect([bits.width, bits.height]).toEqual([28, 28]);
    expect(red(bits.data).every((v) => v === 0 || v === 255)).toBe(true);
  });

  it("decodes an interlaced PNG", () => {
    // A 1×1 image has only Adam7's first pass: one row (filter byte, pixel).
    const file = png([
      ["IHDR", ihdr(1, 1, 8, 0, 1)],
      ["IDAT", new Uint8Array(deflateSync(new Uint8Array([0, 200])))],
      ["IEND", new Uint8Array(0)],
    ]);
    const image = decodePicture(file, "i.png");
    expect(Array.from(image.data)).toEqual([200, 200, 200, 255]);
  });

  const good = grayPng(3, 2);
  const withByte = (bytes: Uint8Array, at: number, value: number) => {
    const out = Uint8Array.from(bytes);
    out[at] = value;
    return out;
  };
  const cases: [string, Uint8Array, string][] = [
    ["an empty file", new Uint8Array(0), "x.png: not a PNG or JPEG image (empty file)"],
    ["a GIF", new TextEncoder().encode("GIF89a"), "x.png: not a PNG or JPEG image (starts with 47 49 46 38)"],
    [
      "a cut signature",
      good.subarray(0, 6),
      "x.png: corrupt PNG: the 8-byte signature is wrong or cut (6 bytes in the file)",
    ],
    [
      "a file cut inside a chunk",
      good.subarray(0, 30),
      "x.png: truncated PNG: chunk IHDR at byte 8 needs 25 bytes, the file ends 22 bytes after its start",
    ],
    [
      "a file cut between chunks",
      good.subarray(0, 33),
      "x.png: truncated PNG: no IEND chunk (the file ends after 33 bytes)",
    ],
    [
      "a wrong CRC",
      withByte(good, 20, good[20] ^ 1),
      "x.png: corrupt PNG: chunk IHDR at byte 8 fails its CRC check",
    ],
    [
      "4 bytes after IEND",
      new Uint8Array([...good, 1, 2, 3, 4]),
      "x.png: corrupt PNG: 4 bytes after the IEND chunk",
    ],
    [
      "IDAT first",
      png([
        ["IDAT", new Uint8Array(1)],
        ["IEND", new Uint8Array(0)],
      ]),
      "x.png: corrupt PNG: the first chunk is IDAT, not IHDR",
    ],
    [
      "a 16-bit palette",
      png([["IHDR", ihdr(1, 1, 16, 3)]]),
      "x.png: corrupt PNG: bit depth 16 is not allowed for palette (1, 2, 4, 8)",
    ],
    ["colour type 5", png([["IHDR", ihdr(1, 1, 8, 5)]]), "x.png: corrupt PNG: colour type 5 does not exist"],
    [
      "interlace method 2",
      png([["IHDR", ihdr(1, 1, 8, 0, 2)]]),
      "x.png: corrupt PNG: unknown interlace method 2",
    ],
    ["zero width", png([["IHDR", ihdr(0, 5)]]), "x.png: corrupt PNG: size 0×5"],
    [
      "100000 × 100000 pixels (a 40 GB allocation)",
      png([
        ["IHDR", ihdr(100_000, 100_000)],
        ["IDAT", new Uint8Array(deflateSync(new Uint8Array(10)))],
        ["IEND", new Uint8Array(0)],
      ]),
      "x.png: PNG of 100000×100000 pixels is over the 64-megapixel limit",
    ],
    [
      "too little image data",
      grayPng(3, 2, 7),
      "x.png: truncated PNG: the image data holds 7 of the 8 bytes 3×2 pixels need",
    ],
    [
      "too much image data (a decompression bomb)",
      grayPng(3, 2, 1_000_000),
      "x.png: corrupt PNG: more image data than 3×2 pixels need (8 bytes)",
    ],
    [
      "image data that is not zlib",
      png([
        ["IHDR", ihdr(1, 1)],
        ["IDAT", new Uint8Array([1, 2, 3])],
        ["IEND", new Uint8Array(0)],
      ]),
      "x.png: corrupt PNG: the image data does not decompress",
    ],
    [
      "no IDAT",
      png([
        ["IHDR", ihdr(1, 1)],
        ["IEND", new Uint8Array(0)],
      ]),
      "x.png: corrupt PNG: no image data (IDAT chunk)",
    ],
    [
      "a palette image without a palette",
      png([
        ["IHDR", ihdr(1, 1, 8, 3)],
        ["IDAT", new Uint8Array(deflateSync(new Uint8Array(2)))],
        ["IEND", new Uint8Array(0)],
      ]),
      "x.png: corrupt PNG: a palette image without a PLTE chunk",
    ],
    [
      "an unknown critical chunk",
      png([
        ["IHDR", ihdr(1, 1)],
        ["ZZZZ", new Uint8Array(0)],
      ]),
      "x.png: unsupported PNG: unknown critical chunk ZZZZ",
    ],
    [
      "a bad filter type",
      png([
        ["IHDR", ihdr(1, 1)],
        ["IDAT", new Uint8Array(deflateSync(new Uint8Array([9, 0])))],
        ["IEND", new Uint8Array(0)],
      ]),
      "x.png: corrupt PNG (",
    ],
  ];
  it.each(cases)("refuses %s", (_what, bytes, message) => {
    expect(() => decodePicture(bytes, "x.png")).toThrow(DataError);
    expect(() => decodePicture(bytes, "x.png")).toThrow(message);
  });

  it("skips an unknown ancillary chunk, and the hand-made good file decodes", () => {
    const withText = png([
      ["IHDR", ihdr(2, 1)],
      ["tEXt", new TextEncoder().encode("Comment\0hi")],
      ["zzZz", new Uint8Array(3)],
      ["IDAT", new Uint8Array(deflateSync(new Uint8Array([0, 10, 20])))],
      ["IEND", new Uint8Array(0)],
    ]);
    expect(red(decodePicture(withText, "t.png").data)).toEqual(new Uint8Array([10, 20]));
    expect(decodePicture(good, "g.png").width).toBe(3);
  });
});

describe("decodePicture: JPEG", () => {
  it("decodes Pillow's baseline, grayscale and progressive JPEGs close to the digits", () => {
    const gray = decodePicture(fixture("digit7-gray.jpg"), "a");
    expect([gray.width, gray.height]).toEqual([28, 28]);
    expect(meanAbsDiff(red(gray.data), digits[0])).toBeLessThan(6);
    const progressive = decodePicture(fixture("digit7-progressive.jpg"), "a");
    // Quality 80 with subsampled colour: Pillow decodes it 8.2 off the digit on average (the gray one 1.5).
    expect(
      meanAbsDiff(
        red(progressive.data),
        digits[0].map((v) => 255 - v),
      ),
    ).toBeLessThan(10);
    const rgb = decodePicture(fixture("digit0-rgb.jpg"), "a");
    expect([rgb.width, rgb.height]).toEqual([60, 50]);
  });

  const good = fixture("digit7-gray.jpg");
  const sof = good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xc0);
  const withSize = (w: number, h: number) => {
    const out = Uint8Array.from(good);
    out.set([h >> 8, h & 255, w >> 8, w & 255], sof + 5);
    return out;
  };
  const lossless = Uint8Array.from(good);
  lossless[sof + 1] = 0xc3;
  const sos = good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xda);
  const cases: [string, Uint8Array, string][] = [
    [
      "a file cut after the headers",
      good.subarray(0, sof + 4),
      "x.jpg: truncated JPEG: segment 0xffc0 at byte",
    ],
    [
      "a file cut in the image data",
      good.subarray(0, sos + 40),
      "x.jpg: truncated JPEG: the image data of scan 1 is cut off",
    ],
    [
      "a file cut just before the end marker",
      good.subarray(0, good.length - 2),
      "x.jpg: truncated JPEG: the image data of scan 1 is cut off",
    ],
    [
      "the image data cut, then an end marker",
      new Uint8Array([...good.subarray(0, sos + 40), 0xff, 0xd9]),
      "x.jpg: truncated JPEG: the image data ends before the last row",
    ],
    [
      "65535 × 65535 pixels",
      withSize(65535, 65535),
      "x.jpg: JPEG of 65535×65535 pixels is over the 64-megapixel limit",
    ],
    ["zero height", withSize(28, 0), "x.jpg: corrupt JPEG: size 28×0"],
    [
      "a few hundred bytes claiming 8000 × 8000 pixels",
      withSize(8000, 8000),
      "x.jpg: truncated JPEG: 278 bytes of image data cannot hold 8000×8000 pixels (at least 15625) (the file has 608 bytes)",
    ],
    ["lossless coding", lossless, "x.jpg: unsupported JPEG: frame type 0xffc3"],
    [
      "a marker where data should be",
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0x12]),
      "x.jpg: corrupt JPEG: expected a marker at byte 8, found 0x12",
    ],
    [
      "only the start marker",
      new Uint8Array([0xff, 0xd8, 0xff]),
      "x.jpg: truncated JPEG: no end-of-image marker",
    ],
    ["no frame", new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), "x.jpg: corrupt JPEG: no frame header (SOF)"],
  ];
  it.each(cases)("refuses %s", (_what, bytes, message) => {
    expect(() => decodePicture(bytes, "x.jpg")).toThrow(DataError);
    expect(() => decodePicture(bytes, "x.jpg")).toThrow(message);
  });

  it("the limit is 64 megapixels", () => {
    expect(MAX_IMAGE_PIXELS).toBe(64_000_000);
    // 8000 × 8000 is at the limit: refused only above it (not decoded here: the header is checked first).
    expect(() => decodePicture(withSize(8001, 8000), "x.jpg")).toThrow(/over the 64-megapixel limit/);
  });
});
