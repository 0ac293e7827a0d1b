import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import type { RgbaImage } from "../data/image-folder.js";
import { decodeImage, fitLikeMnist, prepareImage, resize, toGray } from "./image.js";

function rgba(width: number, height: number, gray: (x: number, y: number) => number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = gray(x, y);
      data.set([v, v, v, 255], 4 * (y * width + x));
    }
  }
  return { width, height, data };
}

describe("images", () => {
  it("decodes PNG and JPEG by signature and names unreadable files", () => {
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(0);
    png.data.set([255, 0, 0, 255], 4); // pixel (1, 0) red
    const p = decodeImage(PNG.sync.write(png), "a.png");
    expect([p.width, p.height]).toEqual([3, 2]);
    expect(Array.from(p.data.subarray(4, 8))).toEqual([255, 0, 0, 255]);

    const j = jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 200) }, 100);
    const d = decodeImage(j.data, "b.jpg");
    expect([d.width, d.height]).toEqual([8, 8]);
    expect(Math.abs(d.data[0] - 200)).toBeLessThanOrEqual(2);

    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]), "c.gif")).toThrow(
      /c\.gif: not a PNG or JPEG image/,
    );
    expect(() => decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0]), "d.png")).toThrow(
      /d\.png: unreadable PNG image/,
    );
  });

  it("grayscale uses luma and composites transparency over white", () => {
    const img: RgbaImage = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 0, 0, 0, 0]) };
    const g = toGray(img);
    expect(g.pixels[0]).toBeCloseTo(0.299, 6);
    expect(g.pixels[1]).toBe(1);
  });

  it("area resize averages what each output pixel covers", () => {
    const g = { width: 4, height: 2, pixels: Float32Array.from([0, 1, 1, 1, 0, 0, 1, 0]) };
    // 4×2 → 2×1: left block {0,1,0,0} = 0.25, right block {1,1,1,0} = 0.75.
    expect(Array.from(resize(g, 2, 1).pixels)).toEqual([0.25, 0.75]);
    // 1×1 → 3×3 upscale: constant.
    expect(
      Array.from(resize({ width: 1, height: 1, pixels: Float32Array.from([0.5]) }, 3, 3).pixels),
    ).toEqual(new Array(9).fill(0.5));
  });

  it("fits the ink into a 20×20 box centred by mass, as MNIST did", () => {
    // A 10×40 white bar at the top-left corner of a 100×100 black image.
    const bar = toGray(rgba(100, 100, (x, y) => (x < 10 && y < 40 ? 255 : 0)));
    const f = fitLikeMnist(bar);
    expect([f.width, f.height]).toEqual([28, 28]);
    // Scaled 40 → 20 tall, 10 → 5 wide; centred: rows 4…23, columns 12…16.
    const on: [number, number][] = [];
    f.pixels.forEach((v, i) => v > 0.5 && on.push([i % 28, Math.floor(i / 28)]));
    const xs = on.map(([x]) => x);
    const ys = on.map(([, y]) => y);
    expect([Math.min(...ys), Math.max(...ys)]).toEqual([4, 23]);
    expect([Math.min(...xs), Math.max(...xs)]).toEqual([12, 16]);
  });

  it("prepareImage inverts a dark digit on paper and notes what it did", () => {
    const paper = rgba(56, 56, (x, y) => (Math.abs(x - 28) < 4 && Math.abs(y - 28) < 15 ? 0 : 255));
    const { image, notes } = prepareImage(paper, { width: 28, height: 28 });
    expect(notes.join("; ")).toMatch(/inverted.*56×56 → digit fitted into 28×28/);
    expect(image.pixels[0]).toBe(0); // background now black
    expect(image.pixels[14 * 28 + 14]).toBeGreaterThan(0.9); // digit now white
    // A 28×28 white-on-black image passes through untouched.
    const mnistLike = rgba(28, 28, (x) => (x === 5 ? 255 : 0));
    const same = prepareImage(mnistLike, { width: 28, height: 28 });
    expect(same.notes).toEqual([]);
    expect(same.image.pixels[5]).toBe(1);
  });
});
