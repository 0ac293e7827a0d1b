/**
 * Fuzz tests of the file readers: thousands of mutated and truncated files of each kind, derived
 * from real ones (the shipped TwoLayerNet model file, MNIST's own IDX files and rows, Pillow's PNGs
 * and JPEGs of MNIST digits). Every one must either load, giving back something sound, or fail with
 * the reader's typed error naming the file; nothing may crash or hang. Seeded: a failure names its
 * case, which `mutant(target, seed, case)` rebuilds byte for byte.
 *
 * The default suite runs 2,000 cases per kind; `npm run fuzz` runs many more (scripts/fuzz.ts).
 */
import { describe, expect, it } from "vitest";
import { describeReport, fuzz } from "./fuzz/run.js";
import { fuzzTargets, type FuzzTargetName } from "./fuzz/targets.js";

const CASES = 2000;
const SEED = 1;

describe("fuzz: every mutated file loads or fails with a clear, typed error", () => {
  for (const name of Object.keys(fuzzTargets) as FuzzTargetName[]) {
    it(name, async () => {
      const report = await fuzz(fuzzTargets[name](), { cases: CASES, seed: SEED });
      const lines = describeReport(report);
      console.log(lines.join("\n"));
      expect(report.failures.length, lines.join("\n")).toBe(0);
      expect(report.cases).toBe(CASES);
      // Not vacuous: the mutants reach the readers' checks, and some still load.
      expect(report.rejected).toBeGreaterThan(CASES / 4);
      expect(report.loaded).toBeGreaterThan(0);
    });
  }
});
