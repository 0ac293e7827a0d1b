/**
 * Chapter 7's views, drawn on canvases: filters and activation maps as pixel grids (nearest
 * neighbour, so a 5×5 filter shows its 25 weights), activation histograms per layer (the book's
 * Figure 6-10), a confusion matrix and the misclassified test images.
 */

/** A stack of same-sized 2-D tiles: `count` tiles of `height`×`width` values, row-major. */
export interface Tiles {
  data: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
}

export interface GridOptions {
  /** Tiles per row (default: as square as the count allows). */
  columns?: number;
  /** Screen pixels per value (default 4). */
  scale?: number;
  /** Gap between tiles, in screen pixels (default 2). */
  gap?: number;
  /**
   * "tile": each tile scaled from its own minimum to its maximum (the book's imshow per filter);
   * "fixed": the values are already in [0, 1].
   */
  range?: "tile" | "fixed";
  /** The book's gray_r: large values dark (filters); otherwise large values light (images). */
  reversed?: boolean;
}

/** Draws tiles as a grid of gray pixel blocks on `canvas` (resized to fit). */
export function drawTiles(canvas: HTMLCanvasElement, tiles: Tiles, options: GridOptions = {}): void {
  const { count, height, width, data } = tiles;
  const columns = options.columns ?? Math.max(1, Math.ceil(Math.sqrt(count)));
  const rows = Math.max(1, Math.ceil(count / columns));
  const scale = options.scale ?? 4;
  const gap = options.gap ?? 2;
  canvas.width = columns * (width * scale + gap) - gap;
  canvas.height = rows * (height * scale + gap) - gap;
  const ctx = canvas.getContext("2d")!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const image = ctx.createImageData(width, height);
  const small = document.createElement("canvas");
  small.width = width;
  small.height = height;
  const smallCtx = small.getContext("2d")!;
  ctx.imageSmoothingEnabled = false;
  const size = height * width;
  for (let t = 0; t < count; t++) {
    let lo = 0;
    let hi = 1;
    if (options.range !== "fixed") {
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < size; i++) {
        const v = data[t * size + i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    const span = hi - lo || 1;
    for (let i = 0; i < size; i++) {
      const unit = Math.max(0, Math.min(1, (data[t * size + i] - lo) / span));
      const v = Math.round(255 * (options.reversed ? 1 - unit : unit));
      image.data[4 * i] = v;
      image.data[4 * i + 1] = v;
      image.data[4 * i + 2] = v;
      image.data[4 * i + 3] = 255;
    }
    smallCtx.putImageData(image, 0, 0);
    const x = (t % columns) * (width * scale + gap);
    const y = Math.floor(t / columns) * (height * scale + gap);
    ctx.drawImage(small, x, y, width * scale, height * scale);
  }
}

/** One histogram panel: a layer's activations over a batch of inputs. */
export interface HistogramPanel {
  title: string;
  values: ArrayLike<number>;
  /** The x range; the book's Figure 6-10 uses [0, 1] for sigmoid outputs. */
  range: [number, number];
  /** Leave exact zeros out (ReLU: the zeros would dwarf every other bar; the title gives their share). */
  skipZeros?: boolean;
}

/**
 * Histograms side by side (the book's Figure 6-10 layout), 30 bins each, with axis labels; a deep
 * network's (a ResNet's 13 ReLUs) wrap into rows of `perRow`.
 */
export function drawHistograms(
  canvas: HTMLCanvasElement,
  panels: readonly HistogramPanel[],
  bins = 30,
  perRow = 6,
): void {
  const ratio = window.devicePixelRatio || 1;
  const panelWidth = 150;
  const panelHeight = 150;
  const columns = Math.max(1, Math.min(panels.length, perRow));
  const cssWidth = columns * panelWidth;
  const cssHeight = Math.max(1, Math.ceil(panels.length / columns)) * panelHeight;
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);
  ctx.font = "11px system-ui, sans-serif";
  panels.forEach((panel, k) => {
    const counts = new Array<number>(bins).fill(0);
    const [lo, hi] = panel.range;
    const width = hi - lo || 1;
    for (let i = 0; i < panel.values.length; i++) {
      const v = panel.values[i];
      if (v < lo || v > hi || (panel.skipZeros && v === 0)) continue;
      counts[Math.min(bins - 1, Math.floor(((v - lo) / width) * bins))]++;
    }
    const top = Math.max(1, ...counts);
    const left = (k % columns) * panelWidth + 30;
    const rowTop = Math.floor(k / columns) * panelHeight;
    const plotWidth = panelWidth - 40;
    const plotTop = rowTop + 20;
    const plotHeight = panelHeight - 50;
    ctx.fillStyle = "#1f2430";
    ctx.textAlign = "center";
    ctx.fillText(panel.title, left + plotWidth / 2, rowTop + 12);
    ctx.fillStyle = "#3b6fd6";
    counts.forEach((c, b) => {
      const h = (plotHeight * c) / top;
      ctx.fillRect(left + (plotWidth * b) / bins, plotTop + plotHeight - h, plotWidth / bins - 0.5, h);
    });
    ctx.strokeStyle = "#59606b";
    ctx.beginPath();
    ctx.moveTo(left, plotTop + plotHeight + 0.5);
    ctx.lineTo(left + plotWidth, plotTop + plotHeight + 0.5);
    ctx.stroke();
    ctx.fillStyle = "#59606b";
    ctx.fillText(short(lo), left, plotTop + plotHeight + 13);
    ctx.fillText(short(hi), left + plotWidth, plotTop + plotHeight + 13);
    ctx.fillText("activation", left + plotWidth / 2, plotTop + plotHeight + 26);
    if (k % columns === 0) {
      ctx.save();
      ctx.translate(10, plotTop + plotHeight / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText("count", 0, 0);
      ctx.restore();
    }
  });
}

function short(x: number): string {
  return Number(x.toPrecision(2)).toString();
}

/**
 * The confusion matrix as an HTML table: rows the true class, columns the prediction, cells
 * shaded by their share of the row (so the diagonal reads as accuracy per class).
 */
export function confusionTable(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[],
): string {
  const head = classNames.map((c) => `<th title="predicted ${c}">${abbreviate(c)}</th>`).join("");
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const cells = row
      .map((count, j) => {
        const share = count / total;
        const bg =
          i === j
            ? `rgba(27, 158, 119, ${share.toFixed(3)})`
            : `rgba(214, 96, 77, ${Math.min(1, 4 * share).toFixed(3)})`;
        return `<td style="background: ${bg}" title="true ${classNames[i]}, predicted ${classNames[j]}: ${count}">${count}</td>`;
      })
      .join("");
    return `<tr><th title="true ${classNames[i]}">${abbreviate(classNames[i])}</th>${cells}</tr>`;
  });
  return `<table class="confusion"><caption>rows: true class · columns: predicted</caption><tr><th></th>${head}</tr>${rows.join("")}</table>`;
}

function abbreviate(name: string): string {
  return name.length <= 5 ? name : name.slice(0, 4) + ".";
}

export interface Mistake {
  index: number;
  label: number;
  predicted: number;
  pixels: ArrayLike<number>;
}

/** The first misclassified test images, each with "true → predicted" under it. */
export function drawMistakes(
  container: HTMLElement,
  mistakes: readonly Mistake[],
  classNames: readonly string[],
): void {
  container.replaceChildren(
    ...mistakes.map((m) => {
      const figure = document.createElement("figure");
      const canvas = document.createElement("canvas");
      drawTiles(canvas, { data: m.pixels, count: 1, height: 28, width: 28 }, { range: "fixed", scale: 2 });
      const caption = document.createElement("figcaption");
      caption.textContent = `${classNames[m.label]} → ${classNames[m.predicted]}`;
      caption.title = `test image #${m.index}: labelled ${classNames[m.label]}, predicted ${classNames[m.predicted]}`;
      figure.append(canvas, caption);
      return figure;
    }),
  );
}
