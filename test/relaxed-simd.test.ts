/**
 * The relaxed-SIMD build of the WASM kernels (f32x4.relaxed_madd in the products), which the backend
 * picks where the engine has relaxed SIMD: Chromium (test/wasm-browser.test.ts) and Node 22+. Node
 * 20 has it only behind a flag, so the parity cases run in a child Node started with that flag.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("relaxed-SIMD kernels (node --experimental-wasm-relaxed-simd)", () => {
  it(
    "match the float64 reference on every parity case, bit-identical on 1, 2 and 3 threads",
    { timeout: 300_000 },
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--experimental-wasm-relaxed-simd", "--import", "tsx", "test/relaxed-simd.child.ts"],
        { cwd: root, encoding: "utf8", maxBuffer: 1 << 24 },
      );
      const report = JSON.parse(stdout.trim().split("\n").pop() ?? "") as {
        relaxed: boolean;
        cases: number;
        differing: string[];
      };
      expect(report.relaxed).toBe(true);
      expect(report.cases).toBeGreaterThan(100);
      expect(report.differing).toEqual([]);
    },
  );
});
