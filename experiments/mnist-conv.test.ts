// The convolutional experiments in their quick forms, and the runner's files.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import { registerExperimentCommand } from "./cli.js";
import type { RunOptions } from "./experiment.js";
import { saveModel } from "../src/io/model-file.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { Rng } from "../src/rng.js";
import { findDeepConvNetFile } from "./deep-convnet-model.js";
import { halfPrecision } from "./half-precision.js";
import { misclassified } from "./misclassified.js";
import type { ResultFile } from "./runner.js";
import { simpleConvnet } from "./simple-convnet.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };
let dir: string;

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
  dir = await mkdtemp(join(tmpdir(), "zerodl-experiments-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("convolutional experiments (quick)", () => {
  it("SimpleConvNet learns, and its filters turn from noise into smooth detectors", async () => {
    const out = await simpleConvnet.run(quick);
    const d = out.data as {
      history: { testAcc: number[] };
      filterNeighbourCorrelation: { before: number; after: number };
    };
    expect(d.history.testAcc[d.history.testAcc.length - 1]).toBeGreaterThan(0.5);
    expect(Math.abs(d.filterNeighbourCorrelation.before)).toBeLessThan(0.1);
    expect(d.filterNeighbourCorrelation.after).toBeGreaterThan(d.filterNeighbourCorrelation.before + 0.15);
    for (const f of out.figures) expect(await renderSvg(f.spec)).toContain("<svg");
  });

  it("DeepConvNet: misclassified images are really misclassified; float16 weights keep the accuracy", async () => {
    const out = await misclassified.run(quick);
    const d = out.data as {
      accuracy: number;
      testImages: number;
      misclassified: { label: number; predicted: number }[];
    };
    expect(d.accuracy).toBeGreaterThan(0.2); // better than chance even when trained briefly
    expect(d.misclassified.length).toBe(Math.round((1 - d.accuracy) * d.testImages));
    for (const w of d.misclassified) expect(w.predicted).not.toBe(w.label);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");

    const half = (await halfPrecision.run(quick)).data as {
      float32: number;
      float16: number;
      bytes: { float32: number; float16: number };
      maxRelativeWeightChange: number;
    };
    expect(half.float32).toBeCloseTo(d.accuracy, 10); // the same model
    expect(Math.abs(half.float16 - half.float32)).toBeLessThanOrEqual(0.01);
    expect(half.bytes.float16).toBeLessThan(half.bytes.float32 * 0.6);
    expect(half.maxRelativeWeightChange).toBeGreaterThan(0); // really rounded…
    expect(half.maxRelativeWeightChange).toBeLessThan(1e-3); // …to float16's 11-bit precision
  });
});

describe("pretrained DeepConvNet lookup", () => {
  it("finds the deep-conv model file among others; skips other kinds and foreign files, noting them", async () => {
    const models = join(dir, "models");
    await mkdir(models);
    expect(await findDeepConvNetFile(models)).toBeNull();
    expect(await findDeepConvNetFile(join(dir, "missing"))).toBeNull();
    await writeFile(join(models, "a-junk.safetensors"), "not a model");
    await saveModel(
      join(models, "b-simple.safetensors"),
      new SimpleConvNet({ filterNum: 2, hiddenSize: 4 }, new Rng(0)),
    );
    await saveModel(
      join(models, "c-deep.safetensors"),
      new DeepConvNet({ filters: [2, 2, 2, 2, 2, 2], hiddenSize: 4 }, new Rng(0)),
    );
    const notes: string[] = [];
    expect(await findDeepConvNetFile(models, (m) => notes.push(m))).toBe(join(models, "c-deep.safetensors"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("a-junk.safetensors");
  });
});

describe("experiment command", () => {
  it("run NAME writes NAME.json, the SVG and PNG, and index.html", async () => {
    const lines: string[] = [];
    const program = new Command().exitOverride();
    registerExperimentCommand(program, { out: (l) => lines.push(l), err: () => {} });
    await program.parseAsync([
      "node",
      "zerodl",
      "experiment",
      "run",
      "optimizer-paths",
      "--quick",
      "--out",
      dir,
      "--backend",
      "reference",
    ]);
    const result = JSON.parse(await readFile(join(dir, "optimizer-paths.json"), "utf8")) as ResultFile;
    expect(result.name).toBe("optimizer-paths");
    expect(result.quick).toBe(true);
    expect(result.comparison.length).toBeGreaterThan(0);
    expect(await readFile(join(dir, "optimizer-paths.svg"), "utf8")).toContain("<svg");
    const png = await readFile(join(dir, "optimizer-paths.png"));
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    const html = await readFile(join(dir, "index.html"), "utf8");
    expect(html).toContain('src="optimizer-paths.svg"');
    expect(lines).toContain(`${dir}/optimizer-paths.json`);
  });

  it("list names every experiment; an unknown name is an error listing the valid ones", async () => {
    const lines: string[] = [];
    const program = new Command().exitOverride();
    registerExperimentCommand(program, { out: (l) => lines.push(l), err: () => {} });
    await program.parseAsync(["node", "zerodl", "experiment", "list"]);
    expect(lines.some((l) => l.startsWith("batch-norm"))).toBe(true);
    await expect(program.parseAsync(["node", "zerodl", "experiment", "run", "nope"])).rejects.toThrow(
      /no experiment "nope"; valid: .*batch-norm/,
    );
  });
});
