/**
 * A canvas to draw a digit on (white on black, as MNIST). The drawing becomes an MNIST-like 28×28
 * input through the library's prepareImage, the same code `zerodl predict` runs on a picture file.
 */
import { prepareImage } from "../../src/index.js";

/** Side of an MNIST image. */
const SIDE = 28;

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
    const { data } = this.#ctx.getImageData(0, 0, width, height);
    const picture = { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
    const prepared = prepareImage(picture, { width: SIDE, height: SIDE }, { polarity: "keep" });
    return prepared.blank ? null : prepared.image.pixels;
  }

  /** Puts a picture of the pad's own size on it, pixel for pixel (RGBA bytes, row-major). */
  showPicture(rgba: ArrayLike<number>): void {
    const { width, height } = this.canvas;
    const image = this.#ctx.createImageData(width, height);
    image.data.set(rgba);
    this.#ctx.putImageData(image, 0, 0);
    this.#empty = false;
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
