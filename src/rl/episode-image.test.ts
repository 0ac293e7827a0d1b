import { GifReader } from "omggif";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { Canvas } from "./canvas.js";
import { encodeGif, encodePng, frameStrip, stripIndices } from "./episode-image.js";

function solid(width: number, height: number, rgb: [number, number, number]): Canvas {
  return new Canvas(width, height, rgb);
}

describe("episode pictures", () => {
  it("picks evenly spaced frames, the first and the last included", () => {
    expect(stripIndices(4, 10)).toEqual([0, 1, 2, 3]);
    expect(stripIndices(11, 3)).toEqual([0, 5, 10]);
    expect(stripIndices(501, 6)).toEqual([0, 100, 200, 300, 400, 500]);
  });

  it("puts frames side by side with a gap", () => {
    const strip = frameStrip([solid(2, 3, [255, 0, 0]), solid(3, 2, [0, 0, 255])], { gap: 1 });
    expect([strip.width, strip.height]).toEqual([6, 3]);
    const at = (x: number, y: number) => [...strip.data.subarray(3 * (y * 6 + x), 3 * (y * 6 + x) + 3)];
    expect(at(1, 2)).toEqual([255, 0, 0]);
    expect(at(2, 0)).toEqual([200, 200, 200]); // the gap
    expect(at(3, 1)).toEqual([0, 0, 255]);
    expect(at(5, 2)).toEqual([200, 200, 200]); // below the shorter frame
  });

  it("writes a PNG and an animated GIF that decode to the frames", () => {
    const a = solid(5, 4, [10, 20, 30]);
    a.setPixel(1, 2, [250, 0, 0]);
    const b = solid(5, 4, [255, 255, 255]);
    b.setPixel(4, 3, [0, 128, 0]);
    const png = PNG.sync.read(Buffer.from(encodePng(a)));
    expect([png.width, png.height]).toEqual([5, 4]);
    expect([...png.data.subarray(4 * (2 * 5 + 1), 4 * (2 * 5 + 1) + 4)]).toEqual([250, 0, 0, 255]);

    const gif = new GifReader(encodeGif([a, b, a], 200));
    expect([gif.width, gif.height, gif.numFrames(), gif.loopCount()]).toEqual([5, 4, 3, 0]);
    expect(gif.frameInfo(1).delay).toBe(20);
    for (const [f, frame] of [a, b, a].entries()) {
      const rgba = new Uint8Array(5 * 4 * 4);
      gif.decodeAndBlitFrameRGBA(f, rgba);
      const rgb = rgba.filter((_, i) => i % 4 !== 3);
      expect(rgb).toEqual(frame.data);
    }
    expect(() => encodeGif([a, solid(4, 4, [0, 0, 0])])).toThrow(/frame 1 is 4×4, frame 0 5×4/);
  });
});
