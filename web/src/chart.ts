/**
 * The live training chart: loss per iteration (left axis) and accuracy (right axis, 0–100 %)
 * against the iteration, drawn on a canvas at the screen's pixel density.
 */

export type AccuracyKind = "probe" | "train" | "test";

const colors = {
  lossRaw: "rgba(214, 96, 77, 0.28)",
  loss: "#d6604d",
  probe: "#1b9e77",
  train: "#e6a117",
  test: "#3b6fd6",
  grid: "#e4e7ec",
  text: "#59606b",
};

export class TrainingChart {
  readonly #canvas: HTMLCanvasElement;
  #iterations = 1;
  #losses: number[] = [];
  #accuracy: Record<AccuracyKind, { iteration: number; value: number }[]> = {
    probe: [],
    train: [],
    test: [],
  };
  #lossTop = 2.5;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
    this.draw();
  }

  /** Starts a new run of `iterations` iterations. */
  reset(iterations: number): void {
    this.#iterations = Math.max(1, iterations);
    this.#losses = [];
    this.#accuracy = { probe: [], train: [], test: [] };
    this.#lossTop = 2.5;
  }

  addLoss(loss: number): void {
    this.#losses.push(loss);
    // The axis covers the first losses (≈ ln 10 = 2.3 for an untrained 10-class net) and any spike.
    this.#lossTop = Math.max(this.#lossTop, Math.ceil(loss * 2) / 2);
  }

  addAccuracy(kind: AccuracyKind, iteration: number, value: number): void {
    this.#accuracy[kind].push({ iteration, value });
  }

  draw(): void {
    const canvas = this.#canvas;
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth || 600;
    const cssHeight = canvas.clientHeight || 260;
    if (canvas.width !== Math.round(cssWidth * ratio)) canvas.width = Math.round(cssWidth * ratio);
    if (canvas.height !== Math.round(cssHeight * ratio)) canvas.height = Math.round(cssHeight * ratio);
    const ctx = canvas.getContext("2d")!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);

    const left = 44;
    const right = 48;
    const top = 14;
    const bottom = 30;
    const w = cssWidth - left - right;
    const h = cssHeight - top - bottom;
    const xOf = (iteration: number) => left + (w * iteration) / this.#iterations;
    const lossY = (loss: number) => top + h * (1 - Math.min(loss, this.#lossTop) / this.#lossTop);
    const accY = (acc: number) => top + h * (1 - acc);

    // Grid and axes: loss ticks left, accuracy ticks right, iterations below.
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.fillStyle = colors.text;
    for (let i = 0; i <= 5; i++) {
      const y = top + (h * i) / 5;
      ctx.strokeStyle = colors.grid;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + w, y);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(((this.#lossTop * (5 - i)) / 5).toFixed(1), left - 6, y + 4);
      ctx.textAlign = "left";
      ctx.fillText(`${(100 - i * 20).toFixed(0)} %`, left + w + 6, y + 4);
    }
    ctx.textAlign = "center";
    const step = niceStep(this.#iterations / 5);
    for (let iteration = 0; iteration <= this.#iterations; iteration += step) {
      ctx.fillText(String(iteration), xOf(iteration), top + h + 16);
    }
    ctx.fillText("iteration", left + w / 2, top + h + 28);

    // Loss: every iteration faint, a moving average bold.
    const losses = this.#losses;
    if (losses.length > 0) {
      ctx.strokeStyle = colors.lossRaw;
      this.#line(
        ctx,
        losses.length,
        (i) => xOf(i + 1),
        (i) => lossY(losses[i]),
      );
      let average = losses[0];
      const smooth = losses.map((loss) => (average = 0.9 * average + 0.1 * loss));
      ctx.strokeStyle = colors.loss;
      ctx.lineWidth = 2;
      this.#line(
        ctx,
        smooth.length,
        (i) => xOf(i + 1),
        (i) => lossY(smooth[i]),
      );
    }

    // Accuracy: the frequent probe as a line, the per-epoch results as dots.
    const probe = this.#accuracy.probe;
    ctx.strokeStyle = colors.probe;
    ctx.lineWidth = 2;
    this.#line(
      ctx,
      probe.length,
      (i) => xOf(probe[i].iteration),
      (i) => accY(probe[i].value),
    );
    for (const kind of ["train", "test"] as const) {
      ctx.fillStyle = colors[kind];
      for (const { iteration, value } of this.#accuracy[kind]) {
        ctx.beginPath();
        ctx.arc(xOf(iteration), accY(value), 4, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }

  #line(ctx: CanvasRenderingContext2D, n: number, x: (i: number) => number, y: (i: number) => number): void {
    if (n === 0) return;
    ctx.beginPath();
    ctx.moveTo(x(0), y(0));
    for (let i = 1; i < n; i++) ctx.lineTo(x(i), y(i));
    ctx.stroke();
  }
}

/** 1, 2 or 5 times a power of ten, at least `rough` (axis ticks at round numbers). */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, rough)));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

/** The colours, for the legend in the page. */
export const chartColors = colors;
