import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { decodeImage } from "./image.js";

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
      /d\.png: corrupt PNG: the 8-byte signature is wrong or cut \(6 bytes in the file\)/,
    );
  });
});
