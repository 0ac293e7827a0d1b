// The captioner's PyTorch hand-off, checked in TypeScript: the files name every tensor the
// weights file holds, the LSTM's gates land in PyTorch's documented order (i, f, g, o), the two
// PyTorch biases come back as zerodl's one, and the shipped captioner's folder is complete.
import { describe, expect, it } from "vitest";
import { loadCaptioner } from "../cli/caption.js";
import { Captioner, mnistCaptionerSpec } from "../models/captioner.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { modelsDir } from "../../test/shipped-models.js";
import { PYTORCH_WEIGHTS, checkInput } from "./pytorch.js";
import {
  captionerScores,
  exportCaptionerPytorch,
  importCaptionerPytorchWeights,
} from "./pytorch-captioner.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";

const small = () =>
  new Captioner(
    mnistCaptionerSpec({ maxDigits: 2, filters: [3, 2], features: 5, wordvecSize: 4, hiddenSize: 3 }),
    new Rng(7),
  );

describe("the captioner's PyTorch files", () => {
  it("models/captioner.safetensors: model.py, train.py, weights under PyTorch's names, check.json", async () => {
    const model = await loadCaptioner(modelsDir + "captioner.safetensors");
    const files = exportCaptionerPytorch(model, { training: { epochs: 4, lr: 0.002, maxGradNorm: 5 } });
    expect(Object.keys(files).sort()).toEqual(["check.json", "model.py", "train.py", PYTORCH_WEIGHTS]);
    const py = files["model.py"] as string;
    // The shipped captioner is peeky: h0 (128) after the word vector (32) and after the LSTM's h (128).
    expect(py).toContain("PEEKY = True");
    expect(py).toContain("self.lstm = nn.LSTM(160, 128, batch_first=True)");
    expect(py).toContain("self.output = nn.Linear(256, 12)");
    expect(py).toContain("self.embedding = nn.Embedding(12, 32)");
    const { tensors, metadata } = decodeSafetensors(files[PYTORCH_WEIGHTS] as Uint8Array, "w");
    expect(tensors.map((t) => t.name)).toEqual([
      "encoder.conv1.weight",
      "encoder.conv1.bias",
      "encoder.conv2.weight",
      "encoder.conv2.bias",
      "encoder.fc1.weight",
      "encoder.fc1.bias",
      "encoder.fc2.weight",
      "encoder.fc2.bias",
      "embedding.weight",
      "lstm.weight_ih_l0",
      "lstm.weight_hh_l0",
      "lstm.bias_ih_l0",
      "lstm.bias_hh_l0",
      "output.weight",
      "output.bias",
    ]);
    for (const t of tensors.filter((t) => t.name.startsWith("encoder."))) {
      expect(py).toContain(`("${t.name.split(".")[1]}", nn.`);
    }
    expect(tensors.find((t) => t.name === "lstm.weight_ih_l0")!.shape).toEqual([512, 160]);
    expect(tensors.find((t) => t.name === "output.weight")!.shape).toEqual([12, 256]);
    // Every zerodl value, plus PyTorch's second LSTM bias (zeros).
    const count = model.params.reduce((s, p) => s + p.value.size, 0);
    expect(tensors.reduce((s, t) => s + t.data.length, 0)).toBe(count + 512);
    expect(JSON.parse(metadata.zerodl_spec)).toEqual(model.spec);
    const check = JSON.parse(files["check.json"] as string) as { words: number[][]; scores: number[] };
    const words = NDArray.from(check.words.flat(), [2, check.words[0].length]);
    expect(check.scores).toEqual(Array.from(captionerScores(model, checkInput(2, [1, 28, 112]), words).data));
    const train = files["train.py"] as string;
    expect(train).toContain("DistributedDataParallel(model");
    expect(train).toContain("nn.CrossEntropyLoss(ignore_index=-1)");
    expect(train).toContain('p.add_argument("--epochs", type=int, default=4)');
    expect(train).toContain('p.add_argument("--max-grad-norm", type=float, default=5.0)');
  });

  it("puts zerodl's gate blocks (f, g, i, o columns) in PyTorch's rows i, f, g, o", () => {
    const model = small();
    const H = 3;
    const { Wx } = model.lstm;
    const D = Wx.value.shape[0];
    // Column block k holds the value k + 1: f = 1, g = 2, i = 3, o = 4.
    for (let r = 0; r < D; r++)
      for (let c = 0; c < 4 * H; c++) Wx.value.data[r * 4 * H + c] = 1 + Math.floor(c / H);
    const { tensors } = decodeSafetensors(exportCaptionerPytorch(model)[PYTORCH_WEIGHTS] as Uint8Array, "w");
    const rows = tensors.find((t) => t.name === "lstm.weight_ih_l0")!;
    expect(rows.shape).toEqual([4 * H, D]);
    const firstOfEachGate = [0, 1, 2, 3].map((k) => rows.data[k * H * D]);
    expect(firstOfEachGate).toEqual([3, 1, 2, 4]);
  });

  it("reads its weights back bit-identically; PyTorch's two LSTM biases are added", () => {
    const model = small();
    const bytes = exportCaptionerPytorch(model)[PYTORCH_WEIGHTS] as Uint8Array;
    const back = importCaptionerPytorchWeights(bytes, "w").model;
    back.params.forEach((p, i) => expect(p.value.data).toEqual(model.params[i].value.data));
    // After PyTorch's training both biases have moved: the sum is what zerodl's one bias holds.
    const { tensors, metadata } = decodeSafetensors(bytes, "w");
    const ih = tensors.find((t) => t.name === "lstm.bias_ih_l0")!;
    const hh = tensors.find((t) => t.name === "lstm.bias_hh_l0")!;
    const split = tensors.map((t) =>
      t === ih
        ? { ...t, data: ih.data.map((v) => v - 0.25) }
        : t === hh
          ? { ...t, data: hh.data.map(() => 0.25) }
          : t,
    );
    const moved = importCaptionerPytorchWeights(encodeSafetensors(split, metadata), "w").model;
    const b = moved.lstm.b.value.data;
    model.lstm.b.value.data.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
  });

  it("a peeky captioner: h0 concatenated in model.py, wider LSTM input and output, weights read back", () => {
    const rng = new Rng(8);
    const model = new Captioner(
      mnistCaptionerSpec({
        maxDigits: 2,
        filters: [3, 2],
        features: 5,
        wordvecSize: 4,
        hiddenSize: 3,
        peeky: true,
      }),
      rng,
    );
    for (const p of model.params) for (let i = 0; i < p.value.size; i++) p.value.data[i] = 0.5 * rng.normal();
    const files = exportCaptionerPytorch(model);
    const py = files["model.py"] as string;
    expect(py).toContain("PEEKY = True");
    expect(py).toContain("self.lstm = nn.LSTM(7, 3, batch_first=True)"); // word vector 4 + h0 3
    expect(py).toContain("self.output = nn.Linear(6, 12)"); // h 3 + h0 3
    const check = JSON.parse(files["check.json"] as string) as { words: number[][]; scores: number[] };
    const words = NDArray.from(check.words.flat(), [2, check.words[0].length]);
    expect(check.scores).toEqual(Array.from(model.scores(checkInput(2, [1, 28, 56]), words).data));
    const back = importCaptionerPytorchWeights(files[PYTORCH_WEIGHTS] as Uint8Array, "w").model;
    expect(back.spec.peeky).toBe(true);
    back.params.forEach((p, i) => expect(p.value.data).toEqual(model.params[i].value.data));
  });

  it("names missing and misshapen tensors", () => {
    const bytes = exportCaptionerPytorch(small())[PYTORCH_WEIGHTS] as Uint8Array;
    const { tensors, metadata } = decodeSafetensors(bytes, "w");
    const edited = tensors
      .filter((t) => t.name !== "output.bias")
      .map((t) => (t.name === "embedding.weight" ? { ...t, shape: [t.shape[1], t.shape[0]] } : t));
    expect(() =>
      importCaptionerPytorchWeights(encodeSafetensors(edited, metadata), "edited.safetensors"),
    ).toThrow(
      /edited\.safetensors: the tensors do not match the captioner; missing: output\.bias; embedding\.weight is \[4, 12\], expected \[12, 4\]/,
    );
  });
});
