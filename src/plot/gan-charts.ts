/**
 * The charts of adversarial training (Vega-Lite specs; render with `writeChart`): the two losses,
 * and what the discriminator makes of real and generated batches.
 */
import { movingAverage } from "./charts.js";
import { chartConfig, type ChartSpec } from "./render.js";
import type { GrayPicture } from "./tiles.js";
import { encodeGrayPng } from "./tiles.js";

/** What GanTrainer records per iteration. */
export interface GanHistoryLike {
  dLoss: readonly number[];
  gLoss: readonly number[];
  dReal: readonly number[];
  dFake: readonly number[];
  /** With a code (InfoGAN, AC-GAN): its cross-entropy in the generator's step. */
  infoLoss?: readonly number[];
}

/** At most this many points per line: long runs are thinned (every k-th iteration of the average). */
const MAX_POINTS = 600;

/** Moving averages of `series` (window ≈ 1/20 of the run), thinned to MAX_POINTS rows. */
function smoothedRows(series: Record<string, readonly number[]>, value: string): Record<string, unknown>[] {
  const n = Math.max(...Object.values(series).map((s) => s.length));
  const window = Math.max(1, Math.min(200, Math.round(n / 20)));
  const step = Math.max(1, Math.ceil(n / MAX_POINTS));
  return Object.entries(series).flatMap(([name, values]) => {
    const smooth = movingAverage(values, window);
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < smooth.length; i += step)
      rows.push({ iteration: i + 1, [value]: smooth[i], series: name });
    return rows;
  });
}

/**
 * Two panels: the discriminator's and the generator's loss (and with a code, its cross-entropy),
 * and the mean D(x) on real batches beside D(G(z)) on generated ones (an even game keeps D(G(z))
 * away from 0), as moving averages.
 */
export function ganLossChart(history: GanHistoryLike, options: { title?: string } = {}): ChartSpec {
  const losses = smoothedRows(
    {
      discriminator: history.dLoss,
      generator: history.gLoss,
      ...(history.infoLoss ? { "code (cross-entropy)": history.infoLoss } : {}),
    },
    "loss",
  );
  const outputs = smoothedRows({ "D(x), real": history.dReal, "D(G(z)), generated": history.dFake }, "D");
  const panel = (title: string, rows: Record<string, unknown>[], field: string, yTitle: string) => ({
    title,
    width: 340,
    height: 220,
    data: { values: rows },
    mark: { type: "line", strokeWidth: 1.5 },
    encoding: {
      x: { field: "iteration", type: "quantitative", title: "iteration" },
      y: { field, type: "quantitative", title: yTitle, scale: { zero: true } },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        legend: { orient: "top-right", labelLimit: 0 },
      },
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    config: chartConfig,
    resolve: { scale: { color: "independent" } },
    hconcat: [
      panel(
        "Losses (moving average)",
        losses,
        "loss",
        history.infoLoss ? "cross-entropy" : "binary cross-entropy",
      ),
      panel("Discriminator output (moving average)", outputs, "D", 'mean probability of "real"'),
    ],
  } as ChartSpec;
}

/** A tiled picture (tileImages) as a chart with a title, drawn at `scale`× its pixel size. */
export function pictureChart(
  picture: GrayPicture,
  options: { title?: string; scale?: number } = {},
): ChartSpec {
  const scale = options.scale ?? 1;
  const w = picture.width * scale;
  const h = picture.height * scale;
  const url = `data:image/png;base64,${Buffer.from(encodeGrayPng(picture)).toString("base64")}`;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    config: { ...chartConfig, view: { stroke: null } },
    width: w,
    height: h,
    data: { values: [{ url }] },
    mark: { type: "image", width: w, height: h, aspect: false, smooth: false },
    encoding: { url: { field: "url", type: "nominal" }, x: { value: w / 2 }, y: { value: h / 2 } },
  } as ChartSpec;
}
