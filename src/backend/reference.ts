import type { Floats } from "../ndarray.js";
import type { Kernels } from "./kernels.js";

/**
 * The reference kernels: the plainest loops that could work, for float32 and float64 alike.
 * They are the specification every fast backend is tested against.
 */

function matmul(
  out: Floats,
  a: Floats,
  b: Floats,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  accumulate = false,
): void {
  // Strides of op(a) (m×k) and op(b) (k×n) over their storage.
  const [aRow, aCol] = transA ? [1, m] : [k, 1];
  const [bRow, bCol] = transB ? [1, k] : [n, 1];
  if (!accumulate) out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * aRow + p * aCol];
      if (aip === 0) continue;
      const bp = p * bRow;
      const o = i * n;
      for (let j = 0; j < n; j++) out[o + j] += aip * b[bp + j * bCol];
    }
  }
}

function addBias(out: Floats, x: Floats, bias: Floats, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = x[i * cols + j] + bias[j];
  }
}

function sumRows(out: Floats, x: Floats, rows: number, cols: number): void {
  out.fill(0, 0, cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j] += x[i * cols + j];
  }
}

function scaleColumns(out: Floats, x: Floats, scale: Floats, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = x[i * cols + j] * scale[j];
  }
}

function transpose(out: Floats, x: Floats, batch: number, rows: number, cols: number): void {
  for (let b = 0; b < batch; b++) {
    const off = b * rows * cols;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) out[off + j * rows + i] = x[off + i * cols + j];
    }
  }
}

function relu(out: Floats, x: Floats): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
}

function reluBackward(dx: Floats, dout: Floats, x: Floats): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dout[i] : 0;
}

/** σ(v) without overflow: exp of a non-positive number only. */
function sigmoidOf(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

function sigmoid(out: Floats, x: Floats): void {
  for (let i = 0; i < x.length; i++) out[i] = sigmoidOf(x[i]);
}

function sigmoidBackward(dx: Floats, dout: Floats, y: Floats): void {
  for (let i = 0; i < y.length; i++) dx[i] = dout[i] * y[i] * (1 - y[i]);
}

function tanh(out: Floats, x: Floats): void {
  for (let i = 0; i < x.length; i++) out[i] = Math.tanh(x[i]);
}

function tanhBackward(dx: Floats, dout: Floats, y: Floats): void {
  for (let i = 0; i < y.length; i++) dx[i] = dout[i] * (1 - y[i] * y[i]);
}

function axpby(out: Floats, a: number, x: Floats, b: number, y: Floats): void {
  for (let i = 0; i < x.length; i++) out[i] = a * x[i] + b * y[i];
}

function mul(out: Floats, x: Floats, y: Floats): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * y[i];
}

function softmax(out: Floats, x: Floats, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j] - max);
      out[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) out[o + j] /= sum;
  }
}

function softmaxCrossEntropy(
  loss: Floats,
  probs: Floats,
  x: Floats,
  labels: Int32Array,
  rows: number,
  cols: number,
): void {
  softmax(probs, x, rows, cols);
  let sum = 0;
  for (let r = 0; r < rows; r++) sum -= Math.log(probs[r * cols + labels[r]] + 1e-7);
  loss[0] = sum;
}

function softmaxCrossEntropyBackward(
  dx: Floats,
  probs: Floats,
  labels: Int32Array,
  rows: number,
  cols: number,
  scale: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) dx[o + j] = (probs[o + j] - (j === labels[r] ? 1 : 0)) * scale;
  }
}

function lstmForward(
  gates: Floats,
  c: Floats,
  hNext: Floats,
  a: Floats,
  cPrev: Floats,
  n: number,
  h: number,
): void {
  for (let r = 0; r < n; r++) {
    const row = r * 4 * h;
    for (let j = 0; j < h; j++) {
      const [fi, gi, ii, oi] = [row + j, row + h + j, row + 2 * h + j, row + 3 * h + j];
      const f = (gates[fi] = sigmoidOf(a[fi]));
      const g = (gates[gi] = Math.tanh(a[gi]));
      const i = (gates[ii] = sigmoidOf(a[ii]));
      const o = (gates[oi] = sigmoidOf(a[oi]));
      const cj = f * cPrev[r * h + j] + g * i;
      c[r * h + j] = cj;
      hNext[r * h + j] = o * Math.tanh(cj);
    }
  }
}

function lstmBackward(
  da: Floats,
  dcPrev: Floats,
  dh: Floats,
  dc: Floats,
  gates: Floats,
  cPrev: Floats,
  c: Floats,
  n: number,
  h: number,
): void {
  for (let r = 0; r < n; r++) {
    const row = r * 4 * h;
    for (let j = 0; j < h; j++) {
      const [fi, gi, ii, oi] = [row + j, row + h + j, row + 2 * h + j, row + 3 * h + j];
      const [f, g, i, o] = [gates[fi], gates[gi], gates[ii], gates[oi]];
      const k = r * h + j;
      const tc = Math.tanh(c[k]);
      const dhk = dh[k];
      // ds: the gradient reaching c, from this step's h and from the next step's c.
      const ds = dc[k] + dhk * o * (1 - tc * tc);
      da[fi] = ds * cPrev[k] * f * (1 - f);
      da[gi] = ds * i * (1 - g * g);
      da[ii] = ds * g * i * (1 - i);
      da[oi] = dhk * tc * o * (1 - o);
      dcPrev[k] = ds * f;
    }
  }
}

/** Output size per the book's Equation 6.1 (the caller has checked it divides evenly). */
function outSize(size: number, filter: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - filter) / stride) + 1;
}

function im2col(
  col: Floats,
  x: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const row = ((b * oh + oy) * ow + ox) * cols;
        for (let ch = 0; ch < c; ch++) {
          for (let ky = 0; ky < fh; ky++) {
            const y = oy * stride + ky - pad;
            for (let kx = 0; kx < fw; kx++) {
              const xx = ox * stride + kx - pad;
              const inside = y >= 0 && y < h && xx >= 0 && xx < w;
              col[row + (ch * fh + ky) * fw + kx] = inside ? x[((b * c + ch) * h + y) * w + xx] : 0;
            }
          }
        }
      }
    }
  }
}

function col2im(
  dx: Floats,
  col: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  dx.fill(0, 0, n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const row = ((b * oh + oy) * ow + ox) * cols;
        for (let ch = 0; ch < c; ch++) {
          for (let ky = 0; ky < fh; ky++) {
            const y = oy * stride + ky - pad;
            if (y < 0 || y >= h) continue;
            for (let kx = 0; kx < fw; kx++) {
              const xx = ox * stride + kx - pad;
              if (xx < 0 || xx >= w) continue;
              dx[((b * c + ch) * h + y) * w + xx] += col[row + (ch * fh + ky) * fw + kx];
            }
          }
        }
      }
    }
  }
}

function like(a: Floats, size: number): Floats {
  return a instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
}

function convForward(
  out: Floats,
  x: Floats,
  W: Floats,
  b: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fn: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
): void {
  const pixels = outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  // (n, c, h, w) → col (n·oh·ow, c·fh·fw) → · Wᵀ + b (n·oh·ow, fn) → (n, fn, oh·ow)
  const col = like(x, n * pixels * cols);
  im2col(col, x, n, c, h, w, fh, fw, stride, pad);
  const y = like(x, n * pixels * fn);
  matmul(y, col, W, n * pixels, cols, fn, false, true);
  addBias(y, y, b, n * pixels, fn);
  transpose(out, y, n, pixels, fn);
}

function convBackward(
  dx: Floats,
  dW: Floats,
  db: Floats,
  dout: Floats,
  x: Floats,
  W: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fn: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
): void {
  const pixels = outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
  const rows = n * pixels;
  const cols = c * fh * fw;
  // dout (n, fn, oh·ow) → d (n·oh·ow, fn), the layout of the forward product
  const d = like(dout, rows * fn);
  transpose(d, dout, n, fn, pixels);
  sumRows(db, d, rows, fn);
  const col = like(x, rows * cols);
  im2col(col, x, n, c, h, w, fh, fw, stride, pad);
  // dW = dᵀ·col (fn, c·fh·fw); dcol = d·W (n·oh·ow, c·fh·fw), scattered back onto the image
  matmul(dW, d, col, fn, rows, cols, true, false);
  if (dx.length === 0) return;
  const dcol = like(x, rows * cols);
  matmul(dcol, d, W, rows, fn, cols, false, false);
  col2im(dx, dcol, n, c, h, w, fh, fw, stride, pad);
}

function convReluPoolForward(
  out: Floats,
  argmax: Int32Array,
  x: Floats,
  W: Floats,
  b: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fn: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
  ph: number,
  pw: number,
  pstride: number,
  ppad: number,
): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  // (n, c, h, w) → relu(conv) (n, fn, oh, ow) → max pool (n, fn, poh, pow)
  const y = ph === 0 ? out : like(x, n * fn * oh * ow);
  convForward(y, x, W, b, n, c, h, w, fn, fh, fw, stride, pad);
  relu(y, y);
  if (ph > 0) maxPool(out, argmax, y, n, fn, oh, ow, ph, pw, pstride, ppad);
}

function convReluPoolBackward(
  dx: Floats,
  dW: Floats,
  db: Floats,
  dout: Floats,
  out: Floats,
  argmax: Int32Array,
  x: Floats,
  W: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fn: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
  ph: number,
  pw: number,
  pstride: number,
  ppad: number,
): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  // The ReLU mask at the pooled outputs (each is its winner's ReLU output), then routed to the
  // winners: (n, fn, poh, pow) → (n, fn, oh, ow), then the convolution's backward.
  const masked = like(dout, dout.length);
  reluBackward(masked, dout, out);
  let dy = masked;
  if (ph > 0) {
    dy = like(dout, n * fn * oh * ow);
    maxPoolBackward(dy, masked, argmax, n, fn, oh, ow, ph, pw, pstride, ppad);
  }
  convBackward(dx, dW, db, dy, x, W, n, c, h, w, fn, fh, fw, stride, pad);
}

/** Geometry of a transposed convolution's output along one axis: (size − 1)·stride − 2·pad + filter + outPad. */
function deconvOutSize(size: number, filter: number, stride: number, pad: number, outPad: number): number {
  return (size - 1) * stride - 2 * pad + filter + outPad;
}

function deconvForward(
  out: Floats,
  x: Floats,
  W: Floats,
  b: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fn: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
  outPad: number,
): void {
  const oh = deconvOutSize(h, fh, stride, pad, outPad);
  const ow = deconvOutSize(w, fw, stride, pad, outPad);
  const pixels = h * w;
  const cols = fn * fh * fw;
  // x (n, c, h·w) → (n·h·w, c) · W (c, fn·fh·fw) = col (n·h·w, fn·fh·fw), the im2col layout of a
  // convolution from (n, fn, oh, ow) to (n, c, h, w); col2im scatters it onto the output.
  const xr = like(x, n * pixels * c);
  transpose(xr, x, n, c, pixels);
  const col = like(x, n * pixels * cols);
  matmul(col, xr, W, n * pixels, c, cols, false, false);
  col2im(out, col, n, fn, oh, ow, fh, fw, stride, pad);
  for (let i = 0; i < n * fn; i++) {
    const bias = b[i % fn];
    for (let p = i * oh * ow; p < (i + 1) * oh * ow; p++) out[p] += bias;
  }
}

function deconvBackward(
  dx: Floats,
  dW: Floats,
  db: Floats,
  dout: Floats,
  x: Floats,
  W: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  fn: number,
  fh: number,
  fw: number,
  stride: number,
  pad: number,
  outPad: number,
): void {
  const oh = deconvOutSize(h, fh, stride, pad, outPad);
  const ow = deconvOutSize(w, fw, stride, pad, outPad);
  const pixels = h * w;
  const rows = n * pixels;
  const cols = fn * fh * fw;
  for (let f = 0; f < fn; f++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let p = (i * fn + f) * oh * ow; p < (i * fn + f + 1) * oh * ow; p++) sum += dout[p];
    }
    db[f] = sum;
  }
  // The windows of dout, as the convolution (n, fn, oh, ow) → (n, c, h, w) reads them.
  const col = like(dout, rows * cols);
  im2col(col, dout, n, fn, oh, ow, fh, fw, stride, pad);
  const xr = like(x, rows * c);
  transpose(xr, x, n, c, pixels);
  // dW = xrᵀ·col (c, fn·fh·fw); dx = col·Wᵀ (n·h·w, c) → (n, c, h·w)
  matmul(dW, xr, col, c, rows, cols, true, false);
  if (dx.length === 0) return;
  const dxr = like(x, rows * c);
  matmul(dxr, col, W, rows, cols, c, false, true);
  transpose(dx, dxr, n, pixels, c);
}

function leakyRelu(out: Floats, x: Floats, alpha: number): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : alpha * x[i];
}

function leakyReluBackward(dx: Floats, dout: Floats, x: Floats, alpha: number): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dout[i] : alpha * dout[i];
}

function copyBlocks(
  out: Floats,
  x: Floats,
  blocks: number,
  run: number,
  outStride: number,
  outOffset: number,
  xStride: number,
  xOffset: number,
): void {
  for (let b = 0; b < blocks; b++) {
    const [o, i] = [outOffset + b * outStride, xOffset + b * xStride];
    for (let j = 0; j < run; j++) out[o + j] = x[i + j];
  }
}

function embeddingForward(out: Floats, W: Floats, ids: Floats, n: number, d: number): void {
  for (let i = 0; i < n; i++) {
    const row = ids[i] * d;
    for (let j = 0; j < d; j++) out[i * d + j] = W[row + j];
  }
}

function embeddingBackward(dW: Floats, dout: Floats, ids: Floats, n: number, v: number, d: number): void {
  dW.fill(0, 0, v * d);
  for (let i = 0; i < n; i++) {
    const row = ids[i] * d;
    for (let j = 0; j < d; j++) dW[row + j] += dout[i * d + j];
  }
}

function sumSquares(out: Floats, x: Floats, accumulate: boolean): void {
  let sum = accumulate ? out[0] : 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  out[0] = sum;
}

function clipByNorm(x: Floats, sumSq: Floats, maxNorm: number): void {
  const rate = maxNorm / (Math.sqrt(sumSq[0]) + 1e-6);
  if (rate < 1) for (let i = 0; i < x.length; i++) x[i] *= rate;
}

function maxPool(
  out: Floats,
  argmax: Int32Array,
  x: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  ph: number,
  pw: number,
  stride: number,
  pad: number,
): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        let at = -1;
        for (let ky = 0; ky < ph; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx < 0 || xx >= w) continue;
            const i = (p * h + y) * w + xx;
            if (x[i] > best) {
              best = x[i];
              at = i;
            }
          }
        }
        const o = (p * oh + oy) * ow + ox;
        out[o] = at < 0 ? 0 : best;
        argmax[o] = at;
      }
    }
  }
}

function maxPoolBackward(
  dx: Floats,
  dout: Floats,
  argmax: Int32Array,
  n: number,
  c: number,
  h: number,
  w: number,
  ph: number,
  pw: number,
  stride: number,
  pad: number,
): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  dx.fill(0, 0, n * c * h * w);
  for (let o = 0; o < n * c * oh * ow; o++) {
    if (argmax[o] >= 0) dx[argmax[o]] += dout[o];
  }
}

function avgPool(
  out: Floats,
  x: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  ph: number,
  pw: number,
  stride: number,
  pad: number,
): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  const inv = 1 / (ph * pw);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum = 0;
        for (let ky = 0; ky < ph; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx >= 0 && xx < w) sum += x[(p * h + y) * w + xx];
          }
        }
        out[(p * oh + oy) * ow + ox] = sum * inv;
      }
    }
  }
}

function avgPoolBackward(
  dx: Floats,
  dout: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  ph: number,
  pw: number,
  stride: number,
  pad: number,
): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  const inv = 1 / (ph * pw);
  dx.fill(0, 0, n * c * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const g = dout[(p * oh + oy) * ow + ox] * inv;
        for (let ky = 0; ky < ph; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx >= 0 && xx < w) dx[(p * h + y) * w + xx] += g;
          }
        }
      }
    }
  }
}

function batchNormStats(mean: Floats, variance: Floats, x: Floats, n: number, c: number, hw: number): void {
  const m = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) sum += x[(i * c + ch) * hw + j];
    const mu = sum / m;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        const d = x[(i * c + ch) * hw + j] - mu;
        sq += d * d;
      }
    }
    mean[ch] = mu;
    variance[ch] = sq / m;
  }
}

function batchNormForward(
  out: Floats,
  x: Floats,
  mean: Floats,
  variance: Floats,
  gamma: Floats,
  beta: Floats,
  n: number,
  c: number,
  hw: number,
  eps: number,
  relu: boolean,
): void {
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const at = (i * c + ch) * hw;
      const std = Math.sqrt(variance[ch] + eps);
      for (let j = 0; j < hw; j++) {
        const v = (gamma[ch] * (x[at + j] - mean[ch])) / std + beta[ch];
        out[at + j] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
}

function batchNormBackward(
  dx: Floats,
  dgamma: Floats,
  dbeta: Floats,
  dy: Floats,
  x: Floats,
  mean: Floats,
  variance: Floats,
  gamma: Floats,
  n: number,
  c: number,
  hw: number,
  eps: number,
  train: boolean,
): void {
  const m = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const std = Math.sqrt(variance[ch] + eps);
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        const at = (i * c + ch) * hw + j;
        sumDy += dy[at];
        sumDyXhat += (dy[at] * (x[at] - mean[ch])) / std;
      }
    }
    dbeta[ch] = sumDy;
    dgamma[ch] = sumDyXhat;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const at = (i * c + ch) * hw;
      const std = Math.sqrt(variance[ch] + eps);
      for (let j = 0; j < hw; j++) {
        const xhat = (x[at + j] - mean[ch]) / std;
        const d = train ? dy[at + j] - (dbeta[ch] + xhat * dgamma[ch]) / m : dy[at + j];
        dx[at + j] = (gamma[ch] / std) * d;
      }
    }
  }
}

function lrnForward(
  out: Floats,
  scale: Floats,
  x: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  size: number,
  k: number,
  alpha: number,
  beta: number,
): void {
  const plane = h * w;
  const half = (size - 1) / 2;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const lo = Math.max(0, ch - half);
      const hi = Math.min(c - 1, ch + half);
      for (let p = 0; p < plane; p++) {
        let sum = 0;
        for (let cc = lo; cc <= hi; cc++) {
          const v = x[(b * c + cc) * plane + p];
          sum += v * v;
        }
        const i = (b * c + ch) * plane + p;
        scale[i] = k + (alpha / size) * sum;
        out[i] = x[i] * Math.pow(scale[i], -beta);
      }
    }
  }
}

function lrnBackward(
  dx: Floats,
  dout: Floats,
  x: Floats,
  out: Floats,
  scale: Floats,
  n: number,
  c: number,
  h: number,
  w: number,
  size: number,
  alpha: number,
  beta: number,
): void {
  const plane = h * w;
  const half = (size - 1) / 2;
  const coef = (2 * alpha * beta) / size;
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < c; j++) {
      const lo = Math.max(0, j - half);
      const hi = Math.min(c - 1, j + half);
      for (let p = 0; p < plane; p++) {
        // The window is symmetric: the channels whose sums hold x_j are those in j's own window.
        let sum = 0;
        for (let cc = lo; cc <= hi; cc++) {
          const i = (b * c + cc) * plane + p;
          sum += (dout[i] * out[i]) / scale[i];
        }
        const i = (b * c + j) * plane + p;
        dx[i] = dout[i] * Math.pow(scale[i], -beta) - coef * x[i] * sum;
      }
    }
  }
}

function sgdUpdate(w: Floats, g: Floats, lr: number): void {
  for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
}

function momentumUpdate(w: Floats, v: Floats, g: Floats, lr: number, momentum: number): void {
  for (let i = 0; i < w.length; i++) {
    v[i] = momentum * v[i] - lr * g[i];
    w[i] += v[i];
  }
}

function nesterovUpdate(w: Floats, v: Floats, g: Floats, lr: number, momentum: number): void {
  for (let i = 0; i < w.length; i++) {
    w[i] += momentum * momentum * v[i] - (1 + momentum) * lr * g[i];
    v[i] = momentum * v[i] - lr * g[i];
  }
}

function adagradUpdate(w: Floats, h: Floats, g: Floats, lr: number, eps: number): void {
  for (let i = 0; i < w.length; i++) {
    h[i] += g[i] * g[i];
    w[i] -= (lr * g[i]) / (Math.sqrt(h[i]) + eps);
  }
}

function rmspropUpdate(w: Floats, h: Floats, g: Floats, lr: number, decay: number, eps: number): void {
  for (let i = 0; i < w.length; i++) {
    h[i] = decay * h[i] + (1 - decay) * g[i] * g[i];
    w[i] -= (lr * g[i]) / (Math.sqrt(h[i]) + eps);
  }
}

function adamUpdate(
  w: Floats,
  m: Floats,
  v: Floats,
  g: Floats,
  lrT: number,
  beta1: number,
  beta2: number,
  eps: number,
): void {
  for (let i = 0; i < w.length; i++) {
    m[i] += (1 - beta1) * (g[i] - m[i]);
    v[i] += (1 - beta2) * (g[i] * g[i] - v[i]);
    w[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + eps);
  }
}

export const reference = {
  name: "reference",
  matmul,
  addBias,
  sumRows,
  scaleColumns,
  transpose,
  relu,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  tanh,
  tanhBackward,
  axpby,
  mul,
  softmax,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackward,
  im2col,
  col2im,
  convForward,
  convBackward,
  convReluPoolForward,
  convReluPoolBackward,
  maxPool,
  maxPoolBackward,
  avgPool,
  avgPoolBackward,
  batchNormStats,
  batchNormForward,
  batchNormBackward,
  lrnForward,
  lrnBackward,
  sgdUpdate,
  momentumUpdate,
  nesterovUpdate,
  adagradUpdate,
  rmspropUpdate,
  adamUpdate,
  lstmForward,
  lstmBackward,
  deconvForward,
  deconvBackward,
  leakyRelu,
  leakyReluBackward,
  copyBlocks,
  embeddingForward,
  embeddingBackward,
  sumSquares,
  clipByNorm,
} satisfies Kernels;
