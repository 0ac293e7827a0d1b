import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DataError } from "../src/data/errors.js";
import { decodeIdx, mnistImages, mnistLabels, parseIdx } from "../src/data/idx.js";
import { idxBytes } from "./fixtures/tiny-mnist.js";

describe("parseIdx", () => {
  it("reads MNIST label and image files (magic 2049 / 2051)", () => {
    const labels = parseIdx(idxBytes([4], [3, 1, 4, 1]), "labels");
    expect(labels.type).toBe("uint8");
    expect(labels.shape).toEqual([4]);
    expect(Array.from(labels.data)).toEqual([3, 1, 4, 1]);

    const images = parseIdx(idxBytes([2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]), "images");
    expect(images.shape).toEqual([2, 2, 3]);
    expect(Array.from(images.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it("reads the other IDX element types big-endian", () => {
    // int16 (0x0b): 0x0102 = 258 and 0xfffe = -2
    const i16 = parseIdx(idxBytes([2], [0x01, 0x02, 0xff, 0xfe], 0x0b), "i16");
    expect(i16.type).toBe("int16");
    expect(Array.from(i16.data)).toEqual([258, -2]);
    // float32 (0x0d): 0x3fc00000 = 1.5
    const f32 = parseIdx(idxBytes([1], [0x3f, 0xc0, 0, 0], 0x0d), "f32");
    expect(Array.from(f32.data)).toEqual([1.5]);
  });

  it("rejects a wrong magic number, naming the file and the magic", () => {
    const bytes = idxBytes([1], [0]);
    bytes.set([0x12, 0x34, 0x56, 0x78], 0);
    expect(() => parseIdx(bytes, "train-labels-idx1-ubyte")).toThrow(
      /^train-labels-idx1-ubyte: wrong magic number 0x12345678/,
    );
    const unknownType = idxBytes([1], [0], 0x07);
    expect(() => parseIdx(unknownType, "f")).toThrow(/f: wrong magic number 0x00000701/);
  });

  it("rejects a truncated file with the sizes the header promises", () => {
    const full = idxBytes([3, 2, 2], new Array(12).fill(9));
    const cut = full.subarray(0, full.length - 7);
    expect(() => parseIdx(cut, "t10k-images-idx3-ubyte")).toThrow(
      "t10k-images-idx3-ubyte: truncated: header says 3×2×2 = 12 bytes of pixels, file has 5",
    );
    expect(() => parseIdx(full.subarray(0, 9), "h")).toThrow(
      /h: truncated: .*3 dimensions \(16-byte header\), file has 9 bytes/,
    );
    expect(() => parseIdx(new Uint8Array(2), "tiny")).toThrow("tiny: truncated: 2 bytes, no IDX header");
  });

  it("rejects trailing bytes", () => {
    const bytes = new Uint8Array([...idxBytes([2], [1, 2]), 0]);
    expect(() => parseIdx(bytes, "labels")).toThrow(
      "labels: trailing bytes: header says 2 = 2 bytes of labels, file has 3",
    );
  });

  it("asks for decompression when given gzip, and decodeIdx decompresses", async () => {
    const raw = idxBytes([3], [7, 8, 9]);
    const gz = new Uint8Array(gzipSync(raw));
    expect(() => parseIdx(gz, "labels.gz")).toThrow(/labels.gz: is gzip-compressed/);
    expect(Array.from((await decodeIdx(gz, "labels.gz")).data)).toEqual([7, 8, 9]);
    expect(Array.from((await decodeIdx(raw, "labels")).data)).toEqual([7, 8, 9]);
  });

  it("rejects a corrupt gzip file, naming it", async () => {
    const gz = new Uint8Array(gzipSync(idxBytes([100], new Array(100).fill(1))));
    await expect(decodeIdx(gz.subarray(0, gz.length - 12), "cut.gz")).rejects.toThrow(
      /^cut.gz: corrupt gzip data/,
    );
    await expect(decodeIdx(gz.subarray(0, gz.length - 12), "cut.gz")).rejects.toBeInstanceOf(DataError);
  });
});

describe("MNIST checks", () => {
  it("requires images of the expected size", () => {
    const idx = parseIdx(idxBytes([1, 2, 3], [0, 0, 0, 0, 0, 0]), "img");
    expect(mnistImages(idx, "img", 2, 3)).toHaveLength(6);
    expect(() => mnistImages(idx, "img")).toThrow("img: wrong image size: 2×3, expected 28×28");
    expect(() => mnistImages(parseIdx(idxBytes([2], [0, 0]), "l"), "l")).toThrow(/l: not an image file/);
  });

  it("requires labels in range", () => {
    const idx = parseIdx(idxBytes([3], [0, 9, 10]), "lab");
    expect(() => mnistLabels(idx, "lab")).toThrow("lab: label 10 at index 2 is out of range 0..9");
    expect(mnistLabels(idx, "lab", 11)).toHaveLength(3);
    expect(() => mnistLabels(parseIdx(idxBytes([1, 1, 1], [0]), "i"), "i")).toThrow(/i: not a label file/);
  });
});
