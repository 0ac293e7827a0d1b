import { OptionError, ShapeError, formatShape } from "../errors.js";
import { initWeights } from "../init.js";
import { Affine } from "../layers/affine.js";
import { Convolution } from "../layers/convolution.js";
import { Embedding } from "../layers/embedding.js";
import { fuseLayers } from "../layers/fused-convolution.js";
import type { Layer, Mode, Param } from "../layers/layer.js";
import { LSTM } from "../layers/lstm.js";
import { Tanh } from "../layers/tanh.js";
import { TimeAffine } from "../layers/time-affine.js";
import { TimeLSTM } from "../layers/time-lstm.js";
import { TimeSoftmaxWithLoss } from "../layers/time-softmax-with-loss.js";
import { NDArray, deviceStep, type DType, type Labels } from "../ndarray.js";
import { softmax } from "../ops/softmax.js";
import type { Rng } from "../rng.js";
import { buildLayers, type LayerSpec } from "./layer-spec.js";
import { numberedParams } from "./sequential.js";

/** An image captioner's architecture, as stored in its model file. */
export interface CaptionerSpec {
  kind: "captioner";
  /** One image's shape (C, H, W). */
  inputShape: number[];
  /** The tokens by id: "<start>" (0) and "<end>" (1) first, then the words. */
  tokens: string[];
  /** The longest caption, in words. */
  maxLength: number;
  /** The convolutional encoder: layers from the image to a flat feature vector. */
  encoder: LayerSpec[];
  /** Word vector size D. */
  wordvecSize: number;
  /** LSTM units H. */
  hiddenSize: number;
  /**
   * The sequel's "peeky" decoder (default false): h0 also goes, at every step, into the LSTM
   * (after the word vector: input D + H) and into the output layer (after the LSTM's h: input 2H).
   */
  peeky?: boolean;
  [option: string]: unknown;
}

const START = 0;
const END = 1;

export interface CaptionOptions {
  /** 1 (default): greedy, the most likely word at each step. More: beam search of this width. */
  beamWidth?: number;
  /** Images per forward pass. */
  batchSize?: number;
}

/**
 * The NIC captioner (Vinyals et al. 2015; book §8.4.3) with the sequel's seq2seq wiring: a
 * convolutional encoder turns the image into features, Affine → tanh makes them the LSTM's initial
 * hidden state (its cell starts at 0), and the LSTM decoder reads `<start> w1 … wk` (Embedding) and
 * is trained (teacher forcing, TimeSoftmaxWithLoss, padding ignored) to write `w1 … wk <end>`.
 * The gradient reaches the encoder through the decoder's dh. Decoding is greedy or beam search,
 * one step at a time through the LSTM cell.
 *
 * Params are numbered through the whole network the book's way (W1, b1 of the first convolution,
 * …, the Embedding's W, the LSTM's Wx1, Wh1, and so on).
 */
export class Captioner {
  readonly spec: CaptionerSpec;
  readonly params: readonly Param[];
  /** Every layer, encoder first (a model file saves any batch norm statistics among them). */
  readonly layers: readonly Layer[];
  /** The encoder's layers, then the bridge (Affine, Tanh) to the LSTM's initial state. */
  readonly encoder: readonly Layer[];
  readonly embedding: Embedding;
  readonly lstm: TimeLSTM;
  readonly output: TimeAffine;
  readonly lossLayer = new TimeSoftmaxWithLoss({ ignoreLabel: -1 });
  /** What the encoder runs: Convolution → ReLU → Pool blocks fused (the same values, faster). */
  readonly #encoderSteps: readonly Layer[];
  /** h0 of the last peeky forward (its gradient collects every step's). */
  #h0: NDArray | null = null;

  constructor(spec: CaptionerSpec, rng: Rng, dtype: DType = "float32") {
    const valid = [
      "kind",
      "inputShape",
      "tokens",
      "maxLength",
      "encoder",
      "wordvecSize",
      "hiddenSize",
      "peeky",
    ];
    const unknown = Object.keys(spec).filter((k) => !valid.includes(k));
    if (spec.kind !== "captioner" || unknown.length > 0) {
      throw new OptionError(
        `captioner model spec: ${spec.kind !== "captioner" ? `kind ${JSON.stringify(spec.kind)}` : `no option "${unknown[0]}"`}; valid: ${valid.join(", ")}`,
      );
    }
    const { tokens, wordvecSize: D, hiddenSize: H, maxLength } = spec;
    if (
      !Array.isArray(tokens) ||
      tokens.length < 3 ||
      tokens[START] !== "<start>" ||
      tokens[END] !== "<end>"
    ) {
      throw new OptionError(`captioner model spec: tokens must begin "<start>", "<end>", then the words`);
    }
    for (const [name, v] of Object.entries({ wordvecSize: D, hiddenSize: H, maxLength })) {
      if (!(Number.isInteger(v) && v > 0)) {
        throw new OptionError(
          `captioner model spec: ${name} must be a positive integer, got ${JSON.stringify(v)}`,
        );
      }
    }
    if (spec.peeky !== undefined && typeof spec.peeky !== "boolean") {
      throw new OptionError(
        `captioner model spec: peeky must be true or false, got ${JSON.stringify(spec.peeky)}`,
      );
    }
    const peek = spec.peeky === true ? H : 0;
    const V = tokens.length;
    const built = buildLayers(spec.inputShape, spec.encoder, rng, dtype);
    if (built.outputShape.length !== 1) {
      throw new OptionError(
        `captioner model spec: the encoder must end in a flat feature vector, not samples of ${formatShape(built.outputShape)}`,
      );
    }
    const F = built.outputShape[0];
    const bridge = [
      new Affine(initWeights([F, H], "xavier", F, rng, dtype), NDArray.zeros([H], dtype)),
      new Tanh(),
    ];
    this.encoder = [...built.layers, ...bridge];
    this.embedding = new Embedding(initWeights([V, D], 0.01, 1, rng, dtype));
    this.lstm = new TimeLSTM(
      initWeights([D + peek, 4 * H], "xavier", D + peek, rng, dtype),
      initWeights([H, 4 * H], "xavier", H, rng, dtype),
      NDArray.zeros([4 * H], dtype),
    );
    this.output = new TimeAffine(
      initWeights([H + peek, V], "xavier", H + peek, rng, dtype),
      NDArray.zeros([V], dtype),
    );
    // Nothing reads the image's gradient.
    const first = this.encoder[0];
    if (first.needsInputGrad !== undefined) first.needsInputGrad = false;
    this.#encoderSteps = fuseLayers(this.encoder);
    this.layers = [...this.encoder, this.embedding, this.lstm, this.output];
    this.params = numberedParams(this.layers);
    this.spec = structuredClone(spec);
  }

  get vocabSize(): number {
    return this.spec.tokens.length;
  }

  get peeky(): boolean {
    return this.spec.peeky === true;
  }

  /** Images (N, C, H, W) → the decoder's initial hidden state (N, H). */
  encode(images: NDArray, mode: Mode = "eval"): NDArray {
    const shape = this.spec.inputShape;
    if (images.ndim !== shape.length + 1 || shape.some((d, i) => images.shape[i + 1] !== d)) {
      throw new ShapeError(
        `Captioner: expected images (N, ${shape.join(", ")}), got ${formatShape(images.shape)}`,
      );
    }
    return this.#encoderSteps.reduce((x, step) => step.forward(x, mode), images);
  }

  /**
   * Teacher-forced loss: images (N, C, H, W), decoder inputs (N, T) (`<start> w1 … wk`, any
   * padding after) and targets (N·T) (`w1 … wk <end>`, −1 for padding).
   */
  loss(images: NDArray, inputs: NDArray, targets: Labels, mode: Mode = "train"): number {
    // A step of this model: on the WASM backend its activations and gradients live in the WASM
    // memory until the next loss() (no copies in and out of each kernel), as a Graph's do.
    const loss = () => this.lossLayer.forward(this.scores(images, inputs, mode), targets);
    return deviceStep(this, true, loss, [images, inputs]);
  }

  /**
   * Teacher-forced next-word scores (N, T, V) for images (N, C, H, W) and decoder inputs (N, T):
   * what the ONNX and PyTorch exports compute.
   */
  scores(images: NDArray, inputs: NDArray, mode: Mode = "eval"): NDArray {
    const h0 = this.encode(images, mode);
    this.lstm.setState(h0);
    const words = this.embedding.forward(inputs); // (N, T, D)
    if (!this.peeky) return this.output.forward(this.lstm.forward(words, mode));
    this.#h0 = h0;
    const hs = this.lstm.forward(withPeek(words, h0), mode); // (N, T, D + H) → (N, T, H)
    return this.output.forward(withPeek(hs, h0)); // (N, T, 2H) → (N, T, V)
  }

  /** After loss(): every param's gradient, through the decoder and into the encoder. */
  backward(): void {
    deviceStep(this, false, () => this.#backward());
  }

  #backward(): void {
    const dscores = this.lossLayer.backward();
    let dout: NDArray;
    if (!this.peeky) {
      this.embedding.backward(this.lstm.backward(this.output.backward(dscores)));
      dout = this.lstm.dh as NDArray;
    } else {
      // h0 reaches the loss three ways: the LSTM's initial state, its input and the output's input.
      const H = this.spec.hiddenSize;
      const dh0 = NDArray.zeros((this.#h0 as NDArray).shape, dscores.dtype);
      const dhs = splitPeek(this.output.backward(dscores), H, dh0);
      this.embedding.backward(splitPeek(this.lstm.backward(dhs), this.spec.wordvecSize, dh0));
      const dInitial = (this.lstm.dh as NDArray).data;
      for (let i = 0; i < dh0.size; i++) dh0.data[i] += dInitial[i];
      dout = dh0;
    }
    const steps = this.#encoderSteps;
    for (let i = steps.length - 1; i >= 0; i--) dout = steps[i].backward(dout);
  }

  /**
   * Captions for images (N, C, H, W) as token ids, `<end>` left off: greedy (the most likely next
   * word) or, with beamWidth > 1, beam search over the summed log probabilities.
   */
  caption(images: NDArray, { beamWidth = 1, batchSize = 100 }: CaptionOptions = {}): number[][] {
    if (!(Number.isInteger(beamWidth) && beamWidth >= 1)) {
      throw new RangeError(`caption: beamWidth must be an integer ≥ 1, got ${beamWidth}`);
    }
    const out: number[][] = [];
    const n = images.shape[0];
    for (let start = 0; start < n; start += batchSize) {
      const h0 = this.encode(images.sliceRows(start, Math.min(n, start + batchSize)));
      out.push(...this.#beamSearch(h0, beamWidth));
    }
    return out;
  }

  /** Captions as words: "three seven one". */
  captionWords(images: NDArray, options: CaptionOptions = {}): string[] {
    return this.caption(images, options).map((ids) => ids.map((id) => this.spec.tokens[id]).join(" "));
  }

  /**
   * Copies the encoder's first parameters from another zerodl model's (e.g. the pretrained
   * SimpleConvNet's first convolution, W1 and b1), in order, while name and shape agree. Returns
   * the names copied.
   */
  initEncoderFrom(source: readonly Param[]): string[] {
    const copied: string[] = [];
    const encoderParams = numberedParams(this.encoder);
    for (let i = 0; i < Math.min(source.length, encoderParams.length); i++) {
      const [from, to] = [source[i], encoderParams[i]];
      const sameShape =
        from.value.ndim === to.value.ndim && from.value.shape.every((d, k) => d === to.value.shape[k]);
      if (from.name !== to.name || !sameShape) break;
      to.value.data.set(from.value.data);
      copied.push(to.name);
    }
    return copied;
  }

  /**
   * Starts this captioner from a trained one with the same layers but possibly fewer filters,
   * features or LSTM units (any of them): Net2Net's function-preserving widening (Chen, Goodfellow
   * and Shlens 2016). Every tensor's trained values fill its leading block (gate block by gate
   * block in the LSTM); the weights that carry a new unit's output into the next layer are zero, so
   * this captioner computes exactly what the source computed until training moves them; the weights
   * into new units keep their fresh initialization, so new units do not copy old ones. Flattened
   * convolution maps are channel-major, so a convolution's new channels are the flat vector's tail.
   *
   * A plain source may also become peeky: h0's new inputs to the LSTM and the output layer start
   * at zero the same way (the sequel's PeekyDecoder, started from its plain Decoder).
   */
  widenFrom(source: Captioner): void {
    const sizes = ["filters", "outputSize", "wordvecSize", "hiddenSize", "peeky"];
    const layout = (spec: CaptionerSpec) =>
      JSON.stringify(spec, (key, value: unknown) => (sizes.includes(key) ? undefined : value));
    if (layout(source.spec) !== layout(this.spec)) {
      throw new OptionError(
        "Captioner.widenFrom: the source must have the same layers, tokens, image shape and caption length; only filters, outputSize, wordvecSize and hiddenSize may grow",
      );
    }
    if (source.peeky && !this.peeky) {
      throw new OptionError("Captioner.widenFrom: a peeky captioner cannot become a plain one");
    }
    if (
      source.peeky &&
      (source.spec.wordvecSize !== this.spec.wordvecSize || source.spec.hiddenSize !== this.spec.hiddenSize)
    ) {
      // h0's rows sit after the word vector's and the LSTM's h: they would move.
      throw new OptionError(
        "Captioner.widenFrom: a peeky captioner's wordvecSize and hiddenSize cannot grow (widen the plain one, then make it peeky)",
      );
    }
    source.layers.forEach((from, i) => {
      const to = this.layers[i];
      from.params.forEach((p, k) => {
        const [target, old] = [to.params[k].value, p.value];
        if (target.ndim !== old.ndim || old.shape.some((d, a) => d > target.shape[a])) {
          throw new ShapeError(
            `Captioner.widenFrom: ${to.constructor.name} ${p.name} ${formatShape(old.shape)} does not fit in ${formatShape(target.shape)}`,
          );
        }
        if (old.shape.every((d, a) => d === target.shape[a])) target.data.set(old.data);
        else widenInto(target, old, inputAxis(to, p.name), to instanceof TimeLSTM ? 4 : 1);
      });
    });
  }

  /**
   * Beam search for a batch of initial states h0 (N, H); width 1 is greedy. Each image keeps its
   * `width` best hypotheses (by summed log probability); one LSTM step runs for all live ones
   * together. A hypothesis that writes `<end>` is finished; after maxLength words only `<end>` may
   * follow. `<start>` is never written.
   */
  #beamSearch(h0: NDArray, width: number): number[][] {
    const [N, H] = h0.shape;
    const V = this.vocabSize;
    const dtype = h0.dtype;
    const { Wx, Wh, b } = this.lstm;
    const cell = new LSTM(Wx.value, Wh.value, b.value);
    type Hyp = {
      tokens: number[];
      logp: number;
      h: Float32Array | Float64Array;
      c: Float32Array | Float64Array;
    };
    const rowOf = (a: NDArray, i: number) => a.data.slice(i * H, (i + 1) * H);
    const peeky = this.peeky;
    let live: Hyp[][] = Array.from({ length: N }, (_, i) => [
      { tokens: [], logp: 0, h: rowOf(h0, i), c: new (dtype === "float64" ? Float64Array : Float32Array)(H) },
    ]);
    const finished: Hyp[][] = Array.from({ length: N }, () => []);
    for (let step = 0; step <= this.spec.maxLength; step++) {
      const rows = live.flat();
      if (rows.length === 0) break;
      const R = rows.length;
      // Each row's image's h0, for a peeky decoder.
      const images = live.flatMap((hyps, img) => hyps.map(() => img));
      const ids = NDArray.from(
        rows.map((r) => r.tokens.at(-1) ?? START),
        [R],
        dtype,
      );
      const hPrev = NDArray.zeros([R, H], dtype);
      const cPrev = NDArray.zeros([R, H], dtype);
      rows.forEach((r, i) => {
        hPrev.data.set(r.h, i * H);
        cPrev.data.set(r.c, i * H);
      });
      const words = this.embedding.forward(ids); // (R, D)
      const peek = peeky ? h0.takeRows(images) : null; // (R, H)
      const { h, c } = cell.forward(peek ? withPeek(words, peek) : words, hPrev, cPrev);
      const probs = softmax(this.output.forward(peek ? withPeek(h, peek) : h)).data; // (R, V)
      let row = 0;
      live = live.map((hyps, img) => {
        const candidates: { from: number; token: number; logp: number }[] = [];
        hyps.forEach((hyp, k) => {
          const r = row + k;
          for (let v = 0; v < V; v++) {
            if (v === START || (step === this.spec.maxLength && v !== END)) continue;
            candidates.push({ from: r, token: v, logp: hyp.logp + Math.log(probs[r * V + v] + 1e-30) });
          }
        });
        row += hyps.length;
        // The `width` best continuations: those ending in <end> are finished.
        candidates.sort((p, q) => q.logp - p.logp);
        const next: Hyp[] = [];
        for (const cand of candidates.slice(0, width)) {
          const parent = rows[cand.from];
          if (cand.token === END) {
            finished[img].push({ ...parent, logp: cand.logp });
          } else {
            next.push({
              tokens: [...parent.tokens, cand.token],
              logp: cand.logp,
              h: rowOf(h, cand.from),
              c: rowOf(c, cand.from),
            });
          }
        }
        // A longer caption only loses probability: once `width` are finished, a live hypothesis
        // below the worst of them cannot win.
        finished[img].sort((p, q) => q.logp - p.logp).splice(width);
        const worstFinished = finished[img].length === width ? finished[img][width - 1].logp : -Infinity;
        return next.filter((hyp) => hyp.logp > worstFinished);
      });
    }
    return finished.map((f) => f[0]?.tokens ?? []);
  }
}

/**
 * x (N, …, D) with h (N, H) after it on the last axis, h repeated at every position of the middle
 * axes (every time step): (N, …, D + H). The peeky decoder's input to its LSTM and output layer.
 */
function withPeek(x: NDArray, h: NDArray): NDArray {
  const [N, H] = h.shape;
  const D = x.shape[x.ndim - 1];
  const steps = x.size / (N * D);
  const out = NDArray.zeros([...x.shape.slice(0, -1), D + H], x.dtype);
  const [xs, hs, o] = [x.data, h.data, out.data];
  for (let n = 0; n < N; n++) {
    const hRow = hs.subarray(n * H, (n + 1) * H);
    for (let t = 0; t < steps; t++) {
      const row = n * steps + t;
      o.set(xs.subarray(row * D, (row + 1) * D), row * (D + H));
      o.set(hRow, row * (D + H) + D);
    }
  }
  return out;
}

/**
 * withPeek's backward: dy (N, …, D + H) → dx (N, …, D), and the h part summed over the steps is
 * added into dh (N, H).
 */
function splitPeek(dy: NDArray, D: number, dh: NDArray): NDArray {
  const [N, H] = dh.shape;
  const steps = dy.size / (N * (D + H));
  const dx = NDArray.zeros([...dy.shape.slice(0, -1), D], dy.dtype);
  const [d, g, dhs] = [dy.data, dx.data, dh.data];
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < steps; t++) {
      const row = n * steps + t;
      g.set(d.subarray(row * (D + H), row * (D + H) + D), row * D);
      for (let j = 0; j < H; j++) dhs[n * H + j] += d[row * (D + H) + D + j];
    }
  }
  return dx;
}

/**
 * The axis of a weight that indexes the layer's inputs (a convolution's channels, an affine's or
 * LSTM's input rows), whose new entries must be zero when widening; null for biases and the
 * embedding (its rows are tokens).
 */
function inputAxis(layer: Layer, name: string): number | null {
  if (name.startsWith("b") || layer instanceof Embedding) return null;
  if (layer instanceof Convolution) return 1; // (FN, C, FH, FW)
  if (layer instanceof Affine || layer instanceof TimeAffine || layer instanceof TimeLSTM) return 0; // (in, out)
  throw new OptionError(`Captioner.widenFrom: cannot widen a ${layer.constructor.name}`);
}

/**
 * Copies `from` into the leading block of `to`; with `gates` > 1 the last axis is that many
 * blocks, each copied into the leading part of its block. Entries from new inputs (index ≥ the
 * source's on `inputAxis`) and new biases become 0; other new entries keep their values.
 */
function widenInto(to: NDArray, from: NDArray, inputAxis: number | null, gates: number): void {
  const [ts, fs] = [to.shape, from.shape];
  const last = ts.length - 1;
  const [tUnits, fUnits] = [ts[last] / gates, fs[last] / gates];
  const coord = new Array<number>(ts.length).fill(0);
  for (let i = 0; i < to.size; i++) {
    let [fi, inside, zero] = [0, true, ts.length === 1];
    for (let a = 0; a < ts.length; a++) {
      let c = coord[a];
      if (a === last && gates > 1) {
        const [g, u] = [Math.floor(c / tUnits), c % tUnits];
        if (u >= fUnits) inside = false;
        c = g * fUnits + u;
      } else if (c >= fs[a]) {
        inside = false;
        if (a === inputAxis) zero = true;
      }
      fi = fi * fs[a] + c;
    }
    if (inside) to.data[i] = from.data[fi];
    else if (zero) to.data[i] = 0;
    // Next index, last axis fastest.
    for (let a = last; a >= 0 && ++coord[a] === ts[a]; a--) coord[a] = 0;
  }
}

export interface MnistCaptionerOptions {
  /** The most digits a canvas holds (default 4): the canvas is 28 × 28·maxDigits. */
  maxDigits?: number;
  /** Filters of the two convolutions (default 30 — SimpleConvNet's, so its first layer can start it — and 16). */
  filters?: [number, number];
  /** Units of the encoder's feature layer (default 128). */
  features?: number;
  wordvecSize?: number;
  hiddenSize?: number;
  /** The peeky decoder (default false): see CaptionerSpec.peeky. */
  peeky?: boolean;
}

/**
 * The captioner for MNIST digit canvases: Convolution 5×5 (30) → ReLU → Pool 2 → Convolution 3×3
 * pad 1 (16) → ReLU → Pool 2 → Affine (128) → ReLU, then the LSTM decoder (128 units, 32-wide
 * word vectors) over "<start>", "<end>" and the ten digit words.
 */
export function mnistCaptionerSpec(options: MnistCaptionerOptions = {}): CaptionerSpec {
  const {
    maxDigits = 4,
    filters = [30, 16],
    features = 128,
    wordvecSize = 32,
    hiddenSize = 128,
    peeky = false,
  } = options;
  return {
    kind: "captioner",
    inputShape: [1, 28, 28 * maxDigits],
    tokens: [
      "<start>",
      "<end>",
      "zero",
      "one",
      "two",
      "three",
      "four",
      "five",
      "six",
      "seven",
      "eight",
      "nine",
    ],
    maxLength: maxDigits,
    encoder: [
      { type: "convolution", filters: filters[0], fh: 5, fw: 5 },
      { type: "relu" },
      { type: "pooling", ph: 2, pw: 2, stride: 2 },
      { type: "convolution", filters: filters[1], fh: 3, fw: 3, pad: 1 },
      { type: "relu" },
      { type: "pooling", ph: 2, pw: 2, stride: 2 },
      { type: "flatten" },
      { type: "affine", outputSize: features },
      { type: "relu" },
    ],
    wordvecSize,
    hiddenSize,
    ...(peeky ? { peeky } : {}),
  };
}
