import type { Floats } from "../../ndarray.js";
import type { Kernels } from "../kernels.js";
import { reference } from "../reference.js";
import { PARAM_BYTES, type Access, type Binding, type GpuDevice } from "./device.js";
import * as wgsl from "./shaders.js";

/**
 * The WebGPU kernels: the contract of kernels.ts run as WGSL compute shaders on arrays that live on
 * the GPU (`NDArray.buf` hands them handles; device.ts moves values). A call without any device
 * array (float64, or plain typed arrays) runs the reference kernel of the same name on the host.
 *
 * The composite kernels (convolution, fused convolution–ReLU–pooling) run as several dispatches
 * through scratch buffers that go back to the pool as soon as they are recorded.
 */

type Float = Floats;

/** One dispatch's uniform: u32 words, then f32 words, as the shader's struct lists them. */
function params(u: readonly number[], f: readonly number[] = []): ArrayBuffer {
  const buf = new ArrayBuffer(PARAM_BYTES);
  const words = new Uint32Array(buf);
  const floats = new Float32Array(buf);
  u.forEach((v, i) => (words[i] = v));
  f.forEach((v, i) => (floats[u.length + i] = v));
  return buf;
}

/** Workgroups for `count` threads of the 1-D shaders, spilling into y past 65,535 groups. */
function grid(count: number): [number, number] {
  const groups = Math.ceil(count / wgsl.WG);
  const x = Math.min(groups, 32768);
  return [x, x === 0 ? 0 : Math.ceil(groups / x)];
}

function outSize(size: number, filter: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - filter) / stride) + 1;
}

function deconvOutSize(size: number, filter: number, stride: number, pad: number, outPad: number): number {
  return (size - 1) * stride - 2 * pad + filter + outPad;
}

export interface WebGPUKernelOptions {
  /**
   * Tile the matrix product and the transpose through workgroup memory (default: yes, except on a
   * CPU adapter such as SwiftShader, where workgroup barriers cost more than they save).
   */
  workgroupMemory?: boolean;
}

export function webgpuKernels(dev: GpuDevice, options: WebGPUKernelOptions = {}): Kernels {
  const workgroupMemory = options.workgroupMemory ?? !dev.cpuAdapter;
  // Output tile of one workgroup of the product, and its shader.
  const [productTile, productCode] = workgroupMemory ? [64, wgsl.MATMUL] : [32, wgsl.MATMUL_REGISTERS];
  const on = (array: Float | Int32Array, access: Access = "read"): Binding => ({ array, access });

  // ---- element-wise ------------------------------------------------------------------------------

  /**
   * An element-wise kernel: `operands` name the arrays in the contract's order (outputs first),
   * `body` computes on them per element. Arrays given twice (out aliasing x) are bound once.
   */
  function elementwise(operands: readonly wgsl.Operand[], body: string, scalars: readonly string[] = []) {
    return (arrays: readonly Float[], len: number, values: readonly number[] = [], cols = 1) => {
      const bindingOf: number[] = [];
      const bound: { array: Float; access: Access }[] = [];
      arrays.forEach((a, i) => {
        const s = dev.storageOf(a);
        const at = bound.findIndex((b) => b.array === a || (s !== null && dev.storageOf(b.array) === s));
        const access = operands[i].access;
        if (at < 0) {
          bindingOf.push(bound.length + 1);
          bound.push({ array: a, access });
        } else {
          bindingOf.push(at + 1);
          bound[at].access = "readwrite";
        }
      });
      const code = wgsl.elementwise(operands, bindingOf, body, scalars);
      dev.dispatch(code, grid(len), bound, params([len, cols], values));
    };
  }

  const out = (name = "out"): wgsl.Operand => ({ name, access: "write" });
  const inp = (name: string, index: "row" | "column" = "row"): wgsl.Operand => ({
    name,
    access: "read",
    index,
  });
  const both = (name: string): wgsl.Operand => ({ name, access: "readwrite" });

  const zerosK = elementwise([out()], "out = 0.0;");
  const reluK = elementwise([out(), inp("x")], "out = max(x, 0.0);");
  const reluBackwardK = elementwise([out("dx"), inp("dout"), inp("x")], "dx = select(0.0, dout, x > 0.0);");
  // exp of a non-positive number only, as the reference: no overflow for large |x|.
  const sigmoidK = elementwise(
    [out(), inp("x")],
    "let e = exp(-abs(x)); out = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);",
  );
  const sigmoidBackwardK = elementwise([out("dx"), inp("dout"), inp("y")], "dx = dout * y * (1.0 - y);");
  // Clamped: tanh(±15) is ±1 in float32, and some drivers' tanh is NaN for large |x|.
  const tanhK = elementwise([out(), inp("x")], "out = tanh(clamp(x, -15.0, 15.0));");
  const tanhBackwardK = elementwise([out("dx"), inp("dout"), inp("y")], "dx = dout * (1.0 - y * y);");
  const axpbyK = elementwise([out(), inp("x"), inp("y")], "out = p.a * x + p.b * y;", ["a", "b"]);
  const mulK = elementwise([out(), inp("x"), inp("y")], "out = x * y;");
  const leakyReluK = elementwise([out(), inp("x")], "out = select(p.alpha * x, x, x > 0.0);", ["alpha"]);
  const leakyReluBackwardK = elementwise(
    [out("dx"), inp("dout"), inp("x")],
    "dx = select(p.alpha * dout, dout, x > 0.0);",
    ["alpha"],
  );
  const addBiasK = elementwise([out(), inp("x"), inp("bias", "column")], "out = x + bias;");
  const scaleColumnsK = elementwise([out(), inp("x"), inp("scale", "column")], "out = x * scale;");

  const sgdK = elementwise([both("w"), inp("g")], "w = w - p.lr * g;", ["lr"]);
  const momentumK = elementwise(
    [both("w"), both("v"), inp("g")],
    "v = p.momentum * v - p.lr * g; w = w + v;",
    ["lr", "momentum"],
  );
  const nesterovK = elementwise(
    [both("w"), both("v"), inp("g")],
    "w = w + p.momentum * p.momentum * v - (1.0 + p.momentum) * p.lr * g; v = p.momentum * v - p.lr * g;",
    ["lr", "momentum"],
  );
  const adagradK = elementwise(
    [both("w"), both("h"), inp("g")],
    "h = h + g * g; w = w - p.lr * g / (sqrt(h) + p.eps);",
    ["lr", "eps"],
  );
  const rmspropK = elementwise(
    [both("w"), both("h"), inp("g")],
    "h = p.decay * h + (1.0 - p.decay) * g * g; w = w - p.lr * g / (sqrt(h) + p.eps);",
    ["lr", "decay", "eps"],
  );
  const adamK = elementwise(
    [both("w"), both("m"), both("v"), inp("g")],
    "m = m + (1.0 - p.beta1) * (g - m); v = v + (1.0 - p.beta2) * (g * g - v); w = w - p.lrT * m / (sqrt(v) + p.eps);",
    ["lrT", "beta1", "beta2", "eps"],
  );

  // ---- products ----------------------------------------------------------------------------------

  function matmul(
    o: Float,
    a: Float,
    b: Float,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    accumulate = false,
  ): void {
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!accumulate) zerosK([o], m * n);
      return;
    }
    const tiles = Math.ceil(m / productTile) * Math.ceil(n / productTile);
    // Few output tiles and a long k (a convolution's dW): cut k into slices summed afterwards, so
    // that more than a handful of workgroups share the work.
    const splits = tiles < 16 && k >= 2048 ? Math.min(32, Math.ceil(k / 1024), Math.ceil(64 / tiles)) : 1;
    const kChunk = Math.ceil(k / splits / 16) * 16;
    const u = (s: number) => params([m, k, n, +transA, +transB, +accumulate, kChunk, s]);
    const groups = [Math.ceil(n / productTile), Math.ceil(m / productTile)] as const;
    if (splits === 1) {
      dev.dispatch(
        productCode,
        [...groups, 1],
        [on(o, accumulate ? "readwrite" : "write"), on(a), on(b)],
        u(1),
      );
      return;
    }
    const partial = dev.scratch(splits * m * n);
    dev.dispatch(productCode, [...groups, splits], [on(partial, "write"), on(a), on(b)], u(splits));
    dev.dispatch(
      wgsl.MATMUL_REDUCE,
      grid(m * n),
      [on(o, accumulate ? "readwrite" : "write"), on(partial)],
      params([m * n, splits, +accumulate]),
    );
    dev.freeScratch(partial);
  }

  function transpose(o: Float, x: Float, batch: number, rows: number, cols: number): void {
    if (!workgroupMemory) {
      const count = batch * rows * cols;
      dev.dispatch(wgsl.TRANSPOSE_GATHER, grid(count), [on(o, "write"), on(x)], params([rows, cols, batch]));
      return;
    }
    // The batch is the grid's z, at most 65,535 matrices per dispatch.
    for (let b0 = 0; b0 < batch; b0 += 65535) {
      dev.dispatch(
        wgsl.TRANSPOSE,
        [Math.ceil(cols / 16), Math.ceil(rows / 16), Math.min(65535, batch - b0)],
        [on(o, "write"), on(x)],
        params([rows, cols, b0]),
      );
    }
  }

  function sumRows(o: Float, x: Float, rows: number, cols: number): void {
    dev.dispatch(wgsl.SUM_ROWS, [Math.ceil(cols / 16)], [on(o, "write"), on(x)], params([rows, cols]));
  }

  // ---- softmax and loss --------------------------------------------------------------------------

  function softmax(o: Float, x: Float, rows: number, cols: number): void {
    const aliased = dev.same(o, x);
    if (aliased) {
      const tmp = dev.scratch(rows * cols);
      softmax(tmp, x, rows, cols);
      axpbyK([o, tmp, tmp], rows * cols, [1, 0]);
      dev.freeScratch(tmp);
      return;
    }
    dev.dispatch(wgsl.softmaxRows(false), grid(rows), [on(o, "write"), on(x)], params([rows, cols]));
  }

  function softmaxCrossEntropy(
    loss: Float,
    probs: Float,
    x: Float,
    labels: Int32Array,
    rows: number,
    cols: number,
  ): void {
    const rowLoss = dev.scratch(rows);
    dev.dispatch(
      wgsl.softmaxRows(true),
      grid(rows),
      [on(probs, "write"), on(x), on(labels), on(rowLoss, "write")],
      params([rows, cols]),
    );
    dev.dispatch(wgsl.SUM_ALL, [1], [on(loss, "write"), on(rowLoss)], params([rows]));
    dev.freeScratch(rowLoss);
  }

  function softmaxCrossEntropyBackward(
    dx: Float,
    probs: Float,
    labels: Int32Array,
    rows: number,
    cols: number,
    scale: number,
  ): void {
    const aliased = dev.same(dx, probs);
    dev.dispatch(
      wgsl.softmaxCrossEntropyBackward(aliased),
      grid(rows * cols),
      aliased ? [on(dx, "readwrite"), on(labels)] : [on(dx, "write"), on(probs), on(labels)],
      params([rows, cols], [scale]),
    );
  }

  // ---- convolution -------------------------------------------------------------------------------

  const window = (
    n: number,
    c: number,
    h: number,
    w: number,
    fh: number,
    fw: number,
    stride: number,
    pad: number,
  ) => params([n, c, h, w, fh, fw, stride, pad, outSize(h, fh, stride, pad), outSize(w, fw, stride, pad)]);

  function im2col(
    col: Float,
    x: Float,
    n: number,
    c: number,
    h: number,
    w: number,
    fh: number,
    fw: number,
    stride: number,
    pad: number,
  ): void {
    const rows = n * outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
    dev.dispatch(
      wgsl.IM2COL,
      grid(rows * c * fh * fw),
      [on(col, "write"), on(x)],
      window(n, c, h, w, fh, fw, stride, pad),
    );
  }

  function col2im(
    dx: Float,
    col: Float,
    n: number,
    c: number,
    h: number,
    w: number,
    fh: number,
    fw: number,
    stride: number,
    pad: number,
  ): void {
    dev.dispatch(
      wgsl.COL2IM,
      grid(n * c * h * w),
      [on(dx, "write"), on(col)],
      window(n, c, h, w, fh, fw, stride, pad),
    );
  }

  /** convForward, with the ReLU folded into its last pass when `relu`. */
  function convolve(
    o: Float,
    x: Float,
    W: Float,
    b: Float,
    n: number,
    c: number,
    h: number,
    w: number,
    fn: number,
    fh: number,
    fw: number,
    stride: number,
    pad: number,
    relu: boolean,
  ): void {
    const pixels = outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
    const cols = c * fh * fw;
    // x → col (n·pixels, cols) → col·Wᵀ (n·pixels, fn) → + b, (n, fn, pixels)
    const col = dev.scratch(n * pixels * cols);
    im2col(col, x, n, c, h, w, fh, fw, stride, pad);
    const y = dev.scratch(n * pixels * fn);
    matmul(y, col, W, n * pixels, cols, fn, false, true);
    dev.freeScratch(col);
    dev.dispatch(
      wgsl.BIAS_TRANSPOSE,
      grid(n * fn * pixels),
      [on(o, "write"), on(y), on(b)],
      params([n, fn, pixels, +relu]),
    );
    dev.freeScratch(y);
  }

  function convBackward(
    dx: Float,
    dW: Float,
    db: Float,
    dout: Float,
    x: Float,
    W: Float,
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
    // dout (n, fn, pixels) → d (n·pixels, fn); db = Σ d; dW = dᵀ·col; dx = col2im(d·W)
    const d = dev.scratch(rows * fn);
    transpose(d, dout, n, fn, pixels);
    sumRows(db, d, rows, fn);
    const col = dev.scratch(rows * cols);
    im2col(col, x, n, c, h, w, fh, fw, stride, pad);
    matmul(dW, d, col, fn, rows, cols, true, false);
    dev.freeScratch(col);
    if (dev.sizeOf(dx) > 0) {
      const dcol = dev.scratch(rows * cols);
      matmul(dcol, d, W, rows, fn, cols, false, false);
      col2im(dx, dcol, n, c, h, w, fh, fw, stride, pad);
      dev.freeScratch(dcol);
    }
    dev.freeScratch(d);
  }

  // ---- transposed convolution (composed as the reference composes it) ------------------------------

  function deconvForward(
    o: Float,
    x: Float,
    W: Float,
    b: Float,
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
    const [oh, ow] = [deconvOutSize(h, fh, stride, pad, outPad), deconvOutSize(w, fw, stride, pad, outPad)];
    const pixels = h * w;
    const cols = fn * fh * fw;
    // x (n, c, pixels) → (n·pixels, c) · W (c, cols) = col → col2im (n, fn, oh·ow) → + b
    const xr = dev.scratch(n * pixels * c);
    transpose(xr, x, n, c, pixels);
    const col = dev.scratch(n * pixels * cols);
    matmul(col, xr, W, n * pixels, c, cols, false, false);
    dev.freeScratch(xr);
    const y = dev.scratch(n * fn * oh * ow);
    col2im(y, col, n, fn, oh, ow, fh, fw, stride, pad);
    dev.freeScratch(col);
    const yt = dev.scratch(n * fn * oh * ow);
    transpose(yt, y, n, fn, oh * ow);
    dev.freeScratch(y);
    dev.dispatch(
      wgsl.BIAS_TRANSPOSE,
      grid(n * fn * oh * ow),
      [on(o, "write"), on(yt), on(b)],
      params([n, fn, oh * ow, 0]),
    );
    dev.freeScratch(yt);
  }

  function deconvBackward(
    dx: Float,
    dW: Float,
    db: Float,
    dout: Float,
    x: Float,
    W: Float,
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
    const [oh, ow] = [deconvOutSize(h, fh, stride, pad, outPad), deconvOutSize(w, fw, stride, pad, outPad)];
    const pixels = h * w;
    const rows = n * pixels;
    const cols = fn * fh * fw;
    // db = Σ dout per channel; col = im2col(dout) (n·pixels, cols); dW = xrᵀ·col; dx = col·Wᵀ
    const d = dev.scratch(n * oh * ow * fn);
    transpose(d, dout, n, fn, oh * ow);
    sumRows(db, d, n * oh * ow, fn);
    dev.freeScratch(d);
    const col = dev.scratch(rows * cols);
    im2col(col, dout, n, fn, oh, ow, fh, fw, stride, pad);
    const xr = dev.scratch(rows * c);
    transpose(xr, x, n, c, pixels);
    matmul(dW, xr, col, c, rows, cols, true, false);
    dev.freeScratch(xr);
    if (dev.sizeOf(dx) > 0) {
      const dxr = dev.scratch(rows * c);
      matmul(dxr, col, W, rows, cols, c, false, true);
      transpose(dx, dxr, n, pixels, c);
      dev.freeScratch(dxr);
    }
    dev.freeScratch(col);
  }

  // ---- pooling -----------------------------------------------------------------------------------

  function maxPool(
    o: Float,
    argmax: Int32Array,
    x: Float,
    n: number,
    c: number,
    h: number,
    w: number,
    ph: number,
    pw: number,
    stride: number,
    pad: number,
  ): void {
    dev.dispatch(
      wgsl.MAX_POOL,
      grid(dev.sizeOf(o)),
      [on(o, "write"), on(argmax, "write"), on(x)],
      window(n, c, h, w, ph, pw, stride, pad),
    );
  }

  function maxPoolBackward(
    dx: Float,
    dout: Float,
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
    dev.dispatch(
      wgsl.MAX_POOL_BACKWARD,
      grid(n * c * h * w),
      [on(dx, "write"), on(dout), on(argmax)],
      window(n, c, h, w, ph, pw, stride, pad),
    );
  }

  function avgPool(
    o: Float,
    x: Float,
    n: number,
    c: number,
    h: number,
    w: number,
    ph: number,
    pw: number,
    stride: number,
    pad: number,
  ): void {
    dev.dispatch(
      wgsl.AVG_POOL,
      grid(dev.sizeOf(o)),
      [on(o, "write"), on(x)],
      window(n, c, h, w, ph, pw, stride, pad),
    );
  }

  function avgPoolBackward(
    dx: Float,
    dout: Float,
    n: number,
    c: number,
    h: number,
    w: number,
    ph: number,
    pw: number,
    stride: number,
    pad: number,
  ): void {
    dev.dispatch(
      wgsl.AVG_POOL_BACKWARD,
      grid(n * c * h * w),
      [on(dx, "write"), on(dout)],
      window(n, c, h, w, ph, pw, stride, pad),
    );
  }

  const gpu = {
    name: "webgpu",
    device: dev,
    matmul,
    addBias: (o: Float, x: Float, bias: Float, rows: number, cols: number) =>
      addBiasK([o, x, bias], rows * cols, [], cols),
    sumRows,
    scaleColumns: (o: Float, x: Float, scale: Float, rows: number, cols: number) =>
      scaleColumnsK([o, x, scale], rows * cols, [], cols),
    transpose,
    relu: (o: Float, x: Float) => reluK([o, x], dev.sizeOf(x)),
    reluBackward: (dx: Float, dout: Float, x: Float) => reluBackwardK([dx, dout, x], dev.sizeOf(x)),
    sigmoid: (o: Float, x: Float) => sigmoidK([o, x], dev.sizeOf(x)),
    sigmoidBackward: (dx: Float, dout: Float, y: Float) => sigmoidBackwardK([dx, dout, y], dev.sizeOf(y)),
    tanh: (o: Float, x: Float) => tanhK([o, x], dev.sizeOf(x)),
    tanhBackward: (dx: Float, dout: Float, y: Float) => tanhBackwardK([dx, dout, y], dev.sizeOf(y)),
    axpby: (o: Float, a: number, x: Float, b: number, y: Float) => axpbyK([o, x, y], dev.sizeOf(x), [a, b]),
    mul: (o: Float, x: Float, y: Float) => mulK([o, x, y], dev.sizeOf(x)),
    softmax,
    softmaxCrossEntropy,
    softmaxCrossEntropyBackward,
    im2col,
    col2im,
    convForward: (
      o: Float,
      x: Float,
      W: Float,
      b: Float,
      n: number,
      c: number,
      h: number,
      w: number,
      fn: number,
      fh: number,
      fw: number,
      stride: number,
      pad: number,
    ) => convolve(o, x, W, b, n, c, h, w, fn, fh, fw, stride, pad, false),
    convBackward,
    convReluPoolForward(
      o: Float,
      argmax: Int32Array,
      x: Float,
      W: Float,
      b: Float,
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
    ) {
      if (ph === 0) return convolve(o, x, W, b, n, c, h, w, fn, fh, fw, stride, pad, true);
      const [oh, ow] = [outSize(h, fh, stride, pad), outSize(w, fw, stride, pad)];
      const y = dev.scratch(n * fn * oh * ow);
      convolve(y, x, W, b, n, c, h, w, fn, fh, fw, stride, pad, true);
      maxPool(o, argmax, y, n, fn, oh, ow, ph, pw, pstride, ppad);
      dev.freeScratch(y);
    },
    convReluPoolBackward(
      dx: Float,
      dW: Float,
      db: Float,
      dout: Float,
      o: Float,
      argmax: Int32Array,
      x: Float,
      W: Float,
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
    ) {
      const [oh, ow] = [outSize(h, fh, stride, pad), outSize(w, fw, stride, pad)];
      // The ReLU mask at the pooled outputs, then routed to the winners, then the convolution's.
      const masked = dev.scratch(dev.sizeOf(dout));
      reluBackwardK([masked, dout, o], dev.sizeOf(dout));
      let dy = masked;
      if (ph > 0) {
        dy = dev.scratch(n * fn * oh * ow);
        maxPoolBackward(dy, masked, argmax, n, fn, oh, ow, ph, pw, pstride, ppad);
        dev.freeScratch(masked);
      }
      convBackward(dx, dW, db, dy, x, W, n, c, h, w, fn, fh, fw, stride, pad);
      dev.freeScratch(dy);
    },
    maxPool,
    maxPoolBackward,
    avgPool,
    avgPoolBackward,
    lrnForward(
      o: Float,
      scale: Float,
      x: Float,
      n: number,
      c: number,
      h: number,
      w: number,
      size: number,
      k: number,
      alpha: number,
      beta: number,
    ) {
      dev.dispatch(
        wgsl.LRN_FORWARD,
        grid(n * c * h * w),
        [on(o, "write"), on(scale, "write"), on(x)],
        params([n, c, h * w, size], [k, alpha, beta]),
      );
    },
    lrnBackward(
      dx: Float,
      dout: Float,
      x: Float,
      o: Float,
      scale: Float,
      n: number,
      c: number,
      h: number,
      w: number,
      size: number,
      alpha: number,
      beta: number,
    ) {
      dev.dispatch(
        wgsl.LRN_BACKWARD,
        grid(n * c * h * w),
        [on(dx, "write"), on(dout), on(x), on(o), on(scale)],
        params([n, c, h * w, size], [alpha, beta]),
      );
    },
    lstmForward(gates: Float, c: Float, hNext: Float, a: Float, cPrev: Float, n: number, h: number) {
      dev.dispatch(
        wgsl.LSTM_FORWARD,
        grid(n * h),
        [on(gates, "write"), on(c, "write"), on(hNext, "write"), on(a), on(cPrev)],
        params([n, h]),
      );
    },
    lstmBackward(
      da: Float,
      dcPrev: Float,
      dh: Float,
      dc: Float,
      gates: Float,
      cPrev: Float,
      c: Float,
      n: number,
      h: number,
    ) {
      const aliased = dev.same(dcPrev, dc);
      const inputs = [on(dh), ...(aliased ? [] : [on(dc)]), on(gates), on(cPrev), on(c)];
      dev.dispatch(
        wgsl.lstmBackward(aliased),
        grid(n * h),
        [on(da, "write"), on(dcPrev, aliased ? "readwrite" : "write"), ...inputs],
        params([n, h]),
      );
    },
    // Batch normalization: the per-channel sums one workgroup per channel, the rest element-wise.
    batchNormStats(mean: Float, variance: Float, x: Float, n: number, c: number, hw: number) {
      dev.dispatch(wgsl.BN_STATS, [c], [on(mean, "write"), on(variance, "write"), on(x)], params([n, c, hw]));
    },
    batchNormForward(
      o: Float,
      x: Float,
      mean: Float,
      variance: Float,
      gamma: Float,
      beta: Float,
      n: number,
      c: number,
      hw: number,
      eps: number,
      relu: boolean,
    ) {
      dev.dispatch(
        wgsl.BN_FORWARD,
        grid(n * c * hw),
        [on(o, "write"), on(x), on(mean), on(variance), on(gamma), on(beta)],
        params([n * c * hw, c, hw, +relu], [eps]),
      );
    },
    batchNormBackward(
      dx: Float,
      dgamma: Float,
      dbeta: Float,
      dy: Float,
      x: Float,
      mean: Float,
      variance: Float,
      gamma: Float,
      n: number,
      c: number,
      hw: number,
      eps: number,
      train: boolean,
    ) {
      dev.dispatch(
        wgsl.BN_BACKWARD_SUMS,
        [c],
        [on(dgamma, "write"), on(dbeta, "write"), on(dy), on(x), on(mean), on(variance)],
        params([n, c, hw], [eps]),
      );
      dev.dispatch(
        wgsl.BN_BACKWARD_DX,
        grid(n * c * hw),
        [on(dx, "write"), on(dy), on(x), on(mean), on(variance), on(gamma), on(dgamma), on(dbeta)],
        params([n * c * hw, c, hw, n * hw, +train], [eps]),
      );
    },
    deconvForward,
    deconvBackward,
    leakyRelu: (o: Float, x: Float, alpha: number) => leakyReluK([o, x], dev.sizeOf(x), [alpha]),
    leakyReluBackward: (dx: Float, dout: Float, x: Float, alpha: number) =>
      leakyReluBackwardK([dx, dout, x], dev.sizeOf(x), [alpha]),
    copyBlocks(
      o: Float,
      x: Float,
      blocks: number,
      run: number,
      outStride: number,
      outOffset: number,
      xStride: number,
      xOffset: number,
    ) {
      if (blocks * run === 0) return;
      // Read-write: the positions of out that the copy skips keep their values.
      dev.dispatch(
        wgsl.COPY_BLOCKS,
        grid(blocks * run),
        [on(o, "readwrite"), on(x)],
        params([blocks, run, outStride, outOffset, xStride, xOffset]),
      );
    },
    embeddingForward(o: Float, W: Float, ids: Float, n: number, d: number) {
      dev.dispatch(wgsl.EMBEDDING_FORWARD, grid(n * d), [on(o, "write"), on(W), on(ids)], params([n, d]));
    },
    embeddingBackward(dW: Float, dout: Float, ids: Float, n: number, v: number, d: number) {
      dev.dispatch(
        wgsl.EMBEDDING_BACKWARD,
        grid(v * d),
        [on(dW, "write"), on(dout), on(ids)],
        params([n, v, d]),
      );
    },
    sumSquares(o: Float, x: Float, accumulate: boolean) {
      dev.dispatch(
        wgsl.SUM_SQUARES,
        [1],
        [on(o, accumulate ? "readwrite" : "write"), on(x)],
        params([dev.sizeOf(x), +accumulate]),
      );
    },
    clipByNorm(x: Float, sumSq: Float, maxNorm: number) {
      const len = dev.sizeOf(x);
      dev.dispatch(wgsl.CLIP_BY_NORM, grid(len), [on(x, "readwrite"), on(sumSq)], params([len], [maxNorm]));
    },
    sgdUpdate: (w: Float, g: Float, lr: number) => sgdK([w, g], dev.sizeOf(w), [lr]),
    momentumUpdate: (w: Float, v: Float, g: Float, lr: number, momentum: number) =>
      momentumK([w, v, g], dev.sizeOf(w), [lr, momentum]),
    nesterovUpdate: (w: Float, v: Float, g: Float, lr: number, momentum: number) =>
      nesterovK([w, v, g], dev.sizeOf(w), [lr, momentum]),
    adagradUpdate: (w: Float, h: Float, g: Float, lr: number, eps: number) =>
      adagradK([w, h, g], dev.sizeOf(w), [lr, eps]),
    rmspropUpdate: (w: Float, h: Float, g: Float, lr: number, decay: number, eps: number) =>
      rmspropK([w, h, g], dev.sizeOf(w), [lr, decay, eps]),
    adamUpdate: (
      w: Float,
      m: Float,
      v: Float,
      g: Float,
      lrT: number,
      beta1: number,
      beta2: number,
      eps: number,
    ) => adamK([w, m, v, g], dev.sizeOf(w), [lrT, beta1, beta2, eps]),
  } satisfies Kernels;

  return onDeviceOrHost(dev, gpu);
}

/**
 * The entry of a kernel that has no WGSL version yet: called with arrays on the GPU it throws saying
 * so (their values are not on the host); with host arrays `onDeviceOrHost` runs the reference.
 */
export function hostOnly(name: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(`the ${name} kernel has no WebGPU version yet: run this layer on the CPU backends`);
  };
}

/**
 * Each kernel runs on the GPU when any of its arrays is a device handle, else (float64, or plain
 * typed arrays) the reference kernel of the same name runs on the host.
 */
function onDeviceOrHost(dev: GpuDevice, gpu: Kernels): Kernels {
  const wrapped: Record<string, unknown> = {};
  for (const [name, kernel] of Object.entries(gpu)) {
    if (typeof kernel !== "function") {
      wrapped[name] = kernel;
      continue;
    }
    const run = kernel as (...args: unknown[]) => unknown;
    const host = reference[name as keyof typeof reference] as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]) =>
      args.some((a) => ArrayBuffer.isView(a) && dev.storageOf(a as Floats) !== null)
        ? run(...args)
        : host(...args);
  }
  return wrapped as unknown as Kernels;
}
