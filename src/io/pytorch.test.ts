// The PyTorch hand-off, checked in TypeScript (Python is never needed by the tests): the generated
// model.py and train.py say what PyTorch must build and run, the weights file holds every tensor
// under PyTorch's name and layout, and weights written back come into zerodl unchanged.
import { describe, expect, it } from "vitest";
import { loadGenerator } from "./generator-file.js";
import { loadModel } from "./model-file.js";
import { checkInput, exportPytorch, importPytorchWeights, PYTORCH_WEIGHTS, PytorchError } from "./pytorch.js";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import type { Layer } from "../layers/layer.js";
import { LayerChain } from "../models/layer-chain.js";
import { createModel, type ModelSpec } from "../models/model.js";
import { loadAgent } from "../rl/agent-file.js";
import { Rng } from "../rng.js";
import { modelsDir, shippedModels } from "../../test/shipped-models.js";

type Chain = ReturnType<typeof createModel> & { layers: readonly Layer[] };
const models = await shippedModels();
const shipped = models.filter((m) => m.classifier).map((m) => m.file);

describe("graphs (book §8.2) as an nn.Module with one forward line per node", () => {
  const graphs: [string, ModelSpec, RegExp][] = [
    [
      "resnet: Add",
      { kind: "resnet", inputShape: [1, 28, 28], outputSize: 10, widths: [4, 8], blocks: [1, 1] },
      /^ {8}t_stage2_block1_add = t_stage2_block1_bn2 \+ t_stage2_block1_proj_bn$/m,
    ],
    [
      "googlenet: Concat",
      { kind: "googlenet", inputShape: [1, 28, 28], outputSize: 10 },
      /^ {8}t_stage1_inception1 = torch\.cat\(\[t_stage1_inception1_1x1_relu, t_stage1_inception1_3x3_relu, t_stage1_inception1_5x5_relu, t_stage1_inception1_pool_proj_relu\], 1\)$/m,
    ],
  ];
  for (const [name, spec, merge] of graphs) {
    it(name, () => {
      const model = createModel(spec, new Rng(3)) as Chain;
      const files = exportPytorch(model);
      const py = files["model.py"] as string;
      expect(py).toMatch(/^class \w+\(nn\.Module\):$/m);
      expect(py).toMatch(merge);
      expect(py).toMatch(/^ {8}t_gap = t_\w+\.mean\(dim=\(2, 3\)\)$/m);
      // Every tensor belongs to a module the class declares, and forward applies each module once.
      const { tensors } = decodeSafetensors(files[PYTORCH_WEIGHTS] as Uint8Array, name);
      for (const t of tensors) expect(py).toContain(`        self.${t.name.split(".")[0]} = nn.`);
      const declared = [...py.matchAll(/^ {8}self\.(\w+) = nn\./gm)].map((m) => m[1]);
      for (const m of declared) expect(py.split(`self.${m}(`).length - 1).toBe(1);
      const check = JSON.parse(files["check.json"] as string) as { logits: number[] };
      expect(check.logits).toEqual(Array.from(model.predict(checkInput(2, spec.inputShape)).data));
    });
  }
});

describe("every shipped model has its PyTorch files", () => {
  it("the classifiers, the DQN agents and the DCGAN generator here; the captioner in pytorch-captioner.test.ts", () => {
    expect(shipped.length).toBeGreaterThanOrEqual(4);
    // A new kind of shipped model needs its PyTorch export (and a test here).
    const others = new Set(models.filter((m) => !m.classifier).map((m) => m.kind));
    expect([...others].sort()).toEqual(["captioner", "generator", "q-network"]);
  });

  for (const { file, kind } of models.filter((m) => m.kind === "q-network" || m.kind === "generator")) {
    it(`${file} (${kind}): model.py, weights, check.json; no train.py; the weights come back bit-identical`, async () => {
      const { model, info } =
        kind === "generator"
          ? await loadGenerator(modelsDir + file)
          : await loadAgent(modelsDir + file).then((a) => ({ model: a.network, info: a.info }));
      const files = exportPytorch(model, { training: info.training });
      expect(Object.keys(files).sort()).toEqual(["check.json", "model.py", PYTORCH_WEIGHTS]);
      const py = files["model.py"] as string;
      const { tensors, metadata } = decodeSafetensors(files[PYTORCH_WEIGHTS] as Uint8Array, file);
      for (const t of tensors) expect(py).toContain(`("${t.name.split(".")[0]}", nn.`);
      expect(JSON.parse(metadata.zerodl_spec)).toEqual(model.spec);
      const x = checkInput(2, model.spec.inputShape);
      const key = kind === "generator" ? "images" : "values";
      const check = JSON.parse(files["check.json"] as string) as Record<string, number[]>;
      const expected = model instanceof LayerChain ? model.forward(x, "eval") : model.predict(x, "eval");
      expect(check[key]).toEqual(Array.from(expected.data));
      expect(py).toContain(`diff = max(abs(a - b) for a, b in zip(${key}, check["${key}"]))`);
      const { model: back, training } = importPytorchWeights(files[PYTORCH_WEIGHTS] as Uint8Array, file);
      expect(back.constructor).toBe(model.constructor);
      expect(back.spec).toEqual(model.spec);
      back.params.forEach((p, i) => expect(p.value.data).toEqual(model.params[i].value.data));
      const y = back instanceof LayerChain ? back.forward(x, "eval") : back.predict(x, "eval");
      expect(y.data).toEqual(expected.data);
      if (kind === "q-network") {
        // The agent's recipe comes back, so the imported file plays (zerodl rl play needs its env).
        expect(training.env).toEqual((info.training as { env: unknown }).env);
        expect(py).toMatch(/^ACTIONS = \[".+"\]$/m);
      }
    });
  }

  it("dcgan.safetensors: ConvTranspose2d and Unflatten modules, weights in zerodl's layout", async () => {
    const { model } = await loadGenerator(modelsDir + "dcgan.safetensors");
    const files = exportPytorch(model);
    const py = files["model.py"] as string;
    const modules = [...py.matchAll(/^ {16}\("(\w+)", (.*)\),$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    expect(modules).toEqual([
      "fc1: nn.Linear(64, 3136)",
      "reshape1: nn.Unflatten(1, (64, 7, 7))",
      "bn1: nn.BatchNorm2d(64, eps=0.00001, momentum=0.1)",
      "relu1: nn.ReLU()",
      "deconv1: nn.ConvTranspose2d(64, 32, kernel_size=(4, 4), stride=2, padding=1, output_padding=0)",
      "bn2: nn.BatchNorm2d(32, eps=0.00001, momentum=0.1)",
      "relu2: nn.ReLU()",
      "deconv2: nn.ConvTranspose2d(32, 1, kernel_size=(4, 4), stride=2, padding=1, output_padding=0)",
      "tanh1: nn.Tanh()",
    ]);
    expect(py).toContain("OUTPUT_SHAPE = (1, 28, 28)");
    expect(py).toContain("def generate(model, n, seed=0):");
    const { tensors } = decodeSafetensors(files[PYTORCH_WEIGHTS] as Uint8Array, "w");
    const deconv1 = tensors.find((t) => t.name === "deconv1.weight")!;
    expect(deconv1.shape).toEqual([64, 32, 4, 4]);
    expect(deconv1.data).toEqual(model.params.find((p) => p.name === "W2")!.value.data);
  });

  for (const file of shipped) {
    it(file, async () => {
      const { model, info } = await loadModel(modelsDir + file);
      const files = exportPytorch(model as Chain, { training: info.training });
      expect(Object.keys(files).sort()).toEqual(["check.json", "model.py", "train.py", PYTORCH_WEIGHTS]);
      const py = files["model.py"] as string;
      const { tensors, metadata } = decodeSafetensors(files[PYTORCH_WEIGHTS] as Uint8Array, file);
      // Every zerodl param is in the weights file, as many values, under a module the class builds.
      // (with batch norm's running statistics, which PyTorch keeps as buffers beside the params)
      const state = (model as Chain).layers
        .filter((l) => l instanceof BatchNormalization)
        .reduce((s, l) => s + l.runningMean.size + l.runningVar.size, 0);
      const count = model.params.reduce((s, p) => s + p.value.size, 0) + state;
      expect(tensors.reduce((s, t) => s + t.data.length, 0)).toBe(count);
      // (a chain's nn.Sequential lists ("conv1", nn.…); a graph's nn.Module sets self.conv1 = nn.…)
      for (const t of tensors) {
        const module = t.name.split(".")[0];
        expect(py.includes(`("${module}", nn.`) || py.includes(`self.${module} = nn.`)).toBe(true);
      }
      expect(JSON.parse(metadata.zerodl_spec)).toEqual(model.spec);
      // check.json: zerodl's logits for the documented input, which model.py recomputes.
      const check = JSON.parse(files["check.json"] as string) as { input_shape: number[]; logits: number[] };
      expect(check.logits).toEqual(Array.from(model.predict(checkInput(2, model.spec.inputShape)).data));
      // train.py starts from the model's own training settings.
      const train = files["train.py"] as string;
      expect(train).toContain("DistributedDataParallel(model");
      expect(train).toContain(
        `p.add_argument("--epochs", type=int, default=${info.training!.epochs as number})`,
      );
      expect(train).toContain(`default="${info.training!.optimizer as string}"`);
    });
  }

  it("simple-conv: the modules, and fc weights as PyTorch's (out, in)", async () => {
    const { model } = await loadModel(modelsDir + "simple-conv.safetensors");
    const files = exportPytorch(model as Chain);
    const py = files["model.py"] as string;
    const modules = [...py.matchAll(/^ {16}\("(\w+)", (.*)\),$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    expect(modules).toEqual([
      "conv1: nn.Conv2d(1, 30, kernel_size=(5, 5), stride=1, padding=0)",
      "relu1: nn.ReLU()",
      "pool1: nn.MaxPool2d(kernel_size=(2, 2), stride=2, padding=0)",
      "flatten1: nn.Flatten()",
      "fc1: nn.Linear(4320, 100)",
      "relu2: nn.ReLU()",
      "fc2: nn.Linear(100, 10)",
    ]);
    const { tensors } = decodeSafetensors(files[PYTORCH_WEIGHTS] as Uint8Array, "w");
    const fc1 = tensors.find((t) => t.name === "fc1.weight")!;
    expect(fc1.shape).toEqual([100, 4320]);
    const W2 = model.params.find((p) => p.name === "W2")!.value; // zerodl (4320, 100)
    expect(fc1.data[7 * 4320 + 123]).toBe(W2.data[123 * 100 + 7]);
    expect(py).toContain('DECAYED = ["conv1.weight","fc1.weight","fc2.weight"]');
  });

  it("deep-conv: the book's dropout is BookDropout, scaling by 1 − p at inference", async () => {
    const { model } = await loadModel(modelsDir + "deep-conv.safetensors");
    const py = exportPytorch(model as Chain)["model.py"] as string;
    expect(py).toContain('("dropout1", BookDropout(p=0.5))');
    expect(py).toContain("return x * (1.0 - self.p)");
    expect(py).toContain('("conv4", nn.Conv2d(32, 32, kernel_size=(3, 3), stride=1, padding=2))');
  });
});

describe("PyTorch conventions that differ from zerodl's", () => {
  it("batch norm: eps kept, momentum as PyTorch's 1 − momentum; inverted dropout is nn.Dropout; LRN; pooling padding", () => {
    const model = createModel(
      {
        kind: "sequential",
        inputShape: [2, 9, 9],
        outputSize: 4,
        layers: [
          { type: "convolution", filters: 3, fh: 3, fw: 3, pad: 1 },
          { type: "batchnorm", eps: 1e-3, momentum: 0.9 },
          { type: "pooling", ph: 3, pw: 3, stride: 1, pad: 2, kind: "max" },
          { type: "pooling", ph: 3, pw: 3, stride: 1, pad: 3, kind: "avg" },
          { type: "dropout", ratio: 0.3, inverted: true },
          { type: "lrn", n: 3, k: 2 },
          { type: "affine", outputSize: 4 },
        ],
      },
      new Rng(1),
    ) as Chain;
    const py = exportPytorch(model)["model.py"] as string;
    expect(py).toContain('("bn1", nn.BatchNorm2d(3, eps=0.001, momentum=0.1))');
    expect(py).toContain(
      'nn.Sequential(nn.ConstantPad2d(2, float("-inf")), nn.MaxPool2d(kernel_size=(3, 3), stride=1))',
    );
    expect(py).toContain(
      "nn.Sequential(nn.ConstantPad2d(3, 0.0), nn.AvgPool2d(kernel_size=(3, 3), stride=1))",
    );
    expect(py).toContain('("dropout1", nn.Dropout(p=0.3))');
    expect(py).toContain('("lrn1", nn.LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=2.0))');
    expect(py).not.toContain("class BookDropout");
    expect(py).toContain('("flatten1", nn.Flatten())');
  });

  it("max pooling with windows of padding only is refused", () => {
    const model = createModel(
      {
        kind: "sequential",
        inputShape: [1, 4, 4],
        outputSize: 2,
        layers: [
          { type: "pooling", ph: 2, pw: 2, stride: 2, pad: 2 },
          { type: "affine", outputSize: 2 },
        ],
      },
      new Rng(1),
    ) as Chain;
    expect(() => exportPytorch(model)).toThrow(PytorchError);
  });
});

describe("weights PyTorch wrote back", () => {
  const twoLayer = () =>
    createModel(
      {
        kind: "two-layer",
        inputShape: [784],
        outputSize: 10,
        hiddenSize: 8,
        weightInitStd: 0.01,
        activation: "relu",
      },
      new Rng(2),
    ) as Chain;

  it("weights as train.py writes them (training record, no num_batches_tracked) import with the record", () => {
    const original = twoLayer();
    const exported = decodeSafetensors(exportPytorch(original)[PYTORCH_WEIGHTS] as Uint8Array, "w");
    // Training changed fc2.bias; train.py adds its record to the metadata.
    const trained = exported.tensors.map((t) => ({
      ...t,
      data: t.name === "fc2.bias" ? t.data.map((v, i) => v + i) : t.data,
    }));
    const history = [{ epoch: 1, loss: 0.3, testAcc: 0.95 }];
    const bytes = encodeSafetensors(trained, {
      ...exported.metadata,
      training: JSON.stringify({ processes: 2, history }),
    });
    const { model, training } = importPytorchWeights(bytes, "trained.safetensors");
    expect(Array.from(model.params.find((p) => p.name === "b2")!.value.data)).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
    expect(training).toMatchObject({
      pytorch: { processes: 2, history },
      classNames: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    });
  });

  it("errors name the file and the tensors: missing, unexpected, wrong shape, no architecture", () => {
    const original = twoLayer();
    const { tensors: ts, metadata } = decodeSafetensors(
      exportPytorch(original)[PYTORCH_WEIGHTS] as Uint8Array,
      "w",
    );
    const renamed = ts.map((t) => (t.name === "fc1.bias" ? { ...t, name: "fc1.b" } : t));
    expect(() => importPytorchWeights(encodeSafetensors(renamed, metadata), "a.safetensors")).toThrow(
      /^a\.safetensors: the tensors do not match the "two-layer" architecture; missing: fc1\.bias; unexpected: fc1\.b$/,
    );
    const reshaped = ts.map((t) => (t.name === "fc2.weight" ? { ...t, shape: [8, 10] } : t));
    expect(() => importPytorchWeights(encodeSafetensors(reshaped, metadata), "b.safetensors")).toThrow(
      /^b\.safetensors: the tensors do not match the "two-layer" architecture; fc2\.weight is \[8, 10\], expected \[10, 8\]$/,
    );
    expect(() => importPytorchWeights(encodeSafetensors(ts, {}), "c.safetensors")).toThrow(
      /pass --like MODEL\.safetensors/,
    );
    // With --like, the architecture comes from a zerodl model instead.
    const { model } = importPytorchWeights(encodeSafetensors(ts, {}), "c.safetensors", original);
    expect(model.params[0].value.data).toEqual(original.params[0].value.data);
  });
});
