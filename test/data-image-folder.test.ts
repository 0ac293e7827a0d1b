import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resizeGray, toGrayscale } from "../src/data/image-folder.js";
import { loadImageFolder } from "../src/data/node/image-folder.js";

/** A PNG of `w`×`h` filled with RGB (r, g, b), optionally with a bright square at the top-left. */
function png(w: number, h: number, [r, g, b]: [number, number, number], colorType: 0 | 2 | 6 = 2): Buffer {
  const img = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) img.data.set([r, g, b, 255], 4 * i);
  return PNG.sync.write(img, { colorType });
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "zerodl-images-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, Buffer | string>): Promise<string> {
  const dir = join(root, name);
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  return dir;
}

describe("image folders", () => {
  it("makes one class per subfolder and converts size and colour, with notes", async () => {
    const dir = await folder("ok", {
      "cat/a.png": png(28, 28, [255, 255, 255], 0), // gray already, right size
      "cat/readme.txt": "not an image",
      "dog/b.png": png(56, 56, [255, 0, 0]), // colour, twice the size
      "dog/c.png": png(14, 14, [0, 0, 255]),
    });
    const { dataset, notes } = await loadImageFolder(dir);
    expect(dataset.classNames).toEqual(["cat", "dog"]);
    expect(Array.from(dataset.labels)).toEqual([0, 1, 1]);
    expect(dataset.x.shape).toEqual([3, 784]);
    expect(dataset.x.data[0]).toBeCloseTo(1, 5);
    expect(dataset.x.data[784 + 100]).toBeCloseTo(0.299, 3); // pure red → luma 0.299
    expect(dataset.x.data[2 * 784 + 400]).toBeCloseTo(0.114, 3); // pure blue → 0.114
    expect(notes).toEqual([
      "2 colour image(s) converted to grayscale (luma 0.299 R + 0.587 G + 0.114 B)",
      "1 image(s) of 56×56 resized to 28×28 (area average when shrinking, bilinear when growing)",
      "1 image(s) of 14×14 resized to 28×28 (area average when shrinking, bilinear when growing)",
      "1 file(s) that are not .png skipped",
    ]);
  });

  it("inverts and keeps (N, 1, H, W) when asked", async () => {
    const dir = await folder("invert", { "x/a.png": png(8, 8, [255, 255, 255], 0) });
    const { dataset, notes } = await loadImageFolder(dir, {
      invert: true,
      flatten: false,
      imageShape: [8, 8],
    });
    expect(dataset.x.shape).toEqual([1, 1, 8, 8]);
    expect(Math.max(...dataset.x.data)).toBe(0);
    expect(notes).toContain(
      "inverted (255 − v): dark strokes on light paper became light on dark, as in MNIST",
    );
  });

  it("rejects an unreadable PNG, an empty class and an empty folder", async () => {
    const broken = await folder("broken", {
      "a/ok.png": png(4, 4, [0, 0, 0]),
      "a/bad.png": "this is not a png",
    });
    await expect(loadImageFolder(broken)).rejects.toThrow(
      `${join(broken, "a", "bad.png")}: corrupt PNG: the 8-byte signature is wrong or cut (17 bytes in the file)`,
    );
    const emptyClass = await folder("empty-class", { "a/x.png": png(4, 4, [0, 0, 0]), "b/notes.txt": "" });
    await expect(loadImageFolder(emptyClass)).rejects.toThrow(
      `${join(emptyClass, "b")}: no PNG images in class "b"`,
    );
    const empty = await folder("empty", { "readme.txt": "" });
    await expect(loadImageFolder(empty)).rejects.toThrow(`${empty}: no class subfolders`);
  });
});

describe("resizing", () => {
  it("averages areas when shrinking and keeps the mean", () => {
    // 4×4 with a bright 2×2 block at the top-left → 2×2: that block becomes one full pixel.
    const data = new Float32Array(16);
    for (const i of [0, 1, 4, 5]) data[i] = 255;
    const small = resizeGray({ width: 4, height: 4, data }, 2, 2);
    expect(Array.from(small.data)).toEqual([255, 0, 0, 0]);
    // 3 → 2 columns: each output covers 1.5 source pixels.
    const row = resizeGray({ width: 3, height: 1, data: Float32Array.from([0, 90, 180]) }, 1, 2);
    expect(row.data[0]).toBeCloseTo((0 + 0.5 * 90) / 1.5, 4);
    expect(row.data[1]).toBeCloseTo((0.5 * 90 + 180) / 1.5, 4);
  });

  it("interpolates when growing", () => {
    const grown = resizeGray({ width: 2, height: 1, data: Float32Array.from([0, 100]) }, 1, 4);
    expect(Array.from(grown.data)).toEqual([0, 25, 75, 100]);
  });

  it("treats transparent pixels as black", () => {
    const gray = toGrayscale({
      width: 2,
      height: 1,
      data: Uint8Array.from([255, 255, 255, 0, 255, 255, 255, 255]),
    });
    expect(Array.from(gray.data)).toEqual([0, 255]);
  });
});
