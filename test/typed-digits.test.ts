/**
 * `zerodl predict` on pictures of typed digits (test/fixtures/typed-digits.ts): 14 faces of the
 * fonts CI installs, everyday canvas sizes, both polarities, PNG and JPEG. The shipped DeepConvNet
 * classifies at least 98 % of them right. (Before the fix, about one picture in eight became NaN in
 * the area resize and was "classified" anyway.)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./cli-helpers.js";
import { missingFonts, typedDigits, type TypedDigit } from "./fixtures/typed-digits.js";

const MODEL = "models/deep-conv.safetensors";

describe("zerodl predict on typed digits", () => {
  let dir: string;
  let pictures: TypedDigit[];

  beforeAll(() => {
    const missing = missingFonts();
    if (missing.length > 0) {
      throw new Error(
        `typed-digit test: font files missing (apt-get install fonts-dejavu-core fonts-liberation): ${missing.join(", ")}`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), "zerodl-typed-"));
    pictures = typedDigits(2, 19); // 14 faces × 10 digits × 2 = 280 pictures
    for (const p of pictures) writeFileSync(join(dir, p.file), p.bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the shipped DeepConvNet classifies ≥ 98 % of them right", async () => {
    const r = await cli("predict", MODEL, ...pictures.map((p) => join(dir, p.file)), "--json");
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const predictions = JSON.parse(r.stdout) as { class: number; probabilities: number[] }[];
    expect(predictions).toHaveLength(pictures.length);
    const wrong = pictures
      .map((p, i) => ({ ...p, got: predictions[i].class }))
      .filter((p) => p.got !== p.digit)
      .map((p) => `${p.digit} → ${p.got}: ${p.description}`);
    const accuracy = 1 - wrong.length / pictures.length;
    expect(accuracy, `wrong:\n${wrong.join("\n")}`).toBeGreaterThanOrEqual(0.98);
    // Every picture's probabilities are a real distribution (no NaN anywhere).
    for (const p of predictions) {
      expect(p.probabilities.every(Number.isFinite)).toBe(true);
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
});
