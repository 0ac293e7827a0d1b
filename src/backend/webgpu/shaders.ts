/**
 * WGSL sources of the WebGPU kernels, one generator per family. Every shader has its parameters in
 * a uniform struct `p` at @binding(0) (u32 sizes first, then f32 scalars) and its arrays at
 * @binding(1…) in the order the kernel binds them. Indices are u32; a 1-D dispatch may spill into
 * y (over 65,535 workgroups), so shaders index by `gid.x + gid.y · num_workgroups.x · size`.
 */

/** Threads per workgroup of the 1-D shaders. */
export const WG = 256;

/** The uniform struct and its binding: `struct P { len: u32, …, lr: f32 }`. */
function paramsStruct(u: readonly string[], f: readonly string[] = []): string {
  const fields = [...u.map((n) => `${n}: u32`), ...f.map((n) => `${n}: f32`)];
  if (fields.length === 0) fields.push("unused: u32");
  return `struct P { ${fields.join(", ")} }\n@group(0) @binding(0) var<uniform> p: P;\n`;
}

const ENTRY_1D = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;`;

/** An operand of an element-wise shader. */
export interface Operand {
  /** Its name in the body (a WGSL `var`). */
  name: string;
  access: "read" | "write" | "readwrite";
  /** "row": one value per element (default); "column": one per column, x[i % p.cols]. */
  index?: "row" | "column";
}

/**
 * An element-wise shader over p.len elements: each operand is loaded into a `var` of its name,
 * `body` updates the vars, and written operands are stored back. Operands that share a buffer (an
 * output aliasing an input) are given the same `binding` number: the shader then binds the buffer
 * once, read_write, loading before the body and storing after it.
 */
export function elementwise(
  operands: readonly Operand[],
  bindingOf: readonly number[],
  body: string,
  scalars: readonly string[] = [],
): string {
  const bindings = new Map<number, { name: string; write: boolean }>();
  operands.forEach((o, i) => {
    const b = bindingOf[i];
    const prev = bindings.get(b);
    bindings.set(b, { name: prev?.name ?? `buf${b}`, write: (prev?.write ?? false) || o.access !== "read" });
  });
  let code = paramsStruct(["len", "cols"], scalars);
  for (const [b, { name, write }] of [...bindings].sort((x, y) => x[0] - y[0])) {
    code += `@group(0) @binding(${b}) var<storage, ${write ? "read_write" : "read"}> ${name}: array<f32>;\n`;
  }
  code += `${ENTRY_1D}\n  if (i >= p.len) { return; }\n`;
  operands.forEach((o, n) => {
    const at = o.index === "column" ? "i % p.cols" : "i";
    const buf = bindings.get(bindingOf[n])!.name;
    code += o.access === "write" ? `  var ${o.name}: f32;\n` : `  var ${o.name} = ${buf}[${at}];\n`;
  });
  code += `  ${body}\n`;
  operands.forEach((o, n) => {
    if (o.access !== "read") code += `  ${bindings.get(bindingOf[n])!.name}[i] = ${o.name};\n`;
  });
  return `${code}}\n`;
}

/** The matrix products' parameters, arrays, operand access (zeros outside) and result store. */
const MATMUL_COMMON = `${paramsStruct(["m", "k", "n", "transA", "transB", "accumulate", "kChunk", "splits"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

fn aAt(i: u32, kk: u32) -> f32 {
  if (i >= p.m) { return 0.0; }
  if (p.transA == 1u) { return a[kk * p.m + i]; }
  return a[i * p.k + kk];
}
fn bAt(kk: u32, j: u32) -> f32 {
  if (j >= p.n) { return 0.0; }
  if (p.transB == 1u) { return b[j * p.k + kk]; }
  return b[kk * p.n + j];
}
/** One value of the product: into z-slab \`slab\` when split over k, else into (or onto) out. */
fn store(slab: u32, i: u32, j: u32, v: f32) {
  if (i >= p.m || j >= p.n) { return; }
  if (p.splits > 1u) {
    out[(slab * p.m + i) * p.n + j] = v;
  } else if (p.accumulate == 1u) {
    out[i * p.n + j] += v;
  } else {
    out[i * p.n + j] = v;
  }
}
`;

/**
 * Tiled matrix product out (m×n) = op(a)·op(b) (+ out): 64×64 output tiles, 16 deep, each of the
 * 16×16 threads accumulating a 4×4 block from workgroup memory. With p.splits > 1 each z-slice of
 * the grid sums one chunk of k into its own (m×n) slab of \`out\` (split-K; MATMUL_REDUCE sums them).
 */
export const MATMUL = `${MATMUL_COMMON}
const TM = 64u;
const TN = 64u;
const TK = 16u;
var<workgroup> As: array<f32, 1024>; // [TK][TM]
var<workgroup> Bs: array<f32, 1024>; // [TK][TN]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * TM;
  let col0 = wg.x * TN;
  let tid = lid.y * 16u + lid.x;
  let kStart = wg.z * p.kChunk;
  let kEnd = min(p.k, kStart + p.kChunk);
  var acc: array<f32, 16>;
  for (var k0 = kStart; k0 < kEnd; k0 += TK) {
    for (var e = 0u; e < 4u; e++) {
      let idx = tid + e * 256u;
      // Neighbouring threads read neighbouring addresses: along k unless the operand is transposed.
      var kk = idx % TK;
      var mm = idx / TK;
      if (p.transA == 1u) { kk = idx / TM; mm = idx % TM; }
      As[kk * TM + mm] = select(0.0, aAt(row0 + mm, k0 + kk), k0 + kk < kEnd);
      var kb = idx / TN;
      var nn = idx % TN;
      if (p.transB == 1u) { kb = idx % TK; nn = idx / TK; }
      Bs[kb * TN + nn] = select(0.0, bAt(k0 + kb, col0 + nn), k0 + kb < kEnd);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a0 = As[kk * TM + lid.y * 4u];
      let a1 = As[kk * TM + lid.y * 4u + 1u];
      let a2 = As[kk * TM + lid.y * 4u + 2u];
      let a3 = As[kk * TM + lid.y * 4u + 3u];
      let bv = vec4f(Bs[kk * TN + lid.x * 4u], Bs[kk * TN + lid.x * 4u + 1u], Bs[kk * TN + lid.x * 4u + 2u], Bs[kk * TN + lid.x * 4u + 3u]);
      for (var c = 0u; c < 4u; c++) {
        acc[c] = fma(a0, bv[c], acc[c]);
        acc[4u + c] = fma(a1, bv[c], acc[4u + c]);
        acc[8u + c] = fma(a2, bv[c], acc[8u + c]);
        acc[12u + c] = fma(a3, bv[c], acc[12u + c]);
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      store(wg.z, row0 + lid.y * 4u + r, col0 + lid.x * 4u + c, acc[r * 4u + c]);
    }
  }
}
`;

/**
 * The same product without workgroup memory: each thread accumulates a 4×4 block of out straight
 * from the operands (32×32 per workgroup of 8×8). For CPU adapters (SwiftShader), where a workgroup
 * barrier is costly: there it ran the convolution's 57600×25·25×30 product 14× faster than MATMUL.
 */
export const MATMUL_REGISTERS = `${MATMUL_COMMON}
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.y * 4u;
  let j0 = gid.x * 4u;
  if (i0 >= p.m || j0 >= p.n) { return; }
  let kStart = gid.z * p.kChunk;
  let kEnd = min(p.k, kStart + p.kChunk);
  var acc: array<vec4f, 4>;
  for (var kk = kStart; kk < kEnd; kk++) {
    let bv = vec4f(bAt(kk, j0), bAt(kk, j0 + 1u), bAt(kk, j0 + 2u), bAt(kk, j0 + 3u));
    acc[0] = fma(vec4f(aAt(i0, kk)), bv, acc[0]);
    acc[1] = fma(vec4f(aAt(i0 + 1u, kk)), bv, acc[1]);
    acc[2] = fma(vec4f(aAt(i0 + 2u, kk)), bv, acc[2]);
    acc[3] = fma(vec4f(aAt(i0 + 3u, kk)), bv, acc[3]);
  }
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) { store(gid.z, i0 + r, j0 + c, acc[r][c]); }
  }
}
`;

/** out[i] = (out[i] if accumulating) + Σ_s partial[s·len + i], the slabs in order. */
export const MATMUL_REDUCE = `${paramsStruct(["len", "splits", "accumulate"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> partial: array<f32>;
${ENTRY_1D}
  if (i >= p.len) { return; }
  var s = 0.0;
  for (var z = 0u; z < p.splits; z++) { s += partial[z * p.len + i]; }
  if (p.accumulate == 1u) { out[i] += s; } else { out[i] = s; }
}
`;

/**
 * Batched transpose (batch, rows, cols) → (batch, cols, rows) through 16×16 tiles in workgroup
 * memory, so that both the reads and the writes of neighbouring threads are neighbours.
 */
export const TRANSPOSE = `${paramsStruct(["rows", "cols", "batch0"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
var<workgroup> tile: array<f32, 272>; // 16 × 17: the extra column spreads the banks
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let off = (wg.z + p.batch0) * p.rows * p.cols;
  let r = wg.y * 16u + lid.y;
  let c = wg.x * 16u + lid.x;
  if (r < p.rows && c < p.cols) { tile[lid.y * 17u + lid.x] = x[off + r * p.cols + c]; }
  workgroupBarrier();
  let orow = wg.x * 16u + lid.y; // a column of x
  let ocol = wg.y * 16u + lid.x; // a row of x
  if (orow < p.cols && ocol < p.rows) { out[off + orow * p.rows + ocol] = tile[lid.x * 17u + lid.y]; }
}
`;

/** The transpose as a gather, one thread per output (for CPU adapters; see MATMUL_REGISTERS). */
export const TRANSPOSE_GATHER = `${paramsStruct(["rows", "cols", "batch"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${ENTRY_1D}
  let per = p.rows * p.cols;
  if (i >= p.batch * per) { return; }
  let q = i % per;
  // out[b][c][r] = x[b][r][c], with q = c·rows + r
  out[i] = x[i - q + (q % p.rows) * p.cols + q / p.rows];
}
`;

/** Column sums out[j] = Σ_i x[i·cols + j]: 16 columns per workgroup, 16 lanes down the rows. */
export const SUM_ROWS = `${paramsStruct(["rows", "cols"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let j = wg.x * 16u + lid.x;
  var s = 0.0;
  if (j < p.cols) {
    for (var i = lid.y; i < p.rows; i += 16u) { s += x[i * p.cols + j]; }
  }
  part[lid.y * 16u + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && j < p.cols) {
    var t = 0.0;
    for (var l = 0u; l < 16u; l++) { t += part[l * 16u + lid.x]; }
    out[j] = t;
  }
}
`;

/** Σ x into out[0] (x[0…len)), by one workgroup: a strided sum per thread, then a tree. */
export const SUM_ALL = `${paramsStruct(["len"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.len; i += ${WG}u) { s += x[i]; }
  part[lid.x] = s;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half /= 2u) {
    if (lid.x < half) { part[lid.x] += part[lid.x + half]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = part[0]; }
}
`;

/**
 * Row-wise softmax (overflow-safe), one thread per row; with labels, also each row's
 * −log(p[t] + 1e-7) into `rowLoss` (summed by SUM_ALL).
 */
export function softmaxRows(withLoss: boolean): string {
  return `${paramsStruct(["rows", "cols"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${
  withLoss
    ? `@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;`
    : ""
}
${ENTRY_1D}
  if (i >= p.rows) { return; }
  let o = i * p.cols;
  var m = -3.4028234663852886e38;
  for (var j = 0u; j < p.cols; j++) { m = max(m, x[o + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.cols; j++) {
    let e = exp(x[o + j] - m);
    out[o + j] = e;
    s += e;
  }
  for (var j = 0u; j < p.cols; j++) { out[o + j] = out[o + j] / s; }
  ${withLoss ? "rowLoss[i] = -log(out[o + u32(labels[i])] + 1e-7);" : ""}
}
`;
}

/** dx = (probs − onehot(labels)) · scale; dx may alias probs (then bound once as "probs"). */
export function softmaxCrossEntropyBackward(aliased: boolean): string {
  return `${paramsStruct(["rows", "cols"], ["scale"])}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
${aliased ? "" : "@group(0) @binding(2) var<storage, read> probs: array<f32>;"}
@group(0) @binding(${aliased ? 2 : 3}) var<storage, read> labels: array<i32>;
${ENTRY_1D}
  if (i >= p.rows * p.cols) { return; }
  let r = i / p.cols;
  let j = i % p.cols;
  let hit = select(0.0, 1.0, u32(labels[r]) == j);
  dx[i] = (${aliased ? "dx" : "probs"}[i] - hit) * p.scale;
}
`;
}

/** Window geometry shared by the convolution and pooling shaders. */
const WINDOW = ["n", "c", "h", "w", "fh", "fw", "stride", "pad", "oh", "ow"];

/** x (n, c, h, w) → col (n·oh·ow, c·fh·fw), zeros outside the image; one thread per col value. */
export const IM2COL = `${paramsStruct(WINDOW)}
@group(0) @binding(1) var<storage, read_write> col: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${ENTRY_1D}
  let cols = p.c * p.fh * p.fw;
  if (i >= p.n * p.oh * p.ow * cols) { return; }
  let row = i / cols;
  let q = i % cols;
  let ch = q / (p.fh * p.fw);
  let ky = (q / p.fw) % p.fh;
  let kx = q % p.fw;
  let b = row / (p.oh * p.ow);
  let oy = (row / p.ow) % p.oh;
  let ox = row % p.ow;
  let y = i32(oy * p.stride + ky) - i32(p.pad);
  let xx = i32(ox * p.stride + kx) - i32(p.pad);
  var v = 0.0;
  if (y >= 0 && y < i32(p.h) && xx >= 0 && xx < i32(p.w)) {
    v = x[((b * p.c + ch) * p.h + u32(y)) * p.w + u32(xx)];
  }
  col[i] = v;
}
`;

/**
 * The windows (oy, ox) of an oh×ow grid that cover pixel (y, x): a WGSL snippet setting oy0…oy1 and
 * ox0…ox1 (inclusive; empty when oy0 > oy1) for windows fh×fw, stride, pad.
 */
const COVERING = `
  let yp = i32(y) + i32(p.pad);
  let xp = i32(xx) + i32(p.pad);
  let oy0 = max(0, (yp - i32(p.fh) + i32(p.stride)) / i32(p.stride));
  let oy1 = min(i32(p.oh) - 1, yp / i32(p.stride));
  let ox0 = max(0, (xp - i32(p.fw) + i32(p.stride)) / i32(p.stride));
  let ox1 = min(i32(p.ow) - 1, xp / i32(p.stride));`;
// Window oy covers padded rows oy·stride … oy·stride + fh − 1, so oy runs from ceil((yp − fh + 1) /
// stride) = (yp − fh + stride) / stride to yp / stride. A negative numerator divides toward zero
// (not down) in WGSL, but then the bound is ≤ 0 either way and max() makes it 0.

/**
 * The adjoint of IM2COL, gathered: each pixel of dx sums the col values of the windows that cover
 * it (no atomics, every dx written once).
 */
export const COL2IM = `${paramsStruct(WINDOW)}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> col: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.h * p.w) { return; }
  let xx = i % p.w;
  let y = (i / p.w) % p.h;
  let ch = (i / (p.w * p.h)) % p.c;
  let b = i / (p.w * p.h * p.c);
  let cols = p.c * p.fh * p.fw;
  ${COVERING}
  var s = 0.0;
  for (var oy = oy0; oy <= oy1; oy++) {
    let ky = u32(yp - oy * i32(p.stride));
    for (var ox = ox0; ox <= ox1; ox++) {
      let kx = u32(xp - ox * i32(p.stride));
      let row = (b * p.oh + u32(oy)) * p.ow + u32(ox);
      s += col[row * cols + (ch * p.fh + ky) * p.fw + kx];
    }
  }
  dx[i] = s;
}
`;

/**
 * The convolution's product (n·pixels, fn) back to (n, fn, pixels) plus the bias, with the ReLU
 * applied when p.relu = 1.
 */
export const BIAS_TRANSPOSE = `${paramsStruct(["n", "filters", "pixels", "relu"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.filters * p.pixels) { return; }
  let pix = i % p.pixels;
  let f = (i / p.pixels) % p.filters;
  let b = i / (p.pixels * p.filters);
  let v = y[(b * p.pixels + pix) * p.filters + f] + bias[f];
  out[i] = select(v, max(v, 0.0), p.relu == 1u);
}
`;

/**
 * For output i of an oh×ow grid of windows over planes (h, w): runs `body` for each cell of the
 * window inside the image (padding skipped), with `k` the cell's index in x.
 */
function windowCells(body: string): string {
  return `
  let ox = i % p.ow;
  let oy = (i / p.ow) % p.oh;
  let plane = i / (p.ow * p.oh);
  for (var ky = 0u; ky < p.fh; ky++) {
    let y = i32(oy * p.stride + ky) - i32(p.pad);
    if (y < 0 || y >= i32(p.h)) { continue; }
    for (var kx = 0u; kx < p.fw; kx++) {
      let xx = i32(ox * p.stride + kx) - i32(p.pad);
      if (xx < 0 || xx >= i32(p.w)) { continue; }
      let k = (plane * p.h + u32(y)) * p.w + u32(xx);
      ${body}
    }
  }`;
}

/**
 * For pixel i of planes (h, w): runs `body` for each window of the oh×ow grid that covers it, with
 * `o` the window's index in the output.
 */
function coveringWindows(body: string): string {
  return `
  let xx = i % p.w;
  let y = (i / p.w) % p.h;
  let plane = i / (p.w * p.h);
  ${COVERING}
  for (var oy = oy0; oy <= oy1; oy++) {
    for (var ox = ox0; ox <= ox1; ox++) {
      let o = (plane * p.oh + u32(oy)) * p.ow + u32(ox);
      ${body}
    }
  }`;
}

/** Max pooling, one thread per output; padding never wins; argmax is the winner's index in x (−1: none). */
export const MAX_POOL = `${paramsStruct(WINDOW)}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<i32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.oh * p.ow) { return; }
  var best = 0.0;
  var at = -1;
  ${windowCells("let v = x[k]; if (at < 0 || v > best) { best = v; at = i32(k); }")}
  out[i] = best;
  argmax[i] = at;
}
`;

/** dx (overwritten) = Σ dout[o] over the windows o whose winner is this pixel; gathered. */
export const MAX_POOL_BACKWARD = `${paramsStruct(WINDOW)}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> argmax: array<i32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.h * p.w) { return; }
  var s = 0.0;
  ${coveringWindows("if (argmax[o] == i32(i)) { s += dout[o]; }")}
  dx[i] = s;
}
`;

/** Average pooling; padded cells count in the divisor fh·fw. */
export const AVG_POOL = `${paramsStruct(WINDOW)}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.oh * p.ow) { return; }
  var s = 0.0;
  ${windowCells("s += x[k];")}
  out[i] = s / f32(p.fh * p.fw);
}
`;

/** dx (overwritten): each window spreads dout / (fh·fw) over its cells; gathered per pixel. */
export const AVG_POOL_BACKWARD = `${paramsStruct(WINDOW)}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.h * p.w) { return; }
  var s = 0.0;
  ${coveringWindows("s += dout[o];")}
  dx[i] = s / f32(p.fh * p.fw);
}
`;

/** σ without overflow and tanh without the NaN some drivers give for large |x|. */
const ACTIVATIONS = `
fn sigm(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn tanhc(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
`;

/** The LSTM cell after its affine (gate blocks f, g, i, o), one thread per (row, unit). */
export const LSTM_FORWARD = `${paramsStruct(["n", "h"])}
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> hNext: array<f32>;
@group(0) @binding(4) var<storage, read> a: array<f32>;
@group(0) @binding(5) var<storage, read> cPrev: array<f32>;
${ACTIVATIONS}
${ENTRY_1D}
  if (i >= p.n * p.h) { return; }
  let r = i / p.h;
  let j = i % p.h;
  let row = r * 4u * p.h;
  let f = sigm(a[row + j]);
  let g = tanhc(a[row + p.h + j]);
  let ig = sigm(a[row + 2u * p.h + j]);
  let o = sigm(a[row + 3u * p.h + j]);
  gates[row + j] = f;
  gates[row + p.h + j] = g;
  gates[row + 2u * p.h + j] = ig;
  gates[row + 3u * p.h + j] = o;
  let cj = f * cPrev[i] + g * ig;
  c[i] = cj;
  hNext[i] = o * tanhc(cj);
}
`;

/** Backward of LSTM_FORWARD; with `aliased`, dcPrev is dc (bound once, read before written). */
export function lstmBackward(aliased: boolean): string {
  const dc = aliased ? "dcPrev" : "dc";
  return `${paramsStruct(["n", "h"])}
@group(0) @binding(1) var<storage, read_write> da: array<f32>;
@group(0) @binding(2) var<storage, read_write> dcPrev: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
${aliased ? "" : "@group(0) @binding(4) var<storage, read> dc: array<f32>;"}
@group(0) @binding(${aliased ? 4 : 5}) var<storage, read> gates: array<f32>;
@group(0) @binding(${aliased ? 5 : 6}) var<storage, read> cPrev: array<f32>;
@group(0) @binding(${aliased ? 6 : 7}) var<storage, read> c: array<f32>;
${ACTIVATIONS}
${ENTRY_1D}
  if (i >= p.n * p.h) { return; }
  let r = i / p.h;
  let j = i % p.h;
  let row = r * 4u * p.h;
  let f = gates[row + j];
  let g = gates[row + p.h + j];
  let ig = gates[row + 2u * p.h + j];
  let o = gates[row + 3u * p.h + j];
  let tc = tanhc(c[i]);
  // ds: the gradient reaching c, from this step's h and from the next step's c.
  let ds = ${dc}[i] + dh[i] * o * (1.0 - tc * tc);
  da[row + j] = ds * cPrev[i] * f * (1.0 - f);
  da[row + p.h + j] = ds * ig * (1.0 - g * g);
  da[row + 2u * p.h + j] = ds * g * ig * (1.0 - ig);
  da[row + 3u * p.h + j] = dh[i] * tc * o * (1.0 - o);
  dcPrev[i] = ds * f;
}
`;
}

// ---- batch normalization, per channel of x (n, c, hw) -----------------------------------------------

/** A workgroup's tree sum of `part` (every thread calls it; all see the sum in part[0] after). */
const TREE_SUM = `
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half /= 2u) {
    if (lid.x < half) { part[lid.x] += part[lid.x + half]; }
    workgroupBarrier();
  }`;

/** mean and biased variance of channel wg.x (one workgroup per channel; the variance about the mean). */
export const BN_STATS = `${paramsStruct(["n", "c", "hw"])}
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> variance: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let ch = wg.x;
  let m = p.n * p.hw;
  var s = 0.0;
  for (var k = lid.x; k < m; k += ${WG}u) { s += x[((k / p.hw) * p.c + ch) * p.hw + k % p.hw]; }
  part[lid.x] = s;${TREE_SUM}
  let mu = part[0] / f32(m);
  workgroupBarrier();
  var q = 0.0;
  for (var k = lid.x; k < m; k += ${WG}u) {
    let d = x[((k / p.hw) * p.c + ch) * p.hw + k % p.hw] - mu;
    q += d * d;
  }
  part[lid.x] = q;${TREE_SUM}
  if (lid.x == 0u) {
    mean[ch] = mu;
    variance[ch] = part[0] / f32(m);
  }
}
`;

/** out = γ(x − μ)/√(σ² + eps) + β per channel, then ReLU when p.relu = 1. */
export const BN_FORWARD = `${paramsStruct(["len", "c", "hw", "relu"], ["eps"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> variance: array<f32>;
@group(0) @binding(5) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> beta: array<f32>;
${ENTRY_1D}
  if (i >= p.len) { return; }
  let ch = (i / p.hw) % p.c;
  let v = gamma[ch] * (x[i] - mean[ch]) / sqrt(variance[ch] + p.eps) + beta[ch];
  out[i] = select(v, max(v, 0.0), p.relu == 1u);
}
`;

/** dbeta = Σ dy and dgamma = Σ dy·(x − μ)/σ of channel wg.x (one workgroup per channel). */
export const BN_BACKWARD_SUMS = `${paramsStruct(["n", "c", "hw"], ["eps"])}
@group(0) @binding(1) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;
@group(0) @binding(6) var<storage, read> variance: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let ch = wg.x;
  let m = p.n * p.hw;
  let mu = mean[ch];
  var s = 0.0;
  var sx = 0.0;
  for (var k = lid.x; k < m; k += ${WG}u) {
    let at = ((k / p.hw) * p.c + ch) * p.hw + k % p.hw;
    s += dy[at];
    sx += dy[at] * (x[at] - mu);
  }
  part[lid.x] = s;${TREE_SUM}
  let sum = part[0];
  workgroupBarrier();
  part[lid.x] = sx;${TREE_SUM}
  if (lid.x == 0u) {
    dbeta[ch] = sum;
    dgamma[ch] = part[0] / sqrt(variance[ch] + p.eps);
  }
}
`;

/** dx = γ/σ·(dy − (dbeta + x̂·dgamma)/m) in training (p.train = 1), γ/σ·dy in evaluation. */
export const BN_BACKWARD_DX = `${paramsStruct(["len", "c", "hw", "m", "train"], ["eps"])}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> variance: array<f32>;
@group(0) @binding(6) var<storage, read> gamma: array<f32>;
@group(0) @binding(7) var<storage, read> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read> dbeta: array<f32>;
${ENTRY_1D}
  if (i >= p.len) { return; }
  let ch = (i / p.hw) % p.c;
  let sd = sqrt(variance[ch] + p.eps);
  let xhat = (x[i] - mean[ch]) / sd;
  let d = select(dy[i], dy[i] - (dbeta[ch] + xhat * dgamma[ch]) / f32(p.m), p.train == 1u);
  dx[i] = gamma[ch] / sd * d;
}
`;

/** Across-channel LRN, one thread per element: its window's sum of squares, scale and output. */
export const LRN_FORWARD = `${paramsStruct(["n", "c", "plane", "size"], ["k", "alpha", "beta"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.plane) { return; }
  let pix = i % p.plane;
  let ch = (i / p.plane) % p.c;
  let base = i - ch * p.plane; // channel 0 of this position
  let half = (p.size - 1u) / 2u;
  let lo = select(0u, ch - half, ch >= half);
  let hi = min(p.c - 1u, ch + half);
  var sum = 0.0;
  for (var cc = lo; cc <= hi; cc++) {
    let v = x[base + cc * p.plane];
    sum += v * v;
  }
  let s = p.k + (p.alpha / f32(p.size)) * sum;
  scale[i] = s;
  out[i] = x[i] * pow(s, -p.beta);
}
`;

/** LRN's backward, one thread per element (the window is symmetric: j's own window). */
export const LRN_BACKWARD = `${paramsStruct(["n", "c", "plane", "size"], ["alpha", "beta"])}
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read> out: array<f32>;
@group(0) @binding(5) var<storage, read> scale: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.c * p.plane) { return; }
  let ch = (i / p.plane) % p.c;
  let base = i - ch * p.plane;
  let half = (p.size - 1u) / 2u;
  let lo = select(0u, ch - half, ch >= half);
  let hi = min(p.c - 1u, ch + half);
  var sum = 0.0;
  for (var cc = lo; cc <= hi; cc++) {
    let at = base + cc * p.plane;
    sum += dout[at] * out[at] / scale[at];
  }
  dx[i] = dout[i] * pow(scale[i], -p.beta) - (2.0 * p.alpha * p.beta / f32(p.size)) * x[i] * sum;
}
`;

/** Strided block copies (copyBlocks): thread i copies element i % run of block i / run. */
export const COPY_BLOCKS = `${paramsStruct(["blocks", "run", "outStride", "outOffset", "xStride", "xOffset"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${ENTRY_1D}
  if (i >= p.blocks * p.run) { return; }
  let b = i / p.run;
  let j = i % p.run;
  out[p.outOffset + b * p.outStride + j] = x[p.xOffset + b * p.xStride + j];
}
`;

/** Embedding forward: out[i] = W[ids[row] · d + column], one thread per output value. */
export const EMBEDDING_FORWARD = `${paramsStruct(["n", "d"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<f32>;
${ENTRY_1D}
  if (i >= p.n * p.d) { return; }
  out[i] = W[u32(ids[i / p.d]) * p.d + i % p.d];
}
`;

/**
 * Embedding backward as a gather (no float atomics in WebGPU): one thread per dW value scans every
 * id and sums the dout values of the rows that have its row's id, in order. Cost v·d·n.
 */
export const EMBEDDING_BACKWARD = `${paramsStruct(["n", "v", "d"])}
@group(0) @binding(1) var<storage, read_write> dW: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<f32>;
${ENTRY_1D}
  if (i >= p.v * p.d) { return; }
  let r = f32(i / p.d);
  let j = i % p.d;
  var s = 0.0;
  for (var k = 0u; k < p.n; k++) {
    if (ids[k] == r) { s += dout[k * p.d + j]; }
  }
  dW[i] = s;
}
`;

/** Σ x² into out[0] (plus out[0] when accumulating), by one workgroup: strided sums, then a tree. */
export const SUM_SQUARES = `${paramsStruct(["len", "accumulate"])}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.len; i += ${WG}u) { s += x[i] * x[i]; }
  part[lid.x] = s;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half /= 2u) {
    if (lid.x < half) { part[lid.x] += part[lid.x + half]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = select(0.0, out[0], p.accumulate != 0u) + part[0]; }
}
`;

/** Clipping by global norm: x ·= maxNorm / (√sumSq[0] + 1e-6) where that is < 1. */
export const CLIP_BY_NORM = `${paramsStruct(["len"], ["maxNorm"])}
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> sumSq: array<f32>;
${ENTRY_1D}
  if (i >= p.len) { return; }
  let rate = p.maxNorm / (sqrt(sumSq[0]) + 1e-6);
  if (rate < 1.0) { x[i] = x[i] * rate; }
}
`;
