/**
 * The CLI runs the WASM kernels' relaxed-SIMD build (fused multiply-add) on Node 20 too, where the
 * engine has relaxed SIMD only behind a V8 flag: `enableRelaxedSimd` (src/backend/node-relaxed.ts)
 * sets it in-process. The flag is process-wide, so each case runs the real CLI in its own Node (in
 * this test process it would switch every later test file's kernels too).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

async function evaluate(env: Record<string, string>): Promise<{ backend: string; accuracy: number }> {
  const args = ["models/simple-conv.safetensors", "--limit", "300", "--threads", "2", "--no-plots", "--json"];
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "eval", ...args],
    { cwd: root, encoding: "utf8", env: { ...process.env, ...env } },
  );
  const backend =
    stderr.split("\n").find((l) => l.startsWith("backend:")) ?? `no backend line in:\n${stderr}`;
  return { backend, accuracy: (JSON.parse(stdout) as { accuracy: number }).accuracy };
}

describe("relaxed SIMD in the CLI", () => {
  it(
    "is on by default and off with ZERODL_RELAXED_SIMD=0; both builds classify alike",
    { timeout: 120_000 },
    async () => {
      const relaxed = await evaluate({});
      const plain = await evaluate({ ZERODL_RELAXED_SIMD: "0" });
      expect(relaxed.backend).toBe("backend: wasm (WebAssembly relaxed SIMD, fused multiply-add), 2 threads");
      expect(plain.backend).toBe("backend: wasm (WebAssembly SIMD), 2 threads");
      // Fused rounding moves logits by ~1e-6: at most one of 300 images may change sides.
      expect(relaxed.accuracy).toBeGreaterThan(0.97);
      expect(Math.abs(relaxed.accuracy - plain.accuracy)).toBeLessThanOrEqual(1 / 300 + 1e-12);
    },
  );
});
