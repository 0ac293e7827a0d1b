import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  confusionMatrixChart,
  grayImageDataUrl,
  imageGrid,
  lineChart,
  lossAccuracyChart,
  movingAverage,
} from "./charts.js";
import { renderSvg, svgToPng, writeChart } from "./render.js";

const dir = mkdtempSync(join(tmpdir(), "zerodl-plot-"));

function decodePng(bytes: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(bytes));
}

/** Number of pixels that are clearly not white. */
function inkPixels(png: PNG): number {
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) if (png.data[4 * i] < 128) n++;
  return n;
}

describe("charts", () => {
  it("movingAverage averages what exists so far, then a trailing window", () => {
    expect(movingAverage([4, 2, 6, 0, 10], 2)).toEqual([4, 3, 4, 3, 5]);
    expect(movingAverage([1, 2, 3], 1)).toEqual([1, 2, 3]);
  });

  it("loss/accuracy chart has both panels and only the sets present", async () => {
    const svg = await renderSvg(
      lossAccuracyChart({ loss: [2.3, 1.5, 1.0, 0.8], trainAcc: [0.8, 0.9], testAcc: [0.7, 0.85] }),
    );
    for (const text of ["Loss", "Accuracy", "iteration", "epoch", "train", "test", "mini-batch"]) {
      expect(svg).toContain(`>${text}<`);
    }
    expect(svg).not.toContain(">validation<");
  });

  it("confusion matrix labels every cell with its count", async () => {
    const svg = await renderSvg(
      confusionMatrixChart(
        [
          [5, 1],
          [2, 7],
        ],
        ["cat", "dog"],
      ),
    );
    for (const text of ["5", "1", "2", "7", "cat", "dog", "predicted", "true"])
      expect(svg).toContain(`>${text}<`);
  });

  it("grayImageDataUrl encodes the pixels (inverted: ink dark)", () => {
    const url = grayImageDataUrl({ width: 2, height: 1, pixels: [0, 1] }, true);
    const png = decodePng(Buffer.from(url.replace("data:image/png;base64,", ""), "base64"));
    expect([png.width, png.height]).toEqual([2, 1]);
    expect([png.data[0], png.data[4]]).toEqual([255, 0]);
    expect(() => grayImageDataUrl({ width: 2, height: 2, pixels: [0] })).toThrow(/2×2 needs 4 pixels, got 1/);
  });

  it("image grid shows each image with its caption", async () => {
    const img = { width: 4, height: 4, pixels: new Array<number>(16).fill(1) };
    const svg = await renderSvg(imageGrid([img, img], ["7 → 1", "3 → 5"]));
    expect(svg).toContain(">7 → 1<");
    expect(svg).toContain(">3 → 5<");
    expect(svg.match(/<image /g)).toHaveLength(2);
    expect(() => imageGrid([img], [])).toThrow(/1 images but 0 captions/);
  });

  it("line chart checks its series", async () => {
    const svg = await renderSvg(
      lineChart([{ name: "Adam", x: [1, 2], y: [2, 1] }], { xTitle: "it", yTitle: "loss" }),
    );
    expect(svg).toContain(">Adam<");
    expect(() => lineChart([{ name: "SGD", x: [1], y: [] }])).toThrow(/"SGD" has 1 x values but 0 y values/);
  });

  it("PNG text renders: a font is installed and resvg finds it", async () => {
    // Only a title: every dark pixel is text. Without a usable font resvg draws nothing.
    const spec = lineChart([], { title: "Text renders" });
    const withTitle = decodePng(await svgToPng(await renderSvg(spec), 1));
    const blank = decodePng(await svgToPng(await renderSvg(lineChart([], {})), 1));
    expect(inkPixels(withTitle) - inkPixels(blank)).toBeGreaterThan(50);
  });

  it("writeChart writes an SVG and a PNG at twice the size", async () => {
    const paths = await writeChart(lineChart([{ name: "a", x: [0, 1], y: [0, 1] }]), join(dir, "chart"));
    const svg = readFileSync(paths.svg, "utf8");
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const png = decodePng(readFileSync(paths.png));
    expect(png.width).toBe(2 * width);
  });
});
