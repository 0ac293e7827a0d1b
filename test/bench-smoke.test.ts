/**
 * `npm run bench -- --quick --json` runs end to end and reports every row the issue asks for
 * (matmul GFLOP/s, kernel times, and per model and backend: seconds per epoch, images/s, peak RSS).
 * Speed itself is not asserted here (timings belong to the bench, not to tests): the numbers must
 * only be there, finite and positive. About 15 s.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

interface BenchModel {
  model: string;
  backend: string;
  threads: number;
  blocks: number;
  msPerIteration: number;
  msPerIterationRange: [number, number];
  secondsPerEpoch: number;
  imagesPerSecond: number;
  peakRssMB: number;
}

describe("npm run bench -- --quick --json", () => {
  it("prints one JSON object with the matmul, kernel and model rows", { timeout: 120_000 }, () => {
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick", "--json"], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    const report = JSON.parse(stdout) as {
      machine: unknown;
      matmul: { what: string; reference: number; wasm1: number; wasmN: number }[];
      kernels: { kernel: string; referenceMs: number; wasmMs: number }[];
      models: BenchModel[];
    };
    const positive = (x: number) => Number.isFinite(x) && x > 0;
    expect(report.machine).toBeDefined();
    expect(report.matmul.map((r) => r.what)).toContain("square 512³");
    for (const r of report.matmul) expect([r.reference, r.wasm1, r.wasmN].every(positive)).toBe(true);
    expect(report.kernels.length).toBeGreaterThan(5);
    for (const r of report.kernels) expect([r.referenceMs, r.wasmMs].every(positive)).toBe(true);
    const rows = report.models.map((m) => `${m.model}/${m.backend}`);
    for (const model of ["two-layer", "simple-conv", "deep-conv"]) {
      expect(rows).toContain(`${model}/reference`);
      expect(rows).toContain(`${model}/wasm`);
    }
    expect(rows).toContain("resnet/wasm"); // its reference row only in the full bench (15 s a step)
    for (const m of report.models) {
      expect([m.msPerIteration, m.secondsPerEpoch, m.imagesPerSecond, m.peakRssMB].every(positive)).toBe(
        true,
      );
      expect(m.secondsPerEpoch).toBeCloseTo((m.msPerIteration * 600) / 1000, 9);
      expect(m.msPerIterationRange[0]).toBeLessThanOrEqual(m.msPerIteration);
      expect(m.msPerIterationRange[1]).toBeGreaterThanOrEqual(m.msPerIteration);
    }
  });
});
