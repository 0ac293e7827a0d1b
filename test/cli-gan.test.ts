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

/** The tensor names in a safetensors file's header. */
function tensorNames(file: string): string[] {
  const bytes = readFileSync(file);
  return Object.keys(JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString()));
}

describe("zerodl gan checkpoints", () => {
  // 7 iterations of 5 batches an epoch (40 images, 8 a batch) cross an epoch's end.
  const args = [...small.map((a) => (a === "3" ? "7" : a)), "--average", "0.9"];
  const whole = join(dir, "whole.safetensors");
  beforeAll(async () => {
    expect((await cli("gan", ...args, "--out", whole)).code).toBe(0);
  });

  /** The two generator files hold the same tensors and histories. */
  async function expectSameRun(file: string) {
    const [a, b] = await Promise.all([loadGenerator(whole), loadGenerator(file)]);
    a.model.params.forEach((p, i) => expect(b.model.params[i].value.data).toEqual(p.value.data));
    expect(b.info.history).toEqual(a.info.history);
    expect(b.info.training).toEqual(a.info.training);
  }

  it("an interrupted run (Ctrl-C, simulated) resumes from its checkpoint to the generator of a run straight through", async () => {
    const out = join(dir, "split.safetensors");
    const checkpoint = join(dir, "split.checkpoint.safetensors");
    const stopped = await cli("gan", ...args, "--stop-after", "3", "--out", out);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(`interrupted after iteration 3 of 7: checkpoint saved to ${checkpoint}`);
    expect(existsSync(out)).toBe(false);
    expect(tensorNames(checkpoint)).toContain("discriminator/running_mean1"); // its batch norm
    const resumed = await cli("gan", "--resume", checkpoint, "--backend", "reference");
    expect(resumed.stderr).toContain(`resuming ${checkpoint}: 3 of 7 iterations done`);
    expect(resumed.code).toBe(0);
    expect(existsSync(checkpoint)).toBe(false); // done with it
    await expectSameRun(out);
    const { results } = JSON.parse(readFileSync(join(dir, "split.history.json"), "utf8"));
    expect(results.sessions.map((s: { from: number; to: number }) => [s.from, s.to])).toEqual([
      [0, 3],
      [3, 7],
    ]);
    expect(results.cpuSeconds).toBeCloseTo(
      results.sessions.reduce((t: number, s: { cpuSeconds: number }) => t + s.cpuSeconds, 0),
      6,
    );
  });

  it("a run kept with --keep-checkpoint extends with --resume --iterations to the longer run", async () => {
    const out = join(dir, "short.safetensors");
    const short = await cli(
      "gan",
      ...args.map((a) => (a === "7" ? "4" : a)),
      "--keep-checkpoint",
      "--out",
      out,
    );
    expect(short.code).toBe(0);
    const checkpoint = join(dir, "short.checkpoint.safetensors");
    const again = await cli("gan", "--resume", checkpoint, "--backend", "reference");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      "4 iterations are done (all of the run's); give --iterations with a larger total to train on (or 4 to finish the run there)",
    );
    const longer = await cli("gan", "--resume", checkpoint, "--iterations", "7", "--backend", "reference");
    expect(longer.code).toBe(0);
    await expectSameRun(out);
  });

  it("finishes an interrupted run where it stands with --resume --iterations DONE", async () => {
    const out = join(dir, "cut.safetensors");
    expect((await cli("gan", ...args, "--stop-after", "4", "--out", out)).code).toBe(130);
    const checkpoint = join(dir, "cut.checkpoint.safetensors");
    const fewer = await cli("gan", "--resume", checkpoint, "--iterations", "3", "--backend", "reference");
    expect(fewer.stderr).toContain("4 iterations are done, more than --iterations 3");
    expect(
      (await cli("gan", "--resume", checkpoint, "--iterations", "4", "--backend", "reference")).code,
    ).toBe(0);
    const four = join(dir, "four.safetensors");
    expect((await cli("gan", ...args.map((a) => (a === "7" ? "4" : a)), "--out", four)).code).toBe(0);
    const [straight, cut] = await Promise.all([loadGenerator(four), loadGenerator(out)]);
    straight.model.params.forEach((p, i) => expect(cut.model.params[i].value.data).toEqual(p.value.data));
    expect(cut.info.training).toMatchObject({ iterations: 4 });
  });

  it("records a learning rate schedule, a discriminator's own rate, a smoothed real label and a discriminator without batch norm, and keeps a scheduled run at its length", async () => {
    const out = join(dir, "cosine.safetensors");
    const scheduled = [
      ...args,
      "--lr-schedule",
      "cosine",
      "--discriminator-lr",
      "0.0004",
      "--real-label",
      "0.9",
      "--no-discriminator-batch-norm",
    ];
    const r = await cli("gan", ...scheduled, "--stop-after", "3", "--out", out);
    expect(r.stderr).toContain(
      "Adam lr 0.0002 (discriminator 0.0004), cosine decay to 0, β1 0.5, real label 0.9",
    );
    expect(r.code).toBe(130);
    const checkpoint = join(dir, "cosine.checkpoint.safetensors");
    expect(tensorNames(checkpoint)).toContain("discriminator/W1");
    expect(tensorNames(checkpoint).filter((k) => k.startsWith("discriminator/running"))).toEqual([]);
    const longer = await cli("gan", "--resume", checkpoint, "--iterations", "9", "--backend", "reference");
    expect(longer.code).toBe(1);
    expect(longer.stderr).toContain(
      "follows a cosine schedule over its 7 iterations, so it cannot be cut short or extended (--iterations 9)",
    );
    expect((await cli("gan", "--resume", checkpoint, "--backend", "reference")).code).toBe(0);
    const straight = join(dir, "cosine-straight.safetensors");
    expect((await cli("gan", ...scheduled, "--out", straight)).code).toBe(0);
    const [a, b] = await Promise.all([loadGenerator(straight), loadGenerator(out)]);
    a.model.params.forEach((p, i) => expect(b.model.params[i].value.data).toEqual(p.value.data));
    expect(b.info.training).toMatchObject({
      lr: 0.0002,
      discriminatorLr: 0.0004,
      lrSchedule: "cosine",
      realLabel: 0.9,
      discriminatorBatchNorm: false, // and the resumed run rebuilt the discriminator so
    });
    // The schedule changes the run: not the generator of a constant rate.
    const constant = await loadGenerator(whole);
    expect(b.model.params[0].value.data).not.toEqual(constant.model.params[0].value.data);
  });

  it("trains a class-conditional generator (AC-GAN) whose code names the data's classes, and an InfoGAN code", async () => {
    const out = join(dir, "conditional.safetensors");
    const r = await cli("gan", ...small, "--conditional", "--info-weight", "2", "--out", out);
    expect(r.stderr).toContain("class-conditional (AC-GAN) code of 10 categories (λ 2)");
    expect(r.code).toBe(0);
    const { model: generator, info } = await loadGenerator(out);
    // The CSV's classes are its labels 0–9, in order.
    expect(generator.spec).toMatchObject({
      inputShape: [15],
      categories: 10,
      classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    });
    expect(info.training).toMatchObject({ categories: 10, infoWeight: 2, conditional: true });
    const history = JSON.parse(readFileSync(join(dir, "conditional.history.json"), "utf8")).history;
    expect(history.infoLoss).toHaveLength(3);
    const info3 = join(dir, "info.safetensors");
    const infoRun = await cli("gan", ...small, "--categories", "3", "--out", info3);
    expect(infoRun.stderr).toContain("InfoGAN code of 3 categories (λ 1)");
    const infoGenerator = (await loadGenerator(info3)).model;
    expect(infoGenerator.spec).toMatchObject({ inputShape: [8], categories: 3 });
    expect(infoGenerator.spec.classes).toBeUndefined();
    expect((await loadGenerator(info3)).info.training).not.toHaveProperty("conditional");
    const both = await cli(
      "gan",
      ...small,
      "--conditional",
      "--categories",
      "4",
      "--out",
      join(dir, "x.safetensors"),
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain(
      "--conditional takes the code's categories from the data's classes; leave out --categories 4",
    );
  });

  it("refuses a file that is not a GAN checkpoint, by name", async () => {
    const r = await cli("gan", "--resume", model, "--backend", "reference");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${model}: not a GAN checkpoint`);
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

  it("--code draws every image from one category of a generator's code", async () => {
    const conditional = join(dir, "conditional.safetensors");
    const draw = async (code: string) => {
      const out = join(dir, `code${code}.png`);
      const args = ["--count", "4", "--out", out, "--backend", "reference"];
      expect((await cli("generate", conditional, ...args, "--code", code)).code).toBe(0);
      return readFileSync(out);
    };
    const [zero, seven] = [await draw("0"), await draw("7")];
    expect(zero.equals(seven)).toBe(false); // the same noise, another class
    const beyond = await cli(
      "generate",
      conditional,
      "--count",
      "4",
      "--code",
      "10",
      "--out",
      join(dir, "c.png"),
    );
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain(`--code 10: ${conditional}'s code has 10 categories, 0–9`);
    const none = await cli("generate", model, "--count", "4", "--code", "1", "--out", join(dir, "c.png"));
    expect(none.stderr).toContain(
      `--code 1: ${model} has no categorical code (it was trained without --categories)`,
    );
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
