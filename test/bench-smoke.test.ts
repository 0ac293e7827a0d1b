/**
 * `npm run bench -- --quick --json` runs end to end and reports every row the issue asks for
 * (matmul GFLOP/s, kernel times, and per model and backend: seconds per epoch, images/s, peak RSS).
 * Speed itself is not asserted here (timings belong to the bench, not to tests): the numbers must
 * only be there, finite and positive. About 15 s.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The bench's stdout. Asynchronous: a synchronous child would block this worker for minutes on a
 * loaded machine, and vitest's calls into it time out ("Timeout calling onTaskUpdate").
 */
async function bench(args: string[]): Promise<string> {
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return stdout;
}

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
  // The timeouts guard against a hang only: about 15 s on an idle machine, 254–260 s with two test
  // suites running at once on a busy host.
  it("prints one JSON object with the matmul, kernel and model rows", { timeout: 1_200_000 }, async () => {
    const stdout = await bench(["--quick", "--json"]);
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
    for (const model of ["two-layer", "simple-conv", "deep-conv", "lstm"]) {
      expect(rows).toContain(`${model}/reference`);
      expect(rows).toContain(`${model}/wasm`);
    }
    // Their reference rows only in the full bench (seconds a step).
    for (const model of ["resnet", "vgg", "googlenet", "dcgan", "captioner"])
      expect(rows).toContain(`${model}/wasm`);
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

describe("npm run bench -- --peers --quick --json", () => {
  it(
    "runs zerodl, zerodl train and ONNX Runtime Web on SimpleConvNet, each thread count",
    { timeout: 1_200_000 },
    async () => {
      // PyTorch is left out here: it is a peer on this machine only, never a dependency (bench/README.md).
      const stdout = await bench(["--peers", "--quick", "--json", "--no-pytorch", "--models", "simple-conv"]);
      const report = JSON.parse(stdout) as {
        threads: number;
        peers: {
          peer: string;
          model: string;
          threads: number;
          imagesPerSecond?: number;
          secondsPerEpoch?: number;
          round: number;
        }[];
      };
      const threadCounts = report.threads > 1 ? [1, report.threads] : [1];
      for (const peer of ["zerodl", "ort-web"]) {
        for (const threads of threadCounts) {
          const row = report.peers.find((r) => r.peer === peer && r.threads === threads);
          expect(row, `${peer} × ${threads}`).toBeDefined();
          expect(row!.model).toBe("simple-conv");
          expect(row!.imagesPerSecond).toBeGreaterThan(0);
        }
      }
      // The CLI contestant trains only: its epoch time, from `zerodl train`'s own epoch line.
      for (const threads of threadCounts) {
        const cli = report.peers.find((r) => r.peer === "zerodl-cli" && r.threads === threads);
        expect(cli?.secondsPerEpoch, `zerodl train × ${threads}`).toBeGreaterThan(0);
        expect(cli?.imagesPerSecond).toBeUndefined();
      }
    },
  );
});
