import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { ganLossChart, pictureChart } from "./gan-charts.js";
import { renderSvg } from "./render.js";
import { tileImages } from "./tiles.js";

describe("GAN charts", () => {
  it("draw both losses and both discriminator outputs, thinned for long runs", async () => {
    const n = 2000;
    const series = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    const history = {
      dLoss: series((i) => 1.4 - i / n),
      gLoss: series((i) => 0.7 + i / n),
      dReal: series(() => 0.7),
      dFake: series(() => 0.3),
    };
    const spec = ganLossChart(history, { title: "test run" }) as unknown as {
      hconcat: { data: { values: { series: string; iteration: number }[] } }[];
    };
    const [losses, outputs] = spec.hconcat.map((panel) => panel.data.values);
    expect(new Set(losses.map((r) => r.series))).toEqual(new Set(["discriminator", "generator"]));
    expect(new Set(outputs.map((r) => r.series))).toEqual(new Set(["D(x), real", "D(G(z)), generated"]));
    expect(losses.length).toBeLessThanOrEqual(2 * 600); // at most 600 points per line
    const svg = await renderSvg(ganLossChart(history, { title: "test run" }));
    expect(svg).toContain("test run");
    expect(svg).toContain("generator");
    // With a code, its cross-entropy is a third line of the losses' panel.
    const coded = ganLossChart({ ...history, infoLoss: series(() => 0.1) }) as unknown as typeof spec;
    expect(new Set(coded.hconcat[0].data.values.map((r) => r.series))).toEqual(
      new Set(["discriminator", "generator", "code (cross-entropy)"]),
    );
  });

  it("embed a tiled picture at its scale", async () => {
    const picture = tileImages(NDArray.from([-1, 1, 1, -1], [1, 1, 2, 2]));
    const spec = pictureChart(picture, { title: "samples", scale: 4 }) as unknown as {
      width: number;
      height: number;
    };
    expect([spec.width, spec.height]).toEqual([8, 8]);
    const svg = await renderSvg(pictureChart(picture, { title: "samples", scale: 4 }));
    expect(svg).toContain("data:image/png;base64,");
  });
});
