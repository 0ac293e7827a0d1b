// The shipped generators (trained by the commands in docs/gan.md) draw 10,000 digits again and the
// pretrained DeepConvNet scores them, through `zerodl generate --score`. Issue 15's targets: ≥ 90 %
// of samples classified with confidence ≥ 0.9, every digit 5–15 % of the samples.
//
// - models/acgan.safetensors, the class-conditional DCGAN (AC-GAN), meets them: they are asserted,
//   and each category of its code must draw its own digit.
// - models/dcgan.safetensors, the book's unconditional DCGAN, does not (75.1 %; docs/gan.md says by
//   how much and what bounds it): its targets are checked as a known failure, so the test turns red
//   the day it meets them and the marker must go. What it does reach is held as a floor.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadGenerator } from "../src/io/generator-file.js";
import { loadModel } from "../src/io/model-file.js";
import { fromTanhRange, generateImages } from "../src/models/dcgan.js";
import { Rng } from "../src/rng.js";
import { classifierReport, type ImageClassifier, type SampleQuality } from "../src/train/sample-quality.js";
import { cli } from "./cli-helpers.js";

const TARGET = { confident: 0.9, minShare: 0.05, maxShare: 0.15 };

const modelPath = (name: string) => fileURLToPath(new URL(`../models/${name}`, import.meta.url));

/** `zerodl generate FILE --count 10000 --seed 1 --score --json`, as docs/gan.md shows it. */
async function score(path: string): Promise<SampleQuality> {
  const r = await cli("generate", path, "--count", "10000", "--seed", "1", "--score", "--json");
  expect(r.stderr).not.toContain("error");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

function expectTargets({ report }: SampleQuality) {
  expect(report.count).toBe(10_000);
  expect(report.confident).toBeGreaterThanOrEqual(TARGET.confident);
  expect(Math.min(...report.classShares)).toBeGreaterThanOrEqual(TARGET.minShare);
  expect(Math.max(...report.classShares)).toBeLessThanOrEqual(TARGET.maxShare);
}

describe("models/acgan.safetensors (class-conditional)", () => {
  const path = modelPath("acgan.safetensors");
  let quality: SampleQuality;
  beforeAll(async () => {
    quality = await score(path);
  });

  it("meets issue 15's targets on 10,000 samples", () => {
    expectTargets(quality);
  });

  it("is as close to the real test images in the classifier's feature space as measured (27.1; the floor 28.6)", () => {
    expect(quality.frechetFloor).toBeGreaterThan(0);
    expect(quality.frechet).toBeLessThanOrEqual(40);
  });

  it("draws digit k from category k of its code", async () => {
    const { model: generator } = await loadGenerator(path);
    expect(generator.spec.classes).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const classifier = (await loadModel(modelPath("deep-conv.safetensors"))).model as ImageClassifier;
    for (let k = 0; k < 10; k++) {
      const images = generateImages(generator, 200, new Rng(100 + k), 200, k);
      const { classShares } = classifierReport(classifier, fromTanhRange(images));
      expect(classShares[k], `digit ${k}`).toBeGreaterThanOrEqual(0.9);
    }
  });
});

describe("models/dcgan.safetensors (unconditional)", () => {
  const path = modelPath("dcgan.safetensors");
  /** Below what it measured (75.1 %, 3.3–18.2 %, 334; docs/gan.md), so only a regression fails. */
  const FLOOR = { confident: 0.73, minShare: 0.03, maxShare: 0.2, frechet: 380 };
  let quality: SampleQuality;
  beforeAll(async () => {
    quality = await score(path);
  });

  it("is in the repository", () => {
    expect(existsSync(path)).toBe(true);
  });

  it("draws 10,000 samples the classifier reads as digits of every class, near real ones in feature space", () => {
    const { report, frechet, frechetFloor } = quality;
    expect(report.count).toBe(10_000);
    expect(report.confident).toBeGreaterThanOrEqual(FLOOR.confident);
    expect(Math.min(...report.classShares)).toBeGreaterThanOrEqual(FLOOR.minShare);
    expect(Math.max(...report.classShares)).toBeLessThanOrEqual(FLOOR.maxShare);
    expect(frechetFloor).toBeGreaterThan(0);
    expect(frechet).toBeGreaterThan(frechetFloor);
    expect(frechet).toBeLessThanOrEqual(FLOOR.frechet);
  });

  it.fails("meets issue 15's targets (not: see docs/gan.md; the class-conditional generator does)", () => {
    expectTargets(quality);
  });
});
