/**
 * FCN and detection (book §8.4.1–8.4.2): a classifier of 28×28 windows — the ten digits and
 * "background" — turned into a fully convolutional network (its Affine layers become convolutions,
 * `toFullyConvolutional`) scores every window of a larger picture in one forward pass. MNIST test
 * digits placed on 100×100 canvases (seeded); the class map's confident positions become boxes,
 * non-maximum suppression keeps one per digit; precision and recall over 200 canvases; one FCN pass
 * against classifying each window on its own.
 *
 * The window classifier is the book's SimpleConvNet with 11 outputs, trained here on windows cut
 * from training canvases (MNIST training digits): a digit's window shifted by up to 2 px is that
 * digit; a window overlapping no digit by more than IoU 0.3 is background.
 *
 * Quick form: 6,000 training windows, 1 epoch; 20 canvases of 64×64.
 */
import { type Dataset } from "../src/data/dataset.js";
import { toFullyConvolutional } from "../src/models/fcn.js";
import type { Graph } from "../src/models/graph.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { NDArray, type Floats } from "../src/ndarray.js";
import { Adam } from "../src/optimizers/adam.js";
import { grayImageDataUrl } from "../src/plot/charts.js";
import type { ChartSpec } from "../src/plot/render.js";
import { chartConfig } from "../src/plot/render.js";
import { Rng } from "../src/rng.js";
import { Trainer } from "../src/train/trainer.js";
import { breathe, mnistImages } from "./common.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";

const WINDOW = 28;
const BACKGROUND = 10;
/** The FCN's positions are this many input pixels apart (SimpleConvNet's 2×2 pooling). */
const STRIDE = 2;

export interface Box {
  x: number;
  y: number;
  label: number;
  score?: number;
}

export interface Canvas {
  size: number;
  pixels: Float32Array;
  digits: Box[];
}

export const fcnDetection: Experiment = {
  name: "fcn-detection",
  title: "FCN: a class for every position of a larger image, and detections by NMS",
  book: "§8.4.1 (object detection), §8.4.2 (FCN)",
  setup:
    "SimpleConvNet with 11 outputs (digits + background) trained on 60,000 windows from canvases of MNIST training digits (Adam, 3 epochs), made fully convolutional; 200 canvases of 100×100 with 2–4 MNIST test digits; class probability ≥ 0.9, NMS at IoU 0.3, a detection right when its class agrees and IoU ≥ 0.5",
  quickForm: "6,000 training windows, 1 epoch; 20 canvases of 64×64",
  async run({ quick, seed, log }) {
    const { train, test } = await mnistImages();
    const size = quick ? 64 : 100;
    // 1. The window classifier.
    const windows = trainingWindows(train, quick ? 6000 : 60000, size, new Rng(seed));
    const net = new SimpleConvNet({ outputSize: 11, weightInitStd: "relu" }, new Rng(seed + 1));
    const trainer = new Trainer({
      model: net,
      optimizer: new Adam({ lr: 0.001 }),
      train: windows,
      test: windows,
      epochs: quick ? 1 : 3,
      batchSize: 100,
      rng: new Rng(seed + 2),
      evalSampleSize: 1000,
    });
    for (const event of trainer.steps()) {
      if (event.type === "epoch")
        log(`  window classifier epoch ${event.epoch}: train accuracy ${fmt(event.trainAcc)}`);
      await breathe();
    }
    // 2. The same network, fully convolutional, on canvases of test digits.
    const fcn = toFullyConvolutional(net, [1, size, size]);
    const rng = new Rng(seed + 3);
    const canvases = Array.from({ length: quick ? 20 : 200 }, () => makeCanvas(test, size, rng));
    const threshold = 0.9;
    const results = canvases.map((canvas) => {
      const map = classMap(fcn, canvas);
      return { canvas, map, detections: nms(candidates(map, threshold), 0.3) };
    });
    const score = evaluate(results.map((r) => ({ truth: r.canvas.digits, found: r.detections })));
    log(`  precision ${fmt(score.precision)}, recall ${fmt(score.recall)} over ${canvases.length} canvases`);
    // 3. One FCN pass against every window classified on its own (the same scores).
    const speed = timeBoth(net, fcn, canvases[0]);
    log(
      `  one FCN pass ${fmt(speed.fcnMs)} ms, ${speed.windows} windows one by one ${fmt(speed.windowsMs)} ms`,
    );
    const shown = results.slice(0, 4);
    return {
      data: {
        canvasSize: size,
        canvases: canvases.length,
        digits: score.truths,
        threshold,
        nmsIou: 0.3,
        matchIou: 0.5,
        ...score,
        classifierTrainAccuracy: trainer.model.accuracy(
          windows.x.sliceRows(0, 2000),
          windows.labels.subarray(0, 2000),
        ),
        speed,
        examples: shown.map((r) => ({ digits: r.canvas.digits, detections: r.detections })),
      },
      figures: [
        {
          caption: `Detections (red, with their class) and the true digits (green) on ${shown.length} of the canvases.`,
          spec: detectionsChart(shown.map((r) => ({ canvas: r.canvas, detections: r.detections }))),
        },
        {
          suffix: "class-map",
          caption:
            "The FCN's class map of the first canvas: the most likely class at each position (background blank).",
          spec: classMapChart(results[0].map),
        },
      ],
      comparison: [
        {
          what: `precision / recall over ${canvases.length} canvases (${score.truths} digits)`,
          book: "(§8.4.1: detection = where and what)",
          ours: `${fmt(score.precision)} / ${fmt(score.recall)}`,
        },
        {
          what: `one FCN pass vs ${speed.windows} windows classified one by one`,
          book: "one pass shares the convolutions (§8.4.2)",
          ours: `${fmt(speed.fcnMs)} ms vs ${fmt(speed.windowsMs)} ms (${fmt(speed.windowsMs / speed.fcnMs)}×)`,
        },
      ],
      summary: `Over ${canvases.length} canvases the FCN's detections have precision ${fmt(score.precision)} and recall ${fmt(score.recall)}; one FCN pass takes ${fmt(speed.fcnMs)} ms, classifying its ${speed.windows} windows one by one ${fmt(speed.windowsMs)} ms.`,
    };
  },
};

/** 2–4 digits of `source` at random places on a size×size black canvas, overlapping little (IoU ≤ 0.05). */
export function makeCanvas(source: Dataset, size: number, rng: Rng): Canvas {
  const pixels = new Float32Array(size * size);
  const digits: Box[] = [];
  const count = 2 + rng.int(3);
  for (let tries = 0; digits.length < count && tries < 100; tries++) {
    const box = { x: rng.int(size - WINDOW + 1), y: rng.int(size - WINDOW + 1), label: 0 };
    if (digits.some((d) => iou(d, box) > 0.05)) continue;
    const k = rng.int(source.labels.length);
    box.label = source.labels[k];
    const image = source.x.data.subarray(k * WINDOW * WINDOW, (k + 1) * WINDOW * WINDOW);
    for (let y = 0; y < WINDOW; y++) {
      for (let x = 0; x < WINDOW; x++) {
        const at = (box.y + y) * size + box.x + x;
        pixels[at] = Math.max(pixels[at], image[y * WINDOW + x]);
      }
    }
    digits.push(box);
  }
  return { size, pixels, digits };
}

/**
 * Training windows for the classifier: from canvases of `source` digits, half of them digits (a
 * digit's box shifted by up to 2 px, labelled with the digit) and half background (windows whose
 * IoU with every digit is under 0.3, labelled 10).
 */
function trainingWindows(source: Dataset, count: number, size: number, rng: Rng): Dataset {
  const x = NDArray.zeros([count, 1, WINDOW, WINDOW]);
  const labels = new Int32Array(count);
  let n = 0;
  while (n < count) {
    const canvas = makeCanvas(source, size, rng);
    for (const d of canvas.digits) {
      if (n >= count) break;
      const shifted = {
        x: clamp(d.x + rng.int(5) - 2, size),
        y: clamp(d.y + rng.int(5) - 2, size),
        label: d.label,
      };
      cut(canvas, shifted, x.data, n);
      labels[n++] = d.label;
      for (let tries = 0; tries < 20 && n < count; tries++) {
        const w = { x: rng.int(size - WINDOW + 1), y: rng.int(size - WINDOW + 1), label: BACKGROUND };
        if (canvas.digits.every((e) => iou(e, w) < 0.3)) {
          cut(canvas, w, x.data, n);
          labels[n++] = BACKGROUND;
          break;
        }
      }
    }
  }
  return { x, labels };
}

function clamp(v: number, size: number): number {
  return Math.max(0, Math.min(size - WINDOW, v));
}

/** Copies the window of `box` from the canvas into sample `n` of `out`. */
function cut(canvas: Canvas, box: Box, out: Floats, n: number): void {
  for (let y = 0; y < WINDOW; y++) {
    for (let x = 0; x < WINDOW; x++)
      out[n * WINDOW * WINDOW + y * WINDOW + x] = canvas.pixels[(box.y + y) * canvas.size + box.x + x];
  }
}

/** Class probabilities at every position: (11, H', W') softmax of the FCN's scores. */
interface ClassMap {
  probs: Float32Array;
  classes: number;
  rows: number;
  cols: number;
}

function classMap(fcn: Graph, canvas: Canvas): ClassMap {
  const scores = fcn.predict(new NDArray(canvas.pixels, [1, 1, canvas.size, canvas.size])); // (1, 11, H', W')
  const [, classes, rows, cols] = scores.shape;
  const plane = rows * cols;
  const probs = new Float32Array(classes * plane);
  for (let p = 0; p < plane; p++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, scores.data[c * plane + p]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(scores.data[c * plane + p] - max);
    for (let c = 0; c < classes; c++) probs[c * plane + p] = Math.exp(scores.data[c * plane + p] - max) / sum;
  }
  return { probs, classes, rows, cols };
}

/** Positions whose most likely class is a digit with probability ≥ `threshold`, as window boxes. */
function candidates(map: ClassMap, threshold: number): Box[] {
  const plane = map.rows * map.cols;
  const out: Box[] = [];
  for (let p = 0; p < plane; p++) {
    let best = 0;
    for (let c = 1; c < map.classes; c++)
      if (map.probs[c * plane + p] > map.probs[best * plane + p]) best = c;
    const score = map.probs[best * plane + p];
    if (best !== BACKGROUND && score >= threshold) {
      out.push({ x: (p % map.cols) * STRIDE, y: Math.floor(p / map.cols) * STRIDE, label: best, score });
    }
  }
  return out;
}

/** Non-maximum suppression: the best-scoring box first; boxes overlapping a kept one by IoU > `overlap` go. */
export function nms(boxes: readonly Box[], overlap: number): Box[] {
  const kept: Box[] = [];
  for (const b of [...boxes].sort((a, c) => (c.score ?? 0) - (a.score ?? 0))) {
    if (kept.every((k) => iou(k, b) <= overlap)) kept.push(b);
  }
  return kept;
}

/** Intersection over union of two 28×28 boxes. */
export function iou(a: Box, b: Box): number {
  const w = Math.max(0, WINDOW - Math.abs(a.x - b.x));
  const h = Math.max(0, WINDOW - Math.abs(a.y - b.y));
  const inter = w * h;
  return inter / (2 * WINDOW * WINDOW - inter);
}

/** Precision and recall: a detection is right when an unmatched true digit of its class has IoU ≥ 0.5 with it. */
export function evaluate(canvases: readonly { truth: readonly Box[]; found: readonly Box[] }[]) {
  let right = 0;
  let found = 0;
  let truths = 0;
  for (const { truth, found: detections } of canvases) {
    const matched = new Set<Box>();
    for (const d of [...detections].sort((a, b) => (b.score ?? 0) - (a.score ?? 0))) {
      const hit = truth.find((t) => !matched.has(t) && t.label === d.label && iou(t, d) >= 0.5);
      if (hit) {
        matched.add(hit);
        right++;
      }
    }
    found += detections.length;
    truths += truth.length;
  }
  return {
    precision: found === 0 ? 0 : right / found,
    recall: truths === 0 ? 0 : right / truths,
    right,
    found,
    truths,
  };
}

/** Median milliseconds of one FCN pass over the canvas vs the classifier on each of its windows (batches of 100). */
function timeBoth(net: SimpleConvNet, fcn: Graph, canvas: Canvas) {
  const image = new NDArray(canvas.pixels, [1, 1, canvas.size, canvas.size]);
  const rows = (canvas.size - WINDOW) / STRIDE + 1;
  const positions = Math.floor(rows) ** 2;
  const crops = NDArray.zeros([positions, 1, WINDOW, WINDOW]);
  for (let p = 0; p < positions; p++) {
    const box = {
      x: (p % Math.floor(rows)) * STRIDE,
      y: Math.floor(p / Math.floor(rows)) * STRIDE,
      label: 0,
    };
    cut(canvas, box, crops.data, p);
  }
  const median = (fn: () => void) => {
    fn();
    const ms: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[2];
  };
  const fcnMs = median(() => fcn.predict(image));
  const windowsMs = median(() => {
    for (let s = 0; s < positions; s += 100) net.predict(crops.sliceRows(s, Math.min(positions, s + 100)));
  });
  return { fcnMs, windowsMs, windows: positions };
}

/** Canvases side by side, with the true boxes (green) and the detections (red, labelled). */
function detectionsChart(shown: { canvas: Canvas; detections: Box[] }[]): ChartSpec {
  const scale = 3;
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: { ...chartConfig, concat: { spacing: 12 } },
    hconcat: shown.map(({ canvas, detections }) => {
      const side = canvas.size * scale;
      const box = (b: Box, kind: string) => ({
        x: b.x * scale,
        x2: (b.x + WINDOW) * scale,
        y: b.y * scale,
        y2: (b.y + WINDOW) * scale,
        kind,
        text: kind === "detection" ? String(b.label) : "",
      });
      const boxes = [
        ...canvas.digits.map((b) => box(b, "true digit")),
        ...detections.map((b) => box(b, "detection")),
      ];
      const url = grayImageDataUrl({ pixels: canvas.pixels, width: canvas.size, height: canvas.size });
      const px = { type: "quantitative", scale: { domain: [0, side] }, axis: null };
      // Image rows run down the picture: y grows downwards, as in the canvas, not upwards as in a plot.
      const py = { type: "quantitative", scale: { domain: [0, side], reverse: true }, axis: null };
      return {
        width: side,
        height: side,
        layer: [
          {
            data: { values: [{ url }] },
            mark: { type: "image", width: side, height: side, aspect: false },
            encoding: {
              url: { field: "url", type: "nominal" },
              x: { value: side / 2 },
              y: { value: side / 2 },
            },
          },
          {
            data: { values: boxes },
            mark: { type: "rect", fillOpacity: 0, strokeWidth: 2 },
            encoding: {
              x: { field: "x", ...px },
              x2: { field: "x2" },
              y: { field: "y", ...py },
              y2: { field: "y2" },
              stroke: {
                field: "kind",
                type: "nominal",
                title: null,
                scale: { domain: ["true digit", "detection"], range: ["#2ca02c", "#d62728"] },
              },
            },
          },
          {
            data: { values: boxes.filter((b) => b.text) },
            mark: {
              type: "text",
              color: "#d62728",
              fontSize: 14,
              fontWeight: "bold",
              align: "left",
              baseline: "top",
              dx: 3,
              dy: 2,
            },
            encoding: { x: { field: "x", ...px }, y: { field: "y", ...py }, text: { field: "text" } },
          },
        ],
      };
    }),
  } as ChartSpec;
}

/** The most likely class at each position of a class map (background left out). */
function classMapChart(map: ClassMap): ChartSpec {
  const plane = map.rows * map.cols;
  const cells = [];
  for (let p = 0; p < plane; p++) {
    let best = 0;
    for (let c = 1; c < map.classes; c++)
      if (map.probs[c * plane + p] > map.probs[best * plane + p]) best = c;
    if (best !== BACKGROUND)
      cells.push({
        row: Math.floor(p / map.cols),
        col: p % map.cols,
        digit: String(best),
        p: map.probs[best * plane + p],
      });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "Most likely digit per position (stride 2 px)",
    config: chartConfig,
    width: map.cols * 8,
    height: map.rows * 8,
    data: { values: cells },
    mark: "rect",
    encoding: {
      x: {
        field: "col",
        type: "ordinal",
        title: "position x",
        scale: { domain: Array.from({ length: map.cols }, (_, i) => i) },
        axis: { labels: false, ticks: false },
      },
      y: {
        field: "row",
        type: "ordinal",
        title: "position y",
        scale: { domain: Array.from({ length: map.rows }, (_, i) => i) },
        axis: { labels: false, ticks: false },
      },
      color: { field: "digit", type: "nominal", title: "digit", scale: { scheme: "category10" } },
      opacity: { field: "p", type: "quantitative", title: "probability", scale: { domain: [0.5, 1] } },
    },
  } as ChartSpec;
}
