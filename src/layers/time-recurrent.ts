import { ShapeError, formatShape } from "../errors.js";
import { NDArray, keepFromStep } from "../ndarray.js";
import { add } from "../ops/elementwise.js";
import { addBias, addMatmul, matmul, sumRows } from "../ops/linalg.js";
import { copy, setTimeStep, stack, swapAxes01, timeStep } from "../ops/recurrent.js";
import type { Layer, Mode, Param } from "./layer.js";
import { cached } from "./cached.js";
import { recurrentWeights, type RecurrentWeights } from "./recurrent-weights.js";

export interface TimeRecurrentOptions {
  /**
   * Keep the last hidden state (and LSTM cell) after each forward and start the next forward from
   * it: a long sequence fed in consecutive chunks, the sequel's truncated BPTT. Gradients never
   * flow back across a chunk boundary. Default false: every forward starts from zeros (or from
   * `setState`).
   */
  stateful?: boolean;
}

/**
 * A recurrent cell unrolled over a whole sequence (the sequel's TimeRNN/TimeLSTM): x (N, T, D) →
 * hs (N, T, H), the time loop inside. Not the sequel's T cell objects: x·Wx + b for every step is
 * one (N·T, D)·(D, G·H) product before the loop, and dWx, dWh, db and dx one product each after
 * the backward loop; only h·Wh and the cell's element-wise work run per step. Each step's values
 * are arrays of their own (StepStore), and the moves between them and the (N, T, …) sequences are
 * block copies (`copyBlocks`), so the loop runs where the arrays live (WebGPU included). Subclasses
 * supply the cell.
 */
export abstract class TimeRecurrent implements Layer {
  readonly Wx: Param;
  readonly Wh: Param;
  readonly b: Param;
  readonly params: readonly Param[];
  readonly stateful: boolean;
  /** False when nothing reads this layer's dx (a network's first layer): backward then skips it. */
  needsInputGrad = true;
  readonly #weights: RecurrentWeights;
  readonly #gates: number;
  readonly #hasCell: boolean;
  #h: NDArray | null = null;
  #c: NDArray | null = null;
  #dh: NDArray | null = null;
  #dc: NDArray | null = null;
  /** The last forward: x as (N·T, D) rows and the per-step values the cell's backward reads. */
  #cache: { x: NDArray; xShape: readonly number[]; steps: StepStore } | null = null;

  protected constructor(
    what: string,
    Wx: NDArray,
    Wh: NDArray,
    b: NDArray,
    gates: number,
    options: TimeRecurrentOptions,
  ) {
    this.#weights = recurrentWeights(what, Wx, Wh, b, gates);
    ({ Wx: this.Wx, Wh: this.Wh, b: this.b } = this.#weights);
    this.params = [this.Wx, this.Wh, this.b];
    this.#gates = gates;
    this.#hasCell = gates === 4;
    this.stateful = options.stateful ?? false;
  }

  get hiddenSize(): number {
    return this.#weights.hiddenSize;
  }

  /** The state the next forward starts from (null: zeros); after a stateful forward, its last. */
  get h(): NDArray | null {
    return this.#h;
  }

  /** The LSTM's cell state, as `h`; always null for an RNN. */
  get c(): NDArray | null {
    return this.#c;
  }

  /** After backward: the gradient of the loss with respect to the initial hidden state (N, H). */
  get dh(): NDArray | null {
    return this.#dh;
  }

  /** After backward: the gradient with respect to the initial cell state (LSTM), as `dh`. */
  get dc(): NDArray | null {
    return this.#dc;
  }

  /**
   * The next forward starts from h (and, for an LSTM, c; zeros when omitted), both (N, H). A
   * stateful layer carries on from the last step after that; a stateless one uses it once.
   */
  setState(h: NDArray, c?: NDArray): void {
    const H = this.hiddenSize;
    for (const [name, s] of [
      ["h", h],
      ["c", c],
    ] as const) {
      if (s && (s.ndim !== 2 || s.shape[1] !== H)) {
        throw new ShapeError(
          `${this.constructor.name}.setState: ${name} ${formatShape(s.shape)} is not (N, ${H})`,
        );
      }
    }
    if (c && c.shape[0] !== h.shape[0]) {
      throw new ShapeError(
        `${this.constructor.name}.setState: h ${formatShape(h.shape)} and c ${formatShape(c.shape)} differ`,
      );
    }
    this.#h = copy(h);
    this.#c = this.#hasCell ? (c ? copy(c) : NDArray.zeros(h.shape, h.dtype)) : null;
  }

  /** Forget the carried state: the next forward starts from zeros. */
  resetState(): void {
    this.#h = null;
    this.#c = null;
  }

  forward(x: NDArray, _mode?: Mode): NDArray {
    const name = this.constructor.name;
    const { Wx, Wh, b } = this;
    const D = this.#weights.inputSize;
    if (x.ndim !== 3 || x.shape[2] !== D) {
      throw new ShapeError(`${name}: expected input (N, T, ${D}), got ${formatShape(x.shape)}`);
    }
    const [N, T] = x.shape;
    const H = this.hiddenSize;
    const G = this.#gates * H;
    const h0 = this.#h;
    if (h0 && h0.shape[0] !== N) {
      throw new ShapeError(
        `${name}: its state is for a batch of ${h0.shape[0]} but the input ${formatShape(x.shape)} has ${N}; call resetState() first`,
      );
    }
    const x2 = x.reshape(N * T, D);
    // The pre-activations of every step at once: (N·T, D)·(D, G·H) + b → (N, T, G·H).
    const a = addBias(matmul(x2, Wx.value), b.value).reshape(N, T, G);
    const steps = new StepStore(T, N, H, this.#gates, x.dtype, h0, this.#c);
    const hs = NDArray.zeros([N, T, H], x.dtype);
    for (let t = 0; t < T; t++) {
      const at = timeStep(a, t);
      addMatmul(at, steps.hs[t], Wh.value); // a_t += h_{t−1}·Wh
      this.stepForward(steps, t, at);
      setTimeStep(hs, t, steps.hs[t + 1]);
    }
    if (this.stateful) {
      // Kept from the model's step: the state outlives it (ndarray.ts keepFromStep).
      this.#h = keepFromStep(steps.hs[T]);
      this.#c = this.#hasCell ? keepFromStep(steps.cs[T]) : null;
    } else {
      this.resetState();
    }
    this.#cache = { x: x2, xShape: x.shape, steps };
    return hs;
  }

  backward(dout: NDArray): NDArray {
    const { x, xShape, steps } = cached(this.#cache, this.constructor.name);
    const [N, T, D] = xShape;
    const H = this.hiddenSize;
    const G = this.#gates * H;
    if (dout.ndim !== 3 || dout.shape[0] !== N || dout.shape[1] !== T || dout.shape[2] !== H) {
      throw new ShapeError(
        `${this.constructor.name}.backward: dout ${formatShape(dout.shape)}, expected ${formatShape([N, T, H])}`,
      );
    }
    let dh = NDArray.zeros([N, H], dout.dtype);
    const dc = NDArray.zeros([N, H], dout.dtype); // LSTM only; updated in place step by step
    const das: NDArray[] = [];
    for (let t = T - 1; t >= 0; t--) {
      const dat = NDArray.zeros([N, G], dout.dtype);
      // The step's h feeds the output at t and the next step.
      this.stepBackward(steps, t, dat, add(timeStep(dout, t), dh), dc);
      das[t] = dat;
      dh = matmul(dat, this.Wh.value, { transB: true }); // (N, G)·(H, G)ᵀ → (N, H)
    }
    this.#dh = dh;
    this.#dc = this.#hasCell ? dc : null;
    // dWh = Σ_t h_{t−1}ᵀ·da_t as one product over time-major (T·N, …) rows: hs[0..T−1] and da.
    const da = stack(das, [N, G], dout.dtype); // (T, N, G)
    const hPrev = stack(steps.hs.slice(0, T), [N, H], dout.dtype).reshape(T * N, H);
    this.Wh.grad = matmul(hPrev, da.reshape(T * N, G), { transA: true });
    const daRows = swapAxes01(da).reshape(N * T, G); // rows in x's (n, t) order
    this.Wx.grad = matmul(x, daRows, { transA: true });
    this.b.grad = sumRows(daRows);
    if (!this.needsInputGrad) return NDArray.zeros([0], dout.dtype);
    return matmul(daRows, this.Wx.value, { transB: true }).reshape(N, T, D);
  }

  /** The cell at step t: from the full pre-activation a_t (N, G·H), write hs[t+1] (and the rest). */
  protected abstract stepForward(steps: StepStore, t: number, at: NDArray): void;

  /**
   * The cell's backward at step t, from dh (N, H), the gradient of hs[t+1]: writes da_t; an LSTM
   * reads dc (the gradient of cs[t+1]) and overwrites it with that of cs[t].
   */
  protected abstract stepBackward(steps: StepStore, t: number, dat: NDArray, dh: NDArray, dc: NDArray): void;
}

/** A forward pass's per-step values, one array per step. */
export class StepStore {
  /** Hidden states, T+1 arrays (N, H): hs[0] is the initial state. */
  readonly hs: NDArray[];
  /** LSTM cell states, T+1 arrays (N, H), and gate activations, T arrays (N, 4H); empty for an RNN. */
  readonly cs: NDArray[];
  readonly gates: NDArray[];

  /** Zeros (made where first written), starting from h0 and c0 where given. */
  constructor(
    T: number,
    N: number,
    H: number,
    gates: number,
    dtype: NDArray["dtype"],
    h0: NDArray | null = null,
    c0: NDArray | null = null,
  ) {
    const zeros = (count: number, cols: number) =>
      Array.from({ length: count }, () => NDArray.zeros([N, cols], dtype));
    this.hs = [h0 ?? NDArray.zeros([N, H], dtype), ...zeros(T, H)];
    const lstm = gates === 4;
    this.cs = lstm ? [c0 ?? NDArray.zeros([N, H], dtype), ...zeros(T, H)] : [];
    this.gates = lstm ? zeros(T, 4 * H) : [];
  }
}
