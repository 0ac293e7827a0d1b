import type { Device, Floats, HostMemory } from "../ndarray.js";

/**
 * The kernel contract: flat loops over typed arrays. Outputs first, then inputs, then sizes.
 * Every array is row-major and dense. Unless a kernel says otherwise an output must not alias an
 * input, and every output element is written (outputs need not be zeroed by the caller).
 * All arrays passed to one call have the same element type (all Float32Array or all Float64Array).
 *
 * `reference.ts` is the specification; a fast backend spreads it and overrides hot kernels.
 * The WebGPU backend (webgpu/kernels.ts) lists every kernel: a new one needs a WGSL version there,
 * or `hostOnly` until it has one (then it runs on host arrays only, and says so on GPU arrays).
 */
export interface Kernels {
  readonly name: string;
  /**
   * Set by a device backend (WebGPU), whose kernels take handles to device memory (`NDArray.buf`)
   * instead of typed arrays; absent for the CPU backends.
   */
  readonly device?: Device;
  /**
   * Set by a CPU backend with memory of its own (WASM with shared memory), where a model's arrays
   * live so that its kernels run on them in place (ndarray.ts `HostMemory`).
   */
  readonly hostMemory?: HostMemory;

  // ---- linear algebra -------------------------------------------------------------------
  /**
   * out(m×n) = op(a)·op(b) (+ out when `accumulate`), op(a) m×k, op(b) k×n.
   * a is stored m×k, or k×m when transA; b is stored k×n, or n×k when transB.
   */
  matmul(
    out: Floats,
    a: Floats,
    b: Floats,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
    accumulate?: boolean,
  ): void;
  /** out[i·cols + j] = x[i·cols + j] + bias[j]. out may alias x. */
  addBias(out: Floats, x: Floats, bias: Floats, rows: number, cols: number): void;
  /** out[j] = Σ_i x[i·cols + j] (column sums; db of Affine). */
  sumRows(out: Floats, x: Floats, rows: number, cols: number): void;
  /** out[i·cols + j] = x[i·cols + j] · scale[j] (per-feature scale; batch norm). out may alias x. */
  scaleColumns(out: Floats, x: Floats, scale: Floats, rows: number, cols: number): void;
  /** Batched 2-D transpose: x (batch, rows, cols) → out (batch, cols, rows). */
  transpose(out: Floats, x: Floats, batch: number, rows: number, cols: number): void;

  // ---- element-wise ---------------------------------------------------------------------
  /** out = max(x, 0). out may alias x. */
  relu(out: Floats, x: Floats): void;
  /** dx = dout where x > 0, else 0. dx may alias dout. */
  reluBackward(dx: Floats, dout: Floats, x: Floats): void;
  /** out = 1 / (1 + exp(-x)), without overflow for large |x|. out may alias x. */
  sigmoid(out: Floats, x: Floats): void;
  /** dx = dout · y · (1 − y), y the forward output. dx may alias dout. */
  sigmoidBackward(dx: Floats, dout: Floats, y: Floats): void;
  /** out = tanh(x). out may alias x. */
  tanh(out: Floats, x: Floats): void;
  /** dx = dout · (1 − y²), y the forward output. dx may alias dout. */
  tanhBackward(dx: Floats, dout: Floats, y: Floats): void;
  /** out = a·x + b·y element-wise (axpby). out may alias x or y. */
  axpby(out: Floats, a: number, x: Floats, b: number, y: Floats): void;
  /** out = x ⊙ y. out may alias x or y. */
  mul(out: Floats, x: Floats, y: Floats): void;

  // ---- softmax and loss -----------------------------------------------------------------
  /** Row-wise softmax, overflow-safe (max subtracted). out may alias x. */
  softmax(out: Floats, x: Floats, rows: number, cols: number): void;
  /**
   * Fused softmax + cross-entropy over class labels: writes probs = softmax(x) and loss[0] = the
   * summed loss Σ_i −log(probs[i, t_i] + 1e-7) (the book's delta). Caller divides by rows. (An
   * array, not a return value: a device backend's loss stays on the device until it is read.)
   */
  softmaxCrossEntropy(
    loss: Floats,
    probs: Floats,
    x: Floats,
    labels: Int32Array,
    rows: number,
    cols: number,
  ): void;
  /** dx = (probs − onehot(labels)) · scale. dx may alias probs. */
  softmaxCrossEntropyBackward(
    dx: Floats,
    probs: Floats,
    labels: Int32Array,
    rows: number,
    cols: number,
    scale: number,
  ): void;

  // ---- convolution ----------------------------------------------------------------------
  /** x (n, c, h, w) → col (n·oh·ow, c·fh·fw), the book's im2col layout; padding is zeros. */
  im2col(
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
  ): void;
  /** Inverse scatter-add of im2col: col (n·oh·ow, c·fh·fw) → dx (n, c, h, w). dx is overwritten. */
  col2im(
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
  ): void;

  /**
   * Fused convolution forward, the book's im2col route in one call: out (n, fn, oh, ow) = every
   * c×fh×fw window of x (n, c, h, w) · W (fn, c·fh·fw)ᵀ + b (fn). The reference composes exactly
   * im2col → matmul(col, Wᵀ) → addBias → transpose; a fast backend keeps col to itself.
   */
  convForward(
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
  ): void;
  /**
   * Fused convolution backward from dout (n, fn, oh, ow): dx (n, c, h, w), dW (fn, c·fh·fw) and
   * db (fn), all overwritten. The windows of x are recomputed (im2col), not cached: a col matrix is
   * c·fh·fw times the size of x. An empty dx (length 0) skips dx: a network's first layer has no
   * use for it, and it costs a matmul and a col2im.
   */
  convBackward(
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
  ): void;

  /**
   * The book's Convolution → ReLU (→ max Pooling) block in one call. With ph = 0 there is no
   * pooling: out (n, fn, oh, ow) = relu(convForward(x)), argmax unused (may be empty). With ph > 0:
   * out (n, fn, poh, pow) = maxPool(relu(convForward(x))) over ph×pw windows (pstride, ppad), and
   * argmax[o] is the winner's flat index into the (n, fn, oh, ow) ReLU output. The reference
   * composes exactly convForward → relu → maxPool; a fast backend keeps the intermediates to itself.
   */
  convReluPoolForward(
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
  ): void;
  /**
   * Backward of convReluPoolForward from dout (out's shape), given its `out` and `argmax`: dx, dW,
   * db as convBackward (an empty dx skips dx). The ReLU mask is taken at out (out > 0): a pooled
   * value is its winner's ReLU output, so masking dout before routing it to the winners equals
   * routing first and masking after (maxPoolBackward, then reluBackward).
   */
  convReluPoolBackward(
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
  ): void;

  // ---- pooling (x (n, c, h, w) → out (n, c, oh, ow); padding never wins a max / counts as 0 in avg) --
  /** Max pooling; argmax[o] is the flat index into x of the winner (−1 if the window is all padding). */
  maxPool(
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
  ): void;
  /** dx (n, c, h, w) is overwritten: zeros, plus dout routed to each window's argmax. */
  maxPoolBackward(
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
  ): void;
  /** Average pooling; padded cells count in the divisor ph·pw (as the book's im2col form does). */
  avgPool(
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
  ): void;
  /** dx is overwritten: each window spreads dout / (ph·pw) over its cells. */
  avgPoolBackward(
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
  ): void;

  // ---- batch normalization, per channel of x (n, c, hw); an (N, D) input is (N, D, 1) ---------
  /** mean[ch] and variance[ch] (biased: ÷ n·hw) of each channel, the variance about the mean (two passes). */
  batchNormStats(mean: Floats, variance: Floats, x: Floats, n: number, c: number, hw: number): void;
  /**
   * out = gamma[ch]·(x − mean[ch]) / √(variance[ch] + eps) + beta[ch], then max(·, 0) when `relu`
   * (a following ReLU fused in). The statistics are the batch's (training) or the running ones.
   */
  batchNormForward(
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
  ): void;
  /**
   * Backward of batchNormForward (without ReLU) from dy: dbeta[ch] = Σ dy, dgamma[ch] = Σ dy·x̂ with
   * x̂ = (x − mean)/σ, σ = √(variance + eps); dx = gamma/σ·(dy − (dbeta + x̂·dgamma)/m), m = n·hw,
   * when `train` (the statistics were the batch's, so they depend on x), else dx = gamma/σ·dy.
   */
  batchNormBackward(
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
  ): void;

  // ---- recurrent cells (the sequel's LSTM; gate blocks in the order f, g, i, o) --------------
  /**
   * The LSTM cell after its affine, for n rows of h units: a (n, 4h) holds the pre-activations of
   * the forget, candidate, input and output gates, side by side in that order. Writes
   * gates (n, 4h) = [σ(a_f) | tanh(a_g) | σ(a_i) | σ(a_o)], c (n, h) = f⊙cPrev + g⊙i and
   * hNext (n, h) = o⊙tanh(c).
   */
  lstmForward(gates: Floats, c: Floats, hNext: Floats, a: Floats, cPrev: Floats, n: number, h: number): void;
  /**
   * Backward of lstmForward from dh and dc (n, h), the gradients of its hNext and c (dc: from the
   * step after). Writes da (n, 4h), the pre-activations' gradient, and dcPrev (n, h). dcPrev may
   * alias dc.
   */
  lstmBackward(
    da: Floats,
    dcPrev: Floats,
    dh: Floats,
    dc: Floats,
    gates: Floats,
    cPrev: Floats,
    c: Floats,
    n: number,
    h: number,
  ): void;
  // ---- local response normalization (AlexNet), across channels of x (n, c, h, w) ----------
  /**
   * scale = k + (alpha/size)·Σ x² over the `size` channels centred on each one (fewer at the
   * edges), at the same position; out = x·scale^−beta. `size` is odd.
   */
  lrnForward(
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
  ): void;
  /**
   * Backward of lrnForward given its x, out and scale:
   * dx_j = dout_j·scale_j^−beta − (2·alpha·beta/size)·x_j·Σ_{channels c within the window of j} dout_c·out_c/scale_c.
   */
  lrnBackward(
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
  ): void;

  // ---- optimizer updates (w, state updated in place) ------------------------------------
  /** w −= lr·g */
  sgdUpdate(w: Floats, g: Floats, lr: number): void;
  /** v = momentum·v − lr·g; w += v */
  momentumUpdate(w: Floats, v: Floats, g: Floats, lr: number, momentum: number): void;
  /** The book's Nesterov: w += momentum²·v − (1+momentum)·lr·g; v = momentum·v − lr·g */
  nesterovUpdate(w: Floats, v: Floats, g: Floats, lr: number, momentum: number): void;
  /** h += g²; w −= lr·g / (√h + eps) */
  adagradUpdate(w: Floats, h: Floats, g: Floats, lr: number, eps: number): void;
  /** h = decay·h + (1−decay)·g²; w −= lr·g / (√h + eps) */
  rmspropUpdate(w: Floats, h: Floats, g: Floats, lr: number, decay: number, eps: number): void;
  /** The book's Adam: m += (1−β1)(g−m); v += (1−β2)(g²−v); w −= lrT·m / (√v + eps) */
  adamUpdate(
    w: Floats,
    m: Floats,
    v: Floats,
    g: Floats,
    lrT: number,
    beta1: number,
    beta2: number,
    eps: number,
  ): void;

  // ---- transposed convolution and leaky ReLU (DCGAN, book §8.5.2) ------------------------------
  /**
   * Transposed convolution ("deconvolution") forward: out (n, fn, oh, ow) = the backward-data pass
   * of a convolution with filters W (c, fn, fh, fw) applied to x (n, c, h, w), plus b (fn). Each
   * input pixel scatters its c values · W into an fh×fw window of the output at stride `stride`,
   * shifted by −pad; oh = (h − 1)·stride − 2·pad + fh + outPad (outPad < stride adds rows and
   * columns at the bottom and right that only windows reach). The reference composes exactly
   * transpose(x) → matmul(·, W) → col2im → bias, with col2im's geometry the convolution from
   * (oh, ow) back to (h, w).
   */
  deconvForward(
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
  ): void;
  /**
   * Transposed convolution backward from dout (n, fn, oh, ow): dx (n, c, h, w) = the forward of
   * the convolution with filters W over dout (no bias); dW (c, fn, fh, fw) = Σ x · the windows of
   * dout; db (fn) = Σ dout per channel. All overwritten; an empty dx (length 0) skips dx.
   */
  deconvBackward(
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
  ): void;
  /** out = x where x > 0, else alpha·x. out may alias x. */
  leakyRelu(out: Floats, x: Floats, alpha: number): void;
  /**
   * dx = dout where x > 0, else alpha·dout. x is the forward input, or its output (for alpha ≥ 0 they
   * have the same sign). dx may alias dout.
   */
  leakyReluBackward(dx: Floats, dout: Floats, x: Floats, alpha: number): void;

  // ---- copies, word vectors and gradient clipping (graph networks, recurrent networks) --------------
  /**
   * Strided block copies: out[outOffset + b·outStride + j] = x[xOffset + b·xStride + j] for
   * b < blocks, j < run. Slices, concatenation along an axis and axis swaps are such copies; only
   * those positions of out are written. out must not overlap x.
   */
  copyBlocks(
    out: Floats,
    x: Floats,
    blocks: number,
    run: number,
    outStride: number,
    outOffset: number,
    xStride: number,
    xOffset: number,
  ): void;
  /** Embedding: out (n, d) row i = W (v, d) row ids[i]; ids are whole numbers in [0, v) stored as floats. */
  embeddingForward(out: Floats, W: Floats, ids: Floats, n: number, d: number): void;
  /**
   * Embedding backward: dW (v, d) row r = Σ of dout (n, d) rows i with ids[i] = r, in order of i
   * (zero where no id is r).
   */
  embeddingBackward(dW: Floats, dout: Floats, ids: Floats, n: number, v: number, d: number): void;
  /** out[0] = Σ x², plus the old out[0] when `accumulate` (a global norm over several arrays). */
  sumSquares(out: Floats, x: Floats, accumulate: boolean): void;
  /**
   * Gradient clipping by global norm: x ·= rate where rate = maxNorm / (√sumSq[0] + 1e-6) is < 1;
   * x as it was otherwise. sumSq (1) is `sumSquares` over every gradient.
   */
  clipByNorm(x: Floats, sumSq: Floats, maxNorm: number): void;
}
