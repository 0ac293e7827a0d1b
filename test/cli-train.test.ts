/**
 * The CLI end to end on small MNIST slices: train, info, eval, predict, --half, checkpoints and
 * errors about the produced files. Each run is a few hundred milliseconds to a few seconds.
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../src/data/mnist.js";
import { loadModel, saveModel } from "../src/io/model-file.js";
import { createModel } from "../src/models/model.js";
import { Rng } from "../src/rng.js";
import { argmaxRows } from "../src/train/metrics.js";
import { cli } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zerodl-cli-train-"));
const model = join(dir, "two.safetensors");
const half = join(dir, "two-half.safetensors");
// The reference backend keeps these runs independent of the WASM build.
const quick = ["--limit", "2000", "--epochs", "1", "--lr", "0.5", "--init", "0.1", "--backend", "reference"];

beforeAll(async () => {
  const r = await cli("train", "--model", "two-layer", ...quick, "--out", model);
  expect(r.stderr).toContain("backend: reference (plain TypeScript), 1 thread");
  expect(r.code).toBe(0);
  const h = await cli("train", "--model", "two-layer", ...quick, "--half", "--out", half);
  expect(h.code).toBe(0);
});

describe("zerodl train", () => {
  it("prints a line per epoch and writes the model, its history and a chart", () => {
    for (const ext of [".safetensors", ".history.json", ".history.svg", ".history.png"]) {
      expect(existsSync(join(dir, `two${ext}`))).toBe(true);
    }
    const history = JSON.parse(readFileSync(join(dir, "two.history.json"), "utf8"));
    expect(history.history.loss).toHaveLength(20); // 2000 images / batch 100
    expect(history.history.trainAcc).toHaveLength(1);
    expect(history.settings).toMatchObject({ model: "two-layer", epochs: 1, lr: 0.5, seed: 1, limit: 2000 });
    expect(history.results.testAcc).toBeGreaterThan(0.6); // 20 SGD steps already learn a lot
  });

  it("is deterministic for a seed", async () => {
    const again = join(dir, "again.safetensors");
    await cli("train", "--model", "two-layer", ...quick, "--out", again);
    const [a, b] = await Promise.all([loadModel(again), loadModel(model)]);
    a.model.params.forEach((p, i) => expect(p.value.data).toEqual(b.model.params[i].value.data));
    expect(a.info.history).toEqual(b.info.history);
  });

  it("--half writes a float16 file about half the size", () => {
    const full = statSync(model).size;
    const small = statSync(half).size;
    expect(small).toBeLessThan(full * 0.55);
  });

  it("Ctrl-C (simulated) saves a checkpoint that --resume continues", async () => {
    const out = join(dir, "resumed.safetensors");
    const args = ["--model", "two-layer", ...quick, "--epochs", "2", "--out", out];
    const stopped = await cli("train", ...args, "--stop-after", "25");
    expect(stopped.code).toBe(130);
    const checkpoint = join(dir, "resumed.checkpoint.safetensors");
    expect(stopped.stderr).toContain(`checkpoint saved to ${checkpoint}`);
    expect(existsSync(out)).toBe(false);
    const resumed = await cli("train", "--resume", checkpoint);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming .*: 1 of 2 epochs done/);
    expect(resumed.stdout).toMatch(/^epoch 2\/2 /m);
    const { info } = await loadModel(out);
    const history = info.history as { loss: number[]; trainAcc: number[] };
    expect(history.trainAcc).toHaveLength(2);
    expect(history.loss).toHaveLength(40); // 25 before the interruption, the other 15 after
    expect(info.training).not.toHaveProperty("checkpoint");
    expect(existsSync(checkpoint)).toBe(false);
  });

  it("a resumed run ends exactly where the uninterrupted one does (dropout, batch norm, Adam, augmentation)", async () => {
    const args = (out: string) => [
      "--model",
      "multi-layer-extend",
      "--hidden",
      "20",
      "--dropout",
      "0.2",
      "--batchnorm",
      "--optimizer",
      "adam",
      "--augment",
      "--limit",
      "500",
      "--batch-size",
      "50",
      "--epochs",
      "2",
      "--backend",
      "reference",
      "--out",
      out,
    ];
    const straight = join(dir, "straight.safetensors");
    expect((await cli("train", ...args(straight))).code).toBe(0);
    const out = join(dir, "exact.safetensors");
    // 13 = 3 iterations into the second of two 10-iteration epochs.
    expect((await cli("train", ...args(out), "--stop-after", "13")).code).toBe(130);
    const checkpoint = join(dir, "exact.checkpoint.safetensors");
    const saved = await loadModel(checkpoint);
    expect(Object.keys(saved.optimizerState ?? {})).toContain("W1/m");
    expect(saved.info.parameterCount).toBe((await loadModel(straight)).info.parameterCount);
    // The backend is a choice of this process, not a setting of the run: the same kernels again.
    expect((await cli("train", "--resume", checkpoint, "--backend", "reference")).code).toBe(0);
    const a = await loadModel(straight);
    const b = await loadModel(out);
    const history = (info: typeof a.info) => info.history as { loss: number[]; testAcc: number[] };
    expect(history(b.info).loss).toEqual(history(a.info).loss);
    expect(history(b.info).testAcc).toEqual(history(a.info).testAcc);
    b.model.params.forEach((p, i) =>
      expect(Array.from(p.value.data)).toEqual(Array.from(a.model.params[i].value.data)),
    );
  });
});

describe("--augment", () => {
  const flat = ["--model", "two-layer", ...quick, "--limit", "300", "--seed", "4"];
  const weights = async (file: string) =>
    (await loadModel(file)).model.params.map((p) => Array.from(p.value.data));

  it("alone is the book's set; a list is recorded in its order and changes the training", async () => {
    const files = ["none", "book", "flip", "flip-again"].map((n) => join(dir, `augment-${n}.safetensors`));
    expect((await cli("train", ...flat, "--out", files[0])).code).toBe(0);
    expect((await cli("train", ...flat, "--augment", "--out", files[1])).code).toBe(0);
    expect((await cli("train", ...flat, "--augment", "flip,shift", "--out", files[2])).code).toBe(0);
    expect((await cli("train", ...flat, "--augment", "flip,shift", "--out", files[3])).code).toBe(0);
    const augment = async (file: string) => (await loadModel(file)).info.training?.augment;
    expect(await Promise.all(files.map(augment))).toEqual([
      false,
      "shift,rotate,scale",
      "flip,shift",
      "flip,shift",
    ]);
    const [none, book, flip, again] = await Promise.all(files.map(weights));
    expect(flip).toEqual(again); // seeded
    expect(flip).not.toEqual(none);
    expect(flip).not.toEqual(book);
  });

  it("names the valid transforms when given an unknown or repeated one", async () => {
    const unknown = await cli(
      "train",
      ...flat,
      "--augment",
      "flip,mirror",
      "--out",
      join(dir, "x.safetensors"),
    );
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown transform mirror; valid: shift, rotate, scale, flip/);
    const twice = await cli("train", ...flat, "--augment", "flip,flip", "--out", join(dir, "x.safetensors"));
    expect(twice.stderr).toMatch(/a transform is named twice/);
  });
});

describe("zerodl info / eval / predict on the trained model", () => {
  it("info shows the architecture and the stored record; --json has the same", async () => {
    const r = await cli("info", model);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/architecture\s+two-layer\s+input \(784,\) → 10 classes/);
    expect(r.stdout).toMatch(/parameters\s+39,760 in 4 tensors, stored as F32/); // 784·50 + 50 + 50·10 + 10
    expect(r.stdout).toMatch(/training\s+.*optimizer sgd, lr 0\.5/);
    const j = JSON.parse((await cli("info", half, "--json")).stdout);
    expect(j).toMatchObject({
      storage: "F16",
      parameterCount: 39760,
      spec: { kind: "two-layer", inputShape: [784] },
    });
    expect(j.tensors.map((t: { name: string }) => t.name)).toEqual(["W1", "b1", "W2", "b2"]);
    expect(j.history.loss).toHaveLength(20);
  });

  it("info records the dropout ratio the network really has", async () => {
    // DeepConvNet has dropout 0.5 by default; before, the record said "dropout 0" beside it.
    const args = [
      "--model",
      "deep-conv",
      "--hidden",
      "8",
      "--limit",
      "100",
      "--epochs",
      "1",
      "--eval-samples",
      "100",
    ];
    const deep = join(dir, "deep.safetensors");
    expect((await cli("train", ...args, "--out", deep)).code).toBe(0);
    const r = await cli("info", deep);
    expect(r.stdout).toMatch(/^ {2}options .*"dropoutRatio":0\.5/m);
    expect(r.stdout).toMatch(/^ {2}training .*, dropout 0\.5,/m);
    // --dropout 0 means none (it used to fall back to the default 0.5).
    const none = join(dir, "deep-no-dropout.safetensors");
    expect((await cli("train", ...args, "--dropout", "0", "--out", none)).code).toBe(0);
    const n = JSON.parse((await cli("info", none, "--json")).stdout);
    expect(n.spec.dropoutRatio).toBe(0);
    expect(n.training.dropout).toBe(0);
    // A network without dropout layers records 0.
    expect(JSON.parse((await cli("info", model, "--json")).stdout).training.dropout).toBe(0);
  });

  it("eval --json agrees with the model's own accuracy, and float16 stays within 0.1 point", async () => {
    const r = await cli("eval", model, "--limit", "1000", "--json", "--no-plots", "--backend", "reference");
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.samples).toBe(1000);
    expect(e.perClass).toHaveLength(10);
    expect(e.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(1000);
    expect(e.misclassified).toHaveLength(Math.round((1 - e.accuracy) * 1000));

    // Independent path: Sequential.accuracy over the same images.
    const { model: m } = await loadModel(model);
    const { test } = await loadMnist({ subset: { test: 1000 } });
    expect(e.accuracy).toBeCloseTo(m.accuracy(test.x, test.labels), 10);

    const h = JSON.parse((await cli("eval", half, "--limit", "1000", "--json", "--no-plots")).stdout);
    expect(Math.abs(h.accuracy - e.accuracy)).toBeLessThanOrEqual(0.001);
  });

  it("eval prints tables and writes the confusion matrix and misclassified charts where asked", async () => {
    const charts = join(dir, "charts");
    const r = await cli("eval", model, "--limit", "300", "--show", "8", "--out", join(charts, "run1"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^accuracy \d+\.\d\d % \(\d+ wrong\)$/m);
    expect(r.stdout).toMatch(/confusion matrix \(rows: true, columns: predicted\)/);
    const png = PNG.sync.read(readFileSync(join(charts, "run1.misclassified.png")));
    expect(png.width).toBeGreaterThan(200);
    expect(existsSync(join(charts, "run1.confusion.svg"))).toBe(true);
    expect(r.stdout).toContain(`confusion chart: ${join(charts, "run1.confusion.png")}`);
    // A folder gets the model's name inside it.
    await cli("eval", model, "--limit", "100", "--out", `${charts}/`);
    expect(existsSync(join(charts, "two.confusion.png"))).toBe(true);
  });

  it("eval writes its charts into the current folder by default, not beside the model", async () => {
    const cwd = process.cwd();
    const here = mkdtempSync(join(tmpdir(), "zerodl-eval-cwd-"));
    try {
      process.chdir(here);
      const r = await cli("eval", model, "--limit", "100");
      expect(r.code).toBe(0);
      const written = readdirSync(here);
      expect(written).toContain("two.confusion.png");
      for (const f of written) expect(f).toMatch(/^two\.(confusion|misclassified)\.(svg|png)$/);
      expect(existsSync(join(dir, "two.confusion.png"))).toBe(false);
    } finally {
      process.chdir(cwd);
      rmSync(here, { recursive: true });
    }
  });

  it("predict classifies a PNG as the model does the same test image", async () => {
    const { test } = await loadMnist({ subset: { test: 3 } });
    const { model: m } = await loadModel(model);
    const expected = argmaxRows(m.predict(test.x));
    const files = [0, 1, 2].map((i) => {
      const png = new PNG({ width: 28, height: 28 });
      for (let p = 0; p < 784; p++) {
        const v = Math.round(test.x.data[i * 784 + p] * 255);
        png.data.set([v, v, v, 255], 4 * p);
      }
      const file = join(dir, `digit${i}.png`);
      writeFileSync(file, PNG.sync.write(png));
      return file;
    });
    const r = await cli("predict", model, ...files, "--json");
    expect(r.code).toBe(0);
    const predictions = JSON.parse(r.stdout);
    expect(predictions.map((p: { class: number }) => p.class)).toEqual(Array.from(expected));
    for (const p of predictions) {
      expect(p.probabilities).toHaveLength(10);
      expect(p.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 6);
    }
    const text = await cli("predict", model, files[0], "--top", "2");
    expect(text.stdout).toMatch(
      new RegExp(`digit0\\.png: ${expected[0]}  \\(${expected[0]} \\d+\\.\\d %, \\d \\d+\\.\\d %\\)`),
    );
  });

  it("a truncated model file, a missing image and a model/data shape mismatch are one-line errors", async () => {
    const cut = join(dir, "cut.safetensors");
    const bytes = readFileSync(model);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const a = await cli("eval", cut, "--limit", "10");
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(
      /^error: .*cut\.safetensors: truncated: the tensors need \d+ data bytes, the file has \d+$/m,
    );

    const b = await cli("predict", model, join(dir, "nope.png"));
    expect(b.stderr).toMatch(/^error: image .*nope\.png not found$/m);

    const small = join(dir, "small-input.safetensors");
    const spec = { kind: "two-layer" as const, inputShape: [100], outputSize: 10, hiddenSize: 5 };
    await saveModel(small, createModel(spec, new Rng(0)));
    const c = await cli("eval", small, "--limit", "10");
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(
      /^error: model\/data shape mismatch: the model takes samples of shape \(100,\) \(100 values\), mnist test set has samples of shape \(1, 28, 28\) \(784 values\)$/m,
    );
  });
});

describe("batch normalization and a real Ctrl-C", () => {
  it("a batch-norm model evaluates after loading exactly as it tested after training", async () => {
    const out = join(dir, "bn.safetensors");
    const args = ["--model", "multi-layer-extend", "--batchnorm", "--hidden", "40,40", "--limit", "1000"];
    expect((await cli("train", ...args, "--epochs", "2", "--backend", "reference", "--out", out)).code).toBe(
      0,
    );
    const { info } = await loadModel(out);
    expect(info.tensors.map((t) => t.name)).toContain("running_var2");
    const e = JSON.parse((await cli("eval", out, "--limit", "1000", "--json", "--no-plots")).stdout);
    // Running statistics restored: the same accuracy on the same 1000 test images as after training.
    expect(e.accuracy).toBeCloseTo((info.results as { testAcc: number }).testAcc, 10);
    expect(e.accuracy).toBeGreaterThan(0.5);
  });

  it("SIGINT stops a running `zerodl train` and saves a checkpoint", async () => {
    const out = join(dir, "sigint.safetensors");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "train", "--model", "two-layer", "--epochs", "50", "--out", out],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let interrupted = false;
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      // One Ctrl-C: every later chunk of progress output also contains the line, and a second
      // SIGINT while the checkpoint is being written (slow on a loaded machine) ends the process.
      if (!interrupted && stderr.includes("training two-layer")) {
        interrupted = true;
        setTimeout(() => child.kill("SIGINT"), 300);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(stderr).toMatch(/interrupted after \d+ iterations/);
    expect(code).toBe(130);
    expect(existsSync(join(dir, "sigint.checkpoint.safetensors"))).toBe(true);
  });
});

describe("your own data: a CSV file and a folder of PNGs", () => {
  it("trains on an MNIST-style CSV file (a sixth held out as the test set) and evaluates on it", async () => {
    const { test } = await loadMnist({ subset: { test: 240 } });
    const rows = Array.from({ length: 240 }, (_, i) => {
      const pixels = Array.from(test.x.data.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
      return [test.labels[i], ...pixels].join(",");
    });
    const csv = join(dir, "digits.csv");
    writeFileSync(csv, rows.join("\n") + "\n");
    const out = join(dir, "csv.safetensors");
    const r = await cli("train", "--model", "two-layer", "--data", csv, "--epochs", "2", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/training two-layer on .*digits\.csv: 200 training, 40 test images/);
    expect(r.stderr).toMatch(/40 of 240 samples held out as the test set/);
    const e = JSON.parse((await cli("eval", out, "--data", csv, "--json", "--no-plots")).stdout);
    expect(e.samples).toBe(240);
  });

  it("uses train/ and test/ subfolders of class folders", async () => {
    const { test } = await loadMnist({ subset: { test: 40 } });
    const root = join(dir, "folder");
    for (let i = 0; i < 40; i++) {
      const png = new PNG({ width: 28, height: 28 });
      for (let p = 0; p < 784; p++) {
        const v = Math.round(test.x.data[i * 784 + p] * 255);
        png.data.set([v, v, v, 255], 4 * p);
      }
      const sub = join(root, i < 30 ? "train" : "test", String(test.labels[i]));
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `${i}.png`), PNG.sync.write(png));
    }
    const out = join(dir, "folder.safetensors");
    const r = await cli("train", "--model", "two-layer", "--data", root, "--epochs", "1", "--out", out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/30 training, 10 test images/);
    // The test folder lacks some digits: its labels still mean the same classes as training's.
    const e = JSON.parse(
      (await cli("eval", out, "--data", join(root, "test"), "--json", "--no-plots")).stdout,
    );
    const viaFolders = JSON.parse((await cli("info", out, "--json")).stdout).results.testAcc;
    expect(e.accuracy).toBeCloseTo(viaFolders, 10);
  });
});

describe("a convolutional network through the CLI", () => {
  it("trains simple-conv on a slice, keeps (1, 28, 28) input, and predicts", async () => {
    const out = join(dir, "conv.safetensors");
    const r = await cli(
      "train",
      "--model",
      "simple-conv",
      "--limit",
      "300",
      "--epochs",
      "1",
      "--hidden",
      "20",
      "--threads",
      "1",
      "--out",
      out,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("backend: wasm (WebAssembly SIMD), 1 thread");
    const j = JSON.parse((await cli("info", out, "--json")).stdout);
    expect(j.spec).toMatchObject({ kind: "simple-conv", inputShape: [1, 28, 28], hiddenSize: 20 });
    const p = await cli("predict", out, join(dir, "digit0.png"), "--json");
    expect(JSON.parse(p.stdout)[0].probabilities).toHaveLength(10);
  });
});

describe("chapter 8 through the CLI: a ResNet, transfer learning, a learning-rate schedule", () => {
  it("trains a resnet; --init-from copies it into a Fashion-MNIST network (new head), --freeze keeps layers still", async () => {
    const base = join(dir, "resnet.safetensors");
    const slice = ["--limit", "200", "--epochs", "1", "--threads", "1", "--lr-schedule", "cosine"];
    const r = await cli("train", "--model", "resnet", ...slice, "--out", base);
    expect(r.code).toBe(0);
    const info = JSON.parse((await cli("info", base, "--json")).stdout);
    expect(info.format).toBe("2");
    expect(info.graph.nodes.find((n: { name: string }) => n.name === "stage2.block1.add").inputs).toEqual([
      "stage2.block1.bn2",
      "stage2.block1.proj.bn",
    ]);
    expect(info.training).toMatchObject({ lrSchedule: "cosine" });

    const tuned = join(dir, "fashion-tuned.safetensors");
    const t = await cli(
      "train",
      "--model",
      "resnet",
      "--data",
      "fashion-mnist",
      ...slice,
      "--init-from",
      base,
      "--freeze",
      "stem,stage1",
      "--out",
      tuned,
    );
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(
      /initialized from .*resnet\.safetensors: 90 of 92 tensors copied; fresh: fc\.W \(the head \("fc"\) is replaced\)/,
    );
    expect(t.stderr).toMatch(/frozen: 20 params \(stem\.W, stem\.b, stem\.bn\.gamma, …/);
    const [a, b] = await Promise.all([loadModel(base), loadModel(tuned)]);
    const weights = (m: typeof a.model, name: string) =>
      Array.from(m.params.find((p) => p.name === name)!.value.data);
    expect(weights(b.model, "stage1.block2.conv2.W")).toEqual(weights(a.model, "stage1.block2.conv2.W")); // frozen
    expect(weights(b.model, "stage2.block1.conv1.W")).not.toEqual(weights(a.model, "stage2.block1.conv1.W")); // trained
    const bad = await cli(
      "train",
      "--model",
      "resnet",
      ...slice,
      "--freeze",
      "stage9",
      "--out",
      join(dir, "x.safetensors"),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--freeze: nothing to freeze called "stage9"/);
  });

  it("--keep-head copies the classifier too (a frozen head stays the source's); --keep-head needs --init-from", async () => {
    const slice = ["--data", "fashion-mnist", "--limit", "200", "--epochs", "1", "--threads", "1"];
    const base = join(dir, "resnet-head.safetensors");
    expect((await cli("train", "--model", "resnet", ...slice, "--out", base)).code).toBe(0);
    const run = async (name: string, ...extra: string[]) => {
      const out = join(dir, name);
      const r = await cli(
        "train",
        "--model",
        "resnet",
        ...slice,
        "--init-from",
        base,
        "--freeze",
        "fc",
        ...extra,
        "--out",
        out,
      );
      expect(r.code).toBe(0);
      const { model, info } = await loadModel(out);
      return { stderr: r.stderr, model, info };
    };
    const kept = await run("resnet-kept.safetensors", "--keep-head");
    const fresh = await run("resnet-fresh.safetensors");
    expect(kept.stderr).toMatch(/92 of 92 tensors copied\n/);
    expect(kept.info.training).toMatchObject({ keepHead: true });
    const source = (await loadModel(base)).model;
    const fc = (m: typeof source) => Array.from(m.params.find((p) => p.name === "fc.W")!.value.data);
    expect(fc(kept.model)).toEqual(fc(source));
    expect(fc(fresh.model)).not.toEqual(fc(source));

    const bad = await cli(
      "train",
      "--model",
      "resnet",
      ...slice,
      "--keep-head",
      "--out",
      join(dir, "x.safetensors"),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--keep-head needs --init-from MODEL/);
  });
});
