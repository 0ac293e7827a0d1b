/**
 * `zerodl gan` and `zerodl generate` end to end on a tiny CSV of images (a few seconds): the files
 * they write, reproducibility, and their errors. The shipped generator's quality is scored in
 * dcgan-quality.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGenerator } from "../src/io/generator-file.js";
import { Rng } from "../src/rng.js";
import { cli } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zerodl-cli-gan-"));
const csv = join(dir, "digits.csv");
const model = join(dir, "g.safetensors");
const small = [
  "--data",
  csv,
  "--iterations",
  "3",
  "--batch-size",
  "8",
  "--latent",
  "5",
  "--generator-channels",
  "4,2",
  "--discriminator-channels",
  "2,4",
  "--backend",
  "reference",
];

beforeAll(async () => {
  // 48 random 28×28 "images" with labels 0–9 (the GAN ignores labels; 40 stay for training).
  const rng = new Rng(1);
  const rows = Array.from({ length: 48 }, (_, i) =>
    [i % 10, ...Array.from({ length: 784 }, () => Math.floor(rng.uniform() * 256))].join(","),
  );
  writeFileSync(csv, rows.join("\n") + "\n");
  const r = await cli("gan", ...small, "--save-every", "2", "--out", model);
  expect(r.stderr).toContain("training a DCGAN on 40");
  expect(r.code).toBe(0);
});

describe("zerodl gan", () => {
  it("saves the generator with its architecture and record, a history, a loss chart and samples", async () => {
    for (const ext of [
      ".safetensors",
      ".history.json",
      ".history.svg",
      ".history.png",
      ".samples.png",
      ".it2.safetensors",
    ]) {
      expect(existsSync(join(dir, `g${ext}`))).toBe(true);
    }
    const { model: generator, info } = await loadGenerator(model);
    expect(generator.spec).toMatchObject({ kind: "generator", inputShape: [5], outputRange: [-1, 1] });
    expect(generator.outputShape).toEqual([1, 28, 28]);
    expect(info.training).toMatchObject({
      model: "dcgan",
      iterations: 3,
      batchSize: 8,
      lr: 0.0002,
      beta1: 0.5,
      seed: 1,
    });
    const history = JSON.parse(readFileSync(join(dir, "g.history.json"), "utf8"));
    expect(history.history.dLoss).toHaveLength(3);
    expect(history.history.gLoss.every(Number.isFinite)).toBe(true);
    expect(history.results.cpuSeconds).toBeGreaterThan(0);
    const samples = PNG.sync.read(readFileSync(join(dir, "g.samples.png")));
    expect([samples.width, samples.height]).toEqual([10 * 56 + 9 * 2, 10 * 56 + 9 * 2]); // 10×10 at 2×, 2-pixel gaps
  });

  it("is deterministic for a seed", async () => {
    const again = join(dir, "again.safetensors");
    expect((await cli("gan", ...small, "--out", again)).code).toBe(0);
    const [a, b] = await Promise.all([loadGenerator(again), loadGenerator(model)]);
    a.model.params.forEach((p, i) => expect(p.value.data).toEqual(b.model.params[i].value.data));
  });

  it("refuses a run without a length, or with both", async () => {
    const none = await cli("gan", "--data", csv);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("give either --iterations or --epochs");
    const channels = await cli("gan", "--data", csv, "--epochs", "1", "--generator-channels", "4,2,1");
    expect(channels.stderr).toContain("--generator-channels takes two sizes, like 64,32; got 4,2,1");
  });
});

describe("zerodl generate", () => {
  it("draws a PNG grid of the requested size, the same for the same seed", async () => {
    const out = join(dir, "grid.png");
    const r = await cli(
      "generate",
      model,
      "--count",
      "6",
      "--columns",
      "3",
      "--out",
      out,
      "--backend",
      "reference",
    );
    expect(r.code).toBe(0);
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([3 * 28 + 2 * 2, 2 * 28 + 2]);
    const out2 = join(dir, "grid2.png");
    await cli("generate", model, "--count", "6", "--columns", "3", "--out", out2, "--backend", "reference");
    expect(readFileSync(out2).equals(readFileSync(out))).toBe(true);
  });

  it("says what is wrong with its input", async () => {
    const nothing = await cli("generate", model);
    expect(nothing.stderr).toContain("nothing to do: give --out grid.png, --score, or both");
    const classifier = await cli("generate", "models/deep-conv.safetensors", "--out", join(dir, "x.png"));
    expect(classifier.code).toBe(1);
    expect(classifier.stderr).toContain(`cannot build its "deep-conv" model: it is not an image generator`);
    const score = await cli("generate", model, "--score", "--count", "4", "--backend", "reference");
    expect(score.stderr).toContain(
      `was trained on "${csv}", which has no bundled classifier; name one with --classifier FILE`,
    );
  });
});
