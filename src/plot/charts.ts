/**
 * The charts zerodl draws, as Vega-Lite specs (render them with `writeChart` from ./render.ts).
 * Data goes in as plain arrays; each function returns a spec and does no I/O.
 */
import { PNG } from "pngjs";
import { chartConfig, type ChartSpec } from "./render.js";

/** Training history as the Trainer records it. */
export interface HistoryLike {
  /** Loss per iteration. */
  loss: readonly number[];
  /** Accuracy per epoch. */
  trainAcc: readonly number[];
  testAcc: readonly number[];
  valAcc?: readonly number[];
}

/**
 * Trailing moving average over `window` points (the first points average what exists so far), so
 * a noisy mini-batch loss shows its trend.
 */
export function movingAverage(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/**
 * Two panels: loss per iteration (raw and smoothed) and accuracy per epoch (train, test,
 * validation; told apart by colour and dash). `lossNote` goes under the loss panel's title: what a
 * reader needs to know to read the curve (e.g. that dropout is active in the training loss).
 */
export function lossAccuracyChart(
  history: HistoryLike,
  options: { title?: string; lossNote?: string | string[] } = {},
): ChartSpec {
  const window = Math.max(1, Math.min(100, Math.round(history.loss.length / 20)));
  const smooth = movingAverage(history.loss, window);
  const lossRows = history.loss.flatMap((loss, i) => [
    { iteration: i + 1, loss, series: "mini-batch" },
    { iteration: i + 1, loss: smooth[i], series: `moving average (${window})` },
  ]);
  const accRows: { epoch: number; accuracy: number; set: string }[] = [];
  const addAcc = (values: readonly number[] | undefined, set: string) =>
    values?.forEach((accuracy, i) => accRows.push({ epoch: i + 1, accuracy, set }));
  addAcc(history.trainAcc, "train");
  addAcc(history.testAcc, "test");
  addAcc(history.valAcc, "validation");
  const sets = [...new Set(accRows.map((r) => r.set))];

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    config: chartConfig,
    resolve: { scale: { color: "independent", strokeDash: "independent" } },
    hconcat: [
      {
        title: options.lossNote ? { text: "Loss", subtitle: options.lossNote, subtitleFontSize: 11 } : "Loss",
        width: 360,
        height: 240,
        data: { values: lossRows },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: { field: "iteration", type: "quantitative", title: "iteration" },
          y: { field: "loss", type: "quantitative", title: "loss", scale: { zero: true } },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            scale: { range: ["#c6dbef", "#08519c"] },
            legend: { orient: "top-right", labelLimit: 0 },
          },
          opacity: { value: 1 },
        },
      },
      {
        title: "Accuracy",
        width: 300,
        height: 240,
        data: { values: accRows },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1 } },
          y: { field: "accuracy", type: "quantitative", title: "accuracy", scale: { zero: false } },
          ...seriesStyle("set", sets, null, { orient: "bottom-right", ...STROKE_LEGEND }),
        },
      },
    ],
  } as ChartSpec;
}

/** A heatmap of counts: rows are the true class, columns the predicted one; each cell labelled. */
export function confusionMatrixChart(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[],
  options: { title?: string } = {},
): ChartSpec {
  const rows: { actual: string; predicted: string; count: number; i: number; j: number }[] = [];
  let max = 0;
  matrix.forEach((row, i) =>
    row.forEach((count, j) => {
      rows.push({ actual: classNames[i], predicted: classNames[j], count, i, j });
      max = Math.max(max, count);
    }),
  );
  const cell = Math.max(24, Math.min(48, Math.floor(480 / Math.max(1, classNames.length))));
  const size = cell * classNames.length;
  const order = [...classNames];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title ?? "Confusion matrix",
    config: chartConfig,
    width: size,
    height: size,
    data: { values: rows },
    encoding: {
      x: {
        field: "predicted",
        type: "ordinal",
        sort: order,
        title: "predicted",
        // Long names (Fashion-MNIST's "T-shirt/top") would overlap side by side.
        axis: { labelAngle: Math.max(...classNames.map((n) => n.length)) > 3 ? -40 : 0 },
      },
      y: { field: "actual", type: "ordinal", sort: order, title: "true" },
    },
    layer: [
      {
        mark: "rect",
        encoding: {
          color: {
            field: "count",
            type: "quantitative",
            scale: { scheme: "blues", type: "symlog" },
            legend: null, // every cell is labelled with its count
          },
        },
      },
      {
        mark: { type: "text", fontSize: Math.min(12, cell / 3) },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: `datum.count > ${max / 2}`, value: "white" }, value: "black" },
        },
      },
    ],
  } as ChartSpec;
}

/** A small grayscale image: `pixels` row-major, values in [0, 1] (0 = black for MNIST's white-on-black digits). */
export interface ChartImage {
  pixels: ArrayLike<number>;
  width: number;
  height: number;
}

/**
 * A PNG data URL of a grayscale image; `invert` draws high values dark (ink on paper). `upscale`
 * repeats each pixel into an upscale × upscale block (nearest neighbour), so that a renderer that
 * smooths scaled images still draws crisp pixels.
 */
export function grayImageDataUrl(image: ChartImage, invert = false, upscale = 1): string {
  const { pixels, width, height } = image;
  if (pixels.length !== width * height) {
    throw new Error(`image of ${width}×${height} needs ${width * height} pixels, got ${pixels.length}`);
  }
  const png = new PNG({ width: width * upscale, height: height * upscale });
  for (let y = 0; y < height * upscale; y++) {
    for (let x = 0; x < width * upscale; x++) {
      const v = Math.max(0, Math.min(1, pixels[Math.floor(y / upscale) * width + Math.floor(x / upscale)]));
      const byte = Math.round((invert ? 1 - v : v) * 255);
      const i = y * width * upscale + x;
      png.data[4 * i] = png.data[4 * i + 1] = png.data[4 * i + 2] = byte;
      png.data[4 * i + 3] = 255;
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString("base64")}`;
}

/**
 * Images in a grid, each with a caption above it, like the book's Figure 8-2 of misclassified
 * digits ("7 → 1": true label → prediction). Digits are drawn dark on light, as in the book.
 */
export function imageGrid(
  images: readonly ChartImage[],
  captions: readonly string[],
  options: { title?: string; columns?: number; scale?: number; invert?: boolean } = {},
): ChartSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    config: { ...chartConfig, concat: { spacing: 8 } },
    ...imageBlock(images, captions, options),
  } as ChartSpec;
}

/** Grids of images side by side, each under its own title (e.g. filters before and after training). */
export function imagePanels(
  panels: readonly { title: string; images: readonly ChartImage[]; captions: readonly string[] }[],
  options: { title?: string; columns?: number; scale?: number; invert?: boolean } = {},
): ChartSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    config: { ...chartConfig, concat: { spacing: 8 } },
    spacing: 30,
    hconcat: panels.map((p) => ({ title: p.title, ...imageBlock(p.images, p.captions, options) })),
  } as ChartSpec;
}

/**
 * The grid itself. Pixels are drawn as blocks (nearest neighbour, as the book's imshow of filters):
 * the image data holds 2 × scale pixels per image pixel, as many as the PNG (rendered at 2×) shows.
 */
function imageBlock(
  images: readonly ChartImage[],
  captions: readonly string[],
  options: { columns?: number; scale?: number; invert?: boolean },
) {
  if (captions.length !== images.length) {
    throw new Error(`imageGrid: ${images.length} images but ${captions.length} captions`);
  }
  const scale = options.scale ?? 2;
  const invert = options.invert ?? true;
  return {
    columns: options.columns ?? Math.min(10, Math.max(1, images.length)),
    concat: images.map((image, i) => {
      const w = image.width * scale;
      const h = image.height * scale;
      return {
        title: { text: captions[i], fontSize: 11, fontWeight: "normal", offset: 2 },
        width: w,
        height: h,
        data: { values: [{ url: grayImageDataUrl(image, invert, Math.max(1, Math.round(2 * scale))) }] },
        mark: { type: "image", width: w, height: h, aspect: false },
        encoding: { url: { field: "url", type: "nominal" }, x: { value: w / 2 }, y: { value: h / 2 } },
      };
    }),
  };
}

/**
 * Colours for comparisons: Okabe and Ito's palette, told apart by readers with any common colour
 * blindness; every comparison also varies the dash pattern, so the lines differ in gray print too.
 */
export const SERIES_COLORS = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#000000",
  "#F0E442",
];
/** Dash patterns in the same order (solid first). */
export const SERIES_DASHES = [
  [1, 0],
  [8, 4],
  [2, 3],
  [10, 3, 2, 3],
  [4, 2],
  [1, 4],
  [12, 4, 4, 4],
  [6, 2, 2, 2],
];

/**
 * Legend settings for lines with point markers: symbols drawn as line segments, so the legend
 * shows each series' dash as well as its colour.
 */
export const STROKE_LEGEND = { symbolType: "stroke", symbolStrokeWidth: 2 } as const;

/** Colour and dash channels for a nominal field, one legend for both (`legend`: its settings). */
export function seriesStyle(
  field: string,
  names: readonly string[],
  title: string | null = null,
  legend?: Record<string, unknown>,
) {
  const common = { field, type: "nominal", title, sort: [...names], ...(legend ? { legend } : {}) } as const;
  return {
    color: {
      ...common,
      scale: { domain: [...names], range: SERIES_COLORS.slice(0, Math.max(1, names.length)) },
    },
    strokeDash: {
      ...common,
      scale: { domain: [...names], range: SERIES_DASHES.slice(0, Math.max(1, names.length)) },
    },
  };
}

export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
}

/** A generic line chart of several named series (for experiments: one line per optimizer, init, …). */
export function lineChart(
  series: readonly Series[],
  options: {
    title?: string;
    xTitle?: string;
    yTitle?: string;
    logX?: boolean;
    logY?: boolean;
    yDomain?: [number, number];
    points?: boolean;
    width?: number;
    height?: number;
  } = {},
): ChartSpec {
  const rows = series.flatMap((s) => {
    if (s.x.length !== s.y.length) {
      throw new Error(`lineChart: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    }
    return s.x.map((x, i) => ({ x, y: s.y[i], series: s.name }));
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...(options.title ? { title: options.title } : {}),
    config: chartConfig,
    width: options.width ?? 400,
    height: options.height ?? 260,
    data: { values: rows },
    mark: { type: "line", point: options.points ?? false },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: options.xTitle ?? "x",
        scale: options.logX ? { type: "log" } : {},
      },
      y: {
        field: "y",
        type: "quantitative",
        title: options.yTitle ?? "y",
        scale: {
          ...(options.logY ? { type: "log" } : { zero: false }),
          ...(options.yDomain ? { domain: options.yDomain } : {}),
        },
      },
      ...seriesStyle(
        "series",
        series.map((s) => s.name),
      ),
    },
  } as ChartSpec;
}
