// The captioner in ONNX, judged by ONNX Runtime: the exported teacher-forced graph gives zerodl's
// next-word scores (within 1e-4), and greedy decoding by calling it word by word gives the shipped
// captioner's captions on 100 test canvases. The file reads back to the same weights.
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { loadCaptioner, TEST_CANVAS_SEED } from "../src/cli/caption.js";
import { DigitCanvases } from "../src/data/captions.js";
import { loadMnist } from "../src/data/mnist.js";
import {
  CAPTIONER_IMAGE,
  CAPTIONER_WORDS,
  exportCaptionerOnnx,
  importCaptionerOnnx,
} from "../src/io/onnx/captioner.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { decodeModelProto, encodeModelProto, readTensor, type ModelProto } from "../src/io/onnx/proto.js";
import { Captioner, mnistCaptionerSpec } from "../src/models/captioner.js";
import { TwoLayerNet } from "../src/models/two-layer-net.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";
import { modelsDir } from "./shipped-models.js";
import { runSession } from "./onnx-runtime.js";

const TOLERANCE = 1e-4;
const START = 0;
const END = 1;

/** zerodl's teacher-forced scores (N, T, V) for images and word ids (N, T). */
function scores(model: Captioner, images: NDArray, words: NDArray): NDArray {
  return model.scores(images, words);
}

/** Greedy captions through an ONNX Runtime session, as docs/formats.md describes the loop. */
async function greedyOnnx(session: ort.InferenceSession, images: NDArray, maxLength: number, V: number) {
  const N = images.shape[0];
  const prefixes: number[][] = Array.from({ length: N }, () => [START]);
  const done = new Array<boolean>(N).fill(false);
  for (let step = 0; step <= maxLength && done.includes(false); step++) {
    const T = step + 1;
    const ids = BigInt64Array.from(prefixes.flat(), BigInt);
    const { data } = await runSession(session, {
      [CAPTIONER_IMAGE]: images,
      [CAPTIONER_WORDS]: { ids, dims: [N, T] },
    });
    for (let n = 0; n < N; n++) {
      if (done[n]) {
        prefixes[n].push(END); // keeps the batch rectangular; ignored
        continue;
      }
      const row = data.subarray((n * T + T - 1) * V, (n * T + T) * V);
      let best = -1;
      for (let v = 0; v < V; v++) {
        if (v === START || (step === maxLength && v !== END)) continue;
        if (best < 0 || row[v] > row[best]) best = v;
      }
      prefixes[n].push(best);
      if (best === END) done[n] = true;
    }
  }
  return prefixes.map((p) => {
    const words = p.slice(1);
    const end = words.indexOf(END);
    return end < 0 ? words : words.slice(0, end);
  });
}

describe("the captioner exported to ONNX runs in ONNX Runtime", () => {
  let model: Captioner;
  let images: NDArray;
  let bytes: Uint8Array;
  beforeAll(async () => {
    await useFastBackend();
    model = await loadCaptioner(modelsDir + "captioner.safetensors");
    const canvases = new DigitCanvases((await loadMnist({ flatten: false })).test, 100, TEST_CANVAS_SEED);
    images = canvases.images(Array.from({ length: 100 }, (_, i) => i));
    bytes = exportCaptionerOnnx(model);
  });

  it("captioner.safetensors: 100 test canvases, the same greedy captions and scores within 1e-4", async () => {
    const session = await ort.InferenceSession.create(bytes);
    try {
      const V = model.vocabSize;
      const onnx = await greedyOnnx(session, images, model.spec.maxLength, V);
      expect(onnx).toEqual(model.caption(images));
      // Scores along the true captions (padded with <end>), every step.
      const words = NDArray.zeros([100, model.spec.maxLength + 1], "float32");
      onnx.forEach((caption, n) =>
        words.data.set([START, ...caption, ...Array(4).fill(END)].slice(0, 5), n * 5),
      );
      const ours = scores(model, images, words);
      const theirs = await runSession(session, {
        [CAPTIONER_IMAGE]: images,
        [CAPTIONER_WORDS]: { ids: BigInt64Array.from(words.data, BigInt), dims: [...words.shape] },
      });
      expect(theirs.dims).toEqual(ours.shape);
      let maxDiff = 0;
      ours.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - theirs.data[i]))));
      expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      await session.release();
    }
  });

  it("has the tokens, input shape and caption length in its metadata", () => {
    const meta = Object.fromEntries(decodeModelProto(bytes, "").metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta.tokens)).toEqual(model.spec.tokens);
    expect(JSON.parse(meta.input_shape)).toEqual([1, 28, 112]);
    expect(meta.max_length).toBe("4");
    expect(JSON.parse(meta.zerodl_spec)).toEqual(model.spec);
  });

  it("puts zerodl's gate blocks (f, g, i, o columns) in ONNX's rows i, o, f, c", () => {
    const small = new Captioner(
      mnistCaptionerSpec({ maxDigits: 2, filters: [3, 2], features: 5, wordvecSize: 4, hiddenSize: 3 }),
      new Rng(2),
    );
    const Wx = small.lstm.Wx.value;
    const [D, H] = [Wx.shape[0], 3];
    // Column block k holds k + 1: f = 1, g = 2, i = 3, o = 4.
    for (let i = 0; i < Wx.size; i++) Wx.data[i] = 1 + Math.floor((i % (4 * H)) / H);
    const W = decodeModelProto(exportCaptionerOnnx(small), "").graph!.initializer.find(
      (t) => t.name === "Wx1",
    )!;
    expect(W.dims.map(Number)).toEqual([1, 4 * H, D]);
    const rows = readTensor(W, "").data;
    expect([0, 1, 2, 3].map((k) => rows[k * H * D])).toEqual([3, 4, 1, 2]);
  });

  it.each([1, 3])(
    "a peeky captioner (h0 concatenated at every step): the same scores for sequences of %i, and it reads back",
    async (T) => {
      const rng = new Rng(3);
      const small = new Captioner(
        mnistCaptionerSpec({ filters: [3, 2], features: 5, wordvecSize: 4, hiddenSize: 3, peeky: true }),
        rng,
      );
      // Weights large enough that h0's columns change the scores.
      for (const p of small.params)
        for (let i = 0; i < p.value.size; i++) p.value.data[i] = 0.5 * rng.normal();
      const peekyBytes = exportCaptionerOnnx(small);
      const x = images.sliceRows(0, 4);
      const words = NDArray.from(
        Array.from({ length: 4 * T }, (_, i) => (i % T === 0 ? START : 2 + (i % 10))),
        [4, T],
      );
      const session = await ort.InferenceSession.create(peekyBytes);
      try {
        const theirs = await runSession(session, {
          [CAPTIONER_IMAGE]: x,
          [CAPTIONER_WORDS]: { ids: BigInt64Array.from(words.data, BigInt), dims: [4, T] },
        });
        const ours = scores(small, x, words);
        expect(theirs.dims).toEqual(ours.shape);
        ours.data.forEach((v, i) => expect(Math.abs(v - theirs.data[i])).toBeLessThanOrEqual(TOLERANCE));
      } finally {
        await session.release();
      }
      const back = importCaptionerOnnx(peekyBytes, "peeky.onnx");
      expect(back.spec).toEqual(small.spec);
      back.params.forEach((p, i) => expect(p.value.data).toEqual(small.params[i].value.data));
    },
  );

  it("reads back to bit-identical weights", () => {
    const back = importCaptionerOnnx(bytes, "captioner.onnx");
    expect(back.spec).toEqual(model.spec);
    expect(back.params.map((p) => p.name)).toEqual(model.params.map((p) => p.name));
    back.params.forEach((p, i) => expect(p.value.data).toEqual(model.params[i].value.data));
  });
});

describe("captioner import refuses what zerodl's export did not write", () => {
  const spec = mnistCaptionerSpec({
    maxDigits: 2,
    filters: [4, 4],
    features: 8,
    hiddenSize: 6,
    wordvecSize: 5,
  });
  const bytes = exportCaptionerOnnx(new Captioner(spec, new Rng(1)));
  const changed = (change: (proto: ModelProto) => void) => {
    const proto = decodeModelProto(bytes, "");
    change(proto);
    return encodeModelProto(proto);
  };

  it("a changed operator, named with what was expected", () => {
    const file = changed((p) => (p.graph!.node.find((n) => n.opType === "Gather")!.opType = "Identity"));
    expect(() => importCaptionerOnnx(file, "changed.onnx")).toThrow(
      /changed\.onnx: not the graph zerodl's captioner export writes .*"Identity".*expected.*"Gather"/,
    );
  });

  it("a recurrent bias zerodl's LSTM has no place for", () => {
    const file = changed((p) => {
      const B = p.graph!.initializer.find((t) => t.name === "b5")!;
      B.rawData = new Uint8Array(B.rawData.length).fill(0x3f);
    });
    expect(() => importCaptionerOnnx(file, "bias.onnx")).toThrow(/bias\.onnx: the LSTM's recurrent bias/);
  });

  it("a classifier's file", () => {
    const classifier = exportOnnx(
      new TwoLayerNet({ inputSize: 4, hiddenSize: 3, outputSize: 2 }, new Rng(1)),
    );
    expect(() => importCaptionerOnnx(classifier, "two.onnx")).toThrow(
      /two\.onnx: not a zerodl captioner \(its metadata "zerodl_spec" is a "two-layer" model\)/,
    );
  });
});
