import { OptionError } from "../errors.js";
import { initWeights } from "../init.js";
import { Dropout } from "../layers/dropout.js";
import { Embedding } from "../layers/embedding.js";
import type { Layer, Mode, Param } from "../layers/layer.js";
import { TimeAffine } from "../layers/time-affine.js";
import { TimeLSTM } from "../layers/time-lstm.js";
import { TimeSoftmaxWithLoss } from "../layers/time-softmax-with-loss.js";
import { NDArray, type DType, type Labels } from "../ndarray.js";
import { softmax } from "../ops/softmax.js";
import type { Rng, RngState } from "../rng.js";
import { Sequential } from "./sequential.js";

/** An LSTM language model's architecture, as stored in its model file. */
export interface RnnLmSpec {
  kind: "rnnlm";
  /** Tokens (characters or words). */
  vocabSize: number;
  /** Embedding size D. */
  wordvecSize: number;
  /** LSTM units per layer H. */
  hiddenSize: number;
  /** Stacked LSTM layers (default 1: the sequel's Rnnlm; 2 with dropout: its BetterRnnlm). */
  layers?: number;
  /** Inverted dropout before each LSTM and before the output affine (default 0: none). */
  dropout?: number;
  [option: string]: unknown;
}

/**
 * The sequel's Rnnlm (and BetterRnnlm, with `layers` and `dropout`): Embedding → (Dropout) →
 * TimeLSTM × layers (stateful) → (Dropout) → TimeAffine, scored by TimeSoftmaxWithLoss. Input
 * ids (N, T) → next-token scores (N, T, V). Weights: the embedding from N(0, 0.01²), LSTM and
 * affine weights Xavier (the sequel's init); biases 0.
 *
 * Book: the sequel's BetterRnnlm also ties the embedding and output weights; not here.
 */
export class RnnLm {
  readonly spec: RnnLmSpec;
  readonly layers: readonly Layer[];
  readonly params: readonly Param[];
  readonly #net: Sequential;
  readonly #lstms: readonly TimeLSTM[];

  constructor(spec: RnnLmSpec, rng: Rng, dtype: DType = "float32") {
    const { vocabSize: V, wordvecSize: D, hiddenSize: H, layers: depth = 1, dropout = 0 } = spec;
    for (const [name, v] of [
      ["vocabSize", V],
      ["wordvecSize", D],
      ["hiddenSize", H],
      ["layers", depth],
    ] as const) {
      if (!(Number.isInteger(v) && v > 0)) {
        throw new OptionError(
          `rnnlm model spec: ${name} must be a positive integer, got ${JSON.stringify(v)}`,
        );
      }
    }
    const valid = ["kind", "vocabSize", "wordvecSize", "hiddenSize", "layers", "dropout"];
    const unknown = Object.keys(spec).filter((k) => !valid.includes(k));
    if (spec.kind !== "rnnlm" || unknown.length > 0) {
      throw new OptionError(
        `rnnlm model spec: ${spec.kind !== "rnnlm" ? `kind ${JSON.stringify(spec.kind)}` : `no option "${unknown[0]}"`}; valid: ${valid.join(", ")}`,
      );
    }
    const drop = () => (dropout > 0 ? [new Dropout(rng.split(), { ratio: dropout, inverted: true })] : []);
    const layers: Layer[] = [new Embedding(initWeights([V, D], 0.01, 1, rng, dtype))];
    const lstms: TimeLSTM[] = [];
    let inputs = D;
    for (let l = 0; l < depth; l++) {
      layers.push(...drop());
      const lstm = new TimeLSTM(
        initWeights([inputs, 4 * H], "xavier", inputs, rng, dtype),
        initWeights([H, 4 * H], "xavier", H, rng, dtype),
        NDArray.zeros([4 * H], dtype),
        { stateful: true },
      );
      lstms.push(lstm);
      layers.push(lstm);
      inputs = H;
    }
    layers.push(...drop());
    layers.push(new TimeAffine(initWeights([H, V], "xavier", H, rng, dtype), NDArray.zeros([V], dtype)));
    this.spec = structuredClone(spec);
    this.layers = layers;
    this.#lstms = lstms;
    this.#net = new Sequential(layers, new TimeSoftmaxWithLoss(), { fuse: false });
    this.params = this.#net.params;
  }

  get vocabSize(): number {
    return this.spec.vocabSize;
  }

  /** Ids (N, T) → next-token scores (N, T, V), carrying the LSTM state on from the last call. */
  predict(xs: NDArray, mode: Mode = "eval"): NDArray {
    return this.#net.predict(xs, mode);
  }

  /** The mean cross-entropy of next tokens `ts` (N·T labels, in xs's order). */
  loss(xs: NDArray, ts: Labels, mode: Mode = "train"): number {
    return this.#net.loss(xs, ts, mode);
  }

  backward(): void {
    this.#net.backward();
  }

  /** Forget the carried LSTM state (before a new text, or a pass over held-out data). */
  resetState(): void {
    for (const lstm of this.#lstms) lstm.resetState();
  }

  randomState(): RngState[] {
    return this.#net.randomState();
  }

  setRandomState(states: readonly RngState[]): void {
    this.#net.setRandomState(states);
  }

  /**
   * Perplexity on a token sequence, exp(mean cross-entropy of each next token), read as
   * `batchSize` parallel streams of consecutive `timeSize` chunks with the state carried (the
   * sequel's eval_perplexity). The state is reset before and after.
   */
  perplexity(corpus: Int32Array, batchSize = 10, timeSize = 35): number {
    const batches = consecutiveBatches(corpus, batchSize, timeSize);
    if (batches.iterations === 0) {
      throw new RangeError(
        `perplexity: ${corpus.length} tokens are too few for ${batchSize} streams of ${timeSize}-token chunks`,
      );
    }
    this.resetState();
    let lossSum = 0;
    for (let i = 0; i < batches.iterations; i++) {
      const { xs, ts } = batches.batch(i, this.#dtype);
      lossSum += this.loss(xs, ts, "eval");
    }
    this.resetState();
    return Math.exp(lossSum / batches.iterations);
  }

  /**
   * Text from the model (the sequel's RnnlmGen.generate): the `start` ids are read in, then each
   * next id is drawn from softmax(scores / temperature) (temperature → 0: the most likely one).
   * Returns the `length` ids drawn. The state is reset before and after.
   */
  generate(start: ArrayLike<number>, length: number, rng: Rng, { temperature = 1 } = {}): number[] {
    if (start.length === 0) throw new RangeError("generate: give at least one start id");
    if (!(temperature >= 0)) throw new RangeError(`generate: temperature must be ≥ 0, got ${temperature}`);
    this.resetState();
    const V = this.vocabSize;
    let scores = this.predict(NDArray.from(Array.from(start), [1, start.length], this.#dtype)); // (1, T, V)
    let row = (start.length - 1) * V; // the scores after the last id read
    const out: number[] = [];
    for (let k = 0; k < length; k++) {
      const next = sampleFrom(scores.data.subarray(row, row + V), rng, temperature, this.#dtype);
      out.push(next);
      if (k + 1 < length) scores = this.predict(NDArray.from([next], [1, 1], this.#dtype));
      row = 0;
    }
    this.resetState();
    return out;
  }

  get #dtype(): DType {
    return this.params[0].value.dtype;
  }
}

/** One id drawn from softmax(scores / temperature); the argmax when temperature is 0. */
function sampleFrom(scores: ArrayLike<number>, rng: Rng, temperature: number, dtype: DType): number {
  const V = scores.length;
  let best = 0;
  for (let j = 1; j < V; j++) if (scores[j] > scores[best]) best = j;
  if (temperature === 0) return best;
  const scaled = NDArray.from(
    Array.from(scores, (s) => s / temperature),
    [1, V],
    dtype,
  );
  const p = softmax(scaled).data;
  let u = rng.uniform();
  for (let j = 0; j < V; j++) {
    u -= p[j];
    if (u < 0) return j;
  }
  return best;
}

/**
 * A token sequence cut into `batchSize` streams that start at even offsets (the sequel's
 * RnnlmTrainer.get_batch): batch i holds, for every stream, the next `timeSize` tokens and the
 * tokens that follow them, so a stateful model reads each stream on from where the last batch left
 * it. `iterations` batches cover the sequence once.
 */
export function consecutiveBatches(corpus: Int32Array, batchSize: number, timeSize: number) {
  const size = corpus.length - 1; // xs = corpus[:-1], ts = corpus[1:]
  const jump = Math.floor(size / batchSize);
  const iterations = Math.floor(size / (batchSize * timeSize));
  return {
    iterations,
    batch(i: number, dtype: DType = "float32"): { xs: NDArray; ts: Int32Array } {
      const xs = NDArray.zeros([batchSize, timeSize], dtype);
      const ts = new Int32Array(batchSize * timeSize);
      for (let b = 0; b < batchSize; b++) {
        for (let t = 0; t < timeSize; t++) {
          const at = (b * jump + i * timeSize + t) % size;
          xs.data[b * timeSize + t] = corpus[at];
          ts[b * timeSize + t] = corpus[at + 1];
        }
      }
      return { xs, ts };
    },
  };
}
