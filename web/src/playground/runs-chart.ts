/**
 * Several training runs overlaid, as the book's comparison figures (optimizers, initialisations,
 * batch norm): training loss (smoothed) per iteration on the left, test accuracy on the right.
 * Runs differ by colour (Okabe–Ito, safe for colour-blind readers) and by dash pattern, so the
 * chart also reads in gray.
 */

export interface RunSeries {
  label: string;
  /** Loss of every iteration. */
  losses: number[];
  /** Test accuracy measured while training (the live probe), by iteration. */
  accuracy: { iteration: number; value: number }[];
  /** Iterations the run will take (the x range). */
  iterations: number;
}

export const runColors = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"];
export const runDashes: number[][] = [[], [7, 4], [2, 3], [9, 3, 2, 3], [4, 2], [1, 3], [12, 4]];

/** The moving average the loss lines show (the raw loss of one mini-batch is noisy). */
export function smoothLosses(losses: readonly number[], keep = 0.9): number[] {
  let average = losses[0] ?? 0;
  return losses.map((loss) => (average = keep * average + (1 - keep) * loss));
}

export class RunsChart {
  readonly #canvas: HTMLCanvasElement;
  runs: RunSeries[] = [];

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
  }

  /** The style of run `i` (for legends outside the canvas). */
  static style(i: number): { color: string; dash: number[] } {
    return { color: runColors[i % runColors.length], dash: runDashes[i % runDashes.length] };
  }

  draw(): void {
    const canvas = this.#canvas;
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth || 900;
    const cssHeight = canvas.clientHeight || 260;
    if (canvas.width !== Math.round(cssWidth * ratio)) canvas.width = Math.round(cssWidth * ratio);
    if (canvas.height !== Math.round(cssHeight * ratio)) canvas.height = Math.round(cssHeight * ratio);
    const ctx = canvas.getContext("2d")!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    ctx.font = "11px system-ui, sans-serif";
    const iterations = Math.max(1, ...this.runs.map((r) => r.iterations));
    const half = cssWidth / 2;
    const smooth = this.runs.map((r) => smoothLosses(r.losses));
    const lossTop = Math.max(
      0.5,
      Math.ceil(2 * Math.max(0, ...smooth.flatMap((s) => s.slice(Math.min(s.length - 1, 5))))) / 2,
    );
    this.#panel(ctx, 0, half, cssHeight, {
      title: "training loss (moving average)",
      yTop: lossTop,
      yLabel: (v) => v.toFixed(1),
      iterations,
      series: smooth.map((s) => s.map((v, i) => ({ x: i + 1, y: v }))),
    });
    this.#panel(ctx, half, half, cssHeight, {
      title: "test accuracy (%)",
      yTop: 1,
      yLabel: (v) => (100 * v).toFixed(0),
      iterations,
      series: this.runs.map((r) => r.accuracy.map((a) => ({ x: a.iteration, y: a.value }))),
    });
  }

  #panel(
    ctx: CanvasRenderingContext2D,
    x0: number,
    width: number,
    height: number,
    panel: {
      title: string;
      yTop: number;
      yLabel: (v: number) => string;
      iterations: number;
      series: { x: number; y: number }[][];
    },
  ): void {
    const left = x0 + 44;
    const top = 20;
    const w = width - 60;
    const h = height - 54;
    const xOf = (i: number) => left + (w * i) / panel.iterations;
    const yOf = (v: number) => top + h * (1 - Math.min(v, panel.yTop) / panel.yTop);
    ctx.fillStyle = "#1f2430";
    ctx.textAlign = "center";
    ctx.fillText(panel.title, left + w / 2, 12);
    ctx.fillStyle = "#59606b";
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    for (let k = 0; k <= 5; k++) {
      const y = top + (h * k) / 5;
      ctx.strokeStyle = "#e4e7ec";
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + w, y);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(panel.yLabel((panel.yTop * (5 - k)) / 5), left - 6, y + 4);
    }
    ctx.textAlign = "center";
    const step = niceStep(panel.iterations / 4);
    for (let i = 0; i <= panel.iterations; i += step) ctx.fillText(String(i), xOf(i), top + h + 15);
    ctx.fillText("iteration", left + w / 2, top + h + 29);
    panel.series.forEach((points, i) => {
      if (points.length === 0) return;
      const { color, dash } = RunsChart.style(i);
      const current = i === panel.series.length - 1;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = current ? 2.2 : 1.5;
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(xOf(points[0].x), yOf(points[0].y));
      for (const p of points.slice(1)) ctx.lineTo(xOf(p.x), yOf(p.y));
      ctx.stroke();
      // A marker at the end names the run's shape even where lines overlap.
      const last = points[points.length - 1];
      ctx.setLineDash([]);
      marker(ctx, i, xOf(last.x), yOf(last.y));
    });
    ctx.setLineDash([]);
  }
}

/** Circle, square, triangle, diamond, … for run i. */
function marker(ctx: CanvasRenderingContext2D, i: number, x: number, y: number): void {
  const r = 4;
  ctx.beginPath();
  switch (i % 4) {
    case 0:
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      break;
    case 1:
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
      break;
    case 2:
      ctx.moveTo(x, y - r);
      ctx.lineTo(x + r, y + r);
      ctx.lineTo(x - r, y + r);
      ctx.closePath();
      break;
    default:
      ctx.moveTo(x, y - r);
      ctx.lineTo(x + r, y);
      ctx.lineTo(x, y + r);
      ctx.lineTo(x - r, y);
      ctx.closePath();
  }
  ctx.fill();
}

/** 1, 2 or 5 times a power of ten, at least `rough` (axis ticks at round numbers). */
export function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, rough)));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}
