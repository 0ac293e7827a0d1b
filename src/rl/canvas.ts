/**
 * Just enough raster drawing for the environments' `render()`: filled rectangles, convex polygons
 * and circles on an RGB image, each pixel in or out by its centre (no antialiasing).
 */
import type { RgbImage } from "./environment.js";

export type Rgb = readonly [number, number, number];

export class Canvas implements RgbImage {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  setPixel(x: number, y: number, [r, g, b]: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const k = 3 * (y * this.width + x);
    this.data[k] = r;
    this.data[k + 1] = g;
    this.data[k + 2] = b;
  }

  /** The pixels whose centres lie in [x0, x1) × [y0, y1). */
  fillRect(x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
    for (let y = Math.max(0, Math.ceil(y0 - 0.5)); y < Math.min(this.height, Math.ceil(y1 - 0.5)); y++) {
      for (let x = Math.max(0, Math.ceil(x0 - 0.5)); x < Math.min(this.width, Math.ceil(x1 - 0.5)); x++) {
        this.setPixel(x, y, color);
      }
    }
  }

  /** A convex polygon (corners in order, either direction). */
  fillPolygon(points: readonly (readonly [number, number])[], color: Rgb): void {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const n = points.length;
    for (
      let y = Math.max(0, Math.floor(Math.min(...ys)));
      y <= Math.min(this.height - 1, Math.max(...ys));
      y++
    ) {
      for (
        let x = Math.max(0, Math.floor(Math.min(...xs)));
        x <= Math.min(this.width - 1, Math.max(...xs));
        x++
      ) {
        const px = x + 0.5;
        const py = y + 0.5;
        let positive = 0;
        let negative = 0;
        for (let i = 0; i < n; i++) {
          const [ax, ay] = points[i];
          const [bx, by] = points[(i + 1) % n];
          const cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
          if (cross > 0) positive++;
          else if (cross < 0) negative++;
        }
        if (positive === 0 || negative === 0) this.setPixel(x, y, color);
      }
    }
  }

  fillCircle(cx: number, cy: number, r: number, color: Rgb): void {
    for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(this.height - 1, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(this.width - 1, cx + r); x++) {
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) this.setPixel(x, y, color);
      }
    }
  }
}
