/**
 * A canvas to draw a digit on (white on black, as MNIST), and the conversion of the drawing into
 * an MNIST-like 28×28 input.
 */

/** Side of an MNIST image, and of the box its digits were scaled to fit (LeCun et al.). */
const SIDE = 28;
const BOX = 20;

/**
 * Converts a grayscale image (values 0…1, ink bright) into 784 values in 0…1 as MNIST prepared
 * its digits: the ink's bounding box scaled to fit 20×20 keeping its aspect ratio (averaging the
 * source pixels, which gives the soft edges MNIST has), then placed so that its centre of mass
 * lies at the centre of the 28×28 field. Null when there is no ink.
 */
export function toMnistInput(
  gray: Float32Array,
  width: number,
  height: number,
  threshold = 0.05,
): Float32Array | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;

  // The bounding box (bw × bh) → (tw × th), longer side 20.
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  const sum = new Float64Array(tw * th);
  const count = new Float64Array(tw * th);
  for (let sy = y0; sy <= y1; sy++) {
    const ty = Math.min(th - 1, Math.floor(((sy - y0 + 0.5) * th) / bh));
    for (let sx = x0; sx <= x1; sx++) {
      const tx = Math.min(tw - 1, Math.floor(((sx - x0 + 0.5) * tw) / bw));
      sum[ty * tw + tx] += gray[sy * width + sx];
      count[ty * tw + tx]++;
    }
  }
  // A digit drawn smaller than 20 px is enlarged: target pixels no source centre fell into take
  // their nearest source pixel.
  const box = new Float64Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const i = ty * tw + tx;
      if (count[i] > 0) box[i] = sum[i] / count[i];
      else {
        const sy = y0 + Math.min(bh - 1, Math.floor(((ty + 0.5) * bh) / th));
        const sx = x0 + Math.min(bw - 1, Math.floor(((tx + 0.5) * bw) / tw));
        box[i] = gray[sy * width + sx];
      }
    }
  }

  // Centre of mass → pixel (14, 14) in index coordinates: where MNIST's digits have it (the mean
  // over its test images is (14.00, 13.99)).
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const v = box[ty * tw + tx];
      mass += v;
      cx += v * tx;
      cy += v * ty;
    }
  }
  const dx = Math.round(SIDE / 2 - cx / mass);
  const dy = Math.round(SIDE / 2 - cy / mass);
  const out = new Float32Array(SIDE * SIDE);
  for (let ty = 0; ty < th; ty++) {
    const y = ty + dy;
    if (y < 0 || y >= SIDE) continue;
    for (let tx = 0; tx < tw; tx++) {
      const x = tx + dx;
      if (x >= 0 && x < SIDE) out[y * SIDE + x] = Math.min(1, box[ty * tw + tx]);
    }
  }
  return out;
}

/** Draws 28×28 values (0…1) as gray pixels filling `canvas` (no smoothing, so pixels show). */
export function showImage(canvas: HTMLCanvasElement, pixels: ArrayLike<number>): void {
  const small = document.createElement("canvas");
  small.width = SIDE;
  small.height = SIDE;
  const smallCtx = small.getContext("2d")!;
  const image = smallCtx.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, pixels[i])));
    image.data.set([v, v, v, 255], i * 4);
  }
  smallCtx.putImageData(image, 0, 0);
  const ctx = canvas.getContext("2d")!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/**
 * The drawing canvas: pointer strokes in white on black. `onChange` runs (at most once per
 * animation frame) while the user draws and after each stroke.
 */
export class DigitPad {
  readonly canvas: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  #last: { x: number; y: number } | null = null;
  #pending = false;
  #empty = true;

  constructor(canvas: HTMLCanvasElement, onChange: () => void) {
    this.canvas = canvas;
    this.#ctx = canvas.getContext("2d", { willReadFrequently: true })!;
    this.clear();
    const changed = () => {
      if (this.#pending) return;
      this.#pending = true;
      requestAnimationFrame(() => {
        this.#pending = false;
        onChange();
      });
    };
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.#last = this.#point(e);
      this.#stroke(this.#last, this.#last);
      changed();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!this.#last) return;
      const p = this.#point(e);
      this.#stroke(this.#last, p);
      this.#last = p;
      changed();
    });
    const end = () => {
      if (!this.#last) return;
      this.#last = null;
      changed();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  get empty(): boolean {
    return this.#empty;
  }

  clear(): void {
    this.#ctx.fillStyle = "#000";
    this.#ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.#empty = true;
  }

  /** Shows a 28×28 image (0…1) enlarged over the whole pad, as if drawn. */
  showImage(pixels: ArrayLike<number>): void {
    showImage(this.canvas, pixels);
    this.#empty = false;
  }

  /** The drawing as an MNIST-like input (784 values), or null when nothing is drawn. */
  input(): Float32Array | null {
    if (this.#empty) return null;
    const { width, height } = this.canvas;
    const rgba = this.#ctx.getImageData(0, 0, width, height).data;
    const gray = new Float32Array(width * height);
    for (let i = 0; i < gray.length; i++) gray[i] = rgba[i * 4] / 255;
    return toMnistInput(gray, width, height);
  }

  #point(e: PointerEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) * this.canvas.width) / rect.width,
      y: ((e.clientY - rect.top) * this.canvas.height) / rect.height,
    };
  }

  #stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const ctx = this.#ctx;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = this.canvas.width / 12;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    this.#empty = false;
  }
}
