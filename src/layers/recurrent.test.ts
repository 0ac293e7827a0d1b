/**
 * The recurrent layers: the cells (RNN, LSTM) and their time-unrolled forms (TimeRNN, TimeLSTM),
 * gradient-checked in float64 with a random upstream gradient over every time step, for sequence
 * lengths 1, 3 and 5, from zero and from a given initial state, and across a stateful carry-over.
 */
import { describe, expect, it } from "vitest";
import { NDArray, type DType } from "../ndarray.js";
import { Rng } from "../rng.js";
import { assertAllClose, dot, randomUpstream } from "../testing/gradcheck.js";
import { checkGradients, checkLayerGradients } from "../testing/layer-gradcheck.js";
import { LSTM } from "./lstm.js";
import { RNN } from "./rnn.js";
import { TimeLSTM } from "./time-lstm.js";
import { TimeRNN } from "./time-rnn.js";

type Kind = "rnn" | "lstm";
const gatesOf = (kind: Kind) => (kind === "lstm" ? 4 : 1);

/** Random weights for D inputs and H units (scaled so the gates are neither saturated nor linear). */
function weights(kind: Kind, D: number, H: number, seed: number, dtype: DType = "float64") {
  const rng = new Rng(seed);
  const G = gatesOf(kind) * H;
  const w = (shape: number[], s: number) => {
    const a = randomUpstream(shape, rng);
    for (let i = 0; i < a.size; i++) a.data[i] *= s;
    return a.astype(dtype);
  };
  return { Wx: w([D, G], 0.6), Wh: w([H, G], 0.6), b: w([G], 0.3) };
}

function timeLayer(
  kind: Kind,
  D: number,
  H: number,
  seed: number,
  stateful = false,
  dtype: DType = "float64",
) {
  const { Wx, Wh, b } = weights(kind, D, H, seed, dtype);
  return kind === "lstm" ? new TimeLSTM(Wx, Wh, b, { stateful }) : new TimeRNN(Wx, Wh, b, { stateful });
}

const kinds: [string, Kind][] = [
  ["TimeRNN", "rnn"],
  ["TimeLSTM", "lstm"],
];

describe("LSTM cell", () => {
  it("computes the gates, c and h of one unit by the formulas", () => {
    // D = H = 1: a = x·Wx + h·Wh + b, gate blocks f, g, i, o.
    const Wx = NDArray.from([[0.5, -1, 2, 0.25]], undefined, "float64");
    const Wh = NDArray.from([[1, 0.5, -0.5, 2]], undefined, "float64");
    const b = NDArray.from([0.1, 0.2, -0.3, 0], undefined, "float64");
    const x = 0.8;
    const h0 = -0.4;
    const c0 = 1.5;
    const a = [0, 1, 2, 3].map((k) => x * Wx.data[k] + h0 * Wh.data[k] + b.data[k]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const [f, g, i, o] = [sig(a[0]), Math.tanh(a[1]), sig(a[2]), sig(a[3])];
    const c = f * c0 + g * i;
    const cell = new LSTM(Wx, Wh, b);
    const out = cell.forward(
      NDArray.from([[x]], undefined, "float64"),
      NDArray.from([[h0]], undefined, "float64"),
      NDArray.from([[c0]], undefined, "float64"),
    );
    expect(out.c.data[0]).toBeCloseTo(c, 14);
    expect(out.h.data[0]).toBeCloseTo(o * Math.tanh(c), 14);
  });

  it("is gradient-checked on x, hPrev, cPrev and every weight (random dh and dc)", () => {
    const rng = new Rng(1);
    const { Wx, Wh, b } = weights("lstm", 3, 4, 2);
    const cell = new LSTM(Wx, Wh, b);
    const x = randomUpstream([2, 3], rng);
    const h0 = randomUpstream([2, 4], rng);
    const c0 = randomUpstream([2, 4], rng);
    const dh = randomUpstream([2, 4], rng);
    const dc = randomUpstream([2, 4], rng);
    const loss = () => {
      const { h, c } = cell.forward(x, h0, c0);
      return dot(h, dh) + dot(c, dc);
    };
    loss();
    const g = cell.backward(dh, dc);
    checkGradients(loss, [
      { name: "x", value: x, grad: g.dx },
      { name: "hPrev", value: h0, grad: g.dhPrev },
      { name: "cPrev", value: c0, grad: g.dcPrev },
      ...cell.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad })),
    ]);
  });
});

describe("RNN cell", () => {
  it("is tanh(x·Wx + h·Wh + b), gradient-checked on x, hPrev and every weight", () => {
    const rng = new Rng(3);
    const { Wx, Wh, b } = weights("rnn", 3, 4, 4);
    const cell = new RNN(Wx, Wh, b);
    const x = randomUpstream([2, 3], rng);
    const h0 = randomUpstream([2, 4], rng);
    const h = cell.forward(x, h0);
    let a = b.data[1];
    for (let d = 0; d < 3; d++) a += x.get(0, d) * Wx.get(d, 1);
    for (let k = 0; k < 4; k++) a += h0.get(0, k) * Wh.get(k, 1);
    expect(h.get(0, 1)).toBeCloseTo(Math.tanh(a), 14);
    const dh = randomUpstream([2, 4], rng);
    const g = cell.backward(dh);
    checkGradients(
      () => dot(cell.forward(x, h0), dh),
      [
        { name: "x", value: x, grad: g.dx },
        { name: "hPrev", value: h0, grad: g.dhPrev },
        ...cell.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad })),
      ],
    );
  });
});

describe.each(kinds)("%s", (_name, kind) => {
  it.each([1, 3, 5])("is gradient-checked over T = %i steps from a zero state", (T) => {
    const rng = new Rng(10 + T);
    const layer = timeLayer(kind, 3, 4, 20 + T);
    checkLayerGradients(layer, randomUpstream([2, T, 3], rng), rng);
  });

  it("is gradient-checked from a given initial state, dh and dc included", () => {
    const rng = new Rng(30);
    const layer = timeLayer(kind, 3, 4, 31);
    const x = randomUpstream([2, 4, 3], rng);
    const h0 = randomUpstream([2, 4], rng);
    const c0 = randomUpstream([2, 4], rng);
    const start = () => layer.setState(h0, kind === "lstm" ? c0 : undefined);
    start();
    const dy = randomUpstream([2, 4, 4], rng);
    const dx = layer.backward((layer.forward(x), dy));
    const loss = () => {
      start();
      return dot(layer.forward(x), dy);
    };
    const targets = [
      { name: "x", value: x, grad: dx.clone() },
      { name: "h0", value: h0, grad: layer.dh },
      ...layer.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad })),
    ];
    if (kind === "lstm") targets.push({ name: "c0", value: c0, grad: layer.dc });
    checkGradients(loss, targets);
    // A stateless layer used the state once: the next forward starts from zeros again.
    expect(layer.h).toBeNull();
  });

  it("carries its state across forwards when stateful: two chunks equal one sequence", () => {
    const rng = new Rng(40);
    const x = randomUpstream([3, 6, 2], rng);
    const whole = timeLayer(kind, 2, 5, 41).forward(x);
    const chunked = timeLayer(kind, 2, 5, 41, true);
    const first = chunked.forward(sliceSteps(x, 0, 4));
    const second = chunked.forward(sliceSteps(x, 4, 6));
    assertAllClose(first.data, sliceSteps(whole, 0, 4).data, 1e-12, 0, "first chunk");
    assertAllClose(second.data, sliceSteps(whole, 4, 6).data, 1e-12, 0, "second chunk");
    // A stateless layer restarts from zeros.
    const stateless = timeLayer(kind, 2, 5, 41);
    stateless.forward(sliceSteps(x, 0, 4));
    expect(stateless.forward(sliceSteps(x, 4, 6)).data).not.toEqual(second.data);
    chunked.resetState();
    assertAllClose(chunked.forward(sliceSteps(x, 0, 4)).data, first.data, 0, 0, "after resetState");
  });

  it("is gradient-checked on a chunk that starts from the carried state (truncated BPTT)", () => {
    const rng = new Rng(50);
    const layer = timeLayer(kind, 3, 4, 51, true);
    layer.forward(randomUpstream([2, 3, 3], rng)); // the chunk before
    const carried = { h: (layer.h as NDArray).clone(), c: layer.c?.clone() };
    expect(Math.max(...Array.from(carried.h.data, Math.abs))).toBeGreaterThan(0.01);
    const x = randomUpstream([2, 5, 3], rng);
    const dy = randomUpstream([2, 5, 4], rng);
    const dx = layer.backward((layer.forward(x), dy));
    const loss = () => {
      layer.setState(carried.h, carried.c);
      return dot(layer.forward(x), dy);
    };
    checkGradients(loss, [
      { name: "x", value: x, grad: dx.clone() },
      ...layer.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad })),
    ]);
  });

  it("equals its naive twin, the cell stepped in a loop, forward and backward", () => {
    const rng = new Rng(60);
    const [N, T, D, H] = [3, 4, 2, 5];
    const layer = timeLayer(kind, D, H, 61);
    const x = randomUpstream([N, T, D], rng);
    const dy = randomUpstream([N, T, H], rng);
    const ys = layer.forward(x);
    const dx = layer.backward(dy);

    const { Wx, Wh, b } = weights(kind, D, H, 61);
    const cells = Array.from({ length: T }, () =>
      kind === "lstm" ? new LSTM(Wx, Wh, b) : new RNN(Wx, Wh, b),
    );
    let h = NDArray.zeros([N, H], "float64");
    let c = NDArray.zeros([N, H], "float64");
    for (let t = 0; t < T; t++) {
      const cell = cells[t];
      if (cell instanceof LSTM) ({ h, c } = cell.forward(sliceSteps(x, t, t + 1).reshape(N, D), h, c));
      else h = cell.forward(sliceSteps(x, t, t + 1).reshape(N, D), h);
      assertAllClose(h.data, sliceSteps(ys, t, t + 1).data, 1e-12, 0, `h at step ${t}`);
    }
    let dh = NDArray.zeros([N, H], "float64");
    let dc = NDArray.zeros([N, H], "float64");
    const grads = cells[0].params.map((p) => NDArray.zeros(p.value.shape, "float64"));
    for (let t = T - 1; t >= 0; t--) {
      const cell = cells[t];
      const dht = sliceSteps(dy, t, t + 1).reshape(N, H);
      for (let i = 0; i < dh.size; i++) dht.data[i] += dh.data[i];
      const g = cell instanceof LSTM ? cell.backward(dht, dc) : { ...cell.backward(dht), dcPrev: dc };
      dh = g.dhPrev;
      dc = g.dcPrev;
      assertAllClose(g.dx.data, sliceSteps(dx, t, t + 1).data, 1e-12, 1e-10, `dx at step ${t}`);
      cell.params.forEach((p, i) => {
        for (let k = 0; k < p.value.size; k++) grads[i].data[k] += (p.grad as NDArray).data[k];
      });
    }
    layer.params.forEach((p, i) =>
      assertAllClose((p.grad as NDArray).data, grads[i].data, 1e-12, 1e-10, p.name),
    );
  });

  it("agrees in float32 and float64", () => {
    const x = randomUpstream([2, 3, 3], new Rng(70));
    const dy = randomUpstream([2, 3, 4], new Rng(71));
    const run = (dtype: DType) => {
      const layer = timeLayer(kind, 3, 4, 72, false, dtype);
      const y = layer.forward(x.astype(dtype));
      const dx = layer.backward(dy.astype(dtype));
      expect(y.dtype).toBe(dtype);
      return [y, dx, ...layer.params.map((p) => p.grad as NDArray)];
    };
    const [r64, r32] = [run("float64"), run("float32")];
    r32.forEach((a, i) => assertAllClose(a.data, r64[i].data, 1e-5, 1e-4, `output ${i}`));
  });

  it("names the shapes that do not fit", () => {
    const layer = timeLayer(kind, 3, 4, 80, true);
    expect(() => layer.forward(NDArray.zeros([2, 5], "float64"))).toThrow(
      /expected input \(N, T, 3\), got \(2, 5\)/,
    );
    expect(() => layer.forward(NDArray.zeros([2, 5, 2], "float64"))).toThrow(/got \(2, 5, 2\)/);
    layer.forward(NDArray.zeros([2, 1, 3], "float64"));
    expect(() => layer.forward(NDArray.zeros([3, 1, 3], "float64"))).toThrow(
      /state is for a batch of 2 but the input \(3, 1, 3\) has 3; call resetState\(\)/,
    );
    const { Wx, Wh } = weights(kind, 3, 4, 81);
    expect(() =>
      kind === "lstm"
        ? new TimeLSTM(Wx, Wh, NDArray.zeros([4], "float64"))
        : new TimeRNN(Wx, Wh, NDArray.zeros([5], "float64")),
    ).toThrow(/Wx \(3, \d+\), Wh \(4, \d+\), b \(\d,\) do not fit/);
  });
});

/** Steps [t0, t1) of (N, T, …) as a new (N, t1 − t0, …) array. */
function sliceSteps(x: NDArray, t0: number, t1: number): NDArray {
  const [N, T, ...rest] = x.shape;
  const row = rest.reduce((p, d) => p * d, 1);
  const out = NDArray.zeros([N, t1 - t0, ...rest], x.dtype);
  for (let n = 0; n < N; n++)
    out.data.set(x.data.subarray((n * T + t0) * row, (n * T + t1) * row), n * (t1 - t0) * row);
  return out;
}
