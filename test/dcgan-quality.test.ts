// The shipped generator (models/dcgan.safetensors, trained by the command in docs/gan.md) draws
// 10,000 digits again and the pretrained DeepConvNet scores them, through `zerodl generate --score`.
// Issue 15's targets: ≥ 90 % of samples classified with confidence ≥ 0.9, every digit 5–15 % of the
// samples. The shipped generator does not reach them (75.1 %; docs/gan.md says by how much and
// what bounds it); the targets are checked as a known failure, so the test turns red the day a
// generator meets them and the marker must go. What it does reach is held as a floor against
// regressions.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { SampleQuality } from "../src/train/sample-quality.js";
import { cli } from "./cli-helpers.js";

const path = fileURLToPath(new URL("../models/dcgan.safetensors", import.meta.url));
const TARGET = { confident: 0.9, minShare: 0.05, maxShare: 0.15 };
/** Below what the shipped generator measured (75.1 %, 3.3–18.2 %, 334; docs/gan.md), so only a regression fails. */
const FLOOR = { confident: 0.73, minShare: 0.03, maxShare: 0.2, frechet: 380 };

let quality: SampleQuality & { model: string; seed: number };

beforeAll(async () => {
  const r = await cli("generate", path, "--count", "10000", "--seed", "1", "--score", "--json");
  expect(r.stderr).not.toContain("error");
  expect(r.code).toBe(0);
  quality = JSON.parse(r.stdout);
});

describe("models/dcgan.safetensors", () => {
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

  it.fails("meets issue 15's targets (not yet: see docs/gan.md)", () => {
    const { report } = quality;
    expect(report.confident).toBeGreaterThanOrEqual(TARGET.confident);
    expect(Math.min(...report.classShares)).toBeGreaterThanOrEqual(TARGET.minShare);
    expect(Math.max(...report.classShares)).toBeLessThanOrEqual(TARGET.maxShare);
  });
});
