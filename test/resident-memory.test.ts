/**
 * Resident arrays (src/backend/wasm.ts `Resident`, ndarray.ts `HostMemory`): with threads, the WASM
 * backend keeps a model's step arrays, params and optimizer state in its own memory and runs its
 * kernels on them in place. Nothing may change but where the values live: the same training gives
 * the same numbers, bit for bit, as the same kernels copying every array in and out; a model's
 * return values stay readable; an intermediate value held past its model's next step refuses to be
 * read; kernels that may write over an input do so correctly when both live in that memory.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setKernels } from "../src/backend/index.js";
import type { Kernels } from "../src/backend/kernels.js";
import { initWasm, setParallelMinWork, setPoisonUnzeroed, setWasmThreads } from "../src/backend/wasm.js";
import { Captioner, type CaptionerSpec } from "../src/models/captioner.js";
import { createDcgan } from "../src/models/dcgan.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import { GoogLeNet } from "../src/models/googlenet.js";
import { MultiLayerNetExtend } from "../src/models/multi-layer-net-extend.js";
import { ResNet } from "../src/models/resnet.js";
import { RnnLm } from "../src/models/rnnlm.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { NDArray, deviceStep, type Floats } from "../src/ndarray.js";
import { Adam } from "../src/optimizers/adam.js";
import type { Optimizer } from "../src/optimizers/optimizer.js";
import { Rng } from "../src/rng.js";
import { sampleLatent } from "../src/train/gan.js";

let resident: Kernels;
let copying: Kernels;
let previous: Kernels;

beforeAll(async () => {
  resident = await initWasm({ threads: 2 });
  // The same kernels without their memory: every array copied in and out, as before resident arrays.
  copying = { ...resident, hostMemory: undefined };
  previous = setKernels(resident);
});
afterAll(() => {
  setKernels(previous);
});

const inMemory = (a: Floats | Int32Array) => a.buffer instanceof SharedArrayBuffer;

interface Net {
  params: readonly { name: string; value: NDArray; grad: NDArray | null }[];
  loss(x: NDArray, t: Int32Array): number;
  backward(): void;
  predict(x: NDArray, mode?: "train" | "eval"): NDArray;
}

/** Three Adam steps and a prediction in eval mode; every number that came out. */
function train(kernels: Kernels, build: () => Net, x: NDArray, t: Int32Array): number[][] {
  setKernels(kernels);
  const net = build();
  const optimizer: Optimizer = new Adam({ lr: 0.01 });
  const out: number[][] = [];
  for (let step = 0; step < 3; step++) {
    out.push([net.loss(x, t)]);
    net.backward();
    optimizer.step(net.params);
    out.push(...net.params.map((p) => Array.from(p.value.data)));
  }
  out.push(Array.from(net.predict(x).data));
  setKernels(resident);
  return out;
}

function uniform(shape: number[], rng: Rng): NDArray {
  const a = NDArray.zeros(shape);
  rng.fillUniform(a.data);
  return a;
}

describe("resident arrays on the WASM backend", () => {
  const rng = new Rng(3);
  const images = uniform([6, 1, 12, 12], rng);
  const labels = Int32Array.from({ length: 6 }, (_, i) => i % 3);
  const networks: [string, () => Net, NDArray, Int32Array][] = [
    [
      "SimpleConvNet (fused convolution, pooling, affine)",
      () =>
        new SimpleConvNet(
          { inputShape: [1, 12, 12], filterNum: 6, hiddenSize: 20, outputSize: 3 },
          new Rng(1),
        ),
      images,
      labels,
    ],
    // 3×3 convolutions with 8 and 16 channels: Winograd, with dropout.
    [
      "DeepConvNet (Winograd convolutions, dropout)",
      () =>
        new DeepConvNet(
          { inputShape: [1, 12, 12], filters: [8, 8, 8, 16, 16, 16], hiddenSize: 10, outputSize: 3 },
          new Rng(2),
        ),
      images,
      labels,
    ],
    // Batch norm keeps running statistics from step to step.
    [
      "MultiLayerNetExtend (batch norm, dropout)",
      () =>
        new MultiLayerNetExtend(
          { inputSize: 144, hiddenSizeList: [20, 20], outputSize: 3, useBatchnorm: true, dropoutRatio: 0.2 },
          new Rng(3),
        ),
      images.reshape(6, 144),
      labels,
    ],
    // Graphs: skips (a tensor read twice, gradients summed), 4-D batch norm with running statistics,
    // Winograd 3×3 convolutions, projections; Inception's concatenation, 1×1 convolutions, dropout.
    [
      "ResNet (skips, batch norm, projection shortcuts)",
      () =>
        new ResNet({ inputShape: [1, 12, 12], outputSize: 3, widths: [8, 8], blocks: [1, 1] }, new Rng(5)),
      images,
      labels,
    ],
    [
      "GoogLeNet (Inception blocks: concatenation, 1×1 convolutions)",
      () =>
        new GoogLeNet(
          { inputShape: [1, 12, 12], outputSize: 3, stem: 8, stages: [[[4, 4, 8, 2, 4, 4]]] },
          new Rng(6),
        ),
      images,
      labels,
    ],
    // A stateful LSTM carries its state from step to step.
    [
      "RnnLm (stateful LSTM)",
      () =>
        new RnnLm(
          { kind: "rnnlm", vocabSize: 7, wordvecSize: 5, hiddenSize: 6 },
          new Rng(4),
        ) as unknown as Net,
      NDArray.from([0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5], [2, 6]),
      Int32Array.from([1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 0]),
    ],
  ];

  it.each(networks)("%s trains to the same numbers, bit for bit, as with copies", (_, build, x, t) => {
    const want = train(copying, build, x, t);
    const got = train(resident, build, x, t);
    expect(got.length).toBe(want.length);
    got.forEach((values, i) => expect(values, `output ${i}`).toEqual(want[i]));
  });

  // The fused convolution's output, argmax and dx are handed out without zeroing (`kernelOutput`):
  // filled with NaN instead, any value a kernel leaves unwritten would reach the numbers.
  it.each(networks)(
    "%s: outputs handed out unzeroed are written whole (poisoned, the same numbers)",
    (_, build, x, t) => {
      const want = train(copying, build, x, t);
      setPoisonUnzeroed(true);
      try {
        const got = train(resident, build, x, t);
        got.forEach((values, i) => expect(values, `output ${i}`).toEqual(want[i]));
      } finally {
        setPoisonUnzeroed(false);
      }
    },
  );

  /** A small DCGAN (its two LayerChain networks and GanTrainer) on `kernels`, three iterations. */
  function dcgan(kernels: Kernels) {
    setKernels(kernels);
    const made = createDcgan({
      images: uniform([8, 1, 12, 12], new Rng(7)),
      iterations: 3,
      batchSize: 4,
      seed: 1,
      latentSize: 6,
      generatorChannels: [8, 4],
      discriminatorChannels: [4, 8],
    });
    const losses: number[][] = [];
    for (const e of made.trainer.steps())
      if (e.type === "iteration") losses.push([e.dLoss, e.gLoss, e.dReal, e.dFake]);
    setKernels(resident);
    return { ...made, losses };
  }
  const numbers = (g: ReturnType<typeof dcgan>) => [
    ...g.losses,
    ...[...g.generator.params, ...g.discriminator.params].map((p) => Array.from(p.value.data)),
  ];

  it("a DCGAN (LayerChain networks, transposed convolutions, batch norm) trains to the same numbers, bit for bit, as with copies, its unzeroed outputs poisoned", () => {
    const want = numbers(dcgan(copying));
    setPoisonUnzeroed(true);
    try {
      const got = numbers(dcgan(resident));
      expect(got.length).toBe(want.length);
      got.forEach((values, i) => expect(values, `output ${i}`).toEqual(want[i]));
    } finally {
      setPoisonUnzeroed(false);
    }
  });

  it("a GAN's networks keep params and grads in the WASM memory; a generator's output stays readable after its next forwards", () => {
    const { generator, discriminator } = dcgan(resident);
    for (const p of [...generator.params, ...discriminator.params]) {
      expect(inMemory(p.value.data), `${p.name} value`).toBe(true);
      expect(inMemory((p.grad as NDArray).data), `${p.name} grad`).toBe(true);
    }
    const y = generator.forward(sampleLatent(3, 6, new Rng(1)), "eval");
    const before = Array.from(y.data);
    for (let i = 0; i < 2; i++) generator.forward(sampleLatent(3, 6, new Rng(2 + i)), "eval");
    expect(inMemory(y.data)).toBe(false);
    expect(Array.from(y.data)).toEqual(before);
  });

  // The captioner: a convolutional encoder (fused convolution, pooling), an LSTM decoder with peeky
  // inputs, padding ignored; its loss() and backward() are a step, its captions outside any.
  const captionerSpec: CaptionerSpec = {
    kind: "captioner",
    inputShape: [1, 8, 12],
    tokens: ["<start>", "<end>", "a", "b", "c"],
    maxLength: 3,
    encoder: [
      { type: "convolution", filters: 4, fh: 3, fw: 3, pad: 1 },
      { type: "relu" },
      { type: "pooling", ph: 2, pw: 2, stride: 2 },
      { type: "flatten" },
      { type: "affine", outputSize: 6 },
      { type: "tanh" },
    ],
    wordvecSize: 3,
    hiddenSize: 5,
    peeky: true,
  };
  function captioner(kernels: Kernels): { model: Captioner; numbers: number[][] } {
    setKernels(kernels);
    const model = new Captioner(captionerSpec, new Rng(8));
    const optimizer = new Adam({ lr: 0.01 });
    const images = uniform([3, 1, 8, 12], new Rng(9));
    const inputs = NDArray.from([0, 2, 3, 0, 4, 1, 0, 3, 3], [3, 3]);
    const targets = Int32Array.from([2, 3, 1, 4, 1, -1, 3, 3, 1]);
    const numbers: number[][] = [];
    for (let step = 0; step < 3; step++) {
      numbers.push([model.loss(images, inputs, targets)]);
      model.backward();
      optimizer.step(model.params);
      numbers.push(...model.params.map((p) => Array.from(p.value.data)));
    }
    numbers.push(model.caption(images).flat());
    setKernels(resident);
    return { model, numbers };
  }

  it("the captioner (encoder, peeky LSTM decoder) trains and captions to the same numbers, bit for bit, as with copies", () => {
    const want = captioner(copying).numbers;
    const { model, numbers: got } = captioner(resident);
    expect(got.length).toBe(want.length);
    got.forEach((values, i) => expect(values, `output ${i}`).toEqual(want[i]));
    for (const p of model.params) {
      expect(inMemory(p.value.data), `${p.name} value`).toBe(true);
      expect(inMemory((p.grad as NDArray).data), `${p.name} grad`).toBe(true);
    }
  });

  it("a model's params, grads and optimizer state live in the WASM memory after a step", () => {
    const net = new SimpleConvNet(
      { inputShape: [1, 12, 12], filterNum: 6, hiddenSize: 20, outputSize: 3 },
      new Rng(1),
    );
    const optimizer = new Adam();
    net.loss(images, labels);
    net.backward();
    optimizer.step(net.params);
    for (const p of net.params) {
      expect(inMemory(p.value.data), `${p.name} value`).toBe(true);
      expect(inMemory((p.grad as NDArray).data), `${p.name} grad`).toBe(true);
    }
    const state = optimizer.state(net.params);
    // The checkpoint's copies are ordinary arrays, readable whatever the model does next.
    for (const buffer of Object.values(state.buffers)) expect(inMemory(buffer)).toBe(false);
  });

  it("predictions and gradient() results stay readable after the model's next steps", () => {
    const net = new SimpleConvNet(
      { inputShape: [1, 12, 12], filterNum: 6, hiddenSize: 20, outputSize: 3 },
      new Rng(1),
    );
    const y = net.predict(images);
    const before = Array.from(y.data);
    const grads = net.gradient(images, labels);
    const gradValues = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.data)]));
    for (let i = 0; i < 3; i++) net.predict(uniform([6, 1, 12, 12], rng));
    expect(Array.from(y.data)).toEqual(before);
    for (const [k, g] of Object.entries(grads)) expect(Array.from(g.data), k).toEqual(gradValues[k]);
  });

  it("an intermediate value held past its model's next step refuses to be read, naming the cause", () => {
    const owner = {};
    const held = deviceStep(owner, true, () => {
      const a = NDArray.zeros([4, 5]);
      a.data.fill(1.5);
      return a;
    });
    expect(inMemory(held.data)).toBe(true);
    expect(held.data[19]).toBe(1.5);
    deviceStep(owner, true, () => NDArray.zeros([4, 5]).data.fill(2));
    expect(() => held.data).toThrow(/intermediate value from an earlier step.*copy what you need/);
  });

  it("a step's new arrays come back all zeros where an earlier step left values, zeroed on 1–3 threads", async () => {
    // Large blocks are zeroed by every thread (op zeroFill); setParallelMinWork(0) makes every block
    // large, and odd sizes leave ragged chunk ends.
    try {
      for (const threads of [1, 2, 3]) {
        await setWasmThreads(threads);
        setParallelMinWork(threads === 1 ? null : 0);
        const owner = {};
        for (const size of [1, 7, 16, 17, 1000, 65_537]) {
          for (let step = 0; step < 3; step++) {
            deviceStep(owner, true, () => {
              const a = NDArray.zeros([size]);
              const d = a.data;
              expect(inMemory(d)).toBe(true);
              expect(
                d.every((v) => v === 0),
                `${size} floats, ${threads} threads, step ${step}`,
              ).toBe(true);
              d.fill(3.25);
            });
          }
        }
      }
    } finally {
      setParallelMinWork(null);
      await setWasmThreads(2);
    }
  });

  it("kernels allowed to write over an input do so in place in the WASM memory", () => {
    const r = new Rng(9);
    const make = (n: number, resident: boolean) => {
      const a = resident ? NDArray.lasting([n]).data : new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = Math.fround(r.uniform(-2, 2));
      return a;
    };
    for (const len of [1, 5, 17, 1000]) {
      const plain = make(len, false);
      const there = make(len, true);
      there.set(plain);
      const y = make(len, false);
      const yThere = make(len, true);
      yThere.set(y);
      const rows = len % 5 === 0 ? 5 : 1;
      const cols = len / rows;
      const bias = make(cols, false);
      // Each in place (out is an input), on ordinary arrays and on resident ones.
      const ops: [string, (x: Floats, y: Floats) => void][] = [
        ["relu", (x) => resident.relu(x, x)],
        ["axpby", (x, yy) => resident.axpby(x, 0.5, x, -2, yy)],
        ["mul", (x, yy) => resident.mul(yy, x, yy)],
        ["addBias", (x) => resident.addBias(x, x, bias, rows, cols)],
        ["softmax", (x) => resident.softmax(x, x, rows, cols)],
        ["sigmoidBackward", (x, yy) => resident.sigmoidBackward(x, x, yy)],
        ["adamUpdate", (x, yy) => resident.adamUpdate(x, yy, yy.map(Math.abs), x, 0.01, 0.9, 0.999, 1e-7)],
      ];
      for (const [name, op] of ops) {
        op(plain, y);
        op(there, yThere);
        expect(Array.from(there), `${name} length ${len}`).toEqual(Array.from(plain));
        expect(Array.from(yThere), `${name} length ${len}`).toEqual(Array.from(y));
      }
    }
  });
});
