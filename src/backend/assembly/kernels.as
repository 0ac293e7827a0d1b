// zerodl's fast float32 kernels, in AssemblyScript (compiled by scripts/build-wasm.mjs with SIMD, -O3).
//
// Every pointer is a byte offset into the one imported memory (shared with the worker threads when
// more than one thread runs). The JS side (src/backend/wasm.ts) copies inputs into that memory,
// writes a job into a control block and calls `runJob(ctrl, gen, t)` on every participating thread.
//
// Scheduling: a job is cut into C chunks by a rule that depends only on its shape (whole output
// tiles, rows, images, planes or runs of elements); threads claim chunks one at a time from a shared
// counter. A thread that the OS deschedules (these cores are shared) then delays nobody: the others
// take its chunks. Even threads claim from the front, odd ones from the back, so with two threads
// each keeps to its own end of every job (images 0… and …99 of a batch, in the forward and the
// backward alike) and finds in its own cache what it wrote in the job before. Each kernel below
// takes (c, C): compute chunk c of C.
//
// Determinism: which thread computes a chunk never changes what it computes, and the arithmetic of
// one output element never depends on where a chunk boundary falls: matmul accumulates every element
// in the order p = 0, 1, …, k−1 (each step one f32 multiply then one f32 add; in the relaxed-SIMD
// build one multiply-add, fused or not as the engine compiles it, the same on every thread) whatever
// the blocking; element-wise ops compute each lane exactly as the scalar tail would. So outputs are
// bit-identical for any thread count.
//
// No static data and no allocation here: the module is instantiated once per thread over the same
// memory, and a data segment would be re-copied by each instance.

// ---- job control block (layout mirrored in src/backend/threads.ts) ----------------------------------
// i32 [0] generation, [1] failed flag; i64 at byte 8: the claim counter (high 32 bits: the job's
// generation, low 32: next chunk); i32 at byte 16: chunks finished; i32 at byte 20: thread count.
// Two argument slots from byte 64 (slot = generation & 1), so a late thread never reads a half-written
// job: op at +0, i32 args from +4, f64 args from +128.
const COUNTER: usize = 8;
const FINISHED: usize = 16;
const SLOTS: usize = 64;
const SLOT_BYTES: usize = 192;

@inline function arg(slot: usize, i: i32): i32 {
  return load<i32>(slot + 4 + (<usize>i << 2));
}
@inline function farg(slot: usize, i: i32): f32 {
  return <f32>load<f64>(slot + 128 + (<usize>i << 3));
}

/** Start of chunk t of T over `total` items, split in whole units of `unit` items. */
@inline function share(total: i32, unit: i32, t: i32, T: i32): i32 {
  const units = (total + unit - 1) / unit;
  return min(total, <i32>((<i64>units * <i64>t) / <i64>T) * unit);
}

export function heapBase(): usize {
  return __heap_base;
}

/** Zeros `bytes` bytes at `at` (a resident array's block, made zeros as NDArray.zeros promises). */
export function zero(at: usize, bytes: usize): void {
  memory.fill(at, 0, bytes);
}

/** Chunk t of T of zeroing len floats at `at` (op 64: a large new resident array, every thread). */
function zeroFill(at: usize, len: i32, t: i32, T: i32): void {
  const i0 = share(len, 16, t, T);
  const i1 = share(len, 16, t + 1, T);
  memory.fill(at + (<usize>i0 << 2), 0, <usize>(i1 - i0) << 2);
}

// ---- matmul --------------------------------------------------------------------------------------
// out(m×n) = op(a)(m×k) · op(b)(k×n), GotoBLAS-style. A chunk is one output tile (≤ 128 rows, ≤ 256
// columns: see matmulTileRows/Cols). Per KC-deep slice the tile packs op(b)
// into 8-column panels ([p][8], one panel = 8 KiB stays in L1) and op(a) into 4-row panels ([p][4],
// the tile's ≤ 128 KiB block stays in L2); a 4×8 micro-kernel keeps 8 f32x4 accumulators in registers
// (V8 uses only xmm0–15, so 8 accumulators + 2 b + 1 broadcast a fit without spills). Packing makes
// all four transpose combinations one code path and zero-pads the tails.
const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const NT: i32 = 256;
const MT_MAX: i32 = 128;
/** Bytes of pack scratch one thread needs: the A block, the B block, and a 4×8 tail tile. */
export const PACK_BYTES: i32 = (MT_MAX * KC + KC * NT + MR * NR + 8) * 4;
export function packBytes(): i32 {
  return PACK_BYTES;
}

/**
 * Rows per output tile. Every row tile packs its own copy of op(b), so fewer row tiles means less
 * packing, while more tiles means more chunks to share. A short product (m ≤ 128) takes all its rows
 * in one tile and shares by columns when it can: always with a transposed b (packed by gathers,
 * slow), when b is wide (n ≥ 128: the dW products of a convolution, m = filters, k = N·OH·OW), and
 * when op(b) is too big to pack once per thread and reuse (SimpleConvNet's Affine, 100×4320·4320×100:
 * 16-row tiles repacked all of b 7 times). `k` = 0 leaves the last rule out (the k-split's slices).
 * (With k ≥ 1024 and neither operand transposed, such a product now goes to matmulHalf instead:
 * wasm.ts `halvesK`; the rules here still tile the others.)
 */
@inline function matmulTileRows(m: i32, k: i32, n: i32, transB: bool, parts: i32 = 1): i32 {
  if (m >= 256) return 64;
  // A column-split product (below) is also cut in two row halves when threads share it: a product
  // of 13 column panels (an Affine layer's 100×4320·4320×100) otherwise splits 7:6 between two
  // threads; four tiles claimed in turn even that out (52·7 + 48·6 against 52·6 + 48·7 panel rows).
  if (parts > 1 && m >= 8 && m <= MT_MAX && !transB && n < 128 && bigB(k, n)) return (((m + parts - 1) / parts) + 3) & ~3;
  return m <= MT_MAX && (transB || n >= 128 || bigB(k, n)) ? (m + 3) & ~3 : 16;
}

/** op(b) does not fit the B buffer packed whole. */
@inline function bigB(k: i32, n: i32): bool {
  return <i64>k * <i64>((n + NR - 1) & ~(NR - 1)) > <i64>(KC * NT);
}

/**
 * Columns per output tile: narrower for a one-row-tile product, so that it still splits. A big
 * op(b) with few columns (n < 128) is cut into one column tile per thread (`parts`), each packing
 * only its own columns of b: the tiling changes no result (every element sums p = 0…k−1 in order).
 */
@inline function matmulTileCols(m: i32, k: i32, n: i32, transB: bool, parts: i32): i32 {
  // A wide op(b)ᵀ under one row tile (an Affine layer's dx, 100×100·100×4320): 128-column tiles
  // share better between threads than 256 (34 tiles instead of 17), each still packing only its own.
  if (m <= MT_MAX && transB && n > NT) return NT >> 1;
  if (m < 256 && m <= MT_MAX && !transB && n >= 128) return 64;
  if (m < 256 && m <= MT_MAX && !transB && bigB(k, n) && (parts == 1 || m < 8)) return max(NR, ((n + parts - 1) / parts + NR - 1) & ~(NR - 1));
  return NT;
}

function packA(pa: usize, a: usize, m: i32, k: i32, transA: bool, i: i32, mr: i32, pc: i32, kc: i32): void {
  if (transA) {
    // a stored k×m: the 4 values of one p are contiguous.
    let src = a + ((<usize>pc * <usize>m + <usize>i) << 2);
    if (mr == MR) {
      for (let p = 0; p < kc; p++) {
        v128.store(pa + (<usize>p << 4), v128.load(src));
        src += <usize>m << 2;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = pa + (<usize>p << 4);
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
        src += <usize>m << 2;
      }
    }
  } else {
    // a stored m×k: 4 row streams.
    for (let r = 0; r < MR; r++) {
      const d = pa + (<usize>r << 2);
      if (r < mr) {
        const s = a + ((<usize>(i + r) * <usize>k + <usize>pc) << 2);
        for (let p = 0; p < kc; p++) store<f32>(d + (<usize>p << 4), load<f32>(s + (<usize>p << 2)));
      } else {
        for (let p = 0; p < kc; p++) store<f32>(d + (<usize>p << 4), 0);
      }
    }
  }
}

function packB(pb: usize, b: usize, k: i32, n: i32, transB: bool, pc: i32, kc: i32, jc: i32, nc: i32): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const nr = min(NR, nc - jp);
    const panel = pb + ((<usize>jp * <usize>kc) << 2);
    const j = jc + jp;
    if (!transB) {
      // b stored k×n: each p row of the panel is 8 contiguous floats.
      let src = b + ((<usize>pc * <usize>n + <usize>j) << 2);
      if (nr == NR) {
        for (let p = 0; p < kc; p++) {
          const d = panel + (<usize>p << 5);
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += <usize>n << 2;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const d = panel + (<usize>p << 5);
          for (let q = 0; q < NR; q++) store<f32>(d + (<usize>q << 2), q < nr ? load<f32>(src + (<usize>q << 2)) : 0);
          src += <usize>n << 2;
        }
      }
    } else if (nr == NR) {
      // b stored n×k: column q of the panel is a contiguous run of row j+q. 4 rows × 4 steps at a
      // time through a 4×4 register transpose.
      for (let q = 0; q < NR; q += 4) {
        const s0 = b + ((<usize>(j + q) * <usize>k + <usize>pc) << 2);
        const rs = <usize>k << 2;
        const d = panel + (<usize>q << 2);
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          const at = <usize>p << 2;
          const r0 = v128.load(s0 + at);
          const r1 = v128.load(s0 + rs + at);
          const r2 = v128.load(s0 + 2 * rs + at);
          const r3 = v128.load(s0 + 3 * rs + at);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
          const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          const dp = d + (<usize>p << 5);
          v128.store(dp, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          v128.store(dp + 32, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
          v128.store(dp + 64, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
          v128.store(dp + 96, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
        }
        for (; p < kc; p++) {
          for (let r = 0; r < 4; r++) store<f32>(d + (<usize>p << 5) + (<usize>r << 2), load<f32>(s0 + <usize>r * rs + (<usize>p << 2)));
        }
      }
    } else {
      // b stored n×k, a ragged panel: column by column, zeros past nr.
      for (let q = 0; q < NR; q++) {
        const d = panel + (<usize>q << 2);
        if (q < nr) {
          const s = b + ((<usize>(j + q) * <usize>k + <usize>pc) << 2);
          for (let p = 0; p < kc; p++) store<f32>(d + (<usize>p << 5), load<f32>(s + (<usize>p << 2)));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(d + (<usize>p << 5), 0);
        }
      }
    }
  }
}

/**
 * c(4×8, row stride ldc floats) = (init ? c : 0) + A·pb over kc steps. A's row r, step p is at
 * pa + r·ars + p·aps bytes: packed panels (ars 4, aps 16) or, for an untransposed a, the rows
 * themselves (ars = 4k, aps 4: no packing copy). B's 8 values of step p are at pb + p·bps: a packed
 * panel (bps 32) or, for an untransposed b read in place, its rows (bps = 4n). For a partial tile (mr < 4 or nr < 8) the caller
 * passes a scratch tile with ldc = 8 and copies the valid part.
 */
/**
 * acc + a·b: one fused multiply-add where the engine has relaxed SIMD (the module built with it is
 * chosen at start), else a multiply then an add, each rounded.
 */
// @ts-ignore: decorator
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, acc);
  } else {
    return f32x4.add(acc, f32x4.mul(a, b));
  }
}

// @ts-ignore: decorator
@inline function micro(c: usize, ldc: i32, pa: usize, ars: usize, aps: usize, pb: usize, bps: usize, kc: i32, init: bool): void {
  const ld = <usize>ldc << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (init) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ld); c11 = v128.load(c + ld, 16);
    c20 = v128.load(c + 2 * ld); c21 = v128.load(c + 2 * ld, 16);
    c30 = v128.load(c + 3 * ld); c31 = v128.load(c + 3 * ld, 16);
  }
  let a0 = pa, a1 = pa + ars, a2 = pa + 2 * ars, a3 = pa + 3 * ars;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(a0);
    c00 = madd(c00, av, b0);
    c01 = madd(c01, av, b1);
    av = v128.load32_splat(a1);
    c10 = madd(c10, av, b0);
    c11 = madd(c11, av, b1);
    av = v128.load32_splat(a2);
    c20 = madd(c20, av, b0);
    c21 = madd(c21, av, b1);
    av = v128.load32_splat(a3);
    c30 = madd(c30, av, b0);
    c31 = madd(c31, av, b1);
    a0 += aps; a1 += aps; a2 += aps; a3 += aps;
    pb += bps;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
  v128.store(c + 2 * ld, c20); v128.store(c + 2 * ld, c21, 16);
  v128.store(c + 3 * ld, c30); v128.store(c + 3 * ld, c31, 16);
}

function matmulTile(
  out: usize, a: usize, b: usize, m: i32, k: i32, n: i32, transA: bool, transB: bool, acc: bool,
  pack: usize, job: i32, i0: i32, i1: i32, j0: i32, j1: i32, cache: bool = true, directB: bool = false,
  padRows: bool = false, k0: i32 = 0, k1: i32 = -1,
): void {
  // Steps k0 … k1 − 1 only (all of k by default): one part of a k-split product (matmulHalf).
  if (k1 < 0) k1 = k;
  if (k1 <= k0) {
    if (!acc) for (let i = i0; i < i1; i++) memory.fill(out + ((<usize>i * <usize>n + <usize>j0) << 2), 0, <usize>(j1 - j0) << 2);
    return;
  }
  const pa = pack;
  const pb = pack + ((<usize>MT_MAX * <usize>KC) << 2);
  const tile = pb + ((<usize>KC * <usize>NT) << 2);
  const nc = j1 - j0;
  // When all of op(b)'s columns for this tile fit the B buffer packed (every KC slice, one after the
  // other), pack them once per job and thread: the tall products of a convolution (57600×25·25×30,
  // 78400×144·144×16) otherwise repack the same small b for each of hundreds of row tiles.
  // The tag (after the tail tile) names the job and columns the buffer holds.
  const nc8 = (nc + NR - 1) & ~(NR - 1);
  // An untransposed b read in place (directB: a b that is in cache already and serves few row
  // panels, as one image's colᵀ) needs packing only for a ragged last panel.
  const inPlaceB = directB && !transB;
  const whole = !inPlaceB && <i64>(k1 - k0) * <i64>nc8 <= <i64>(KC * NT);
  const tag = tile + ((<usize>MR * <usize>NR) << 2);
  // (A k-split job's slices have different b's under one job: it passes cache = false.)
  const packed = cache && load<i32>(tag) == job && load<i32>(tag, 4) == j0 && load<i32>(tag, 8) == 1 && load<i32>(tag, 12) == k0;
  if (whole && !packed) {
    for (let pc = k0; pc < k1; pc += KC) packB(pb + ((<usize>(pc - k0) * <usize>nc8) << 2), b, k, n, transB, pc, min(KC, k1 - pc), j0, nc);
    store<i32>(tag, job);
    store<i32>(tag, j0, 4);
    store<i32>(tag, cache ? 1 : 0, 8);
    store<i32>(tag, k0, 12);
  } else if (!whole) {
    store<i32>(tag, 0, 8);
  }
  const ragged = nc & ~(NR - 1);
  for (let pc = k0; pc < k1; pc += KC) {
    const kc = min(KC, k1 - pc);
    const init = acc || pc > k0;
    const pbk = whole ? pb + ((<usize>(pc - k0) * <usize>nc8) << 2) : pb;
    if (inPlaceB) {
      if (ragged < nc) packB(pb + ((<usize>ragged * <usize>kc) << 2), b, k, n, false, pc, kc, j0 + ragged, nc - ragged);
    } else if (!whole) {
      packB(pb, b, k, n, transB, pc, kc, j0, nc);
    }
    // An untransposed a is read in place, except a ragged last panel (packed with zero rows; at
    // the start of the A buffer, so that such a tile may have any number of rows).
    for (let i = i0; i < i1; i += MR) {
      const mr = min(MR, i1 - i);
      if (transA) packA(pa + ((<usize>(i - i0) * <usize>kc) << 2), a, m, k, true, i, mr, pc, kc);
      else if (mr < MR) packA(pa, a, m, k, false, i, mr, pc, kc);
    }
    for (let jp = 0; jp < nc; jp += NR) {
      const nr = min(NR, nc - jp);
      const bInPlace = inPlaceB && nr == NR;
      const panel = bInPlace ? b + ((<usize>pc * <usize>n + <usize>(j0 + jp)) << 2) : pbk + ((<usize>jp * <usize>kc) << 2);
      const bps: usize = bInPlace ? <usize>n << 2 : 32;
      for (let i = i0; i < i1; i += MR) {
        const mr = min(MR, i1 - i);
        const c = out + ((<usize>i * <usize>n + <usize>(j0 + jp)) << 2);
        const direct = !transA && mr == MR;
        const ap = direct ? a + ((<usize>i * <usize>k + <usize>pc) << 2) : transA ? pa + ((<usize>(i - i0) * <usize>kc) << 2) : pa;
        const ars: usize = direct ? <usize>k << 2 : 4;
        const aps: usize = direct ? 4 : 16;
        // With padRows, out has rows up to m rounded up to 4 (scratch): a ragged last row panel
        // (packed with zero rows) is written whole, not through the tail tile.
        if ((mr == MR || padRows) && nr == NR) {
          micro(c, n, ap, ars, aps, panel, bps, kc, init);
        } else {
          // Tail tile: through scratch so the kernel never touches memory outside out.
          for (let r = 0; r < MR; r++) {
            for (let q = 0; q < NR; q++) {
              const v: f32 = init && r < mr && q < nr ? load<f32>(c + ((<usize>r * <usize>n + <usize>q) << 2)) : 0;
              store<f32>(tile + (<usize>(r * NR + q) << 2), v);
            }
          }
          micro(tile, NR, ap, ars, aps, panel, bps, kc, true);
          for (let r = 0; r < mr; r++) {
            for (let q = 0; q < nr; q++) {
              store<f32>(c + ((<usize>r * <usize>n + <usize>q) << 2), load<f32>(tile + (<usize>(r * NR + q) << 2)));
            }
          }
        }
      }
    }
  }
}

@inline function matmulChunks(m: i32, k: i32, n: i32, transB: bool, parts: i32): i32 {
  const mt = matmulTileRows(m, k, n, transB, parts);
  const nt = matmulTileCols(m, k, n, transB, parts);
  return ((m + mt - 1) / mt) * ((n + nt - 1) / nt);
}

/** Output tile c (row-major over tiles); `pack` is this thread's pack scratch. */
function matmul(
  out: usize, a: usize, b: usize, m: i32, k: i32, n: i32, transA: bool, transB: bool, acc: bool,
  parts: i32, pack: usize, job: i32, c: i32,
): void {
  const mt = matmulTileRows(m, k, n, transB, parts);
  const nt = matmulTileCols(m, k, n, transB, parts);
  const tilesN = (n + nt - 1) / nt;
  const i0 = (c / tilesN) * mt;
  const j0 = (c % tilesN) * nt;
  matmulTile(out, a, b, m, k, n, transA, transB, acc, pack, job, i0, min(m, i0 + mt), j0, min(n, j0 + nt));
}

// ---- k-split matmul: out(m×n) = aᵀ·b for a tall k (a stored k×m, b stored k×n) -------------------
// The dW products of a convolution (m = filters ≤ 128, n = c·fh·fw, k = N·OH·OW up to 78,400) have
// only 1–9 output tiles, too few to share between threads. Here k is cut into slices of KSLICE rows
// (by shape only); chunk c computes slice c / tiles of tile c % tiles into its own partial product,
// and matmulReduce then sums the partials in slice order. The result is the same for any thread
// count (it differs from the unsplit product's rounding, within the parity tests' tolerance).
const KSLICE: i32 = 2048;

@inline function splitSlices(k: i32): i32 {
  return (k + KSLICE - 1) / KSLICE;
}

/** Chunk c of the k-split product: partials (slices, m, n). */
function matmulSplitK(partials: usize, a: usize, b: usize, m: i32, k: i32, n: i32, pack: usize, job: i32, c: i32): void {
  const tiles = matmulChunks(m, 0, n, false, 1);
  const slice = c / tiles;
  const k0 = slice * KSLICE;
  const ks = min(KSLICE, k - k0);
  const mt = matmulTileRows(m, 0, n, false);
  const nt = matmulTileCols(m, 0, n, false, 1);
  const tilesN = (n + nt - 1) / nt;
  const tile = c % tiles;
  const i0 = (tile / tilesN) * mt;
  const j0 = (tile % tilesN) * nt;
  const out = partials + ((<usize>slice * <usize>m * <usize>n) << 2);
  const as = a + ((<usize>k0 * <usize>m) << 2);
  const bs = b + ((<usize>k0 * <usize>n) << 2);
  matmulTile(out, as, bs, m, ks, n, true, false, false, pack, job, i0, min(m, i0 + mt), j0, min(n, j0 + nt), false);
}

/** out[i] = (acc ? out[i] : 0) + partials[0][i] + partials[1][i] + …, in slice order. */
function matmulReduce(out: usize, partials: usize, len: i32, slices: i32, acc: bool, t: i32, T: i32): void {
  const i0 = share(len, 4, t, T);
  const i1 = share(len, 4, t + 1, T);
  const stride = <usize>len << 2;
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const at = <usize>i << 2;
    let v = acc ? v128.load(out + at) : f32x4.splat(0);
    for (let s = 0; s < slices; s++) v = f32x4.add(v, v128.load(partials + <usize>s * stride + at));
    v128.store(out + at, v);
  }
  for (; i < i1; i++) {
    const at = <usize>i << 2;
    let v: f32 = acc ? load<f32>(out + at) : 0;
    for (let s = 0; s < slices; s++) v += load<f32>(partials + <usize>s * stride + at);
    store<f32>(out + at, v);
  }
}

// ---- k-halved matmul: out(m×n) = a·b for an untransposed a and b too big to pack whole ----------------
// An Affine layer's forward on a flattened convolution output (SimpleConvNet: 100×4320·4320×100) has
// a b (the weights) that every row tile must pack whole, and only ~100 rows: split by rows, each
// thread packs all of b; split by columns, threads share the output's cache lines or get 7:6 of 13
// panels. Cut in two along k instead (the cut fixed by k alone, kh = k / 2), each thread packs and
// multiplies half of b: chunk (tile, 0) computes out (+ out when acc) over steps 0 … kh − 1 in
// place, chunk (tile, 1) steps kh … k − 1 into `part`, and matmulReduce adds part to out. Every
// thread count, one included, computes the same two sums and adds them in the same order.

/** Chunks of the k-halved product: two per row tile (64 rows from m = 256 on, else all rows). */
@inline function halfChunks(m: i32): i32 {
  return 2 * ((m + halfTileRows(m) - 1) / halfTileRows(m));
}

@inline function halfTileRows(m: i32): i32 {
  return m >= 256 ? 64 : (m + 3) & ~3;
}

/** Chunk c of the k-halved product: row tile c >> 1, half c & 1. */
function matmulHalf(out: usize, part: usize, a: usize, b: usize, m: i32, k: i32, n: i32, acc: bool, pack: usize, job: i32, c: i32): void {
  const mt = halfTileRows(m);
  const i0 = (c >> 1) * mt;
  const kh = k >> 1;
  const second = (c & 1) != 0;
  const o = second ? part : out;
  matmulTile(o, a, b, m, k, n, false, false, acc && !second, pack, job, i0, min(m, i0 + mt), 0, n, true, false, false, second ? kh : 0, second ? k : kh);
}

// ---- rows, columns, transposes ---------------------------------------------------------------------
function addBias(out: usize, x: usize, bias: usize, rows: i32, cols: i32, t: i32, T: i32): void {
  const r1 = share(rows, 1, t + 1, T);
  for (let r = share(rows, 1, t, T); r < r1; r++) {
    const o = out + ((<usize>r * <usize>cols) << 2);
    const s = x + ((<usize>r * <usize>cols) << 2);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const off = <usize>j << 2;
      v128.store(o + off, f32x4.add(v128.load(s + off), v128.load(bias + off)));
    }
    for (; j < cols; j++) {
      const off = <usize>j << 2;
      store<f32>(o + off, load<f32>(s + off) + load<f32>(bias + off));
    }
  }
}

/** Columns per sumRows chunk: one pass over the rows sums them all (the sums stay in L1). */
const SUM_COLS: i32 = 64;

function sumRows(out: usize, x: usize, rows: i32, cols: i32, t: i32, T: i32): void {
  // Chunks are whole groups of SUM_COLS columns; each column sums rows in order 0..rows−1, so a
  // row-by-row pass accumulating into out gives the same sums as a column-by-column one.
  const j0 = t * SUM_COLS;
  const j1 = min(cols, j0 + SUM_COLS);
  memory.fill(out + (<usize>j0 << 2), 0, <usize>(j1 - j0) << 2);
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>cols) << 2);
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      const o = out + (<usize>j << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(row + (<usize>j << 2))));
    }
    for (; j < j1; j++) {
      const o = out + (<usize>j << 2);
      store<f32>(o, load<f32>(o) + load<f32>(row + (<usize>j << 2)));
    }
  }
}

/**
 * Batched transpose. Chunks: batch items, else runs of input rows. Whole 4×4 blocks go through
 * registers (4 loads, 8 shuffles, 4 stores); the ragged right and bottom edges are scalar.
 */
function transpose(out: usize, x: usize, batch: i32, rows: i32, cols: i32, t: i32, T: i32): void {
  const plane = <usize>rows * <usize>cols;
  let b0 = 0, b1 = batch, r0 = 0, r1 = rows;
  if (batch > 1) {
    b0 = share(batch, 1, t, T);
    b1 = share(batch, 1, t + 1, T);
  } else {
    r0 = share(rows, 8, t, T);
    r1 = share(rows, 8, t + 1, T);
  }
  const rs = <usize>rows << 2;
  const cs = <usize>cols << 2;
  for (let bt = b0; bt < b1; bt++) {
    const xs = x + ((<usize>bt * plane) << 2);
    const os = out + ((<usize>bt * plane) << 2);
    let i = r0;
    for (; i + 4 <= r1; i += 4) {
      let j = 0;
      for (; j + 4 <= cols; j += 4) {
        const s = xs + ((<usize>i * <usize>cols + <usize>j) << 2);
        const a0 = v128.load(s);
        const a1 = v128.load(s + cs);
        const a2 = v128.load(s + 2 * cs);
        const a3 = v128.load(s + 3 * cs);
        const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
        const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
        const d = os + ((<usize>j * <usize>rows + <usize>i) << 2);
        v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(d + rs, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
        v128.store(d + 2 * rs, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
        v128.store(d + 3 * rs, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
      }
      for (; j < cols; j++) {
        for (let r = i; r < i + 4; r++) {
          store<f32>(os + ((<usize>j * <usize>rows + <usize>r) << 2), load<f32>(xs + ((<usize>r * <usize>cols + <usize>j) << 2)));
        }
      }
    }
    for (; i < r1; i++) {
      for (let j = 0; j < cols; j++) {
        store<f32>(os + ((<usize>j * <usize>rows + <usize>i) << 2), load<f32>(xs + ((<usize>i * <usize>cols + <usize>j) << 2)));
      }
    }
  }
}

// ---- element-wise (split in whole groups of 4 elements) -------------------------------------------
function relu(out: usize, x: usize, len: i32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const zero = f32x4.splat(0);
  // pmax(0, x) = 0 < x ? x : 0, so NaN and −0 give 0 exactly as the reference's x > 0 ? x : 0.
  for (; i + 4 <= e; i += 4) v128.store(out + (<usize>i << 2), f32x4.pmax(zero, v128.load(x + (<usize>i << 2))));
  for (; i < e; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), v > 0 ? v : 0);
  }
}

function reluBackward(dx: usize, dout: usize, x: usize, len: i32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const zero = f32x4.splat(0);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dout + o), f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dout + o) : 0);
  }
}

function sigmoid(out: usize, x: usize, len: i32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  for (let i = share(len, 4, t, T); i < e; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    let y: f32;
    if (v >= 0) {
      y = 1 / (1 + Mathf.exp(-v));
    } else {
      const ex = Mathf.exp(v);
      y = ex / (1 + ex);
    }
    store<f32>(out + (<usize>i << 2), y);
  }
}

function sigmoidBackward(dx: usize, dout: usize, y: usize, len: i32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const one = f32x4.splat(1);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const yv = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(f32x4.mul(v128.load(dout + o), yv), f32x4.sub(one, yv)));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const yv = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dout + o) * yv * (1 - yv));
  }
}

function axpby(out: usize, x: usize, y: usize, len: i32, a: f32, b: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const av = f32x4.splat(a);
  const bv = f32x4.splat(b);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(av, v128.load(x + o)), f32x4.mul(bv, v128.load(y + o))));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, a * load<f32>(x + o) + b * load<f32>(y + o));
  }
}

function mul(out: usize, x: usize, y: usize, len: i32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) * load<f32>(y + o));
  }
}

// ---- softmax ----------------------------------------------------------------------------------------
function softmax(out: usize, x: usize, rows: i32, cols: i32, t: i32, T: i32): void {
  const r1 = share(rows, 1, t + 1, T);
  for (let r = share(rows, 1, t, T); r < r1; r++) {
    const xs = x + ((<usize>r * <usize>cols) << 2);
    const os = out + ((<usize>r * <usize>cols) << 2);
    let mx: f32 = -Infinity;
    for (let j = 0; j < cols; j++) mx = max(mx, load<f32>(xs + (<usize>j << 2)));
    let sum: f32 = 0;
    for (let j = 0; j < cols; j++) {
      const ex = Mathf.exp(load<f32>(xs + (<usize>j << 2)) - mx);
      store<f32>(os + (<usize>j << 2), ex);
      sum += ex;
    }
    const inv: f32 = 1 / sum;
    for (let j = 0; j < cols; j++) store<f32>(os + (<usize>j << 2), load<f32>(os + (<usize>j << 2)) * inv);
  }
}

function softmaxCrossEntropyBackward(
  dx: usize, probs: usize, labels: usize, rows: i32, cols: i32, scale: f32, t: i32, T: i32,
): void {
  const r1 = share(rows, 1, t + 1, T);
  for (let r = share(rows, 1, t, T); r < r1; r++) {
    const o = (<usize>r * <usize>cols) << 2;
    const label = load<i32>(labels + (<usize>r << 2));
    for (let j = 0; j < cols; j++) {
      const at = o + (<usize>j << 2);
      store<f32>(dx + at, (load<f32>(probs + at) - (j == label ? 1 : 0)) * scale);
    }
  }
}

// ---- LSTM cell (gate blocks f, g, i, o; split in whole rows) -----------------------------------------
// exp, σ and tanh four lanes at a time: Cephes' expf (range reduction by ln 2 in two parts, a degree-6
// polynomial, 2^n put into the exponent), within 2 ulp of the true value on the clamped range.
@inline function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(fx, f32x4.splat(2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.mul(f32x4.mul(y, r), r), f32x4.add(r, f32x4.splat(1.0)));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2);
}

@inline function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** tanh(x) = sign(x)·(1 − e)/(1 + e), e = exp(−2|x|) ∈ (0, 1]: no overflow. */
@inline function tanhv(x: v128): v128 {
  const one = f32x4.splat(1);
  const e = expv(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const t = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

/** Loads `lanes` (1–4) floats at p into a vector (the rest 0): a row's tail. */
@inline function loadLanes(p: usize, lanes: i32): v128 {
  if (lanes >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + 4));
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 8));
  return v;
}

@inline function storeLanes(p: usize, v: v128, lanes: i32): void {
  if (lanes >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (lanes > 1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
  if (lanes > 2) store<f32>(p + 8, f32x4.extract_lane(v, 2));
}

function lstmForward(gates: usize, c: usize, hNext: usize, a: usize, cPrev: usize, n: i32, h: i32, t: i32, T: i32): void {
  const r1 = share(n, 1, t + 1, T);
  const gate = <usize>h << 2; // bytes between gate blocks
  for (let r = share(n, 1, t, T); r < r1; r++) {
    const row = (<usize>r * <usize>(4 * h)) << 2;
    const unit = (<usize>r * <usize>h) << 2;
    for (let j = 0; j < h; j += 4) {
      const lanes = min(4, h - j);
      const o4 = <usize>j << 2;
      const pa = a + row + o4;
      const f = sigmoidv(loadLanes(pa, lanes));
      const g = tanhv(loadLanes(pa + gate, lanes));
      const i = sigmoidv(loadLanes(pa + 2 * gate, lanes));
      const o = sigmoidv(loadLanes(pa + 3 * gate, lanes));
      const pg = gates + row + o4;
      storeLanes(pg, f, lanes);
      storeLanes(pg + gate, g, lanes);
      storeLanes(pg + 2 * gate, i, lanes);
      storeLanes(pg + 3 * gate, o, lanes);
      const cn = f32x4.add(f32x4.mul(f, loadLanes(cPrev + unit + o4, lanes)), f32x4.mul(g, i));
      storeLanes(c + unit + o4, cn, lanes);
      storeLanes(hNext + unit + o4, f32x4.mul(o, tanhv(cn)), lanes);
    }
  }
}

function lstmBackward(
  da: usize, dcPrev: usize, dh: usize, dc: usize, gates: usize, cPrev: usize, c: usize, n: i32, h: i32, t: i32, T: i32,
): void {
  const r1 = share(n, 1, t + 1, T);
  const gate = <usize>h << 2;
  const one = f32x4.splat(1);
  for (let r = share(n, 1, t, T); r < r1; r++) {
    const row = (<usize>r * <usize>(4 * h)) << 2;
    const unit = (<usize>r * <usize>h) << 2;
    for (let j = 0; j < h; j += 4) {
      const lanes = min(4, h - j);
      const o4 = <usize>j << 2;
      const pg = gates + row + o4;
      const f = loadLanes(pg, lanes);
      const g = loadLanes(pg + gate, lanes);
      const i = loadLanes(pg + 2 * gate, lanes);
      const o = loadLanes(pg + 3 * gate, lanes);
      const u = unit + o4;
      const tc = tanhv(loadLanes(c + u, lanes));
      const dhv = loadLanes(dh + u, lanes);
      // ds: the gradient reaching c, from this step's h and from the next step's c.
      const ds = f32x4.add(loadLanes(dc + u, lanes), f32x4.mul(f32x4.mul(dhv, o), f32x4.sub(one, f32x4.mul(tc, tc))));
      const pd = da + row + o4;
      storeLanes(pd, f32x4.mul(f32x4.mul(f32x4.mul(ds, loadLanes(cPrev + u, lanes)), f), f32x4.sub(one, f)), lanes);
      storeLanes(pd + gate, f32x4.mul(f32x4.mul(ds, i), f32x4.sub(one, f32x4.mul(g, g))), lanes);
      storeLanes(pd + 2 * gate, f32x4.mul(f32x4.mul(f32x4.mul(ds, g), i), f32x4.sub(one, i)), lanes);
      storeLanes(pd + 3 * gate, f32x4.mul(f32x4.mul(f32x4.mul(dhv, tc), o), f32x4.sub(one, o)), lanes);
      storeLanes(dcPrev + u, f32x4.mul(ds, f), lanes);
    }
  }
}

// ---- convolution ------------------------------------------------------------------------------------
@inline function outSize(size: i32, filter: i32, stride: i32, pad: i32): i32 {
  return (size + 2 * pad - filter) / stride + 1;
}

/** The book's im2col, split by image. Windows fully inside the image copy rows without bounds checks. */
/**
 * im2col of image b through a zero-padded copy of it in this thread's scratch: no bounds checks, and
 * a window row of fw ≤ 4 floats moves as one f32x4 load and store. The stores overlap (each writes
 * 4 − fw floats of the next runs, which the next stores overwrite); the runs within 4 floats of a
 * col row's end are written float by float so nothing beyond the row is touched.
 */
function im2colPadded(col: usize, x: usize, b: i32, c: i32, h: i32, w: i32, fh: i32, fw: i32, stride: i32, pad: i32, xp: usize): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const hp = h + 2 * pad;
  const wp = w + 2 * pad;
  memory.fill(xp, 0, (<usize>c * <usize>hp * <usize>wp) << 2);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      memory.copy(
        xp + ((<usize>(ch * hp + y + pad) * <usize>wp + <usize>pad) << 2),
        x + ((<usize>((b * c + ch) * h + y) * <usize>w) << 2),
        <usize>w << 2,
      );
    }
  }
  const rowStep = <usize>wp << 2;
  const planeStep = (<usize>hp * <usize>wp) << 2;
  const fwBytes = <usize>fw << 2;
  let d = col + ((<usize>b * <usize>oh * <usize>ow * <usize>(c * fh * fw)) << 2);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let plane = xp + ((<usize>(oy * stride) * <usize>wp + <usize>(ox * stride)) << 2);
      // A vector store only where its 4 floats stay inside this col row: with fw = 1 the last
      // three runs spill past it, into the next image's row when that is another thread's.
      const rowEnd = d + ((<usize>(c * fh * fw)) << 2);
      for (let ch = 0; ch < c; ch++) {
        let s = plane;
        for (let ky = 0; ky < fh; ky++) {
          if (fw <= 4 && d + 16 <= rowEnd) {
            v128.store(d, v128.load(s));
          } else {
            for (let kx = 0; kx < fw; kx++) store<f32>(d + (<usize>kx << 2), load<f32>(s + (<usize>kx << 2)));
          }
          s += rowStep;
          d += fwBytes;
        }
        plane += planeStep;
      }
    }
  }
}

/** Floats of padded-image scratch im2col may use per thread (the matmul pack area it shares). */
const IM2COL_SCRATCH: i32 = PACK_BYTES / 4 - 4;

function im2col(col: usize, x: usize, n: i32, c: i32, h: i32, w: i32, fh: i32, fw: i32, stride: i32, pad: i32, t: i32, T: i32, scratch: usize): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  const b1 = share(n, 1, t + 1, T);
  if (c * (h + 2 * pad) * (w + 2 * pad) <= IM2COL_SCRATCH) {
    for (let b = share(n, 1, t, T); b < b1; b++) im2colPadded(col, x, b, c, h, w, fh, fw, stride, pad, scratch);
    return;
  }
  for (let b = share(n, 1, t, T); b < b1; b++) {
    const xb = x + ((<usize>b * <usize>c * <usize>h * <usize>w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let d = col + ((<usize>((b * oh + oy) * ow + ox) * <usize>cols) << 2);
        const y0 = oy * stride - pad;
        const x0 = ox * stride - pad;
        const inside = y0 >= 0 && y0 + fh <= h && x0 >= 0 && x0 + fw <= w;
        for (let ch = 0; ch < c; ch++) {
          const xc = xb + ((<usize>ch * <usize>h * <usize>w) << 2);
          for (let ky = 0; ky < fh; ky++) {
            const y = y0 + ky;
            if (inside) {
              const s = xc + ((<usize>y * <usize>w + <usize>x0) << 2);
              // The book's filters are 3 or 5 wide: straight-line copies, no loop overhead.
              if (fw == 3) {
                store<f32>(d, load<f32>(s));
                store<f32>(d, load<f32>(s, 4), 4);
                store<f32>(d, load<f32>(s, 8), 8);
              } else if (fw == 5) {
                v128.store(d, v128.load(s));
                store<f32>(d, load<f32>(s, 16), 16);
              } else {
                for (let kx = 0; kx < fw; kx++) store<f32>(d + (<usize>kx << 2), load<f32>(s + (<usize>kx << 2)));
              }
            } else {
              for (let kx = 0; kx < fw; kx++) {
                const xx = x0 + kx;
                const ok = y >= 0 && y < h && xx >= 0 && xx < w;
                store<f32>(d + (<usize>kx << 2), ok ? load<f32>(xc + ((<usize>y * <usize>w + <usize>xx) << 2)) : 0);
              }
            }
            d += <usize>fw << 2;
          }
        }
      }
    }
  }
}

/** Scatter-add of im2col, split by image, in the reference's order (so sums match it exactly). */
function col2im(dx: usize, col: usize, n: i32, c: i32, h: i32, w: i32, fh: i32, fw: i32, stride: i32, pad: i32, t: i32, T: i32): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  const b0 = share(n, 1, t, T);
  const b1 = share(n, 1, t + 1, T);
  const image = <usize>c * <usize>h * <usize>w;
  if (b1 > b0) memory.fill(dx + ((<usize>b0 * image) << 2), 0, (<usize>(b1 - b0) * image) << 2);
  for (let b = b0; b < b1; b++) {
    const xb = dx + ((<usize>b * image) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let s = col + ((<usize>((b * oh + oy) * ow + ox) * <usize>cols) << 2);
        const y0 = oy * stride - pad;
        const x0 = ox * stride - pad;
        if (fw == 3 && y0 >= 0 && x0 >= 0 && y0 + fh <= h && x0 + 3 <= w) {
          // A window inside the image, 3 wide (the book's usual filter): no bounds checks.
          for (let ch = 0; ch < c; ch++) {
            let at = xb + ((<usize>(ch * h + y0) * <usize>w + <usize>x0) << 2);
            for (let ky = 0; ky < fh; ky++) {
              store<f32>(at, load<f32>(at) + load<f32>(s));
              store<f32>(at, load<f32>(at, 4) + load<f32>(s, 4), 4);
              store<f32>(at, load<f32>(at, 8) + load<f32>(s, 8), 8);
              s += 12;
              at += <usize>w << 2;
            }
          }
          continue;
        }
        for (let ch = 0; ch < c; ch++) {
          const xc = xb + ((<usize>ch * <usize>h * <usize>w) << 2);
          for (let ky = 0; ky < fh; ky++) {
            const y = y0 + ky;
            if (y >= 0 && y < h) {
              for (let kx = 0; kx < fw; kx++) {
                const xx = x0 + kx;
                if (xx >= 0 && xx < w) {
                  const at = xc + ((<usize>y * <usize>w + <usize>xx) << 2);
                  store<f32>(at, load<f32>(at) + load<f32>(s + (<usize>kx << 2)));
                }
              }
            }
            s += <usize>fw << 2;
          }
        }
      }
    }
  }
}

// ---- convolution, one image at a time (the fused convolution kernels) -----------------------------
// Per image, "colᵀ" is the (c·fh·fw) × (oh·ow) matrix whose row j = (ch, ky, kx) holds, for every
// output pixel, the input value under filter tap j (0 in the padding). With stride 1 its rows are
// shifted runs of image rows (vector copies, no 3-wide windows), and out = W · colᵀ lands in
// (fn, oh·ow) order, the NCHW layout, with no transpose. One image's colᵀ (≤ 450 KiB for the book's
// nets) stays in this thread's cache from im2col to matmul to col2im; a batch-wide col never exists.
// A chunk is one image (forward) or a group of CONV_GROUP images (backward: the group's dW and db
// go to its own partial sum, and the groups are summed in order afterwards: the same result for any
// thread count).
const CONV_GROUP: i32 = 2;

@inline function copyRun(d: usize, s: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(d + (<usize>i << 2), v128.load(s + (<usize>i << 2)));
  for (; i < len; i++) store<f32>(d + (<usize>i << 2), load<f32>(s + (<usize>i << 2)));
}

@inline function zeroRun(d: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) v128.store(d + (<usize>i << 2), f32x4.splat(0));
  for (; i < len; i++) store<f32>(d + (<usize>i << 2), 0);
}

/** Output columns ox whose input column ox·1 + kx − pad lies inside [0, w) (stride 1): [lo, hi). */
@inline function insideLo(kx: i32, pad: i32): i32 {
  return max(0, pad - kx);
}
@inline function insideHi(ow: i32, w: i32, kx: i32, pad: i32, lo: i32): i32 {
  return max(lo, min(ow, w + pad - kx));
}

/** colᵀ (c·fh·fw × oh·ow) of one image x (c, h, w). */
function im2colImage(colT: usize, x: usize, c: i32, h: i32, w: i32, fh: i32, fw: i32, stride: i32, pad: i32): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  let d = colT;
  for (let ch = 0; ch < c; ch++) {
    const xc = x + ((<usize>ch * <usize>h * <usize>w) << 2);
    for (let ky = 0; ky < fh; ky++) {
      for (let kx = 0; kx < fw; kx++) {
        const lo = insideLo(kx, pad);
        const hi = insideHi(ow, w, kx, pad, lo);
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= h) {
            zeroRun(d, ow);
          } else if (stride == 1) {
            zeroRun(d, lo);
            copyRun(d + (<usize>lo << 2), xc + ((<usize>y * <usize>w + <usize>(lo + kx - pad)) << 2), hi - lo);
            zeroRun(d + (<usize>hi << 2), ow - hi);
          } else {
            const src = xc + ((<usize>y * <usize>w) << 2);
            for (let ox = 0; ox < ow; ox++) {
              const xx = ox * stride + kx - pad;
              store<f32>(d + (<usize>ox << 2), xx >= 0 && xx < w ? load<f32>(src + (<usize>xx << 2)) : 0);
            }
          }
          d += <usize>ow << 2;
        }
      }
    }
  }
}

/**
 * dx (c, h, w) of one image from its dcolᵀ (c·fh·fw × oh·ow): with stride 1 as a gather, each dx
 * value the sum of the taps that read it (tap (ky, kx) of output (y + pad − ky, x + pad − kx)), 4
 * values at a time in registers and stored once; other strides scatter-add.
 */
function col2imImage(dx: usize, dcolT: usize, c: i32, h: i32, w: i32, fh: i32, fw: i32, stride: i32, pad: i32): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const plane = <usize>oh * <usize>ow;
  if (stride == 1) {
    for (let ch = 0; ch < c; ch++) {
      const taps = dcolT + ((<usize>ch * <usize>fh * <usize>fw * plane) << 2);
      const xc = dx + ((<usize>ch * <usize>h * <usize>w) << 2);
      for (let y = 0; y < h; y++) {
        // Taps ky with 0 ≤ oy = y + pad − ky < oh.
        const ky0 = max(0, y + pad - oh + 1);
        const ky1 = min(fh, y + pad + 1);
        const row = xc + ((<usize>y * <usize>w) << 2);
        let x = 0;
        // Vector body from xv0 to xv1: for all 4 lanes and every kx, ox = x + pad − kx is inside
        // [0, ow) (x ≥ fw − 1 − pad, x + 3 + pad < ow), and x + 3 < w.
        const xv0 = max(0, fw - 1 - pad);
        const xv1 = min(ow - pad, w) - 4;
        for (; x < w; ) {
          if (x >= xv0 && x <= xv1) {
            let v = f32x4.splat(0);
            for (let ky = ky0; ky < ky1; ky++) {
              const oy = y + pad - ky;
              let src = taps + (((<usize>(ky * fw) * plane) + <usize>oy * <usize>ow + <usize>(x + pad)) << 2);
              for (let kx = 0; kx < fw; kx++) {
                v = f32x4.add(v, v128.load(src));
                src += (plane << 2) - 4;
              }
            }
            v128.store(row + (<usize>x << 2), v);
            x += 4;
          } else {
            let v: f32 = 0;
            for (let ky = ky0; ky < ky1; ky++) {
              const oy = y + pad - ky;
              for (let kx = 0; kx < fw; kx++) {
                const ox = x + pad - kx;
                if (ox >= 0 && ox < ow) {
                  v += load<f32>(taps + (((<usize>(ky * fw + kx) * plane) + <usize>oy * <usize>ow + <usize>ox) << 2));
                }
              }
            }
            store<f32>(row + (<usize>x << 2), v);
            x++;
          }
        }
      }
    }
    return;
  }
  memory.fill(dx, 0, (<usize>c * <usize>h * <usize>w) << 2);
  let s = dcolT;
  for (let ch = 0; ch < c; ch++) {
    const xc = dx + ((<usize>ch * <usize>h * <usize>w) << 2);
    for (let ky = 0; ky < fh; ky++) {
      for (let kx = 0; kx < fw; kx++) {
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * stride + ky - pad;
          if (y >= 0 && y < h) {
            const row = xc + ((<usize>y * <usize>w) << 2);
            for (let ox = 0; ox < ow; ox++) {
              const xx = ox * stride + kx - pad;
              if (xx >= 0 && xx < w) {
                const at = row + (<usize>xx << 2);
                store<f32>(at, load<f32>(at) + load<f32>(s + (<usize>ox << 2)));
              }
            }
          }
          s += <usize>ow << 2;
        }
      }
    }
  }
}

/**
 * out(m×n) = op(a)·op(b) (+ out when acc) for operands in cache (one image's): an untransposed a or
 * b is read in place, and a tile takes all rows unless a is packed (transposed).
 */
function matmulBlock(
  out: usize, a: usize, b: usize, m: i32, k: i32, n: i32, transA: bool, transB: bool, acc: bool, pack: usize,
  padRows: bool = false,
): void {
  const mt = transA ? MT_MAX : m;
  for (let i0 = 0; i0 < m; i0 += mt) {
    for (let j0 = 0; j0 < n; j0 += NT) {
      matmulTile(out, a, b, m, k, n, transA, transB, acc, pack, 0, i0, min(m, i0 + mt), j0, min(n, j0 + NT), false, true, padRows);
    }
  }
}

// ---- convolution products read from the image itself (stride 1, no padding) ---------------------
// With stride 1 and no padding, tap (ch, ky, kx) of the 8 output pixels (oy, ox … ox + 7) is the run
// x[ch][oy + ky][ox + kx …] of 8 consecutive input values: when ow is a multiple of 8 (no 8-pixel
// panel crosses an output row), the product W · colᵀ can read its b panels straight from the image,
// one byte offset per tap, and colᵀ is never made (im2col was ~15 % of SimpleConvNet's convolution).
// The sums are matmulBlock's over colᵀ, in the same order: the results are bit-identical.

/** Whether convDirect computes a convolution's product (else im2col + matmulBlock). */
@inline function isDirect(ow: i32, fh: i32, fw: i32, stride: i32, pad: i32): bool {
  return stride == 1 && pad == 0 && (ow & (NR - 1)) == 0 && !isPointwise(fh, fw, stride, pad);
}

/**
 * micro()'s 4×8 tile with b's step p at xb + taps[p] (an image's 8 pixels under tap p): c (4×8, row
 * stride ldc floats) = A·B over kc steps, from zero.
 */
// @ts-ignore: decorator
@inline function microTaps(c: usize, ldc: i32, pa: usize, ars: usize, aps: usize, xb: usize, taps: usize, kc: i32): void {
  const ld = <usize>ldc << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = pa, a1 = pa + ars, a2 = pa + 2 * ars, a3 = pa + 3 * ars;
  for (let p = 0; p < kc; p++) {
    const pb = xb + <usize>load<i32>(taps + (<usize>p << 2));
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(a0);
    c00 = madd(c00, av, b0);
    c01 = madd(c01, av, b1);
    av = v128.load32_splat(a1);
    c10 = madd(c10, av, b0);
    c11 = madd(c11, av, b1);
    av = v128.load32_splat(a2);
    c20 = madd(c20, av, b0);
    c21 = madd(c21, av, b1);
    av = v128.load32_splat(a3);
    c30 = madd(c30, av, b0);
    c31 = madd(c31, av, b1);
    a0 += aps; a1 += aps; a2 += aps; a3 += aps;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
  v128.store(c + 2 * ld, c20); v128.store(c + 2 * ld, c21, 16);
  v128.store(c + 3 * ld, c30); v128.store(c + 3 * ld, c31, 16);
}

/**
 * out (fn rounded up to 4 rows × oh·ow) = W (fn × c·fh·fw) · colᵀ of one image x (c, h, w), with
 * colᵀ read from x (isDirect). `taps`: scratch for the c·fh·fw tap offsets (this thread's colᵀ
 * scratch, unused here); a ragged last row panel of W is packed with zero rows into `pack`.
 */
function convDirect(out: usize, W: usize, x: usize, c: i32, h: i32, w: i32, fn: i32, fh: i32, fw: i32, taps: usize, pack: usize): void {
  const oh = h - fh + 1;
  const ow = w - fw + 1;
  const pixels = oh * ow;
  const cols = c * fh * fw;
  let t = taps;
  for (let ch = 0; ch < c; ch++) {
    for (let ky = 0; ky < fh; ky++) {
      for (let kx = 0; kx < fw; kx++) {
        store<i32>(t, ((ch * h + ky) * w + kx) << 2);
        t += 4;
      }
    }
  }
  const full = fn & ~(MR - 1);
  if (full < fn) packA(pack, W, fn, cols, false, full, fn - full, 0, cols);
  const ars = <usize>cols << 2;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox += NR) {
      const xb = x + ((<usize>oy * <usize>w + <usize>ox) << 2);
      const o = out + ((<usize>oy * <usize>ow + <usize>ox) << 2);
      for (let i = 0; i < full; i += MR) {
        microTaps(o + ((<usize>i * <usize>pixels) << 2), pixels, W + <usize>i * ars, ars, 4, xb, taps, cols);
      }
      if (full < fn) microTaps(o + ((<usize>full * <usize>pixels) << 2), pixels, pack, 4, 16, xb, taps, cols);
    }
  }
}

/** A 1×1 filter with stride 1 and no padding: one image's colᵀ (c × h·w) is the image itself. */
@inline function isPointwise(fh: i32, fw: i32, stride: i32, pad: i32): bool {
  return fh == 1 && fw == 1 && stride == 1 && pad == 0;
}

/**
 * Forward of image `img`: out (fn, oh·ow) = W (fn × c·fh·fw) · colᵀ + bias (then ReLU when
 * `rectify`), each output element summed over the filter taps in order, as the batch-wide product.
 */
function convForwardImage(
  out: usize, x: usize, W: usize, bias: usize, c: i32, h: i32, w: i32, fn: i32, fh: i32, fw: i32,
  stride: i32, pad: i32, rectify: bool, colT: usize, pack: usize, img: i32,
): void {
  const pixels = outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  const xi = x + ((<usize>img * <usize>c * <usize>h * <usize>w) << 2);
  // A 1×1 filter (stride 1, no padding) reads the image as it is: its colᵀ would be a copy of x.
  const pointwise = isPointwise(fh, fw, stride, pad);
  if (!pointwise) im2colImage(colT, xi, c, h, w, fh, fw, stride, pad);
  const o = out + ((<usize>img * <usize>fn * <usize>pixels) << 2);
  matmulBlock(o, W, pointwise ? xi : colT, fn, cols, pixels, false, false, false, pack);
  const zero = f32x4.splat(0);
  for (let f = 0; f < fn; f++) {
    const row = o + ((<usize>f * <usize>pixels) << 2);
    const bf = load<f32>(bias + (<usize>f << 2));
    const bv = f32x4.splat(bf);
    let i = 0;
    for (; i + 4 <= pixels; i += 4) {
      const at = row + (<usize>i << 2);
      const v = f32x4.add(v128.load(at), bv);
      v128.store(at, rectify ? f32x4.pmax(zero, v) : v);
    }
    for (; i < pixels; i++) {
      const at = row + (<usize>i << 2);
      const v = load<f32>(at) + bf;
      store<f32>(at, rectify ? (v > 0 ? v : 0) : v);
    }
  }
}

/**
 * Convolution → bias → ReLU → 2×2 max pooling (stride 2, no padding) of image `img`, the common
 * case of convForwardImage + maxPool: the product W · colᵀ goes to this thread's scratch `prod`
 * (fn rounded up to 4 rows × oh·ow: a ragged last row panel is computed whole, with no tail tile),
 * and one pass reads each 2×2 window from there, adds the bias, rectifies and pools it into
 * `pooled` and `argmax` (indices into the batch's (n, fn, oh, ow) output, as maxPool's). The
 * arithmetic of every value is convForwardImage's, and the winners are maxPool2x2's.
 */
function convReluPool2x2Image(
  pooled: usize, argmax: usize, x: usize, W: usize, bias: usize, c: i32, h: i32, w: i32, fn: i32, fh: i32, fw: i32,
  stride: i32, pad: i32, colT: usize, prod: usize, pack: usize, img: i32,
): void {
  const oh = outSize(h, fh, stride, pad);
  const ow = outSize(w, fw, stride, pad);
  const pixels = oh * ow;
  const xi = x + ((<usize>img * <usize>c * <usize>h * <usize>w) << 2);
  const pointwise = isPointwise(fh, fw, stride, pad);
  if (isDirect(ow, fh, fw, stride, pad)) {
    convDirect(prod, W, xi, c, h, w, fn, fh, fw, colT, pack);
  } else {
    if (!pointwise) im2colImage(colT, xi, c, h, w, fh, fw, stride, pad);
    matmulBlock(prod, W, pointwise ? xi : colT, fn, c * fh * fw, pixels, false, false, false, pack, true);
  }
  const poh = oh >> 1;
  const pow = ow >> 1;
  const wb = <usize>ow << 2;
  const lanes = i32x4(0, 2, 4, 6);
  const zero = f32x4.splat(0);
  for (let f = 0; f < fn; f++) {
    const bf = load<f32>(bias + (<usize>f << 2));
    const bv = f32x4.splat(bf);
    const plane = prod + ((<usize>f * <usize>pixels) << 2);
    const p = img * fn + f;
    for (let oy = 0; oy < poh; oy++) {
      const local = 2 * oy * ow;
      const row = p * pixels + local;
      const o = (p * poh + oy) * pow;
      let ox = 0;
      for (; ox + 4 <= pow; ox += 4) {
        const s = plane + (<usize>(local + 2 * ox) << 2);
        const a0 = f32x4.pmax(zero, f32x4.add(v128.load(s), bv));
        const a1 = f32x4.pmax(zero, f32x4.add(v128.load(s, 16), bv));
        const b0 = f32x4.pmax(zero, f32x4.add(v128.load(s + wb), bv));
        const b1 = f32x4.pmax(zero, f32x4.add(v128.load(s + wb, 16), bv));
        const base = i32x4.add(i32x4.splat(row + 2 * ox), lanes);
        // Candidates in maxPool's order: (0,0), (0,1), (1,0), (1,1); all are ≥ 0 after the ReLU, so
        // the first always wins over −∞.
        let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
        let at = base;
        let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
        let gt = f32x4.gt(v, best);
        best = v128.bitselect(v, best, gt);
        at = v128.bitselect(i32x4.add(base, i32x4.splat(1)), at, gt);
        v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
        gt = f32x4.gt(v, best);
        best = v128.bitselect(v, best, gt);
        at = v128.bitselect(i32x4.add(base, i32x4.splat(ow)), at, gt);
        v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        gt = f32x4.gt(v, best);
        best = v128.bitselect(v, best, gt);
        at = v128.bitselect(i32x4.add(base, i32x4.splat(ow + 1)), at, gt);
        v128.store(pooled + (<usize>(o + ox) << 2), best);
        v128.store(argmax + (<usize>(o + ox) << 2), at);
      }
      for (; ox < pow; ox++) {
        let best: f32 = -Infinity;
        let at = -1;
        for (let ky = 0; ky < 2; ky++) {
          for (let kx = 0; kx < 2; kx++) {
            const i = ky * ow + 2 * ox + kx;
            const r = load<f32>(plane + (<usize>(local + i) << 2)) + bf;
            const v: f32 = r > 0 ? r : 0;
            if (v > best) {
              best = v;
              at = row + i;
            }
          }
        }
        store<f32>(pooled + (<usize>(o + ox) << 2), best);
        store<i32>(argmax + (<usize>(o + ox) << 2), at);
      }
    }
  }
}

/** Whether a fused forward pools 2×2 windows with stride 2 after the ReLU: convReluPool2x2Image. */
@inline function isPool2x2(rectify: bool, ph: i32, pw: i32, stride: i32, pad: i32): bool {
  return rectify && ph == 2 && pw == 2 && stride == 2 && pad == 0;
}

/**
 * Backward of a max pooling that followed a ReLU, for image `img`: dy (fn, oh, ow) = dpool routed
 * to each window's winner where the pooled value is positive (a pooled value is its winner's ReLU
 * output, so this masks by the ReLU too); argmax indexes the batch's (n, fn, oh, ow) array.
 */
function routePooled(dy: usize, dpool: usize, pooled: usize, argmax: usize, img: i32, fn: i32, pixels: i32, pooledPixels: i32): void {
  memory.fill(dy + ((<usize>img * <usize>fn * <usize>pixels) << 2), 0, (<usize>fn * <usize>pixels) << 2);
  const o1 = (img + 1) * fn * pooledPixels;
  for (let o = img * fn * pooledPixels; o < o1; o++) {
    const i = load<i32>(argmax + (<usize>o << 2));
    const at = <usize>o << 2;
    // Select, not a branch: whether a pooled value is positive is a coin flip on real data.
    const g = select<f32>(load<f32>(dpool + at), 0, load<f32>(pooled + at) > 0);
    if (i >= 0) {
      const d = dy + (<usize>i << 2);
      store<f32>(d, load<f32>(d) + g);
    }
  }
}

/** dy (fn, oh, ow) of image `img` = src masked where the ReLU output y is not positive (dy may be src). */
function maskImage(dy: usize, src: usize, y: usize, img: i32, len: i32): void {
  const zero = f32x4.splat(0);
  const base = <usize>img * <usize>len;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const at = (base + <usize>i) << 2;
    v128.store(dy + at, v128.and(v128.load(src + at), f32x4.gt(v128.load(y + at), zero)));
  }
  for (; i < len; i++) {
    const at = (base + <usize>i) << 2;
    store<f32>(dy + at, load<f32>(y + at) > 0 ? load<f32>(src + at) : 0);
  }
}

/**
 * Backward of image group g: its partial (dWᵀ (c·fh·fw × fn), then db (fn)) = Σ over its images of
 * colᵀ · doutᵀ and of dout's rows; and, when `withDx`, each image's dx = col2im(Wᵀ · dout).
 * Each image's dout is first made from what followed the convolution: `mode` 0 nothing (dout as
 * given), 1 a ReLU (dout = its gradient, at `pooled` here, masked by its output y: the caller's
 * gradient is read, not changed), 2 a ReLU and a max pooling (dout = the pooling's gradient y routed
 * by argmax where the pooled value is positive), 3 the same with 2×2/2 windows (no padding).
 */
function convBackwardGroup(
  dx: usize, partials: usize, dout: usize, x: usize, W: usize, n: i32, c: i32, h: i32, w: i32,
  fn: i32, fh: i32, fw: i32, stride: i32, pad: i32, withDx: bool, colT: usize, pack: usize, g: i32,
  mode: i32, y: usize, pooled: usize, argmax: usize, pooledPixels: i32,
): void {
  const pixels = outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad);
  const cols = c * fh * fw;
  const image = <usize>c * <usize>h * <usize>w;
  const pdw = partials + ((<usize>g * <usize>(cols * fn + fn)) << 2);
  const pdb = pdw + ((<usize>cols * <usize>fn) << 2);
  const first = g * CONV_GROUP;
  const last = min(n, first + CONV_GROUP);
  const pointwise = isPointwise(fh, fw, stride, pad);
  for (let img = first; img < last; img++) {
    if (mode == 1) maskImage(dout, pooled, y, img, fn * pixels);
    else if (mode >= 2) routePooled(dout, y, pooled, argmax, img, fn, pixels, pooledPixels);
    const d = dout + ((<usize>img * <usize>fn * <usize>pixels) << 2);
    const xi = x + ((<usize>img * image) << 2);
    if (!pointwise) im2colImage(colT, xi, c, h, w, fh, fw, stride, pad);
    matmulBlock(pdw, pointwise ? xi : colT, d, cols, pixels, fn, false, true, img > first, pack);
    for (let f = 0; f < fn; f++) {
      const row = d + ((<usize>f * <usize>pixels) << 2);
      let v = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= pixels; i += 4) v = f32x4.add(v, v128.load(row + (<usize>i << 2)));
      let s: f32 = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
      for (; i < pixels; i++) s += load<f32>(row + (<usize>i << 2));
      const at = pdb + (<usize>f << 2);
      store<f32>(at, img > first ? load<f32>(at) + s : s);
    }
    if (withDx && pointwise) {
      // A 1×1 filter's dcolᵀ is dx itself.
      matmulBlock(dx + ((<usize>img * image) << 2), W, d, cols, fn, pixels, true, false, false, pack);
    } else if (withDx) {
      // dcolᵀ overwrites colᵀ (no longer needed).
      matmulBlock(colT, W, d, cols, fn, pixels, true, false, false, pack);
      col2imImage(dx + ((<usize>img * image) << 2), colT, c, h, w, fh, fw, stride, pad);
    }
  }
}

// ---- Winograd F(2×2, 3×3): 3×3 stride-1 convolutions with 16 products per 2×2 outputs -------------
// Each 2×2 block of one filter's outputs (a "tile") comes from a 4×4 block d of the padded input:
//   Y = Aᵀ [U ⊙ V] A,   U = G g Gᵀ (the 3×3 filter g, transformed),   V = Bᵀ d B,
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Summed over channels, each of the 16 positions ξ of the 4×4 transforms is a matrix product
//   Mᵀ[ξ] (tiles × fn) = V[ξ] (tiles × c) · Uᵀ[ξ] (c × fn),
// 16 multiply-adds where direct convolution does 36 (2.25× fewer), on matmul's micro-kernel. The
// backward passes are the adjoints of the same steps, on the same tiles:
//   D = A e Aᵀ for each 2×2 tile e of dout (one transform serves both gradients),
//   dU[ξ] (c × fn) = V[ξ]ᵀ·Dᵀ[ξ] summed over tiles, then dW = Gᵀ dU G;
//   dVᵀ[ξ] (tiles × c) = Dᵀ[ξ]·U[ξ], then dx += B dV Bᵀ (the 4×4 blocks of neighbouring tiles
//   overlap by 2 rows and columns: their contributions add up).
// The transforms use only ±1 and ½; the float32 error against the float64 reference is measured
// in bench/winograd-error.ts.
//
// Layout: channels (and filters) are the vector lanes. Each image is copied into a zero-padded
// plane xp in blocks of 4 channels (block cb: hp × wp pixels of 16 bytes; c4 = c rounded up to 4,
// the extra channels zero), so a tile's 16 values of 4 channels are 16 vector loads at constant
// offsets from its row pointers, and its V[ξ] rows hold c4 floats;
// Mᵀ and Dᵀ rows hold f4 (fn rounded up). Tiles are numbered row-major over the output (tH × tW,
// the last row and column partly outside an odd-sized output). A "block" is a set of tiles whose
// transforms ((c4 + f4)·16 floats per tile) stay in L2 together: several whole images when they
// fit (WINO_BUDGET), else a run of one image's tiles. A chunk is a run of whole images (forward: as
// many as fit a block; backward: a group whose dW partial is its own, summed in group order
// afterwards), so results never depend on the thread count.
//
// Winograd F(4×4, 3×3) (m = 4; every function below takes the output tile size m, 2 or 4) is the
// same with 4×4 output tiles from 6×6 input blocks and 36 positions ξ: 36 multiply-adds per 4×4
// outputs where direct convolution does 144 (4× fewer; F(2×2, 3×3): 2.25×), with the points
// 0, ±1, ±2 (Lavin & Gray 2016):
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
// Its transforms scale by up to 8 and G's entries are not binary fractions, so its float32 error is
// larger than F(2×2, 3×3)'s (bench/winograd-error.ts measures both); neighbouring 6×6 input blocks
// overlap by 2 rows and columns, as the 4×4 ones of F(2×2, 3×3) do.

/**
 * A block's tiles times (c4 + f4), for 16 positions: its V and M are 64 bytes times this, 512 KiB
 * (half of L2); with 36 positions a block has 16/36 as many tiles, the same bytes.
 */
const WINO_BUDGET: i32 = 8192;
/**
 * Scratch floats before the planes: the Wino record (≤ 128 bytes), then a 96-float tile scratch
 * (winoOutputPool4's outputs and window maxima; winoDoutPool4's windows), then 36 vectors for the
 * F(4×4, 3×3) transforms' first passes, then a 16-vector tile (the dout transform's input).
 */
const WINO_HEAD: i32 = 336;
/** Byte offset of the edge tile in the scratch. */
const WINO_EDGE: usize = 128;
/** Byte offset of the transforms' 36-vector scratch. */
const WINO_TMP: usize = 512;
/** Byte offset of a 16-vector tile (winoDout4Tile's input). */
const WINO_TILE: usize = 1088;

/** Positions of a tile's transforms: (m + 2)², 16 or 36. */
@inline function winoPositions(m: i32): i32 {
  return (m + 2) * (m + 2);
}
@inline function winoTiles(size: i32, m: i32): i32 {
  return (size + m - 1) / m;
}
@inline function round4(v: i32): i32 {
  return (v + 3) & ~3;
}
/** Tiles of one image. */
@inline function winoImageTiles(h: i32, w: i32, pad: i32, m: i32): i32 {
  return winoTiles(h + 2 * pad - 2, m) * winoTiles(w + 2 * pad - 2, m);
}
/** Tiles per block. */
@inline function winoBlock(c: i32, fn: i32, m: i32): i32 {
  return max(4, (WINO_BUDGET * 16) / winoPositions(m) / (round4(c) + round4(fn)));
}
/** Images per forward chunk: as many whole images as one block holds, at least one. */
@inline function winoImages(tiles: i32, c: i32, fn: i32, m: i32): i32 {
  return max(1, winoBlock(c, fn, m) / tiles);
}
/**
 * Chunks a batch's blocks of whole images are cut into at least (when it has that many images): 2, 4
 * and 5 threads share 20 evenly, 3 within one. DeepConvNet's conv6 at batch 100 had 15 chunks of 7
 * images, of which 2 threads did 56 and 44 images' work.
 */
const WINO_CHUNKS: i32 = 20;

/** Images per block for a batch of n: as many as fit, but at most n / WINO_CHUNKS (rounded up). */
@inline function winoImagesFor(n: i32, tiles: i32, c: i32, fn: i32, m: i32): i32 {
  return min(winoImages(tiles, c, fn, m), max(1, (n + WINO_CHUNKS - 1) / WINO_CHUNKS));
}

/** Columns of a block (at most): whole images, or one block of a bigger image's tiles. */
@inline function winoCols(tiles: i32, c: i32, fn: i32, m: i32): i32 {
  return tiles <= winoBlock(c, fn, m) ? winoImages(tiles, c, fn, m) * tiles : winoBlock(c, fn, m);
}
/** Floats of one padded channels-last plane. */
@inline function winoPlane(c: i32, h: i32, w: i32, pad: i32, m: i32): i32 {
  return (m * winoTiles(h + 2 * pad - 2, m) + 2) * (m * winoTiles(w + 2 * pad - 2, m) + 2) * round4(c);
}

/** Scratch floats one thread needs: the record, the padded input and dx planes, a block's V and M/D. */
export function winogradScratch(c: i32, h: i32, w: i32, fn: i32, pad: i32, m: i32): i32 {
  const tiles = winoImageTiles(h, w, pad, m);
  return WINO_HEAD + 2 * winoPlane(c, h, w, pad, m) + winoPositions(m) * (round4(c) + round4(fn)) * winoCols(tiles, c, fn, m);
}

/** Floats of the transformed filters: U (P × f4 × c4) and Uᵀ (P × c4 × f4), P = (m + 2)². */
export function winogradFilterFloats(c: i32, fn: i32, m: i32): i32 {
  return 2 * winoPositions(m) * round4(c) * round4(fn);
}

/** Floats of one backward group's partial: dU (P × c4 × f4), then db (fn). */
export function winogradPartial(c: i32, fn: i32, m: i32): i32 {
  return winoPositions(m) * round4(c) * round4(fn) + fn;
}

/**
 * Images per backward group (one partial each; at most 4M partial floats in all). A group is a block
 * of whole images where they fit one: many small chunks share among threads evenly (DeepConvNet's
 * conv6 at batch 100: 15 groups of 7 images), and summing the partials costs little (0.5–0.7 ms of
 * a DeepConvNet step on one thread; capping the groups at 12 saved 0.2 ms and left 2 threads with
 * 56 and 44 of conv6's images).
 */
function winoGroupImages(n: i32, c: i32, h: i32, w: i32, fn: i32, pad: i32, m: i32): i32 {
  const tiles = winoImageTiles(h, w, pad, m);
  const unit = tiles <= winoBlock(c, fn, m) ? winoImagesFor(n, tiles, c, fn, m) : 1;
  const units = (n + unit - 1) / unit;
  const groups = min(units, max(1, (1 << 22) / winogradPartial(c, fn, m)));
  return unit * ((units + groups - 1) / groups);
}

/** Backward groups (chunks of the backward job). */
export function winogradGroups(n: i32, c: i32, h: i32, w: i32, fn: i32, pad: i32, m: i32): i32 {
  const g = winoGroupImages(n, c, h, w, fn, pad, m);
  return (n + g - 1) / g;
}

/** Forward chunks: runs of whole images. */
function winoForwardChunks(n: i32, c: i32, h: i32, w: i32, fn: i32, pad: i32, m: i32): i32 {
  const tiles = winoImageTiles(h, w, pad, m);
  const per = tiles <= winoBlock(c, fn, m) ? winoImagesFor(n, tiles, c, fn, m) : 1;
  return (n + per - 1) / per;
}

/**
 * Filters 4·chunk … 4·chunk + 3 of U (P × f4 × c4) and of Uᵀ (P × c4 × f4, after U): (G g Gᵀ)[ξ] of
 * each channel's 3×3 filter g = W[f][ch], zeros for the rounding-up filters and channels. Uᵀ is
 * written from U by 4×4 register transposes, 4 filters of a channel per store (one filter's Uᵀ
 * column, written alone, touched a cache line per value).
 */
function winogradFilters(U: usize, W: usize, fn: i32, c: i32, chunk: i32, m: i32): void {
  const f0 = 4 * chunk;
  for (let f = f0; f < f0 + 4; f++) winogradFilter(U, W, fn, c, f, m);
  const c4 = round4(c);
  const f4 = round4(fn);
  const xi = (<usize>f4 * <usize>c4) << 2;
  const P = winoPositions(m);
  const Ut = U + <usize>P * xi;
  const row = <usize>c4 << 2;
  for (let x = 0; x < P; x++) {
    const u = U + <usize>x * xi + ((<usize>f0 * <usize>c4) << 2);
    const ut = Ut + <usize>x * xi + (<usize>f0 << 2);
    for (let ch = 0; ch < c4; ch += 4) {
      const at = u + (<usize>ch << 2);
      const r0 = v128.load(at), r1 = v128.load(at + row), r2 = v128.load(at + 2 * row), r3 = v128.load(at + 3 * row);
      const o = ut + ((<usize>ch * <usize>f4) << 2);
      const col = <usize>f4 << 2;
      v128.store(o, transposeRow(r0, r1, r2, r3, 0));
      v128.store(o + col, transposeRow(r0, r1, r2, r3, 1));
      v128.store(o + 2 * col, transposeRow(r0, r1, r2, r3, 2));
      v128.store(o + 3 * col, transposeRow(r0, r1, r2, r3, 3));
    }
  }
}

/** Filter f of U (16 × f4 × c4, or for m = 4 36 × f4 × c4): (G g Gᵀ)[ξ], zeros past fn and c. */
function winogradFilter(U: usize, W: usize, fn: i32, c: i32, f: i32, m: i32): void {
  if (m == 4) {
    winogradFilter4(U, W, fn, c, f);
    return;
  }
  const c4 = round4(c);
  const f4 = round4(fn);
  const xi = (<usize>f4 * <usize>c4) << 2;
  for (let ch = 0; ch < c4; ch++) {
    const g = W + ((<usize>(f * c + ch) * 9) << 2);
    const real = f < fn && ch < c;
    const o = U + ((<usize>f * <usize>c4 + <usize>ch) << 2);
    for (let i = 0; i < 4; i++) {
      // Row i of G·g (3 values), from g's rows 0–2.
      let q0: f32 = 0, q1: f32 = 0, q2: f32 = 0;
      if (real && (i == 0 || i == 3)) {
        const r = g + (<usize>(i == 0 ? 0 : 6) << 2);
        q0 = load<f32>(r);
        q1 = load<f32>(r, 4);
        q2 = load<f32>(r, 8);
      } else if (real) {
        const s: f32 = i == 1 ? 1 : -1;
        q0 = 0.5 * (load<f32>(g) + s * load<f32>(g, 12) + load<f32>(g, 24));
        q1 = 0.5 * (load<f32>(g, 4) + s * load<f32>(g, 16) + load<f32>(g, 28));
        q2 = 0.5 * (load<f32>(g, 8) + s * load<f32>(g, 20) + load<f32>(g, 32));
      }
      const u0 = q0;
      const u1: f32 = 0.5 * (q0 + q1 + q2);
      const u2: f32 = 0.5 * (q0 - q1 + q2);
      const u3 = q2;
      const at = <usize>(4 * i) * xi;
      store<f32>(o + at, u0);
      store<f32>(o + at + xi, u1);
      store<f32>(o + at + 2 * xi, u2);
      store<f32>(o + at + 3 * xi, u3);
    }
  }
}

/** Row a of Gᵀ·(u0, u1, u2, u3)ᵀ: Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]. */
@inline function winoGt(u0: f32, u1: f32, u2: f32, u3: f32, a: i32): f32 {
  return a == 0 ? u0 + 0.5 * (u1 + u2) : a == 1 ? 0.5 * (u1 - u2) : 0.5 * (u1 + u2) + u3;
}

/**
 * dW[f][ch] (3×3) = Gᵀ dU[ch][f] G for filter f, from the summed dU (16 × c4 × f4); for m = 4, `f`
 * is a group of 4 filters (winogradFilterGrad4).
 */
function winogradFilterGrad(dW: usize, dU: usize, fn: i32, c: i32, f: i32, m: i32): void {
  if (m == 4) {
    winogradFilterGrad4(dW, dU, fn, c, f);
    return;
  }
  const xi = (<usize>round4(c) * <usize>round4(fn)) << 2;
  for (let ch = 0; ch < c; ch++) {
    const u = dU + ((<usize>ch * <usize>round4(fn) + <usize>f) << 2);
    const o = dW + ((<usize>(f * c + ch) * 9) << 2);
    for (let a = 0; a < 3; a++) {
      // Row a of R = Gᵀ·dU (4 values), then R·G = (Gᵀ·Rᵀ)ᵀ.
      let r0: f32 = 0, r1: f32 = 0, r2: f32 = 0, r3: f32 = 0;
      for (let j = 0; j < 4; j++) {
        const v = winoGt(
          load<f32>(u + <usize>j * xi),
          load<f32>(u + <usize>(4 + j) * xi),
          load<f32>(u + <usize>(8 + j) * xi),
          load<f32>(u + <usize>(12 + j) * xi),
          a,
        );
        if (j == 0) r0 = v;
        else if (j == 1) r1 = v;
        else if (j == 2) r2 = v;
        else r3 = v;
      }
      const cell = o + (<usize>(3 * a) << 2);
      store<f32>(cell, winoGt(r0, r1, r2, r3, 0));
      store<f32>(cell, winoGt(r0, r1, r2, r3, 1), 4);
      store<f32>(cell, winoGt(r0, r1, r2, r3, 2), 8);
    }
  }
}

/** 4×4 transpose of the rows r0…r3; `k` picks output row k. */
@inline function transposeRow(r0: v128, r1: v128, r2: v128, r3: v128, k: i32): v128 {
  const lo = k < 2;
  const a = lo ? v128.shuffle<f32>(r0, r1, 0, 4, 1, 5) : v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const b = lo ? v128.shuffle<f32>(r2, r3, 0, 4, 1, 5) : v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  return (k & 1) == 0 ? v128.shuffle<f32>(a, b, 0, 1, 4, 5) : v128.shuffle<f32>(a, b, 2, 3, 6, 7);
}

/**
 * xp = image x (c, h, w) in channel blocks, with `pad` zero pixels on the top and left, zeros to the
 * plane's edge on the bottom and right, and zero channels c … c4 − 1: block cb (channels 4cb …
 * 4cb + 3) is hp × wp pixels of 16 bytes, pixel (y, xx) at xp + ((cb·hp + y)·wp + xx)·16, so that a
 * transform reads a tile's pixels at constant offsets. Runs of 4 pixels × 4 channels go through a
 * 4×4 register transpose and are stored as 64 contiguous bytes.
 */
function winoPadImage(xp: usize, x: usize, c: i32, h: i32, w: i32, pad: i32, hp: i32, wp: i32): void {
  const c4 = round4(c);
  const rs = <usize>wp << 4;
  const block = <usize>hp * rs;
  if (c4 == c) {
    // Only the border is zeroed (the image overwrites the rest): the rows above and below, and
    // each image row's left and right margins (a pixel or two: vector stores, not memory.fill,
    // whose call cost more than the bytes).
    const zero = f32x4.splat(0);
    for (let cb = 0; cb < c4 >> 2; cb++) {
      const b = xp + <usize>cb * block;
      memory.fill(b, 0, <usize>pad * rs);
      memory.fill(b + <usize>(pad + h) * rs, 0, <usize>(hp - pad - h) * rs);
      for (let y = pad; y < pad + h; y++) {
        const row = b + <usize>y * rs;
        for (let xx = 0; xx < pad; xx++) v128.store(row + (<usize>xx << 4), zero);
        for (let xx = pad + w; xx < wp; xx++) v128.store(row + (<usize>xx << 4), zero);
      }
    }
  } else {
    memory.fill(xp, 0, <usize>(c4 >> 2) * block);
  }
  const plane = <usize>h * <usize>w << 2;
  const origin = (<usize>(pad * wp + pad)) << 4;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    const b = xp + <usize>(ch >> 2) * block + origin;
    for (let y = 0; y < h; y++) {
      const s = x + ((<usize>(ch * h + y) * <usize>w) << 2);
      const row = b + <usize>y * rs;
      let xx = 0;
      for (; xx + 4 <= w; xx += 4) {
        const at = s + (<usize>xx << 2);
        const r0 = v128.load(at), r1 = v128.load(at + plane), r2 = v128.load(at + 2 * plane), r3 = v128.load(at + 3 * plane);
        const d = row + (<usize>xx << 4);
        v128.store(d, transposeRow(r0, r1, r2, r3, 0));
        v128.store(d, transposeRow(r0, r1, r2, r3, 1), 16);
        v128.store(d, transposeRow(r0, r1, r2, r3, 2), 32);
        v128.store(d, transposeRow(r0, r1, r2, r3, 3), 48);
      }
      for (; xx < w; xx++) {
        for (let k = 0; k < 4; k++) store<f32>(row + (<usize>xx << 4) + (<usize>k << 2), load<f32>(s + <usize>k * plane + (<usize>xx << 2)));
      }
    }
  }
  for (; ch < c; ch++) {
    const b = xp + <usize>(ch >> 2) * block + origin + (<usize>(ch & 3) << 2);
    for (let y = 0; y < h; y++) {
      const s = x + ((<usize>(ch * h + y) * <usize>w) << 2);
      const row = b + <usize>y * rs;
      for (let xx = 0; xx < w; xx++) store<f32>(row + (<usize>xx << 4), load<f32>(s + (<usize>xx << 2)));
    }
  }
}

/**
 * dx (c, h, w) of one image = the padded gradient plane dxp (channel blocks, as winoPadImage's)
 * without its padding (4×4 register transposes, as winoPadImage backwards).
 */
function winoCrop(dx: usize, dxp: usize, c: i32, h: i32, w: i32, pad: i32, hp: i32, wp: i32): void {
  const plane = <usize>h * <usize>w << 2;
  const rs = <usize>wp << 4;
  const block = <usize>hp * rs;
  const origin = (<usize>(pad * wp + pad)) << 4;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    const b = dxp + <usize>(ch >> 2) * block + origin;
    for (let y = 0; y < h; y++) {
      const d = dx + ((<usize>(ch * h + y) * <usize>w) << 2);
      const row = b + <usize>y * rs;
      let xx = 0;
      for (; xx + 4 <= w; xx += 4) {
        const s = row + (<usize>xx << 4);
        const r0 = v128.load(s), r1 = v128.load(s, 16), r2 = v128.load(s, 32), r3 = v128.load(s, 48);
        const at = d + (<usize>xx << 2);
        v128.store(at, transposeRow(r0, r1, r2, r3, 0));
        v128.store(at + plane, transposeRow(r0, r1, r2, r3, 1));
        v128.store(at + 2 * plane, transposeRow(r0, r1, r2, r3, 2));
        v128.store(at + 3 * plane, transposeRow(r0, r1, r2, r3, 3));
      }
      for (; xx < w; xx++) {
        for (let k = 0; k < 4; k++) store<f32>(d + <usize>k * plane + (<usize>xx << 2), load<f32>(row + (<usize>xx << 4) + (<usize>k << 2)));
      }
    }
  }
  for (; ch < c; ch++) {
    const b = dxp + <usize>(ch >> 2) * block + origin + (<usize>(ch & 3) << 2);
    for (let y = 0; y < h; y++) {
      const d = dx + ((<usize>(ch * h + y) * <usize>w) << 2);
      const row = b + <usize>y * rs;
      for (let xx = 0; xx < w; xx++) store<f32>(d + (<usize>xx << 2), load<f32>(row + (<usize>xx << 4)));
    }
  }
}

/** Row i of Bᵀ·d from rows a, b of d (i = 0: d0 − d2, 1: d1 + d2, 2: d2 − d1, 3: d1 − d3). */
@inline function winoBt(a: v128, b: v128, i: i32): v128 {
  return i == 1 ? f32x4.add(a, b) : i == 2 ? f32x4.sub(b, a) : f32x4.sub(a, b);
}

/** Row i of Vᵀ = Bᵀ d B for 4 channels: d's pixel (r, j) at p + r·rs + j·js; stored at o + j·xi. */
@inline function winoInputRow(o: usize, xi: usize, p: usize, rs: usize, js: usize, i: i32): void {
  const ra = p + <usize>(i == 0 ? 0 : 1) * rs;
  const rb = p + <usize>(i == 3 ? 3 : 2) * rs;
  const p0 = winoBt(v128.load(ra), v128.load(rb), i);
  const p1 = winoBt(v128.load(ra + js), v128.load(rb + js), i);
  const p2 = winoBt(v128.load(ra + 2 * js), v128.load(rb + 2 * js), i);
  const p3 = winoBt(v128.load(ra + 3 * js), v128.load(rb + 3 * js), i);
  const at = o + <usize>(4 * i) * xi;
  v128.store(at, f32x4.sub(p0, p2));
  v128.store(at + xi, f32x4.add(p1, p2));
  v128.store(at + 2 * xi, f32x4.sub(p2, p1));
  v128.store(at + 3 * xi, f32x4.sub(p1, p3));
}

/**
 * Row col0 + t − t0 of V[ξ] (cols × c4) = (Bᵀ d B)[ξ] for tiles t0 ≤ t < t1 of one image, d each
 * tile's 4×4 block of the padded plane xp (wp pixels per row, c4 channels).
 */
function winoInput(V: usize, cols: i32, col0: i32, xp: usize, c4: i32, hp: i32, wp: i32, tW: i32, t0: i32, t1: i32): void {
  const xi = (<usize>cols * <usize>c4) << 2;
  const rs = <usize>wp << 4;
  const block = <usize>hp * rs;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const p0 = xp + <usize>(2 * ty) * rs + (<usize>(2 * (t - ty * tW)) << 4);
    const o0 = V + ((<usize>(col0 + t - t0) * <usize>c4) << 2);
    for (let ch = 0; ch < c4; ch += 4) {
      const p = p0 + <usize>(ch >> 2) * block;
      const o = o0 + (<usize>ch << 2);
      winoInputRow(o, xi, p, rs, 16, 0);
      winoInputRow(o, xi, p, rs, 16, 1);
      winoInputRow(o, xi, p, rs, 16, 2);
      winoInputRow(o, xi, p, rs, 16, 3);
    }
  }
}

/**
 * One image's outputs for tiles t0 ≤ t < t1: out (fn, oh, ow) = Aᵀ M A + bias (then ReLU when
 * `rectify`), from Mᵀ[ξ] (cols × f4); outputs outside (oh, ow) and filters past fn are dropped.
 */
function winoOutput(out: usize, M: usize, cols: i32, col0: i32, bias: usize, fn: i32, oh: i32, ow: i32, tW: i32, t0: i32, t1: i32, rectify: bool): void {
  const f4 = round4(fn);
  const xi = (<usize>cols * <usize>f4) << 2;
  const zero = f32x4.splat(0);
  const planeBytes = (<usize>oh * <usize>ow) << 2;
  const rowBytes = <usize>ow << 2;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const tx = t - ty * tW;
    const m0 = M + ((<usize>(col0 + t - t0) * <usize>f4) << 2);
    const pix = out + ((<usize>(2 * ty) * <usize>ow + <usize>(2 * tx)) << 2);
    const inside = 2 * ty + 2 <= oh && 2 * tx + 2 <= ow;
    for (let f = 0; f < fn; f += 4) {
      const m = m0 + (<usize>f << 2);
      // Rows of Aᵀ·M: s0j = M0j + M1j + M2j, s1j = M1j − M2j − M3j (Mij = M[ξ = 4i + j]).
      let a = v128.load(m + 4 * xi), b = v128.load(m + 8 * xi);
      const s00 = f32x4.add(f32x4.add(v128.load(m), a), b);
      const s10 = f32x4.sub(f32x4.sub(a, b), v128.load(m + 12 * xi));
      a = v128.load(m + 5 * xi);
      b = v128.load(m + 9 * xi);
      const s01 = f32x4.add(f32x4.add(v128.load(m + xi), a), b);
      const s11 = f32x4.sub(f32x4.sub(a, b), v128.load(m + 13 * xi));
      a = v128.load(m + 6 * xi);
      b = v128.load(m + 10 * xi);
      const s02 = f32x4.add(f32x4.add(v128.load(m + 2 * xi), a), b);
      const s12 = f32x4.sub(f32x4.sub(a, b), v128.load(m + 14 * xi));
      a = v128.load(m + 7 * xi);
      b = v128.load(m + 11 * xi);
      const s03 = f32x4.add(f32x4.add(v128.load(m + 3 * xi), a), b);
      const s13 = f32x4.sub(f32x4.sub(a, b), v128.load(m + 15 * xi));
      // The bias of filters past fn is read but never stored (it lies inside the arena).
      const bv = v128.load(bias + (<usize>f << 2));
      let y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bv);
      let y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bv);
      let y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bv);
      let y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bv);
      if (rectify) {
        y00 = f32x4.pmax(zero, y00);
        y01 = f32x4.pmax(zero, y01);
        y10 = f32x4.pmax(zero, y10);
        y11 = f32x4.pmax(zero, y11);
      }
      // Lane k is filter f + k: its plane, 2×2 pixels.
      const p = pix + <usize>f * planeBytes;
      if (inside && f + 4 <= fn) {
        v128.store32_lane(p, y00, 0);
        v128.store32_lane(p, y01, 0, 4);
        v128.store32_lane(p + rowBytes, y10, 0);
        v128.store32_lane(p + rowBytes, y11, 0, 4);
        const p1 = p + planeBytes;
        v128.store32_lane(p1, y00, 1);
        v128.store32_lane(p1, y01, 1, 4);
        v128.store32_lane(p1 + rowBytes, y10, 1);
        v128.store32_lane(p1 + rowBytes, y11, 1, 4);
        const p2 = p1 + planeBytes;
        v128.store32_lane(p2, y00, 2);
        v128.store32_lane(p2, y01, 2, 4);
        v128.store32_lane(p2 + rowBytes, y10, 2);
        v128.store32_lane(p2 + rowBytes, y11, 2, 4);
        const p3 = p2 + planeBytes;
        v128.store32_lane(p3, y00, 3);
        v128.store32_lane(p3, y01, 3, 4);
        v128.store32_lane(p3 + rowBytes, y10, 3);
        v128.store32_lane(p3 + rowBytes, y11, 3, 4);
      } else {
        const right = 2 * tx + 1 < ow;
        const below = 2 * ty + 1 < oh;
        for (let k = 0; k < min(4, fn - f); k++) {
          const q = p + <usize>k * planeBytes;
          store<f32>(q, laneOf(y00, k));
          if (right) store<f32>(q, laneOf(y01, k), 4);
          if (below) {
            store<f32>(q + rowBytes, laneOf(y10, k));
            if (right) store<f32>(q + rowBytes, laneOf(y11, k), 4);
          }
        }
      }
    }
  }
}

/** Lane k (0–3) of v. */
@inline function laneOf(v: v128, k: i32): f32 {
  return k == 0 ? f32x4.extract_lane(v, 0) : k == 1 ? f32x4.extract_lane(v, 1) : k == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/**
 * Row col0 + t − t0 of Dᵀ[ξ] (cols × f4) = (A e Aᵀ)[ξ] for tiles t0 ≤ t < t1 of one image's
 * dout dy (fn, oh, ow), e each tile's 2×2 block of 4 filters (zeros outside (oh, ow) and past fn).
 */
function winoDout(D: usize, cols: i32, col0: i32, dy: usize, fn: i32, oh: i32, ow: i32, tW: i32, t0: i32, t1: i32): void {
  const f4 = round4(fn);
  const xi = (<usize>cols * <usize>f4) << 2;
  const planeBytes = (<usize>oh * <usize>ow) << 2;
  const rowBytes = <usize>ow << 2;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const tx = t - ty * tW;
    const d0 = D + ((<usize>(col0 + t - t0) * <usize>f4) << 2);
    const pix = dy + ((<usize>(2 * ty) * <usize>ow + <usize>(2 * tx)) << 2);
    const inside = 2 * ty + 2 <= oh && 2 * tx + 2 <= ow;
    for (let f = 0; f < f4; f += 4) {
      const p = pix + <usize>f * planeBytes;
      let e00 = f32x4.splat(0), e01 = f32x4.splat(0), e10 = f32x4.splat(0), e11 = f32x4.splat(0);
      if (inside && f + 4 <= fn) {
        // Lane k: filter f + k's plane.
        e00 = v128.load32_lane(p, e00, 0);
        e01 = v128.load32_lane(p, e01, 0, 4);
        e10 = v128.load32_lane(p + rowBytes, e10, 0);
        e11 = v128.load32_lane(p + rowBytes, e11, 0, 4);
        const p1 = p + planeBytes;
        e00 = v128.load32_lane(p1, e00, 1);
        e01 = v128.load32_lane(p1, e01, 1, 4);
        e10 = v128.load32_lane(p1 + rowBytes, e10, 1);
        e11 = v128.load32_lane(p1 + rowBytes, e11, 1, 4);
        const p2 = p1 + planeBytes;
        e00 = v128.load32_lane(p2, e00, 2);
        e01 = v128.load32_lane(p2, e01, 2, 4);
        e10 = v128.load32_lane(p2 + rowBytes, e10, 2);
        e11 = v128.load32_lane(p2 + rowBytes, e11, 2, 4);
        const p3 = p2 + planeBytes;
        e00 = v128.load32_lane(p3, e00, 3);
        e01 = v128.load32_lane(p3, e01, 3, 4);
        e10 = v128.load32_lane(p3 + rowBytes, e10, 3);
        e11 = v128.load32_lane(p3 + rowBytes, e11, 3, 4);
      } else {
        const right = 2 * tx + 1 < ow;
        const below = 2 * ty + 1 < oh;
        for (let k = 0; k < min(4, fn - f); k++) {
          const q = p + <usize>k * planeBytes;
          e00 = withLane(e00, k, load<f32>(q));
          if (right) e01 = withLane(e01, k, load<f32>(q, 4));
          if (below) {
            e10 = withLane(e10, k, load<f32>(q + rowBytes));
            if (right) e11 = withLane(e11, k, load<f32>(q + rowBytes, 4));
          }
        }
      }
      // Rows of A·e (A = [1 0; 1 1; 1 −1; 0 −1]): (u, v) = (e0, e1 pairs) → e0, e0 + e1, e0 − e1,
      // −e1; then the same on the columns.
      const o = d0 + (<usize>f << 2);
      winoDoutRow(o, xi, e00, e01, 0);
      winoDoutRow(o + 4 * xi, xi, f32x4.add(e00, e10), f32x4.add(e01, e11), 0);
      winoDoutRow(o + 8 * xi, xi, f32x4.sub(e00, e10), f32x4.sub(e01, e11), 0);
      winoDoutRow(o + 12 * xi, xi, e10, e11, 1);
    }
  }
}

/** Row (u, v) of A·e through Aᵀ on the right: u, u + v, u − v, −v (all negated when `neg`). */
@inline function winoDoutRow(o: usize, xi: usize, u: v128, v: v128, neg: i32): void {
  if (neg) {
    v128.store(o, f32x4.neg(u));
    v128.store(o + xi, f32x4.neg(f32x4.add(u, v)));
    v128.store(o + 2 * xi, f32x4.sub(v, u));
    v128.store(o + 3 * xi, v);
    return;
  }
  v128.store(o, u);
  v128.store(o + xi, f32x4.add(u, v));
  v128.store(o + 2 * xi, f32x4.sub(u, v));
  v128.store(o + 3 * xi, f32x4.neg(v));
}

/** v with lane k (0–3) set to x. */
@inline function withLane(v: v128, k: i32, x: f32): v128 {
  return k == 0 ? f32x4.replace_lane(v, 0, x) : k == 1 ? f32x4.replace_lane(v, 1, x) : k == 2 ? f32x4.replace_lane(v, 2, x) : f32x4.replace_lane(v, 3, x);
}

/** Row r of B·(X0, X1, X2, X3) (B = (Bᵀ)ᵀ): X0, X1 − X2 + X3, X1 + X2 − X0, −X3. */
@inline function winoB(x0: v128, x1: v128, x2: v128, x3: v128, r: i32): v128 {
  return r == 0 ? x0 : r == 1 ? f32x4.add(f32x4.sub(x1, x2), x3) : r == 2 ? f32x4.sub(f32x4.add(x1, x2), x0) : f32x4.neg(x3);
}

/** Row r of the tile's B dV Bᵀ for 4 channels (dV[ξ] at x + ξ·xi) added into row p (pixels js apart). */
@inline function winoInputGradRow(p: usize, js: usize, x: usize, xi: usize, r: i32): void {
  let q0: v128, q1: v128, q2: v128, q3: v128;
  if (r == 0) {
    q0 = v128.load(x);
    q1 = v128.load(x + xi);
    q2 = v128.load(x + 2 * xi);
    q3 = v128.load(x + 3 * xi);
  } else if (r == 3) {
    q0 = f32x4.neg(v128.load(x + 12 * xi));
    q1 = f32x4.neg(v128.load(x + 13 * xi));
    q2 = f32x4.neg(v128.load(x + 14 * xi));
    q3 = f32x4.neg(v128.load(x + 15 * xi));
  } else {
    q0 = winoB(v128.load(x), v128.load(x + 4 * xi), v128.load(x + 8 * xi), v128.load(x + 12 * xi), r);
    q1 = winoB(v128.load(x + xi), v128.load(x + 5 * xi), v128.load(x + 9 * xi), v128.load(x + 13 * xi), r);
    q2 = winoB(v128.load(x + 2 * xi), v128.load(x + 6 * xi), v128.load(x + 10 * xi), v128.load(x + 14 * xi), r);
    q3 = winoB(v128.load(x + 3 * xi), v128.load(x + 7 * xi), v128.load(x + 11 * xi), v128.load(x + 15 * xi), r);
  }
  v128.store(p, f32x4.add(v128.load(p), q0));
  v128.store(p + js, f32x4.add(v128.load(p + js), winoB(q0, q1, q2, q3, 1)));
  v128.store(p + 2 * js, f32x4.add(v128.load(p + 2 * js), winoB(q0, q1, q2, q3, 2)));
  v128.store(p + 3 * js, f32x4.sub(v128.load(p + 3 * js), q3));
}

/**
 * dxp (the padded channels-last plane, as xp) += B dV Bᵀ for tiles t0 ≤ t < t1 of one image, each
 * 4×4 result added at its tile's block; dVᵀ[ξ] is cols × c4.
 */
function winoInputGrad(dxp: usize, dV: usize, cols: i32, col0: i32, c4: i32, hp: i32, wp: i32, tW: i32, t0: i32, t1: i32): void {
  const xi = (<usize>cols * <usize>c4) << 2;
  const rs = <usize>wp << 4;
  const block = <usize>hp * rs;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const p0 = dxp + <usize>(2 * ty) * rs + (<usize>(2 * (t - ty * tW)) << 4);
    const x0 = dV + ((<usize>(col0 + t - t0) * <usize>c4) << 2);
    for (let ch = 0; ch < c4; ch += 4) {
      const p = p0 + <usize>(ch >> 2) * block;
      const x = x0 + (<usize>ch << 2);
      winoInputGradRow(p, 16, x, xi, 0);
      winoInputGradRow(p + rs, 16, x, xi, 1);
      winoInputGradRow(p + 2 * rs, 16, x, xi, 2);
      winoInputGradRow(p + 3 * rs, 16, x, xi, 3);
    }
  }
}

// ---- Winograd F(4×4, 3×3): the transforms for m = 4 (6×6 blocks, 36 positions) ----------------
// The same layout and steps as F(2×2, 3×3) above; only the matrices (in the section's header) and
// the block size differ. Constants 2, 4, 8 scale exactly; 5 and G's sixths round.

@inline function times(x: v128, s: f32): v128 {
  return f32x4.mul(x, f32x4.splat(s));
}
@inline function twice(x: v128): v128 {
  return f32x4.add(x, x);
}

/** Row i of Bᵀ·(d0 … d5). */
@inline function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, i: i32): v128 {
  if (i == 0) return f32x4.add(f32x4.sub(times(d0, 4), times(d2, 5)), d4);
  if (i == 5) return f32x4.add(f32x4.sub(times(d1, 4), times(d3, 5)), d5);
  if (i <= 2) {
    const a = f32x4.sub(d4, times(d2, 4));
    const b = f32x4.sub(d3, times(d1, 4));
    return i == 1 ? f32x4.add(a, b) : f32x4.sub(a, b);
  }
  const a = f32x4.sub(d4, d2);
  const b = twice(f32x4.sub(d3, d1));
  return i == 3 ? f32x4.add(a, b) : f32x4.sub(a, b);
}

/** Row i of Bᵀ·(d0 … d5) for dj at q + j·s, loading only the values row i reads. */
@inline function bt6At(q: usize, s: usize, i: i32): v128 {
  const z = f32x4.splat(0);
  if (i == 0) return bt6(v128.load(q), z, v128.load(q + 2 * s), z, v128.load(q + 4 * s), z, 0);
  if (i == 5) return bt6(z, v128.load(q + s), z, v128.load(q + 3 * s), z, v128.load(q + 5 * s), 5);
  return bt6(z, v128.load(q + s), v128.load(q + 2 * s), v128.load(q + 3 * s), v128.load(q + 4 * s), z, i);
}

/** Column j of Bᵀ·d, d's rows at r0 … r5 (pixel j at 16j): its rows i = 0 … 5 to tmp[6i + j]. */
@inline function winoInput4Column(tmp: usize, r0: usize, r1: usize, r2: usize, r3: usize, r4: usize, r5: usize, j: i32): void {
  const d0 = v128.load(r0 + <usize>(16 * j)), d1 = v128.load(r1 + <usize>(16 * j)), d2 = v128.load(r2 + <usize>(16 * j));
  const d3 = v128.load(r3 + <usize>(16 * j)), d4 = v128.load(r4 + <usize>(16 * j)), d5 = v128.load(r5 + <usize>(16 * j));
  const at = tmp + <usize>(16 * j);
  v128.store(at, bt6(d0, d1, d2, d3, d4, d5, 0));
  v128.store(at, bt6(d0, d1, d2, d3, d4, d5, 1), 96);
  v128.store(at, bt6(d0, d1, d2, d3, d4, d5, 2), 192);
  v128.store(at, bt6(d0, d1, d2, d3, d4, d5, 3), 288);
  v128.store(at, bt6(d0, d1, d2, d3, d4, d5, 4), 384);
  v128.store(at, bt6(d0, d1, d2, d3, d4, d5, 5), 480);
}

/** Row i of Vᵀ = (Bᵀ d) B from row i of Bᵀ d (tmp[6i … 6i + 5]): V[6i + k] at o + (6i + k)·xi. */
@inline function winoInput4Row(o: usize, xi: usize, tmp: usize, i: i32): void {
  const q = tmp + <usize>(96 * i);
  const c0 = v128.load(q), c1 = v128.load(q, 16), c2 = v128.load(q, 32), c3 = v128.load(q, 48), c4 = v128.load(q, 64), c5 = v128.load(q, 80);
  let at = o + <usize>(6 * i) * xi;
  v128.store(at, bt6(c0, c1, c2, c3, c4, c5, 0));
  at += xi;
  v128.store(at, bt6(c0, c1, c2, c3, c4, c5, 1));
  at += xi;
  v128.store(at, bt6(c0, c1, c2, c3, c4, c5, 2));
  at += xi;
  v128.store(at, bt6(c0, c1, c2, c3, c4, c5, 3));
  at += xi;
  v128.store(at, bt6(c0, c1, c2, c3, c4, c5, 4));
  at += xi;
  v128.store(at, bt6(c0, c1, c2, c3, c4, c5, 5));
}

/**
 * winoInput for m = 4: V[ξ] rows (cols × c4) of tiles t0 ≤ t < t1, each from its 6×6 block of xp
 * (channel blocks). Columns first (Bᵀ d, 6 columns of 6 into `tmp`, 36 vectors of scratch), then
 * rows: each input pixel is loaded once and every address is a constant offset from 7 pointers
 * (the rows-first version loaded each pixel up to 4 times, and V8 spilled its addresses).
 */
function winoInput4(V: usize, cols: i32, col0: i32, xp: usize, c4: i32, hp: i32, wp: i32, tW: i32, t0: i32, t1: i32, tmp: usize): void {
  const xi = (<usize>cols * <usize>c4) << 2;
  const rs = <usize>wp << 4;
  const block = <usize>hp * rs;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const p0 = xp + <usize>(4 * ty) * rs + (<usize>(4 * (t - ty * tW)) << 4);
    const o0 = V + ((<usize>(col0 + t - t0) * <usize>c4) << 2);
    for (let ch = 0; ch < c4; ch += 4) {
      const r0 = p0 + <usize>(ch >> 2) * block;
      const r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs, r4 = r3 + rs, r5 = r4 + rs;
      winoInput4Column(tmp, r0, r1, r2, r3, r4, r5, 0);
      winoInput4Column(tmp, r0, r1, r2, r3, r4, r5, 1);
      winoInput4Column(tmp, r0, r1, r2, r3, r4, r5, 2);
      winoInput4Column(tmp, r0, r1, r2, r3, r4, r5, 3);
      winoInput4Column(tmp, r0, r1, r2, r3, r4, r5, 4);
      winoInput4Column(tmp, r0, r1, r2, r3, r4, r5, 5);
      const o = o0 + (<usize>ch << 2);
      winoInput4Row(o, xi, tmp, 0);
      winoInput4Row(o, xi, tmp, 1);
      winoInput4Row(o, xi, tmp, 2);
      winoInput4Row(o, xi, tmp, 3);
      winoInput4Row(o, xi, tmp, 4);
      winoInput4Row(o, xi, tmp, 5);
    }
  }
}

/** Row i of Aᵀ·(m0 … m5). */
@inline function at6(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, i: i32): v128 {
  if (i == 0) return f32x4.add(f32x4.add(m0, f32x4.add(m1, m2)), f32x4.add(m3, m4));
  if (i == 2) return f32x4.add(f32x4.add(m1, m2), times(f32x4.add(m3, m4), 4));
  if (i == 1) return f32x4.add(f32x4.sub(m1, m2), twice(f32x4.sub(m3, m4)));
  return f32x4.add(f32x4.add(f32x4.sub(m1, m2), times(f32x4.sub(m3, m4), 8)), m5);
}

/** Row i of Aᵀ·(m0 … m5) for mj at q + j·s, loading only the values row i reads. */
@inline function at6At(q: usize, s: usize, i: i32): v128 {
  const z = f32x4.splat(0);
  const m5 = i == 3 ? v128.load(q + 5 * s) : z;
  const m0 = i == 0 ? v128.load(q) : z;
  return at6(m0, v128.load(q + s), v128.load(q + 2 * s), v128.load(q + 3 * s), v128.load(q + 4 * s), m5, i);
}

/** The first `width` (1 … 4) lanes of v to q. */
@inline function storePixels(q: usize, v: v128, width: i32): void {
  if (width == 4) v128.store(q, v);
  else if (width == 1) v128.store32_lane(q, v, 0);
  else {
    v128.store64_lane(q, v, 0);
    if (width == 3) v128.store32_lane(q, v, 2, 8);
  }
}

/** `width` (1 … 4) floats at q in the first lanes, zeros in the others (reads nothing past them). */
@inline function loadPixels(q: usize, width: i32): v128 {
  if (width == 4) return v128.load(q);
  if (width == 1) return v128.load32_zero(q);
  const v = v128.load64_zero(q);
  return width == 3 ? v128.load32_lane(q, v, 2, 8) : v;
}

/** Column j of Aᵀ M (M[6a + j] at m + (6a + j)·xi, a = 0 … 5): its rows i = 0 … 3 to tmp[6i + j]. */
@inline function winoOutput4Column(tmp: usize, m: usize, xi: usize, j: i32): void {
  let at = m + <usize>j * xi;
  const s6 = 6 * xi;
  const m0 = v128.load(at);
  at += s6;
  const m1 = v128.load(at);
  at += s6;
  const m2 = v128.load(at);
  at += s6;
  const m3 = v128.load(at);
  at += s6;
  const m4 = v128.load(at);
  at += s6;
  const m5 = v128.load(at);
  const o = tmp + <usize>(16 * j);
  v128.store(o, at6(m0, m1, m2, m3, m4, m5, 0));
  v128.store(o, at6(m0, m1, m2, m3, m4, m5, 1), 96);
  v128.store(o, at6(m0, m1, m2, m3, m4, m5, 2), 192);
  v128.store(o, at6(m0, m1, m2, m3, m4, m5, 3), 288);
}

/** Output row i of one tile for 4 filters, from row i of Aᵀ M (tmp[6i …]): + bias (then ReLU); pixel j at y + (4i + j)·16. */
@inline function winoOutput4RowOf(y: usize, tmp: usize, bv: v128, rectify: bool, i: i32): void {
  const q = tmp + <usize>(96 * i);
  const s0 = v128.load(q), s1 = v128.load(q, 16), s2 = v128.load(q, 32), s3 = v128.load(q, 48), s4 = v128.load(q, 64), s5 = v128.load(q, 80);
  let y0 = f32x4.add(at6(s0, s1, s2, s3, s4, s5, 0), bv);
  let y1 = f32x4.add(at6(s0, s1, s2, s3, s4, s5, 1), bv);
  let y2 = f32x4.add(at6(s0, s1, s2, s3, s4, s5, 2), bv);
  let y3 = f32x4.add(at6(s0, s1, s2, s3, s4, s5, 3), bv);
  if (rectify) {
    const zero = f32x4.splat(0);
    y0 = f32x4.pmax(zero, y0);
    y1 = f32x4.pmax(zero, y1);
    y2 = f32x4.pmax(zero, y2);
    y3 = f32x4.pmax(zero, y3);
  }
  const at = y + <usize>(64 * i);
  v128.store(at, y0);
  v128.store(at, y1, 16);
  v128.store(at, y2, 32);
  v128.store(at, y3, 48);
}

/**
 * One tile's 4×4 outputs for 4 filters, Aᵀ M A + bias (then ReLU), from its Mᵀ[ξ] rows at m (xi bytes
 * apart): pixel (i, j) at y + (4i + j)·16, lanes the filters. Columns first through `tmp` (24
 * vectors), then rows: each M value is loaded once (the rows-first version loaded each up to 4
 * times, at computed addresses).
 */
@inline function winoOutput4Tile(y: usize, m: usize, xi: usize, tmp: usize, bv: v128, rectify: bool): void {
  winoOutput4Column(tmp, m, xi, 0);
  winoOutput4Column(tmp, m, xi, 1);
  winoOutput4Column(tmp, m, xi, 2);
  winoOutput4Column(tmp, m, xi, 3);
  winoOutput4Column(tmp, m, xi, 4);
  winoOutput4Column(tmp, m, xi, 5);
  winoOutput4RowOf(y, tmp, bv, rectify, 0);
  winoOutput4RowOf(y, tmp, bv, rectify, 1);
  winoOutput4RowOf(y, tmp, bv, rectify, 2);
  winoOutput4RowOf(y, tmp, bv, rectify, 3);
}

/** Output row i of a tile made by winoOutput4Tile (at y), stored at p + i·rowBytes (filter k's plane planeBytes further): only the `rows` × `width` pixels inside the output and the `lanes` filters below fn. */
@inline function winoOutput4Store(p: usize, y: usize, i: i32, rows: i32, width: i32, lanes: i32, planeBytes: usize, rowBytes: usize): void {
  if (i >= rows) return;
  const at = y + <usize>(64 * i);
  const y0 = v128.load(at), y1 = v128.load(at, 16), y2 = v128.load(at, 32), y3 = v128.load(at, 48);
  const q = p + <usize>i * rowBytes;
  if (lanes == 4) {
    // Lane k of yj is filter k's pixel j: a 4×4 transpose gives each filter's 4 pixels, of which
    // an edge tile stores the first `width`.
    storePixels(q, transposeRow(y0, y1, y2, y3, 0), width);
    storePixels(q + planeBytes, transposeRow(y0, y1, y2, y3, 1), width);
    storePixels(q + 2 * planeBytes, transposeRow(y0, y1, y2, y3, 2), width);
    storePixels(q + 3 * planeBytes, transposeRow(y0, y1, y2, y3, 3), width);
    return;
  }
  for (let k = 0; k < lanes; k++) {
    const r = q + <usize>k * planeBytes;
    store<f32>(r, laneOf(y0, k));
    if (width > 1) store<f32>(r, laneOf(y1, k), 4);
    if (width > 2) store<f32>(r, laneOf(y2, k), 8);
    if (width > 3) store<f32>(r, laneOf(y3, k), 12);
  }
}

/** winoOutput for m = 4: out (fn, oh, ow) = Aᵀ M A + bias (then ReLU) for tiles t0 ≤ t < t1; `y`: 16 vectors of scratch, `tmp` 24. */
function winoOutput4(
  out: usize, M: usize, cols: i32, col0: i32, bias: usize, fn: i32, oh: i32, ow: i32, tW: i32, t0: i32, t1: i32, rectify: bool,
  y: usize, tmp: usize,
): void {
  const f4 = round4(fn);
  const xi = (<usize>cols * <usize>f4) << 2;
  const planeBytes = (<usize>oh * <usize>ow) << 2;
  const rowBytes = <usize>ow << 2;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const tx = t - ty * tW;
    const m0 = M + ((<usize>(col0 + t - t0) * <usize>f4) << 2);
    const pix = out + ((<usize>(4 * ty) * <usize>ow + <usize>(4 * tx)) << 2);
    const rows = min(4, oh - 4 * ty);
    const width = min(4, ow - 4 * tx);
    for (let f = 0; f < fn; f += 4) {
      // The bias of filters past fn is read but never stored (it lies inside the arena).
      const bv = v128.load(bias + (<usize>f << 2));
      winoOutput4Tile(y, m0 + (<usize>f << 2), xi, tmp, bv, rectify);
      const lanes = min(4, fn - f);
      const p = pix + <usize>f * planeBytes;
      winoOutput4Store(p, y, 0, rows, width, lanes, planeBytes, rowBytes);
      winoOutput4Store(p, y, 1, rows, width, lanes, planeBytes, rowBytes);
      winoOutput4Store(p, y, 2, rows, width, lanes, planeBytes, rowBytes);
      winoOutput4Store(p, y, 3, rows, width, lanes, planeBytes, rowBytes);
    }
  }
}

/**
 * The 2×2 window (wy, wx) of a tile's outputs at o (winoOutput4Tile's layout), for 4 filters: its
 * maximum to w and the winner's index in the (unpooled) output to w + 16, candidates in the
 * reference's order (0,0), (0,1), (1,0), (1,1) and the first of equals kept, as maxPool2x2; `base`
 * is each filter's index of the tile's first pixel.
 */
@inline function winoPoolWindow(w: usize, o: usize, base: v128, ow: i32, wy: i32, wx: i32): void {
  const first = o + (<usize>(16 * (2 * wy) + 4 * (2 * wx)) << 2);
  const at0 = i32x4.add(base, i32x4.splat(2 * wy * ow + 2 * wx));
  let best = f32x4.splat(-Infinity);
  let at = i32x4.splat(-1);
  let v = v128.load(first);
  let gt = f32x4.gt(v, best);
  best = v128.bitselect(v, best, gt);
  at = v128.bitselect(at0, at, gt);
  v = v128.load(first, 16);
  gt = f32x4.gt(v, best);
  best = v128.bitselect(v, best, gt);
  at = v128.bitselect(i32x4.add(at0, i32x4.splat(1)), at, gt);
  v = v128.load(first, 64);
  gt = f32x4.gt(v, best);
  best = v128.bitselect(v, best, gt);
  at = v128.bitselect(i32x4.add(at0, i32x4.splat(ow)), at, gt);
  v = v128.load(first, 80);
  gt = f32x4.gt(v, best);
  best = v128.bitselect(v, best, gt);
  at = v128.bitselect(i32x4.add(at0, i32x4.splat(ow + 1)), at, gt);
  v128.store(w, best);
  v128.store(w, at, 16);
}

/**
 * Filter k's 2×2 pooled values (or argmax) of one tile from the four windows' vectors at w (32
 * bytes apart; lane k is filter k): its row 0 at p, row 1 at p + rowBytes.
 */
@inline function winoPoolStore(p: usize, rowBytes: usize, w: usize, k: i32): void {
  const v = transposeRow(v128.load(w), v128.load(w, 32), v128.load(w, 64), v128.load(w, 96), k);
  v128.store64_lane(p, v, 0);
  v128.store64_lane(p + rowBytes, v, 1);
}

/**
 * winoOutput4 fused with the ReLU and a 2×2/2 max pooling (oh and ow multiples of 4, so every tile is
 * whole and holds 2×2 whole windows): only the pooled values and argmax of image `img` are written,
 * as maxPool2x2 would write them from the rectified output (the same values, winners and indices).
 * `tmp`: 96 floats of scratch; `tt`: 24 vectors, winoOutput4Tile's.
 */
function winoOutputPool4(
  pooled: usize, argmax: usize, M: usize, cols: i32, col0: i32, bias: usize, fn: i32, oh: i32, ow: i32,
  tW: i32, t0: i32, t1: i32, img: i32, tmp: usize, tt: usize,
): void {
  const f4 = round4(fn);
  const xi = (<usize>cols * <usize>f4) << 2;
  const plane = oh * ow;
  const pw = ow >> 1;
  const pooledPlane = (oh >> 1) * pw;
  const rowBytes = <usize>pw << 2;
  const w = tmp + 256;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const tx = t - ty * tW;
    const m0 = M + ((<usize>(col0 + t - t0) * <usize>f4) << 2);
    for (let f = 0; f < fn; f += 4) {
      const m = m0 + (<usize>f << 2);
      const bv = v128.load(bias + (<usize>f << 2));
      winoOutput4Tile(tmp, m, xi, tt, bv, true);
      const planes = i32x4.add(i32x4.splat(img * fn + f), i32x4(0, 1, 2, 3));
      const base = i32x4.add(i32x4.mul(planes, i32x4.splat(plane)), i32x4.splat(4 * ty * ow + 4 * tx));
      winoPoolWindow(w, tmp, base, ow, 0, 0);
      winoPoolWindow(w + 32, tmp, base, ow, 0, 1);
      winoPoolWindow(w + 64, tmp, base, ow, 1, 0);
      winoPoolWindow(w + 96, tmp, base, ow, 1, 1);
      const first = (img * fn + f) * pooledPlane + 2 * ty * pw + 2 * tx;
      const p = pooled + (<usize>first << 2);
      const a = argmax + (<usize>first << 2);
      const step = <usize>pooledPlane << 2;
      if (f + 4 <= fn) {
        winoPoolStore(p, rowBytes, w, 0);
        winoPoolStore(p + step, rowBytes, w, 1);
        winoPoolStore(p + 2 * step, rowBytes, w, 2);
        winoPoolStore(p + 3 * step, rowBytes, w, 3);
        winoPoolStore(a, rowBytes, w + 16, 0);
        winoPoolStore(a + step, rowBytes, w + 16, 1);
        winoPoolStore(a + 2 * step, rowBytes, w + 16, 2);
        winoPoolStore(a + 3 * step, rowBytes, w + 16, 3);
      } else {
        for (let k = 0; k < fn - f; k++) {
          winoPoolStore(p + <usize>k * step, rowBytes, w, k);
          winoPoolStore(a + <usize>k * step, rowBytes, w + 16, k);
        }
      }
    }
  }
}

/** winoOutput for the tile size g.m. */
@inline function winoOutputOf(g: Wino, out: usize, cols: i32, col0: i32, bias: usize, fn: i32, t0: i32, t1: i32, rectify: bool): void {
  if (g.m == 4) winoOutput4(out, g.M, cols, col0, bias, fn, g.oh, g.ow, g.tW, t0, t1, rectify, g.edge, g.tmp);
  else winoOutput(out, g.M, cols, col0, bias, fn, g.oh, g.ow, g.tW, t0, t1, rectify);
}

/** Row k of A·(e0 … e3) (A = (Aᵀ)ᵀ, 6 × 4): e0, Σ, alternating Σ, e0 + 2e1 + 4e2 + 8e3, its alternate, e3. */
@inline function a6(e0: v128, e1: v128, e2: v128, e3: v128, k: i32): v128 {
  if (k == 0) return e0;
  if (k == 5) return e3;
  if (k <= 2) {
    const a = f32x4.add(e0, e2);
    const b = f32x4.add(e1, e3);
    return k == 1 ? f32x4.add(a, b) : f32x4.sub(a, b);
  }
  const a = f32x4.add(e0, times(e2, 4));
  const b = twice(f32x4.add(e1, times(e3, 4)));
  return k == 3 ? f32x4.add(a, b) : f32x4.sub(a, b);
}

/** Column j of A e (e's pixel (r, j) at e + (4r + j)·16): its rows i = 0 … 5 to tmp[4i + j]. */
@inline function winoDout4Column(tmp: usize, e: usize, j: i32): void {
  const q = e + <usize>(16 * j);
  const e0 = v128.load(q), e1 = v128.load(q, 64), e2 = v128.load(q, 128), e3 = v128.load(q, 192);
  const o = tmp + <usize>(16 * j);
  v128.store(o, a6(e0, e1, e2, e3, 0));
  v128.store(o, a6(e0, e1, e2, e3, 1), 64);
  v128.store(o, a6(e0, e1, e2, e3, 2), 128);
  v128.store(o, a6(e0, e1, e2, e3, 3), 192);
  v128.store(o, a6(e0, e1, e2, e3, 4), 256);
  v128.store(o, a6(e0, e1, e2, e3, 5), 320);
}

/** Row i of D = (A e) Aᵀ from row i of A e (tmp[4i …]): D[6i + k] at o + (6i + k)·xi. */
@inline function winoDout4Row(o: usize, xi: usize, tmp: usize, i: i32): void {
  const q = tmp + <usize>(64 * i);
  const u0 = v128.load(q), u1 = v128.load(q, 16), u2 = v128.load(q, 32), u3 = v128.load(q, 48);
  let at = o + <usize>(6 * i) * xi;
  v128.store(at, a6(u0, u1, u2, u3, 0));
  at += xi;
  v128.store(at, a6(u0, u1, u2, u3, 1));
  at += xi;
  v128.store(at, a6(u0, u1, u2, u3, 2));
  at += xi;
  v128.store(at, a6(u0, u1, u2, u3, 3));
  at += xi;
  v128.store(at, a6(u0, u1, u2, u3, 4));
  at += xi;
  v128.store(at, a6(u0, u1, u2, u3, 5));
}

/**
 * D = A e Aᵀ of one 4×4 tile e (pixel (r, j) at e + (4r + j)·16, lanes the filters): D[ξ] at o + ξ·xi.
 * Columns first through `tmp` (24 vectors), then rows; the 16 values of e in registers at once
 * spilled.
 */
@inline function winoDout4Tile(o: usize, xi: usize, e: usize, tmp: usize): void {
  winoDout4Column(tmp, e, 0);
  winoDout4Column(tmp, e, 1);
  winoDout4Column(tmp, e, 2);
  winoDout4Column(tmp, e, 3);
  winoDout4Row(o, xi, tmp, 0);
  winoDout4Row(o, xi, tmp, 1);
  winoDout4Row(o, xi, tmp, 2);
  winoDout4Row(o, xi, tmp, 3);
  winoDout4Row(o, xi, tmp, 4);
  winoDout4Row(o, xi, tmp, 5);
}

/**
 * Row r of filters f … f + 3's 4×4 block at q (planes planeBytes apart) as pixels with lanes the
 * filters: e + (4r + j)·16; pixels from `width` on are zeros (an edge tile's).
 */
@inline function winoDout4Gather(e: usize, q: usize, planeBytes: usize, r: i32, width: i32): void {
  const a = loadPixels(q, width), b = loadPixels(q + planeBytes, width), c = loadPixels(q + 2 * planeBytes, width), d = loadPixels(q + 3 * planeBytes, width);
  const at = e + <usize>(64 * r);
  v128.store(at, transposeRow(a, b, c, d, 0));
  v128.store(at, transposeRow(a, b, c, d, 1), 16);
  v128.store(at, transposeRow(a, b, c, d, 2), 32);
  v128.store(at, transposeRow(a, b, c, d, 3), 48);
}

/**
 * winoDout for m = 4: Dᵀ[ξ] rows (cols × f4) = (A e Aᵀ)[ξ] for tiles t0 ≤ t < t1 of one image's dout
 * dy (fn, oh, ow), e each tile's 4×4 block of 4 filters (zeros outside (oh, ow) and past fn),
 * gathered into `e` (16 vectors of scratch); `tmp`: 24 vectors.
 */
function winoDout4(D: usize, cols: i32, col0: i32, dy: usize, fn: i32, oh: i32, ow: i32, tW: i32, t0: i32, t1: i32, e: usize, tmp: usize): void {
  const f4 = round4(fn);
  const xi = (<usize>cols * <usize>f4) << 2;
  const planeBytes = (<usize>oh * <usize>ow) << 2;
  const rowBytes = <usize>ow << 2;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const tx = t - ty * tW;
    const d0 = D + ((<usize>(col0 + t - t0) * <usize>f4) << 2);
    const pix = dy + ((<usize>(4 * ty) * <usize>ow + <usize>(4 * tx)) << 2);
    const rows = min(4, oh - 4 * ty);
    const width = min(4, ow - 4 * tx);
    for (let f = 0; f < f4; f += 4) {
      const p = pix + <usize>f * planeBytes;
      if (f + 4 <= fn) {
        // Filter k's pixels of row r are one load; 4×4 transposes make the lanes the filters. An
        // edge tile's rows past the output are zeros.
        const zero = f32x4.splat(0);
        winoDout4Gather(e, p, planeBytes, 0, width);
        for (let r = 1; r < 4; r++) {
          if (r < rows) {
            winoDout4Gather(e, p + <usize>r * rowBytes, planeBytes, r, width);
          } else {
            const at = e + <usize>(64 * r);
            v128.store(at, zero);
            v128.store(at, zero, 16);
            v128.store(at, zero, 32);
            v128.store(at, zero, 48);
          }
        }
      } else {
        // filters past fn: lane by lane, zeros outside.
        memory.fill(e, 0, 256);
        for (let k = 0; k < min(4, fn - f); k++) {
          for (let r = 0; r < rows; r++) {
            for (let j = 0; j < width; j++) {
              store<f32>(e + (<usize>((r * 4 + j) * 4 + k) << 2), load<f32>(p + <usize>k * planeBytes + <usize>r * rowBytes + (<usize>j << 2)));
            }
          }
        }
      }
      winoDout4Tile(d0 + (<usize>f << 2), xi, e, tmp);
    }
  }
}

/**
 * Filters f … f + 3's 2×2 block (rows 2ty, 2ty + 1; columns 2tx, 2tx + 1) of a pooled-size array
 * at a (planes `step` bytes apart, rows `rowBytes`), as four vectors whose lanes are the filters:
 * window (wy, wx) is vector 2wy + wx, stored at w + 32·(2wy + wx). Filters past `lanes` read zeros.
 */
@inline function pooledBlock(w: usize, a: usize, step: usize, rowBytes: usize, lanes: i32): void {
  const z = f32x4.splat(0);
  let r0 = z, r1 = z, r2 = z, r3 = z;
  if (lanes > 0) r0 = v128.load64_lane(a + rowBytes, v128.load64_zero(a), 1);
  if (lanes > 1) r1 = v128.load64_lane(a + step + rowBytes, v128.load64_zero(a + step), 1);
  if (lanes > 2) r2 = v128.load64_lane(a + 2 * step + rowBytes, v128.load64_zero(a + 2 * step), 1);
  if (lanes > 3) r3 = v128.load64_lane(a + 3 * step + rowBytes, v128.load64_zero(a + 3 * step), 1);
  v128.store(w, transposeRow(r0, r1, r2, r3, 0));
  v128.store(w, transposeRow(r0, r1, r2, r3, 1), 32);
  v128.store(w, transposeRow(r0, r1, r2, r3, 2), 64);
  v128.store(w, transposeRow(r0, r1, r2, r3, 3), 96);
}

/** Pixel (r, j) of a 4×4 tile's dout, 4 filters: its window's gradient where the window's winner is `index`, else 0. */
@inline function routed(w: usize, index: v128, r: i32, j: i32): v128 {
  const win = w + <usize>(32 * (2 * (r >> 1) + (j >> 1)));
  return v128.and(v128.load(win), i32x4.eq(v128.load(win, 16), index));
}

/** Row r of a tile's routed dout (pixel j's index in the unpooled output: rowIndex + j) to e + (4r + j)·16. */
@inline function routedRow(e: usize, w: usize, rowIndex: v128, r: i32): void {
  const at = e + <usize>(64 * r);
  v128.store(at, routed(w, rowIndex, r, 0));
  v128.store(at, routed(w, i32x4.add(rowIndex, i32x4.splat(1)), r, 1), 16);
  v128.store(at, routed(w, i32x4.add(rowIndex, i32x4.splat(2)), r, 2), 32);
  v128.store(at, routed(w, i32x4.add(rowIndex, i32x4.splat(3)), r, 3), 48);
}

/**
 * winoDout4 for the gradient of a ReLU and a 2×2/2 max pooling (oh and ow multiples of 4): each
 * tile's 4×4 dout, 4 filters, is made from the pooled gradient dpool (where the pooled value is
 * positive, at each window's winner argmax, zero elsewhere: what routePooled writes) and
 * transformed at once; dout itself is never written. `w`: 64 floats of scratch; `e` 16 vectors and
 * `tmp` 24 (winoDout4Tile's).
 */
function winoDoutPool4(
  D: usize, cols: i32, col0: i32, dpool: usize, pooled: usize, argmax: usize, img: i32, fn: i32,
  oh: i32, ow: i32, tW: i32, t0: i32, t1: i32, w: usize, e: usize, tmp: usize,
): void {
  const f4 = round4(fn);
  const xi = (<usize>cols * <usize>f4) << 2;
  const plane = oh * ow;
  const pw = ow >> 1;
  const pooledPlane = (oh >> 1) * pw;
  const rowBytes = <usize>pw << 2;
  const step = <usize>pooledPlane << 2;
  const zero = f32x4.splat(0);
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const tx = t - ty * tW;
    const d0 = D + ((<usize>(col0 + t - t0) * <usize>f4) << 2);
    for (let f = 0; f < f4; f += 4) {
      const lanes = min(4, fn - f);
      const first = <usize>((img * fn + f) * pooledPlane + 2 * ty * pw + 2 * tx) << 2;
      // Window k's gradient at w + 32·k (zeroed where the pooled value is not positive), its winner
      // at w + 32·k + 16; the pooled values at w + 128 + 32·k.
      pooledBlock(w, dpool + first, step, rowBytes, lanes);
      pooledBlock(w + 16, argmax + first, step, rowBytes, lanes);
      pooledBlock(w + 128, pooled + first, step, rowBytes, lanes);
      for (let k = 0; k < 4; k++) {
        const at = w + <usize>(32 * k);
        v128.store(at, v128.and(v128.load(at), f32x4.gt(v128.load(at, 128), zero)));
      }
      const planes = i32x4.add(i32x4.splat(img * fn + f), i32x4(0, 1, 2, 3));
      const row0 = i32x4.add(i32x4.mul(planes, i32x4.splat(plane)), i32x4.splat(4 * ty * ow + 4 * tx));
      const row1 = i32x4.add(row0, i32x4.splat(ow));
      const row2 = i32x4.add(row1, i32x4.splat(ow));
      const row3 = i32x4.add(row2, i32x4.splat(ow));
      routedRow(e, w, row0, 0);
      routedRow(e, w, row1, 1);
      routedRow(e, w, row2, 2);
      routedRow(e, w, row3, 3);
      winoDout4Tile(d0 + (<usize>f << 2), xi, e, tmp);
    }
  }
}

/** Row r of B·(x0 … x5) (B = (Bᵀ)ᵀ). */
@inline function b6(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, r: i32): v128 {
  if (r == 0) return times(x0, 4);
  if (r == 5) return x5;
  if (r == 1) return f32x4.add(f32x4.add(times(f32x4.sub(x2, x1), 4), twice(f32x4.sub(x4, x3))), times(x5, 4));
  if (r == 3) return f32x4.sub(f32x4.add(f32x4.sub(x1, x2), twice(f32x4.sub(x3, x4))), times(x5, 5));
  const s = f32x4.add(x1, x2);
  const u = f32x4.add(x3, x4);
  if (r == 4) return f32x4.add(f32x4.add(x0, s), u);
  return f32x4.sub(f32x4.sub(f32x4.neg(times(x0, 5)), times(s, 4)), u);
}

/** Row r of B·(x0 … x5) for xj at q + j·s, loading only the values row r reads. */
@inline function b6At(q: usize, s: usize, r: i32): v128 {
  const z = f32x4.splat(0);
  if (r == 0) return b6(v128.load(q), z, z, z, z, z, 0);
  if (r == 5) return b6(z, z, z, z, z, v128.load(q + 5 * s), 5);
  const x0 = r == 2 || r == 4 ? v128.load(q) : z;
  const x5 = r == 1 || r == 3 ? v128.load(q + 5 * s) : z;
  return b6(x0, v128.load(q + s), v128.load(q + 2 * s), v128.load(q + 3 * s), v128.load(q + 4 * s), x5, r);
}

/** Column j of B·dV (dV[6a + j] at x + (6a + j)·xi, a = 0 … 5): its rows r = 0 … 5 to tmp[6r + j]. */
@inline function winoInputGrad4Column(tmp: usize, x: usize, xi: usize, j: i32): void {
  let at = x + <usize>j * xi;
  const s6 = 6 * xi;
  const x0 = v128.load(at);
  at += s6;
  const x1 = v128.load(at);
  at += s6;
  const x2 = v128.load(at);
  at += s6;
  const x3 = v128.load(at);
  at += s6;
  const x4 = v128.load(at);
  at += s6;
  const x5 = v128.load(at);
  const o = tmp + <usize>(16 * j);
  v128.store(o, b6(x0, x1, x2, x3, x4, x5, 0));
  v128.store(o, b6(x0, x1, x2, x3, x4, x5, 1), 96);
  v128.store(o, b6(x0, x1, x2, x3, x4, x5, 2), 192);
  v128.store(o, b6(x0, x1, x2, x3, x4, x5, 3), 288);
  v128.store(o, b6(x0, x1, x2, x3, x4, x5, 4), 384);
  v128.store(o, b6(x0, x1, x2, x3, x4, x5, 5), 480);
}

/** Row r of the tile's B dV Bᵀ, from row r of B dV (tmp[6r … 6r + 5]), added into row p (pixels 16 bytes apart). */
@inline function winoInputGrad4Row(p: usize, tmp: usize, r: i32): void {
  const q = tmp + <usize>(96 * r);
  const q0 = v128.load(q), q1 = v128.load(q, 16), q2 = v128.load(q, 32), q3 = v128.load(q, 48), q4 = v128.load(q, 64), q5 = v128.load(q, 80);
  v128.store(p, f32x4.add(v128.load(p), b6(q0, q1, q2, q3, q4, q5, 0)));
  v128.store(p, f32x4.add(v128.load(p, 16), b6(q0, q1, q2, q3, q4, q5, 1)), 16);
  v128.store(p, f32x4.add(v128.load(p, 32), b6(q0, q1, q2, q3, q4, q5, 2)), 32);
  v128.store(p, f32x4.add(v128.load(p, 48), b6(q0, q1, q2, q3, q4, q5, 3)), 48);
  v128.store(p, f32x4.add(v128.load(p, 64), b6(q0, q1, q2, q3, q4, q5, 4)), 64);
  v128.store(p, f32x4.add(v128.load(p, 80), b6(q0, q1, q2, q3, q4, q5, 5)), 80);
}

/**
 * winoInputGrad for m = 4: dxp += B dV Bᵀ, each tile's 6×6 result added at its block (channel
 * blocks, as xp); columns first through `tmp` (36 vectors), as winoInput4.
 */
function winoInputGrad4(dxp: usize, dV: usize, cols: i32, col0: i32, c4: i32, hp: i32, wp: i32, tW: i32, t0: i32, t1: i32, tmp: usize): void {
  const xi = (<usize>cols * <usize>c4) << 2;
  const rs = <usize>wp << 4;
  const block = <usize>hp * rs;
  for (let t = t0; t < t1; t++) {
    const ty = t / tW;
    const p0 = dxp + <usize>(4 * ty) * rs + (<usize>(4 * (t - ty * tW)) << 4);
    const x0 = dV + ((<usize>(col0 + t - t0) * <usize>c4) << 2);
    for (let ch = 0; ch < c4; ch += 4) {
      const x = x0 + (<usize>ch << 2);
      winoInputGrad4Column(tmp, x, xi, 0);
      winoInputGrad4Column(tmp, x, xi, 1);
      winoInputGrad4Column(tmp, x, xi, 2);
      winoInputGrad4Column(tmp, x, xi, 3);
      winoInputGrad4Column(tmp, x, xi, 4);
      winoInputGrad4Column(tmp, x, xi, 5);
      const p = p0 + <usize>(ch >> 2) * block;
      winoInputGrad4Row(p, tmp, 0);
      winoInputGrad4Row(p + rs, tmp, 1);
      winoInputGrad4Row(p + 2 * rs, tmp, 2);
      winoInputGrad4Row(p + 3 * rs, tmp, 3);
      winoInputGrad4Row(p + 4 * rs, tmp, 4);
      winoInputGrad4Row(p + 5 * rs, tmp, 5);
    }
  }
}

/** Row i of G·(g0, g1, g2) for F(4×4, 3×3), 4 lanes at a time. */
@inline function g6(g0: v128, g1: v128, g2: v128, i: i32): v128 {
  const sixth: f32 = 1.0 / 6.0;
  if (i == 0) return times(g0, 0.25);
  if (i == 5) return g2;
  if (i == 1) return f32x4.neg(times(f32x4.add(f32x4.add(g0, g1), g2), sixth));
  if (i == 2) return times(f32x4.sub(f32x4.sub(g1, g0), g2), sixth);
  const a = f32x4.add(times(g0, 1.0 / 24.0), times(g2, sixth));
  const b = times(g1, 1.0 / 12.0);
  return i == 3 ? f32x4.add(a, b) : f32x4.sub(a, b);
}

/** Row a of Gᵀ·(u0 … u5), 4 lanes at a time. */
@inline function gt6(u0: v128, u1: v128, u2: v128, u3: v128, u4: v128, u5: v128, a: i32): v128 {
  const sixth: f32 = 1.0 / 6.0;
  if (a == 0) return f32x4.add(f32x4.sub(times(u0, 0.25), times(f32x4.add(u1, u2), sixth)), times(f32x4.add(u3, u4), 1.0 / 24.0));
  if (a == 1) return f32x4.add(times(f32x4.sub(u2, u1), sixth), times(f32x4.sub(u3, u4), 1.0 / 12.0));
  return f32x4.add(times(f32x4.sub(f32x4.add(u3, u4), f32x4.add(u1, u2)), sixth), u5);
}

/** Row i of U = (G g) Gᵀ from row i of G g (q0, q1, q2): U[6i + j] at o + (6i + j)·xi. */
@inline function winogradFilter4Row(o: usize, xi: usize, q0: v128, q1: v128, q2: v128, i: i32): void {
  const at = o + <usize>(6 * i) * xi;
  v128.store(at, g6(q0, q1, q2, 0));
  v128.store(at + xi, g6(q0, q1, q2, 1));
  v128.store(at + 2 * xi, g6(q0, q1, q2, 2));
  v128.store(at + 3 * xi, g6(q0, q1, q2, 3));
  v128.store(at + 4 * xi, g6(q0, q1, q2, 4));
  v128.store(at + 5 * xi, g6(q0, q1, q2, 5));
}

/** Tap k of filter f's channels ch … ch + 3 (zeros past fn and c), lanes the channels. */
@inline function filterTaps(W: usize, fn: i32, c: i32, f: i32, ch: i32, k: i32): v128 {
  let v = f32x4.splat(0);
  if (f >= fn) return v;
  const g = W + ((<usize>(f * c + ch) * 9 + <usize>k) << 2);
  if (ch + 4 <= c) {
    v = f32x4.replace_lane(v, 0, load<f32>(g));
    v = f32x4.replace_lane(v, 1, load<f32>(g, 36));
    v = f32x4.replace_lane(v, 2, load<f32>(g, 72));
    return f32x4.replace_lane(v, 3, load<f32>(g, 108));
  }
  for (let j = 0; j < c - ch; j++) v = withLane(v, j, load<f32>(g + (<usize>(9 * j) << 2)));
  return v;
}

/** winogradFilter for m = 4: filter f of U (36 × f4 × c4), 4 channels at a time. */
function winogradFilter4(U: usize, W: usize, fn: i32, c: i32, f: i32): void {
  const c4 = round4(c);
  const xi = (<usize>round4(fn) * <usize>c4) << 2;
  for (let ch = 0; ch < c4; ch += 4) {
    const o = U + ((<usize>f * <usize>c4 + <usize>ch) << 2);
    // g's rows by column: (g0, g3, g6), (g1, g4, g7), (g2, g5, g8).
    const g0 = filterTaps(W, fn, c, f, ch, 0), g1 = filterTaps(W, fn, c, f, ch, 1), g2 = filterTaps(W, fn, c, f, ch, 2);
    const g3 = filterTaps(W, fn, c, f, ch, 3), g4 = filterTaps(W, fn, c, f, ch, 4), g5 = filterTaps(W, fn, c, f, ch, 5);
    const g6v = filterTaps(W, fn, c, f, ch, 6), g7 = filterTaps(W, fn, c, f, ch, 7), g8 = filterTaps(W, fn, c, f, ch, 8);
    winogradFilter4Row(o, xi, g6(g0, g3, g6v, 0), g6(g1, g4, g7, 0), g6(g2, g5, g8, 0), 0);
    winogradFilter4Row(o, xi, g6(g0, g3, g6v, 1), g6(g1, g4, g7, 1), g6(g2, g5, g8, 1), 1);
    winogradFilter4Row(o, xi, g6(g0, g3, g6v, 2), g6(g1, g4, g7, 2), g6(g2, g5, g8, 2), 2);
    winogradFilter4Row(o, xi, g6(g0, g3, g6v, 3), g6(g1, g4, g7, 3), g6(g2, g5, g8, 3), 3);
    winogradFilter4Row(o, xi, g6(g0, g3, g6v, 4), g6(g1, g4, g7, 4), g6(g2, g5, g8, 4), 4);
    winogradFilter4Row(o, xi, g6(g0, g3, g6v, 5), g6(g1, g4, g7, 5), g6(g2, g5, g8, 5), 5);
  }
}

/** Row a of Gᵀ·(u0 … u5) for uj = dU[6j] at q + 6j·xi (column j0 of dU when q is its column), 4 filters. */
@inline function gt6At(q: usize, xi: usize, a: i32): v128 {
  const s = 6 * xi;
  return gt6(v128.load(q), v128.load(q + s), v128.load(q + 2 * s), v128.load(q + 3 * s), v128.load(q + 4 * s), v128.load(q + 5 * s), a);
}

/** Row a of one channel's Gᵀ dU G for 4 filters: dW[f0 + k][ch][a][b] for the `lanes` filters below fn. */
@inline function winogradFilterGrad4Row(o: usize, u: usize, xi: usize, a: i32, lanes: i32, fstride: usize): void {
  const r0 = gt6At(u, xi, a);
  const r1 = gt6At(u + xi, xi, a);
  const r2 = gt6At(u + 2 * xi, xi, a);
  const r3 = gt6At(u + 3 * xi, xi, a);
  const r4 = gt6At(u + 4 * xi, xi, a);
  const r5 = gt6At(u + 5 * xi, xi, a);
  const d0 = gt6(r0, r1, r2, r3, r4, r5, 0);
  const d1 = gt6(r0, r1, r2, r3, r4, r5, 1);
  const d2 = gt6(r0, r1, r2, r3, r4, r5, 2);
  const cell = o + (<usize>(3 * a) << 2);
  for (let k = 0; k < lanes; k++) {
    const at = cell + <usize>k * fstride;
    store<f32>(at, laneOf(d0, k));
    store<f32>(at, laneOf(d1, k), 4);
    store<f32>(at, laneOf(d2, k), 8);
  }
}

/** winogradFilterGrad for m = 4: dW (3×3) = Gᵀ dU G for filters 4·chunk … 4·chunk + 3, from the summed dU (36 × c4 × f4). */
function winogradFilterGrad4(dW: usize, dU: usize, fn: i32, c: i32, chunk: i32): void {
  const f0 = 4 * chunk;
  const f4 = round4(fn);
  const xi = (<usize>round4(c) * <usize>f4) << 2;
  const lanes = min(4, fn - f0);
  const fstride = (<usize>c * 9) << 2;
  for (let ch = 0; ch < c; ch++) {
    const u = dU + ((<usize>ch * <usize>f4 + <usize>f0) << 2);
    const o = dW + ((<usize>(f0 * c + ch) * 9) << 2);
    winogradFilterGrad4Row(o, u, xi, 0, lanes, fstride);
    winogradFilterGrad4Row(o, u, xi, 1, lanes, fstride);
    winogradFilterGrad4Row(o, u, xi, 2, lanes, fstride);
  }
}

/**
 * A 3×3 stride-1 convolution's tile geometry and this thread's scratch layout, for the chunk
 * drivers; the record itself sits at the start of the scratch (WINO_HEAD floats).
 */
@unmanaged class Wino {
  oh: i32; ow: i32; tW: i32; T: i32; hp: i32; wp: i32; block: i32; c4: i32; f4: i32;
  /** Images per block when whole images fit one (0 when an image is cut into blocks). */
  per: i32;
  /** Output tile size (2 or 4) and transform positions ((m + 2)²). */
  m: i32; P: i32;
  xp: usize; dxp: usize; V: usize; M: usize;
  /** The transforms' 36-vector scratch (WINO_TMP) and the 96-float tile scratch (WINO_EDGE). */
  tmp: usize; edge: usize;
  /** The dout transform's 16-vector input tile (WINO_TILE). */
  tile: usize;
}

@inline function winoGeometry(g: Wino, n: i32, c: i32, h: i32, w: i32, fn: i32, pad: i32, m: i32, scratch: usize): void {
  g.m = m;
  g.P = winoPositions(m);
  g.oh = h + 2 * pad - 2;
  g.ow = w + 2 * pad - 2;
  const tH = winoTiles(g.oh, m);
  g.tW = winoTiles(g.ow, m);
  g.T = tH * g.tW;
  g.hp = m * tH + 2;
  g.wp = m * g.tW + 2;
  g.c4 = round4(c);
  g.f4 = round4(fn);
  g.block = winoBlock(c, fn, m);
  g.per = g.T <= g.block ? winoImagesFor(n, g.T, c, fn, m) : 0;
  const plane = (<usize>winoPlane(c, h, w, pad, m)) << 2;
  g.tmp = scratch + WINO_TMP;
  g.edge = scratch + WINO_EDGE;
  g.tile = scratch + WINO_TILE;
  g.xp = scratch + (<usize>WINO_HEAD << 2);
  g.dxp = g.xp + plane;
  g.V = g.dxp + plane;
  g.M = g.V + ((<usize>g.P * <usize>g.c4 * <usize>winoCols(g.T, c, fn, m)) << 2);
}

/** V[ξ] rows of tiles t0 ≤ t < t1 of one image (the transform for g.m). */
@inline function winoInputOf(g: Wino, cols: i32, col0: i32, t0: i32, t1: i32): void {
  if (g.m == 4) winoInput4(g.V, cols, col0, g.xp, g.c4, g.hp, g.wp, g.tW, t0, t1, g.tmp);
  else winoInput(g.V, cols, col0, g.xp, g.c4, g.hp, g.wp, g.tW, t0, t1);
}

/** Mᵀ[ξ] (cols × f4) = V[ξ] (cols × c4) · Uᵀ[ξ] (c4 × f4) for the P positions ξ. */
function winoProducts(g: Wino, Ut: usize, cols: i32, pack: usize): void {
  for (let xi = 0; xi < g.P; xi++) {
    matmulBlock(
      g.M + ((<usize>xi * <usize>cols * <usize>g.f4) << 2),
      g.V + ((<usize>xi * <usize>cols * <usize>g.c4) << 2),
      Ut + ((<usize>xi * <usize>g.c4 * <usize>g.f4) << 2),
      cols, g.c4, g.f4, false, false, false, pack,
    );
  }
}

/**
 * Forward of one chunk (whole images): out (n, fn, oh, ow) = conv(x, W) + bias (then ReLU when
 * `rectify`), then each image's max pooling (ph > 0) while it is in cache. U: the transformed
 * filters (winogradFilter): U then Uᵀ.
 */
function winogradForward(
  out: usize, x: usize, U: usize, bias: usize, n: i32, c: i32, h: i32, w: i32, fn: i32, pad: i32,
  rectify: bool, scratch: usize, pack: usize, chunk: i32,
  pooled: usize, argmax: usize, ph: i32, pw: i32, pstride: i32, ppad: i32, m: i32,
): void {
  const g = changetype<Wino>(scratch);
  winoGeometry(g, n, c, h, w, fn, pad, m, scratch);
  const T = g.T;
  const Ut = U + ((<usize>g.P * <usize>g.f4 * <usize>g.c4) << 2);
  const image = <usize>c * <usize>h * <usize>w;
  const outImage = <usize>fn * <usize>g.oh * <usize>g.ow;
  const first = chunk * max(1, g.per);
  const last = min(n, first + max(1, g.per));
  // F(4×4, 3×3) pools its 4×4 tiles as it makes them (2×2 windows of whole tiles), writing no `out`.
  const fusedPool = m == 4 && isPool2x2(rectify, ph, pw, pstride, ppad) && g.oh % 4 == 0 && g.ow % 4 == 0;
  const tmp = scratch + WINO_EDGE;
  if (g.per > 0) {
    // One block: every image of the chunk, all its tiles.
    const cols = (last - first) * T;
    for (let img = first; img < last; img++) {
      winoPadImage(g.xp, x + ((<usize>img * image) << 2), c, h, w, pad, g.hp, g.wp);
      winoInputOf(g, cols, (img - first) * T, 0, T);
    }
    winoProducts(g, Ut, cols, pack);
    for (let img = first; img < last; img++) {
      if (fusedPool) winoOutputPool4(pooled, argmax, g.M, cols, (img - first) * T, bias, fn, g.oh, g.ow, g.tW, 0, T, img, tmp, g.tmp);
      else winoOutputOf(g, out + ((<usize>img * outImage) << 2), cols, (img - first) * T, bias, fn, 0, T, rectify);
    }
  } else {
    // One image, in blocks of its tiles.
    winoPadImage(g.xp, x + ((<usize>first * image) << 2), c, h, w, pad, g.hp, g.wp);
    for (let t0 = 0; t0 < T; t0 += g.block) {
      const t1 = min(T, t0 + g.block);
      winoInputOf(g, t1 - t0, 0, t0, t1);
      winoProducts(g, Ut, t1 - t0, pack);
      if (fusedPool) winoOutputPool4(pooled, argmax, g.M, t1 - t0, 0, bias, fn, g.oh, g.ow, g.tW, t0, t1, first, tmp, g.tmp);
      else winoOutputOf(g, out + ((<usize>first * outImage) << 2), t1 - t0, 0, bias, fn, t0, t1, rectify);
    }
  }
  if (ph > 0 && !fusedPool) {
    for (let img = first; img < last; img++) maxPool(pooled, argmax, out, n, fn, g.oh, g.ow, ph, pw, pstride, ppad, img, n);
  }
}

/**
 * One block of the backward pass, its V (x's tiles) and Dᵀ (dout's tiles, in g.M) made: the
 * group's partial dU[ξ] (+)= V[ξ]ᵀ·Dᵀ[ξ] and db (+)= the column sums of Dᵀ at ξ = 5 (A e Aᵀ there
 * is the sum of e); with dx, dVᵀ[ξ] = Dᵀ[ξ]·U[ξ] overwrites V.
 */
function winoBackwardBlock(g: Wino, dU: usize, db: usize, U: usize, fn: i32, cols: i32, acc: bool, withDx: bool, pack: usize): void {
  const c4 = g.c4;
  const f4 = g.f4;
  for (let xi = 0; xi < g.P; xi++) {
    matmulBlock(
      dU + ((<usize>xi * <usize>c4 * <usize>f4) << 2),
      g.V + ((<usize>xi * <usize>cols * <usize>c4) << 2),
      g.M + ((<usize>xi * <usize>cols * <usize>f4) << 2),
      c4, cols, f4, true, false, acc, pack,
    );
  }
  // ξ = m + 3 (row 1, column 1): A's row 1 is all ones, so (A e Aᵀ) there is the sum of e.
  const d5 = g.M + ((<usize>(g.m + 3) * <usize>cols * <usize>f4) << 2);
  for (let f = 0; f < fn; f += 4) {
    let v = f32x4.splat(0);
    for (let t = 0; t < cols; t++) v = f32x4.add(v, v128.load(d5 + ((<usize>t * <usize>f4 + <usize>f) << 2)));
    for (let k = 0; k < min(4, fn - f); k++) {
      const at = db + (<usize>(f + k) << 2);
      store<f32>(at, (acc ? load<f32>(at) : 0) + laneOf(v, k));
    }
  }
  if (!withDx) return;
  for (let xi = 0; xi < g.P; xi++) {
    matmulBlock(
      g.V + ((<usize>xi * <usize>cols * <usize>c4) << 2),
      g.M + ((<usize>xi * <usize>cols * <usize>f4) << 2),
      U + ((<usize>xi * <usize>f4 * <usize>c4) << 2),
      cols, f4, c4, false, false, false, pack,
    );
  }
}

/**
 * Backward of image group `group` (winoGroupImages images): its partial (dU (16 × c4 × f4), then
 * db (fn)) and, when `withDx`, each image's dx. Each image's dout is first made from what followed
 * the convolution, as in convBackwardGroup: `mode` 0 nothing, 1 a ReLU (its gradient at `pooled`
 * masked by its output y), 2 a ReLU and a max pooling (y is the pooling's gradient, routed by argmax
 * where `pooled` > 0), 3 the same with 2×2/2 windows.
 */
function winogradBackward(
  dx: usize, partials: usize, dout: usize, x: usize, U: usize, n: i32, c: i32, h: i32, w: i32,
  fn: i32, pad: i32, withDx: bool, scratch: usize, pack: usize, group: i32,
  mode: i32, y: usize, pooled: usize, argmax: usize, pooledPixels: i32, m: i32,
): void {
  const g = changetype<Wino>(scratch);
  winoGeometry(g, n, c, h, w, fn, pad, m, scratch);
  const T = g.T;
  const pixels = g.oh * g.ow;
  const image = <usize>c * <usize>h * <usize>w;
  const outImage = <usize>fn * <usize>pixels;
  const per = winoGroupImages(n, c, h, w, fn, pad, m);
  const first = group * per;
  const last = min(n, first + per);
  const dU = partials + ((<usize>group * <usize>winogradPartial(c, fn, m)) << 2);
  const db = dU + ((<usize>g.P * <usize>g.c4 * <usize>g.f4) << 2);
  const planeBytes = (<usize>winoPlane(c, h, w, pad, m)) << 2;
  // F(4×4, 3×3) after a 2×2/2 pooling of outputs that are multiples of 4: dout's tiles are made from
  // the pooled gradient where they are transformed (winoDoutPool4), not routed into dout first.
  const fusedRoute = mode == 3 && m == 4 && g.oh % 4 == 0 && g.ow % 4 == 0;
  let acc = false;
  for (let b0 = first; b0 < last; ) {
    // A block of whole images (g.per of them), or one image in blocks of its tiles.
    const imgs = g.per > 0 ? min(g.per, last - b0) : 1;
    const step = g.per > 0 ? T : g.block;
    for (let img = b0; img < b0 + imgs; img++) {
      if (mode == 1) maskImage(dout, pooled, y, img, fn * pixels);
      else if (mode >= 2 && !fusedRoute) routePooled(dout, y, pooled, argmax, img, fn, pixels, pooledPixels);
    }
    if (g.per == 0) {
      winoPadImage(g.xp, x + ((<usize>b0 * image) << 2), c, h, w, pad, g.hp, g.wp);
      if (withDx) memory.fill(g.dxp, 0, planeBytes);
    }
    for (let t0 = 0; t0 < T; t0 += step) {
      const t1 = min(T, t0 + step);
      const cols = imgs * (t1 - t0);
      for (let img = b0; img < b0 + imgs; img++) {
        const col0 = (img - b0) * (t1 - t0);
        if (g.per > 0) winoPadImage(g.xp, x + ((<usize>img * image) << 2), c, h, w, pad, g.hp, g.wp);
        winoInputOf(g, cols, col0, t0, t1);
        const e = dout + ((<usize>img * outImage) << 2);
        if (fusedRoute) winoDoutPool4(g.M, cols, col0, y, pooled, argmax, img, fn, g.oh, g.ow, g.tW, t0, t1, g.edge, g.tile, g.tmp);
        else if (m == 4) winoDout4(g.M, cols, col0, e, fn, g.oh, g.ow, g.tW, t0, t1, g.tile, g.tmp);
        else winoDout(g.M, cols, col0, e, fn, g.oh, g.ow, g.tW, t0, t1);
      }
      winoBackwardBlock(g, dU, db, U, fn, cols, acc, withDx, pack);
      acc = true;
      if (!withDx) continue;
      for (let img = b0; img < b0 + imgs; img++) {
        if (g.per > 0) memory.fill(g.dxp, 0, planeBytes);
        if (m == 4) winoInputGrad4(g.dxp, g.V, cols, (img - b0) * (t1 - t0), g.c4, g.hp, g.wp, g.tW, t0, t1, g.tmp);
        else winoInputGrad(g.dxp, g.V, cols, (img - b0) * (t1 - t0), g.c4, g.hp, g.wp, g.tW, t0, t1);
        if (g.per > 0) winoCrop(dx + ((<usize>img * image) << 2), g.dxp, c, h, w, pad, g.hp, g.wp);
      }
    }
    if (withDx && g.per == 0) winoCrop(dx + ((<usize>b0 * image) << 2), g.dxp, c, h, w, pad, g.hp, g.wp);
    b0 += imgs;
  }
}

// ---- transposed convolution, one image at a time (DCGAN) ----------------------------------------
// The converse of the fused convolution above: for the convolution from the output (fn, oh, ow) back
// to the input (c, h, w) with filters W (c, fn·fh·fw), the forward is that convolution's dx (colᵀ =
// Wᵀ·x, then col2imImage) and the backward its forward (dx = W·colᵀ of dout) and its dW (x·colᵀᵀ).
// oh = (h − 1)·stride − 2·pad + fh + outPad with outPad < stride, so outSize(oh, fh, stride, pad) = h
// (the extra rows are reached by windows but start none). A backward chunk is DECONV_GROUP images,
// whose dW and db go to the group's partial, summed in group order after.
const DECONV_GROUP: i32 = 4;

@inline function deconvOutSize(size: i32, filter: i32, stride: i32, pad: i32, outPad: i32): i32 {
  return (size - 1) * stride - 2 * pad + filter + outPad;
}

/** Forward of image `img`: out (fn, oh, ow) = col2im(Wt · x) + bias; Wt = Wᵀ (fn·fh·fw × c). */
function deconvForwardImage(
  out: usize, x: usize, Wt: usize, bias: usize, c: i32, h: i32, w: i32, fn: i32, fh: i32, fw: i32,
  stride: i32, pad: i32, outPad: i32, colT: usize, pack: usize, img: i32,
): void {
  const oh = deconvOutSize(h, fh, stride, pad, outPad);
  const ow = deconvOutSize(w, fw, stride, pad, outPad);
  const pixels = h * w;
  const plane = oh * ow;
  matmulBlock(colT, Wt, x + ((<usize>img * <usize>c * <usize>pixels) << 2), fn * fh * fw, c, pixels, false, false, false, pack);
  const o = out + ((<usize>img * <usize>fn * <usize>plane) << 2);
  col2imImage(o, colT, fn, oh, ow, fh, fw, stride, pad);
  for (let f = 0; f < fn; f++) {
    const row = o + ((<usize>f * <usize>plane) << 2);
    const bf = load<f32>(bias + (<usize>f << 2));
    const bv = f32x4.splat(bf);
    let i = 0;
    for (; i + 4 <= plane; i += 4) {
      const at = row + (<usize>i << 2);
      v128.store(at, f32x4.add(v128.load(at), bv));
    }
    for (; i < plane; i++) {
      const at = row + (<usize>i << 2);
      store<f32>(at, load<f32>(at) + bf);
    }
  }
}

/**
 * Backward of image group g: its partial (dW (c × fn·fh·fw), then db (fn)) = Σ over its images of
 * x · colᵀᵀ and of dout's rows, colᵀ the windows of dout; with `withDx`, dx = W · colᵀ per image.
 */
function deconvBackwardGroup(
  dx: usize, partials: usize, dout: usize, x: usize, W: usize, n: i32, c: i32, h: i32, w: i32,
  fn: i32, fh: i32, fw: i32, stride: i32, pad: i32, outPad: i32, withDx: bool, colT: usize, pack: usize,
  g: i32,
): void {
  const oh = deconvOutSize(h, fh, stride, pad, outPad);
  const ow = deconvOutSize(w, fw, stride, pad, outPad);
  const pixels = h * w;
  const plane = oh * ow;
  const cols = fn * fh * fw;
  const pdw = partials + ((<usize>g * <usize>(c * cols + fn)) << 2);
  const pdb = pdw + ((<usize>c * <usize>cols) << 2);
  const first = g * DECONV_GROUP;
  const last = min(n, first + DECONV_GROUP);
  for (let img = first; img < last; img++) {
    const d = dout + ((<usize>img * <usize>fn * <usize>plane) << 2);
    const xi = x + ((<usize>img * <usize>c * <usize>pixels) << 2);
    im2colImage(colT, d, fn, oh, ow, fh, fw, stride, pad);
    matmulBlock(pdw, xi, colT, c, pixels, cols, false, true, img > first, pack);
    for (let f = 0; f < fn; f++) {
      const row = d + ((<usize>f * <usize>plane) << 2);
      let v = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= plane; i += 4) v = f32x4.add(v, v128.load(row + (<usize>i << 2)));
      let s: f32 = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
      for (; i < plane; i++) s += load<f32>(row + (<usize>i << 2));
      const at = pdb + (<usize>f << 2);
      store<f32>(at, img > first ? load<f32>(at) + s : s);
    }
    if (withDx) {
      matmulBlock(dx + ((<usize>img * <usize>c * <usize>pixels) << 2), W, colT, c, cols, pixels, false, false, false, pack);
    }
  }
}

// ---- leaky ReLU (element-wise, split in whole groups of 4 elements) -------------------------------
function leakyRelu(out: usize, x: usize, len: i32, alpha: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const zero = f32x4.splat(0);
  const av = f32x4.splat(alpha);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, v128.bitselect(v, f32x4.mul(v, av), f32x4.gt(v, zero)));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v > 0 ? v : alpha * v);
  }
}

function leakyReluBackward(dx: usize, dout: usize, x: usize, len: i32, alpha: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const zero = f32x4.splat(0);
  const av = f32x4.splat(alpha);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const d = v128.load(dout + o);
    v128.store(dx + o, v128.bitselect(d, f32x4.mul(d, av), f32x4.gt(v128.load(x + o), zero)));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const d = load<f32>(dout + o);
    store<f32>(dx + o, load<f32>(x + o) > 0 ? d : alpha * d);
  }
}

// ---- pooling (split by (n, c) plane) ----------------------------------------------------------------
/**
 * The book's pooling everywhere (2×2, stride 2, no pad), 4 outputs per step: even and odd columns
 * deinterleaved by shuffles, the winner kept with compare + bitselect. Branch-free (a scalar
 * compare-and-branch mispredicts about half the time on real data); same first-wins order and
 * all-padding semantics as the scalar loop.
 */
function maxPool2x2(out: usize, argmax: usize, x: usize, p: i32, h: i32, w: i32): void {
  const oh = h >> 1;
  const ow = w >> 1;
  const wb = <usize>w << 2;
  const lanes = i32x4(0, 2, 4, 6);
  const minusInf = f32x4.splat(-Infinity);
  for (let oy = 0; oy < oh; oy++) {
    const row = (p * h + 2 * oy) * w;
    const o = (p * oh + oy) * ow;
    let ox = 0;
    for (; ox + 4 <= ow; ox += 4) {
      const s = x + (<usize>(row + 2 * ox) << 2);
      const a0 = v128.load(s);
      const a1 = v128.load(s, 16);
      const b0 = v128.load(s + wb);
      const b1 = v128.load(s + wb, 16);
      const base = i32x4.add(i32x4.splat(row + 2 * ox), lanes);
      let best = minusInf;
      let at = i32x4.splat(-1);
      // Candidates in the reference's order: (0,0), (0,1), (1,0), (1,1).
      let v = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
      let gt = f32x4.gt(v, best);
      best = v128.bitselect(v, best, gt);
      at = v128.bitselect(base, at, gt);
      v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
      gt = f32x4.gt(v, best);
      best = v128.bitselect(v, best, gt);
      at = v128.bitselect(i32x4.add(base, i32x4.splat(1)), at, gt);
      v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
      gt = f32x4.gt(v, best);
      best = v128.bitselect(v, best, gt);
      at = v128.bitselect(i32x4.add(base, i32x4.splat(w)), at, gt);
      v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
      gt = f32x4.gt(v, best);
      best = v128.bitselect(v, best, gt);
      at = v128.bitselect(i32x4.add(base, i32x4.splat(w + 1)), at, gt);
      // A window of −∞/NaN only: argmax −1, output 0 (as the scalar loop).
      best = v128.bitselect(f32x4.splat(0), best, i32x4.lt_s(at, i32x4.splat(0)));
      v128.store(out + (<usize>(o + ox) << 2), best);
      v128.store(argmax + (<usize>(o + ox) << 2), at);
    }
    for (; ox < ow; ox++) {
      let best: f32 = -Infinity;
      let at = -1;
      for (let ky = 0; ky < 2; ky++) {
        for (let kx = 0; kx < 2; kx++) {
          const i = row + ky * w + 2 * ox + kx;
          const v = load<f32>(x + (<usize>i << 2));
          if (v > best) {
            best = v;
            at = i;
          }
        }
      }
      store<f32>(out + (<usize>(o + ox) << 2), at < 0 ? 0 : best);
      store<i32>(argmax + (<usize>(o + ox) << 2), at);
    }
  }
}

function maxPool(out: usize, argmax: usize, x: usize, n: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32, stride: i32, pad: i32, t: i32, T: i32): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  const p1 = share(n * c, 1, t + 1, T);
  if (ph == 2 && pw == 2 && stride == 2 && pad == 0) {
    for (let p = share(n * c, 1, t, T); p < p1; p++) maxPool2x2(out, argmax, x, p, h, w);
    return;
  }
  for (let p = share(n * c, 1, t, T); p < p1; p++) {
    for (let oy = 0; oy < oh; oy++) {
      let ox = 0;
      if (stride == 1) {
        // Four neighbouring outputs per vector wherever their windows lie inside the row
        // (Inception's 3×3 pad-1 branch): columns pad … w + pad − pw.
        for (; ox < pad && ox < ow; ox++) maxPoolWindow(out, argmax, x, p, h, w, ph, pw, 1, pad, oh, ow, oy, ox);
        for (; ox + 3 <= w + pad - pw; ox += 4) maxPoolStride1x4(out, argmax, x, p, h, w, ph, pw, pad, oh, ow, oy, ox);
      }
      for (; ox < ow; ox++) maxPoolWindow(out, argmax, x, p, h, w, ph, pw, stride, pad, oh, ow, oy, ox);
    }
  }
}

/** One output of maxPool: the window's first largest value (reference order: ky, then kx) and its index; 0 and −1 where none is > −∞. */
@inline function maxPoolWindow(out: usize, argmax: usize, x: usize, p: i32, h: i32, w: i32, ph: i32, pw: i32, stride: i32, pad: i32, oh: i32, ow: i32, oy: i32, ox: i32): void {
  const y0 = oy * stride - pad;
  const x0 = ox * stride - pad;
  const ky0 = max(0, -y0);
  const ky1 = min(ph, h - y0);
  const kx0 = max(0, -x0);
  const kx1 = min(pw, w - x0);
  // The winner is kept as its bits and chosen with an integer select: on real data the comparisons
  // are coin flips, and with a float select a 3×3/2 pooling ran 1.8× slower (V8 on x64, bench/pool.ts).
  let best: i32 = reinterpret<i32>(<f32>-Infinity);
  let at = -1;
  for (let ky = ky0; ky < ky1; ky++) {
    const row = (p * h + y0 + ky) * w + x0;
    for (let kx = kx0; kx < kx1; kx++) {
      const bits = load<i32>(x + (<usize>(row + kx) << 2));
      const gt = reinterpret<f32>(bits) > reinterpret<f32>(best);
      best = select<i32>(bits, best, gt);
      at = select<i32>(row + kx, at, gt);
    }
  }
  const o = <usize>((p * oh + oy) * ow + ox) << 2;
  store<f32>(out + o, at < 0 ? 0 : reinterpret<f32>(best));
  store<i32>(argmax + o, at);
}

/**
 * Outputs ox … ox + 3 of row oy of a stride-1 max pooling, whose windows lie inside the row
 * (ox − pad ≥ 0, ox + 3 − pad + pw ≤ w): lane j compares the same candidates in the same order as
 * maxPoolWindow for ox + j (rows outside the image skipped), so values and winners are its own.
 */
@inline function maxPoolStride1x4(out: usize, argmax: usize, x: usize, p: i32, h: i32, w: i32, ph: i32, pw: i32, pad: i32, oh: i32, ow: i32, oy: i32, ox: i32): void {
  const y0 = oy - pad;
  const ky0 = max(0, -y0);
  const ky1 = min(ph, h - y0);
  const lanes = i32x4(0, 1, 2, 3);
  let best = f32x4.splat(-Infinity);
  let at = i32x4.splat(-1);
  for (let ky = ky0; ky < ky1; ky++) {
    const row = (p * h + y0 + ky) * w + ox - pad;
    for (let kx = 0; kx < pw; kx++) {
      const v = v128.load(x + (<usize>(row + kx) << 2));
      // pmax(best, v) is v where v > best, else best (NaN never wins): one instruction, where a
      // bitselect on the comparison would put three on the chain through `best`.
      at = v128.bitselect(i32x4.add(i32x4.splat(row + kx), lanes), at, f32x4.gt(v, best));
      best = f32x4.pmax(best, v);
    }
  }
  // A window of −∞/NaN only: argmax −1, output 0 (as maxPoolWindow).
  best = v128.bitselect(f32x4.splat(0), best, i32x4.lt_s(at, i32x4.splat(0)));
  const o = <usize>((p * oh + oy) * ow + ox) << 2;
  v128.store(out + o, best);
  v128.store(argmax + o, at);
}

/** Each plane's winners lie in that plane (as maxPool writes them), so planes split cleanly. */
function maxPoolBackward(dx: usize, dout: usize, argmax: usize, n: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32, stride: i32, pad: i32, t: i32, T: i32): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  const p0 = share(n * c, 1, t, T);
  const p1 = share(n * c, 1, t + 1, T);
  const plane = <usize>h * <usize>w;
  if (p1 > p0) memory.fill(dx + ((<usize>p0 * plane) << 2), 0, (<usize>(p1 - p0) * plane) << 2);
  const o1 = p1 * oh * ow;
  for (let o = p0 * oh * ow; o < o1; o++) {
    const i = load<i32>(argmax + (<usize>o << 2));
    if (i >= 0) {
      const at = dx + (<usize>i << 2);
      store<f32>(at, load<f32>(at) + load<f32>(dout + (<usize>o << 2)));
    }
  }
}

function avgPool(out: usize, x: usize, n: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32, stride: i32, pad: i32, t: i32, T: i32): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  const inv: f32 = 1 / <f32>(ph * pw);
  const p1 = share(n * c, 1, t + 1, T);
  for (let p = share(n * c, 1, t, T); p < p1; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum: f32 = 0;
        for (let ky = 0; ky < ph; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx >= 0 && xx < w) sum += load<f32>(x + (<usize>((p * h + y) * w + xx) << 2));
          }
        }
        store<f32>(out + (<usize>((p * oh + oy) * ow + ox) << 2), sum * inv);
      }
    }
  }
}

function avgPoolBackward(dx: usize, dout: usize, n: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32, stride: i32, pad: i32, t: i32, T: i32): void {
  const oh = outSize(h, ph, stride, pad);
  const ow = outSize(w, pw, stride, pad);
  const inv: f32 = 1 / <f32>(ph * pw);
  const p0 = share(n * c, 1, t, T);
  const p1 = share(n * c, 1, t + 1, T);
  const plane = <usize>h * <usize>w;
  if (p1 > p0) memory.fill(dx + ((<usize>p0 * plane) << 2), 0, (<usize>(p1 - p0) * plane) << 2);
  for (let p = p0; p < p1; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const g = load<f32>(dout + (<usize>((p * oh + oy) * ow + ox) << 2)) * inv;
        for (let ky = 0; ky < ph; ky++) {
          const y = oy * stride + ky - pad;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < pw; kx++) {
            const xx = ox * stride + kx - pad;
            if (xx >= 0 && xx < w) {
              const at = dx + (<usize>((p * h + y) * w + xx) << 2);
              store<f32>(at, load<f32>(at) + g);
            }
          }
        }
      }
    }
  }
}

// ---- batch normalization, per channel of x (n, c, hw) -------------------------------------------------
// Statistics and gradient sums: a chunk is a run of channels (each channel summed whole, in plane
// order, by one thread: the same sums for any thread count); each plane is summed in f32 lanes and
// the planes in f64. The element-wise passes: a chunk is a run of (n, c) planes.

/** Σ of a plane of hw values. */
@inline function planeSum(p: usize, hw: i32): f32 {
  let v = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= hw; j += 4) v = f32x4.add(v, v128.load(p + (<usize>j << 2)));
  let s: f32 = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; j < hw; j++) s += load<f32>(p + (<usize>j << 2));
  return s;
}

/** Σ a·(b − mu) over a plane of hw values (a = b: the squared deviations). */
@inline function planeDot(a: usize, b: usize, mu: f32, hw: i32): f32 {
  const m = f32x4.splat(mu);
  let v = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= hw; j += 4) {
    const o = <usize>j << 2;
    v = f32x4.add(v, f32x4.mul(v128.load(a + o), f32x4.sub(v128.load(b + o), m)));
  }
  let s: f32 = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; j < hw; j++) s += load<f32>(a + (<usize>j << 2)) * (load<f32>(b + (<usize>j << 2)) - mu);
  return s;
}

function batchNormStats(mean: usize, variance: usize, x: usize, n: i32, c: i32, hw: i32, t: i32, T: i32): void {
  const c1 = share(c, 1, t + 1, T);
  const m = <f64>n * <f64>hw;
  for (let ch = share(c, 1, t, T); ch < c1; ch++) {
    let s: f64 = 0;
    for (let i = 0; i < n; i++) s += <f64>planeSum(x + ((<usize>(i * c + ch) * <usize>hw) << 2), hw);
    const mu = <f32>(s / m);
    let q: f64 = 0;
    for (let i = 0; i < n; i++) {
      const p = x + ((<usize>(i * c + ch) * <usize>hw) << 2);
      q += <f64>planeDot(p, p, mu, hw);
    }
    store<f32>(mean + (<usize>ch << 2), mu);
    store<f32>(variance + (<usize>ch << 2), <f32>(q / m));
  }
}

function batchNormForward(out: usize, x: usize, mean: usize, variance: usize, gamma: usize, beta: usize, n: i32, c: i32, hw: i32, relu: bool, eps: f32, t: i32, T: i32): void {
  const zero = f32x4.splat(0);
  const p1 = share(n * c, 1, t + 1, T);
  for (let p = share(n * c, 1, t, T); p < p1; p++) {
    // γ(x − μ)/σ + β as one multiply-add: x·(γ/σ) + (β − μγ/σ).
    const ch = <usize>(p % c) << 2;
    const a = load<f32>(gamma + ch) / sqrt<f32>(load<f32>(variance + ch) + eps);
    const b = load<f32>(beta + ch) - load<f32>(mean + ch) * a;
    const av = f32x4.splat(a);
    const bv = f32x4.splat(b);
    const base = <usize>p * <usize>hw;
    let j = 0;
    for (; j + 4 <= hw; j += 4) {
      const o = (base + <usize>j) << 2;
      const v = f32x4.add(f32x4.mul(v128.load(x + o), av), bv);
      v128.store(out + o, relu ? f32x4.pmax(zero, v) : v);
    }
    for (; j < hw; j++) {
      const o = (base + <usize>j) << 2;
      const v = load<f32>(x + o) * a + b;
      store<f32>(out + o, relu && !(v > 0) ? 0 : v);
    }
  }
}

/** dbeta[ch] = Σ dy, dgamma[ch] = Σ dy·(x − μ)/σ over each channel (batch norm's parameter gradients). */
function batchNormBackwardSums(dgamma: usize, dbeta: usize, dy: usize, x: usize, mean: usize, variance: usize, n: i32, c: i32, hw: i32, eps: f32, t: i32, T: i32): void {
  const c1 = share(c, 1, t + 1, T);
  for (let ch = share(c, 1, t, T); ch < c1; ch++) {
    const mu = load<f32>(mean + (<usize>ch << 2));
    let s: f64 = 0;
    let sx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const o = (<usize>(i * c + ch) * <usize>hw) << 2;
      s += <f64>planeSum(dy + o, hw);
      sx += <f64>planeDot(dy + o, x + o, mu, hw);
    }
    const std = sqrt<f64>(<f64>load<f32>(variance + (<usize>ch << 2)) + <f64>eps);
    store<f32>(dbeta + (<usize>ch << 2), <f32>s);
    store<f32>(dgamma + (<usize>ch << 2), <f32>(sx / std));
  }
}

/** dx = γ/σ·(dy − (dbeta + x̂·dgamma)/m) in training (`train`), γ/σ·dy in evaluation. */
function batchNormBackwardDx(dx: usize, dy: usize, x: usize, mean: usize, variance: usize, gamma: usize, dgamma: usize, dbeta: usize, n: i32, c: i32, hw: i32, train: bool, eps: f32, t: i32, T: i32): void {
  const m = <f32>n * <f32>hw;
  const p1 = share(n * c, 1, t + 1, T);
  for (let p = share(n * c, 1, t, T); p < p1; p++) {
    // = a·dy + b·(x − μ) + k with a = γ/σ, b = −a·dgamma/(mσ), k = −a·dbeta/m.
    const ch = <usize>(p % c) << 2;
    const mu = load<f32>(mean + ch);
    const std = sqrt<f32>(load<f32>(variance + ch) + eps);
    const ac = load<f32>(gamma + ch) / std;
    const bc: f32 = train ? (-ac * load<f32>(dgamma + ch)) / (m * std) : 0;
    const kc: f32 = train ? (-ac * load<f32>(dbeta + ch)) / m : 0;
    const mv = f32x4.splat(mu);
    const av = f32x4.splat(ac);
    const bv = f32x4.splat(bc);
    const kv = f32x4.splat(kc);
    const base = <usize>p * <usize>hw;
    let j = 0;
    for (; j + 4 <= hw; j += 4) {
      const o = (base + <usize>j) << 2;
      const xc = f32x4.sub(v128.load(x + o), mv);
      v128.store(dx + o, f32x4.add(f32x4.add(f32x4.mul(av, v128.load(dy + o)), f32x4.mul(bv, xc)), kv));
    }
    for (; j < hw; j++) {
      const o = (base + <usize>j) << 2;
      store<f32>(dx + o, ac * load<f32>(dy + o) + bc * (load<f32>(x + o) - mu) + kc);
    }
  }
}

// ---- optimizer updates (element-wise, in place) ------------------------------------------------------
function sgdUpdate(w: usize, g: usize, len: i32, lr: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const lv = f32x4.splat(lr);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.mul(lv, v128.load(g + o))));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    store<f32>(w + o, load<f32>(w + o) - lr * load<f32>(g + o));
  }
}

function momentumUpdate(w: usize, v: usize, g: usize, len: i32, lr: f32, momentum: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const lv = f32x4.splat(lr);
  const mv = f32x4.splat(momentum);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const vn = f32x4.sub(f32x4.mul(mv, v128.load(v + o)), f32x4.mul(lv, v128.load(g + o)));
    v128.store(v + o, vn);
    v128.store(w + o, f32x4.add(v128.load(w + o), vn));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const vn = momentum * load<f32>(v + o) - lr * load<f32>(g + o);
    store<f32>(v + o, vn);
    store<f32>(w + o, load<f32>(w + o) + vn);
  }
}

function adagradUpdate(w: usize, h: usize, g: usize, len: i32, lr: f32, eps: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const lv = f32x4.splat(lr);
  const ev = f32x4.splat(eps);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const hv = f32x4.add(v128.load(h + o), f32x4.mul(gv, gv));
    v128.store(h + o, hv);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(lv, gv), f32x4.add(f32x4.sqrt(hv), ev))));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const hv = load<f32>(h + o) + gv * gv;
    store<f32>(h + o, hv);
    store<f32>(w + o, load<f32>(w + o) - (lr * gv) / (Mathf.sqrt(hv) + eps));
  }
}

function rmspropUpdate(w: usize, h: usize, g: usize, len: i32, lr: f32, decay: f32, eps: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const lv = f32x4.splat(lr);
  const dv = f32x4.splat(decay);
  const cv = f32x4.splat(1 - decay);
  const ev = f32x4.splat(eps);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const hv = f32x4.add(f32x4.mul(dv, v128.load(h + o)), f32x4.mul(f32x4.mul(cv, gv), gv));
    v128.store(h + o, hv);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(lv, gv), f32x4.add(f32x4.sqrt(hv), ev))));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    const hv = decay * load<f32>(h + o) + (1 - decay) * gv * gv;
    store<f32>(h + o, hv);
    store<f32>(w + o, load<f32>(w + o) - (lr * gv) / (Mathf.sqrt(hv) + eps));
  }
}

function adamUpdate(w: usize, m: usize, v: usize, g: usize, len: i32, lrT: f32, beta1: f32, beta2: f32, eps: f32, t: i32, T: i32): void {
  const e = share(len, 4, t + 1, T);
  let i = share(len, 4, t, T);
  const lv = f32x4.splat(lrT);
  const c1 = f32x4.splat(1 - beta1);
  const c2 = f32x4.splat(1 - beta2);
  const ev = f32x4.splat(eps);
  for (; i + 4 <= e; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    let mv = v128.load(m + o);
    let vv = v128.load(v + o);
    mv = f32x4.add(mv, f32x4.mul(c1, f32x4.sub(gv, mv)));
    vv = f32x4.add(vv, f32x4.mul(c2, f32x4.sub(f32x4.mul(gv, gv), vv)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(lv, mv), f32x4.add(f32x4.sqrt(vv), ev))));
  }
  for (; i < e; i++) {
    const o = <usize>i << 2;
    const gv = load<f32>(g + o);
    let mv = load<f32>(m + o);
    let vv = load<f32>(v + o);
    mv += (1 - beta1) * (gv - mv);
    vv += (1 - beta2) * (gv * gv - vv);
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    store<f32>(w + o, load<f32>(w + o) - (lrT * mv) / (Mathf.sqrt(vv) + eps));
  }
}

// ---- dispatch ----------------------------------------------------------------------------------------
/** Elements per chunk of element-wise work: big enough to amortize a claim, small enough to balance. */
const GRAIN: i32 = 16384;

@inline function chunksOf(items: i32, grain: i32): i32 {
  return (items + grain - 1) / grain;
}

/** How many chunks job `op` is cut into: from its shape only, never from the thread count. */
function chunkCount(op: i32, s: usize): i32 {
  switch (op) {
    case 1: return matmulChunks(arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 7) != 0, arg(s, 9));
    case 2: case 12: return min(arg(s, 3), chunksOf(arg(s, 3) * arg(s, 4), GRAIN));
    case 11: return min(arg(s, 2), chunksOf(arg(s, 2) * arg(s, 3), GRAIN));
    case 3: return chunksOf(arg(s, 3), SUM_COLS);
    case 4: return arg(s, 2) > 1 ? arg(s, 2) : (arg(s, 3) + 31) / 32;
    case 5: case 7: return chunksOf(arg(s, 2), GRAIN);
    case 19: return chunksOf(arg(s, 2), GRAIN);
    case 6: case 8: case 9: case 10: case 20: case 21: case 22: return chunksOf(arg(s, 3), GRAIN);
    case 23: return chunksOf(arg(s, 4), GRAIN);
    case 24: return splitSlices(arg(s, 4)) * matmulChunks(arg(s, 3), 0, arg(s, 5), false, 1);
    case 26: return halfChunks(arg(s, 4));
    case 25: return chunksOf(arg(s, 2), GRAIN);
    case 13: case 14: return arg(s, 2);
    case 27: return arg(s, 4);
    case 50: return max(1, min(arg(s, 4), chunksOf(arg(s, 3) * arg(s, 4) * arg(s, 5), GRAIN)));
    case 51: return max(1, min(arg(s, 6) * arg(s, 7), chunksOf(arg(s, 6) * arg(s, 7) * arg(s, 8), GRAIN)));
    case 52: return max(1, min(arg(s, 7), chunksOf(arg(s, 6) * arg(s, 7) * arg(s, 8), GRAIN)));
    case 53: return max(1, min(arg(s, 8) * arg(s, 9), chunksOf(arg(s, 8) * arg(s, 9) * arg(s, 10), GRAIN)));
    case 28: return (arg(s, 5) + CONV_GROUP - 1) / CONV_GROUP;
    case 60: return arg(s, 4);
    case 61: return (arg(s, 5) + DECONV_GROUP - 1) / DECONV_GROUP;
    case 62: return chunksOf(arg(s, 2), GRAIN);
    case 64: return chunksOf(arg(s, 1), GRAIN);
    case 63: return chunksOf(arg(s, 3), GRAIN);
    case 40: return min(arg(s, 5), chunksOf(arg(s, 5) * arg(s, 6) * 4, GRAIN));
    case 41: return min(arg(s, 7), chunksOf(arg(s, 7) * arg(s, 8) * 4, GRAIN));
    case 70: return round4(arg(s, 2)) >> 2;
    case 73: return arg(s, 4) == 4 ? round4(arg(s, 2)) >> 2 : arg(s, 2);
    case 71: return winoForwardChunks(arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 18));
    case 72: return winogradGroups(arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 18));
    case 15: case 16: {
      const planes = arg(s, 3) * arg(s, 4);
      return min(planes, chunksOf(planes * arg(s, 5) * arg(s, 6), GRAIN));
    }
    case 17: case 18: {
      const planes = arg(s, 2) * arg(s, 3);
      return min(planes, chunksOf(planes * arg(s, 4) * arg(s, 5), GRAIN));
    }
    default: unreachable();
  }
  return 0;
}

/** Floats of this thread's colᵀ scratch: one image's (c·fh·fw) × (oh·ow). */
@inline function colFloats(c: i32, h: i32, w: i32, fh: i32, fw: i32, stride: i32, pad: i32): usize {
  return <usize>(c * fh * fw) * <usize>(outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad));
}

/**
 * Floats of one thread's scratch in a fused forward: colᵀ, then (for convReluPool2x2Image) the
 * product's round4(fn) × oh·ow rows. src/backend/wasm.ts allocates threads times this.
 */
export function convForwardScratch(
  c: i32, h: i32, w: i32, fn: i32, fh: i32, fw: i32, stride: i32, pad: i32, rectify: bool, ph: i32, pw: i32, pstride: i32, ppad: i32,
): usize {
  const col = isPointwise(fh, fw, stride, pad) ? 0 : colFloats(c, h, w, fh, fw, stride, pad);
  if (!isPool2x2(rectify, ph, pw, pstride, ppad)) return col;
  return col + <usize>round4(fn) * <usize>(outSize(h, fh, stride, pad) * outSize(w, fw, stride, pad));
}

function runChunk(op: i32, s: usize, c: i32, C: i32, pack: usize, gen: i32, t: i32): void {
  switch (op) {
    case 1: matmul(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6) != 0, arg(s, 7) != 0, arg(s, 8) != 0, arg(s, 9), pack, gen, c); break;
    case 2: addBias(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), c, C); break;
    case 3: sumRows(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, C); break;
    case 4: transpose(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), c, C); break;
    case 5: relu(arg(s, 0), arg(s, 1), arg(s, 2), c, C); break;
    case 6: reluBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, C); break;
    case 7: sigmoid(arg(s, 0), arg(s, 1), arg(s, 2), c, C); break;
    case 8: sigmoidBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, C); break;
    case 9: axpby(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), farg(s, 0), farg(s, 1), c, C); break;
    case 10: mul(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, C); break;
    case 11: softmax(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, C); break;
    case 12: softmaxCrossEntropyBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), farg(s, 0), c, C); break;
    case 13: im2col(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), c, C, pack); break;
    case 14: col2im(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), c, C); break;
    case 15: maxPool(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), c, C); break;
    case 16: maxPoolBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), c, C); break;
    case 17: avgPool(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), c, C); break;
    case 18: avgPoolBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), c, C); break;
    case 19: sgdUpdate(arg(s, 0), arg(s, 1), arg(s, 2), farg(s, 0), c, C); break;
    case 20: momentumUpdate(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), farg(s, 0), farg(s, 1), c, C); break;
    case 21: adagradUpdate(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), farg(s, 0), farg(s, 1), c, C); break;
    case 22: rmspropUpdate(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), farg(s, 0), farg(s, 1), farg(s, 2), c, C); break;
    case 23: adamUpdate(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), farg(s, 0), farg(s, 1), farg(s, 2), farg(s, 3), c, C); break;
    case 24: matmulSplitK(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), pack, gen, c); break;
    case 26: matmulHalf(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7) != 0, pack, gen, c); break;
    case 50: batchNormStats(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), c, C); break;
    case 51: batchNormForward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9) != 0, farg(s, 0), c, C); break;
    case 52: batchNormBackwardSums(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), farg(s, 0), c, C); break;
    case 53: batchNormBackwardDx(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11) != 0, farg(s, 0), c, C); break;
    case 25: matmulReduce(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4) != 0, c, C); break;
    case 27: {
      const colT = <usize>arg(s, 14) + ((<usize>t * convForwardScratch(arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12), arg(s, 13) != 0, arg(s, 17), arg(s, 18), arg(s, 19), arg(s, 20))) << 2);
      if (isPool2x2(arg(s, 13) != 0, arg(s, 17), arg(s, 18), arg(s, 19), arg(s, 20))) {
        const col = isPointwise(arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12)) ? 0 : colFloats(arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12));
        const prod = colT + (col << 2);
        convReluPool2x2Image(arg(s, 15), arg(s, 16), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12), colT, prod, pack, c);
        break;
      }
      convForwardImage(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12), arg(s, 13) != 0, colT, pack, c);
      if (arg(s, 17) > 0) {
        // The pooling of this image's planes (maxPool's share of image c of n), while they are in cache.
        const oh = outSize(arg(s, 6), arg(s, 9), arg(s, 11), arg(s, 12));
        const ow = outSize(arg(s, 7), arg(s, 10), arg(s, 11), arg(s, 12));
        maxPool(arg(s, 15), arg(s, 16), arg(s, 0), arg(s, 4), arg(s, 8), oh, ow, arg(s, 17), arg(s, 18), arg(s, 19), arg(s, 20), c, arg(s, 4));
      }
      break;
    }
    case 28: {
      const colT = <usize>arg(s, 15) + ((<usize>t * colFloats(arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 10), arg(s, 11), arg(s, 12), arg(s, 13))) << 2);
      convBackwardGroup(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12), arg(s, 13), arg(s, 14) != 0, colT, pack, c,
        arg(s, 16), arg(s, 17), arg(s, 18), arg(s, 19), arg(s, 20));
      break;
    }
    case 40: lstmForward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), c, C); break;
    case 41: lstmBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), c, C); break;
    // The Winograd ops take the output tile size m (2 or 4) last: arg 4 of 70 and 73, arg 18 of 71 and 72.
    case 70: winogradFilters(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, arg(s, 4)); break;
    case 71: {
      const scratch = <usize>arg(s, 11) + ((<usize>t * <usize>winogradScratch(arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 18))) << 2);
      winogradForward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10) != 0, scratch, pack, c,
        arg(s, 12), arg(s, 13), arg(s, 14), arg(s, 15), arg(s, 16), arg(s, 17), arg(s, 18));
      break;
    }
    case 72: {
      const scratch = <usize>arg(s, 12) + ((<usize>t * <usize>winogradScratch(arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 18))) << 2);
      winogradBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11) != 0, scratch, pack, c,
        arg(s, 13), arg(s, 14), arg(s, 15), arg(s, 16), arg(s, 17), arg(s, 18));
      break;
    }
    case 73: winogradFilterGrad(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), c, arg(s, 4)); break;
    case 60: {
      // deconvForward: out, x, Wt, b, n, c, h, w, fn, fh, fw, stride, pad, outPad, colT scratch
      const colT = <usize>arg(s, 14) + ((<usize>t * <usize>(arg(s, 8) * arg(s, 9) * arg(s, 10)) * <usize>(arg(s, 6) * arg(s, 7))) << 2);
      deconvForwardImage(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12), arg(s, 13), colT, pack, c);
      break;
    }
    case 61: {
      // deconvBackward: dx, partials, dout, x, W, n, c, h, w, fn, fh, fw, stride, pad, outPad, withDx, colT scratch
      const colT = <usize>arg(s, 16) + ((<usize>t * <usize>(arg(s, 9) * arg(s, 10) * arg(s, 11)) * <usize>(arg(s, 7) * arg(s, 8))) << 2);
      deconvBackwardGroup(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 4), arg(s, 5), arg(s, 6), arg(s, 7), arg(s, 8), arg(s, 9), arg(s, 10), arg(s, 11), arg(s, 12), arg(s, 13), arg(s, 14), arg(s, 15) != 0, colT, pack, c);
      break;
    }
    case 64: zeroFill(arg(s, 0), arg(s, 1), c, C); break;
    case 62: leakyRelu(arg(s, 0), arg(s, 1), arg(s, 2), farg(s, 0), c, C); break;
    case 63: leakyReluBackward(arg(s, 0), arg(s, 1), arg(s, 2), arg(s, 3), farg(s, 0), c, C); break;
    default: unreachable();
  }
}

/**
 * Runs chunks of job `gen` until none is left; returns the job's chunk count. `pack` is the calling
 * thread's own matmul scratch (PACK_BYTES). A claim succeeds only while the counter still carries this job's
 * generation, so a thread that wakes late for a finished job claims nothing (and reads nothing but
 * its arguments, which sit in the slot the next job does not write).
 */
export function runJob(ctrl: usize, gen: i32, t: i32, pack: usize): i32 {
  const s = ctrl + SLOTS + (<usize>(gen & 1)) * SLOT_BYTES;
  const op = load<i32>(s);
  const C = chunkCount(op, s);
  const tag = <i64>gen << 32;
  // Odd threads claim from the back: the counter's low 32 bits count the chunks taken from the
  // front (low 16) and from the back (high 16). A job of 65,536 chunks or more (none of the
  // library's shapes come near) is claimed from the front only, its low 32 bits one count.
  const back = (t & 1) != 0 && C < 0x10000;
  for (;;) {
    const v = atomic.load<i64>(ctrl + COUNTER);
    if ((v & 0xffffffff00000000) != tag) break;
    const front = C < 0x10000 ? <i32>(v & 0xffff) : <i32>(v & 0xffffffff);
    const taken = C < 0x10000 ? front + <i32>((v >> 16) & 0xffff) : front;
    if (taken >= C) break;
    const c = back ? C - 1 - (taken - front) : front;
    if (atomic.cmpxchg<i64>(ctrl + COUNTER, v, v + (back ? 0x10000 : 1)) != v) continue;
    runChunk(op, s, c, C, pack, gen, t);
    atomic.add<i32>(ctrl + FINISHED, 1);
  }
  return C;
}
