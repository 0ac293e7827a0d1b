import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { Captioner, type CaptionerSpec } from "./captioner.js";

/** A small captioner over 1×4×6 "images": encoder Flatten → Affine 5 → Tanh, 3 words. */
const spec: CaptionerSpec = {
  kind: "captioner",
  inputShape: [1, 4, 6],
  tokens: ["<start>", "<end>", "a", "b", "c"],
  maxLength: 3,
  encoder: [{ type: "flatten" }, { type: "affine", outputSize: 5, weightInit: "xavier" }, { type: "tanh" }],
  wordvecSize: 3,
  hiddenSize: 4,
};

function randomized(rng: Rng, peeky = false): Captioner {
  const model = new Captioner({ ...spec, peeky }, rng, "float64");
  // Larger than the init's (the embedding starts at std 0.01), so every path is exercised.
  for (const p of model.params) for (let i = 0; i < p.value.size; i++) p.value.data[i] += 0.5 * rng.normal();
  return model;
}

/** The model's log probability of each caption (token ids without <end>) given its image. */
function logProb(model: Captioner, image: NDArray, caption: number[]): number {
  const inputs = NDArray.from([0, ...caption], [1, caption.length + 1], "float64");
  const targets = Int32Array.from([...caption, 1]);
  return -model.loss(image, inputs, targets, "eval") * targets.length;
}

describe("Captioner", () => {
  it("is gradient-checked end to end: encoder, bridge, embedding, LSTM, output (padding ignored)", () => {
    const rng = new Rng(1);
    const model = randomized(rng);
    const images = randomUpstream([2, 1, 4, 6], rng);
    const inputs = NDArray.from([0, 2, 3, 1, 0, 4, 1, 1], [2, 4], "float64");
    const targets = Int32Array.from([2, 3, 1, -1, 4, 1, -1, -1]);
    const loss = () => model.loss(images, inputs, targets);
    loss();
    model.backward();
    const reports = checkGradients(
      loss,
      model.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
    );
    expect(reports.map((r) => r.name)).toEqual([
      "W1",
      "b1",
      "W2",
      "b2",
      "W3",
      "Wx1",
      "Wh1",
      "b3",
      "W4",
      "b4",
    ]);
  });

  it.each([
    // Sequence lengths 1 and 4; the peeky decoder's h0 reaches the loss three ways.
    [1, [0, 0], [2, -1]],
    [4, [0, 2, 3, 1, 0, 4, 1, 1], [2, 3, 1, -1, 4, 1, -1, -1]],
  ])("is gradient-checked end to end with a peeky decoder, sequences of %i", (T, ids, labels) => {
    const rng = new Rng(5 + T);
    const model = randomized(rng, true);
    expect(model.lstm.Wx.value.shape).toEqual([3 + 4, 16]); // word vector D, then h0 (H)
    expect(model.output.W.value.shape).toEqual([4 + 4, 5]); // the LSTM's h, then h0
    const images = randomUpstream([2, 1, 4, 6], rng);
    const inputs = NDArray.from(ids, [2, T], "float64");
    const targets = Int32Array.from(labels);
    const loss = () => model.loss(images, inputs, targets);
    loss();
    model.backward();
    const reports = checkGradients(
      loss,
      model.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
    );
    expect(reports).toHaveLength(10);
  });

  it.each([false, true])(
    "beam search finds captions at least as probable as greedy's; width 1 is greedy (peeky: %s)",
    (peeky) => {
      const rng = new Rng(2);
      const model = randomized(rng, peeky);
      const images = randomUpstream([12, 1, 4, 6], rng);
      const greedy = model.caption(images);
      expect(model.caption(images, { beamWidth: 1, batchSize: 5 })).toEqual(greedy);
      const beam = model.caption(images, { beamWidth: 4 });
      let better = 0;
      for (let i = 0; i < 12; i++) {
        const image = images.sliceRows(i, i + 1);
        for (const c of [greedy[i], beam[i]]) expect(c.length).toBeLessThanOrEqual(3);
        const [g, b] = [logProb(model, image, greedy[i]), logProb(model, image, beam[i])];
        expect(b).toBeGreaterThanOrEqual(g - 1e-9);
        if (b > g + 1e-9) better++;
      }
      expect(better).toBeGreaterThan(0); // random weights: greedy is not always best
    },
  );

  it("copies the first layers of another model while names and shapes agree", () => {
    const model = new Captioner(spec, new Rng(3), "float64");
    const W1 = NDArray.full([24, 5], 0.5, "float64");
    const source = [
      { name: "W1", value: W1, grad: null },
      { name: "b1", value: NDArray.full([5], 2, "float64"), grad: null },
      { name: "W2", value: NDArray.zeros([9, 9], "float64"), grad: null },
    ];
    expect(model.initEncoderFrom(source)).toEqual(["W1", "b1"]);
    expect(model.params[0].value.data[7]).toBe(0.5);
    expect(model.params[2].value.data[0]).not.toBe(0);
  });

  it("widens a trained captioner without changing what it computes; the new units then learn", () => {
    const convSpec: CaptionerSpec = {
      ...spec,
      encoder: [
        { type: "convolution", filters: 2, fh: 3, fw: 3, pad: 1 },
        { type: "relu" },
        { type: "flatten" },
        { type: "affine", outputSize: 5 },
        { type: "tanh" },
      ],
    };
    const rng = new Rng(4);
    const source = new Captioner(convSpec, rng, "float64");
    for (const p of source.params)
      for (let i = 0; i < p.value.size; i++) p.value.data[i] += 0.5 * rng.normal();
    const wide = new Captioner(
      {
        ...convSpec,
        encoder: convSpec.encoder.map((l) =>
          l.type === "convolution" ? { ...l, filters: 3 } : l.type === "affine" ? { ...l, outputSize: 7 } : l,
        ),
        wordvecSize: 4,
        hiddenSize: 6,
      },
      rng,
      "float64",
    );
    wide.widenFrom(source);
    const images = randomUpstream([3, 1, 4, 6], rng);
    const inputs = NDArray.from([0, 2, 3, 1, 0, 4, 1, 1, 0, 3, 3, 4], [3, 4], "float64");
    const targets = Int32Array.from([2, 3, 1, -1, 4, 1, -1, -1, 3, 3, 4, 1]);
    expect(wide.loss(images, inputs, targets)).toBeCloseTo(source.loss(images, inputs, targets), 12);
    expect(wide.caption(images, { beamWidth: 2 })).toEqual(source.caption(images, { beamWidth: 2 }));
    // The zeroed weights from new units (the LSTM's new Wh rows, the output's new rows) get gradients.
    wide.loss(images, inputs, targets);
    wide.backward();
    const grad = (name: string) => wide.params.find((p) => p.name === name)!.grad!.data;
    const lstmNewRows = grad("Wh1").subarray(4 * 24);
    expect(Math.max(...lstmNewRows.map(Math.abs))).toBeGreaterThan(1e-6);
    expect(
      Math.max(
        ...grad("W5")
          .subarray(4 * 5)
          .map(Math.abs),
      ),
    ).toBeGreaterThan(1e-6);

    // A plain captioner becomes peeky (and wider) computing the same; h0's new weights then learn.
    const peeky = new Captioner({ ...wide.spec, hiddenSize: 7, peeky: true }, rng, "float64");
    peeky.widenFrom(source);
    expect(peeky.loss(images, inputs, targets)).toBeCloseTo(source.loss(images, inputs, targets), 12);
    expect(peeky.caption(images, { beamWidth: 2 })).toEqual(source.caption(images, { beamWidth: 2 }));
    peeky.loss(images, inputs, targets);
    peeky.backward();
    const peekGrad = (name: string, from: number) =>
      Math.max(
        ...peeky.params
          .find((p) => p.name === name)!
          .grad!.data.subarray(from)
          .map(Math.abs),
      );
    expect(peekGrad("Wx1", 4 * 28)).toBeGreaterThan(1e-6); // rows D.. of Wx (D + H, 4H)
    expect(peekGrad("W5", 7 * 5)).toBeGreaterThan(1e-6); // rows H.. of the output's W (2H, V)
    expect(() => new Captioner({ ...wide.spec, peeky: true }, rng).widenFrom(peeky)).toThrow(
      /peeky captioner's wordvecSize and hiddenSize cannot grow/,
    );
    expect(() => wide.widenFrom(peeky)).toThrow(/a peeky captioner cannot become a plain one/);

    expect(() => source.widenFrom(wide)).toThrow(
      /Convolution W \(3, 1, 3, 3\) does not fit in \(2, 1, 3, 3\)/,
    );
    expect(() => wide.widenFrom(new Captioner({ ...convSpec, maxLength: 4 }, rng))).toThrow(
      /only filters, outputSize, wordvecSize and hiddenSize may grow/,
    );
  });

  it("names a bad spec and a wrong image shape", () => {
    expect(() => new Captioner({ ...spec, tokens: ["a", "b", "c"] }, new Rng(0))).toThrow(
      /tokens must begin "<start>", "<end>"/,
    );
    expect(() => new Captioner({ ...spec, encoder: [] }, new Rng(0))).toThrow(
      /encoder must end in a flat feature vector, not samples of \(1, 4, 6\)/,
    );
    expect(() => new Captioner(spec, new Rng(0)).caption(NDArray.zeros([1, 1, 6, 4]))).toThrow(
      /expected images \(N, 1, 4, 6\), got \(1, 1, 6, 4\)/,
    );
  });
});
