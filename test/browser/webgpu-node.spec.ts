/**
 * The WebGPU backend in Node: `useWebGPU({ gpu })` with the `webgpu` package (Dawn, the WebGPU
 * implementation inside Chromium, built for Node). Dawn reaches the GPU through Vulkan; this machine
 * has no GPU, so the child process that runs the checks (webgpu-node-run.ts) is pointed at the
 * Vulkan loader and SwiftShader driver that Debian's Chromium ships in /usr/lib/chromium: the same
 * CPU implementation the browser tests use, through Node instead of a page.
 *
 * Part of `npm run test:browser` (it needs Chromium's files); skipped with a message where they are
 * missing.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cases } from "../kernel-cases.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM_LIB = process.env.CHROMIUM_LIB ?? "/usr/lib/chromium";
const haveSwiftShader = existsSync(`${CHROMIUM_LIB}/libvk_swiftshader.so`);

interface Run {
  history: { loss: number[]; trainAcc: number[]; testAcc: number[] };
  buffers: number[];
  reads: number;
}
interface NodeResult {
  setup: { adapter?: string; error?: string; errorName?: string };
  parity?: { results: { name: string; error?: string }[]; dispatches: number };
  float64?: { mismatches: string[]; dispatches: number };
  training?: { wasm: Run; webgpu: Run };
}

/** Runs webgpu-node-run.ts with `env` added; its JSON. Asynchronous, so vitest's worker stays responsive. */
async function runChecks(env: Record<string, string>): Promise<NodeResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "test/browser/webgpu-node-run.ts"],
    { cwd: root, encoding: "utf8", maxBuffer: 1 << 24, env: { ...process.env, ...env } },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as NodeResult;
}

describe.skipIf(!haveSwiftShader)("WebGPU backend in Node (Dawn on Chromium's SwiftShader)", () => {
  it("runs every kernel case and trains as WASM does", async () => {
    const r = await runChecks({
      LD_LIBRARY_PATH: CHROMIUM_LIB, // Chromium's libvulkan.so.1
      VK_ICD_FILENAMES: `${CHROMIUM_LIB}/vk_swiftshader_icd.json`,
    });
    expect(r.setup).toEqual({ adapter: "google swiftshader" });
    const failed = r.parity!.results.filter((c) => c.error).map((c) => `${c.name}: ${c.error}`);
    expect(failed).toEqual([]);
    expect(r.parity!.results.map((c) => c.name)).toEqual(cases.map((c) => c.name));
    expect(r.parity!.dispatches).toBeGreaterThan(cases.length * 2);
    expect(r.float64).toEqual({ mismatches: [], dispatches: 0 });
    // TwoLayerNet, Adam, 10 steps of 100 on 500 images: the same losses as WASM, step by step.
    const { wasm, webgpu } = r.training!;
    expect(webgpu.history.loss).toHaveLength(10);
    webgpu.history.loss.forEach((l, i) =>
      expect(Math.abs(l - wasm.history.loss[i]) / wasm.history.loss[i]).toBeLessThan(1e-4),
    );
    expect(webgpu.history.testAcc).toHaveLength(2);
    webgpu.history.testAcc.forEach((a, i) =>
      expect(Math.abs(a - wasm.history.testAcc[i])).toBeLessThanOrEqual(0.01),
    );
    expect(webgpu.buffers.at(-1)).toBe(webgpu.buffers[1]);
  });

  it("without a Vulkan driver: the WebGPUUnavailableError, not numbers", async () => {
    const r = await runChecks({ VK_ICD_FILENAMES: "/nonexistent.json", LD_LIBRARY_PATH: CHROMIUM_LIB });
    expect(r.setup.errorName).toBe("WebGPUUnavailableError");
    expect(r.setup.error).toMatch(/offers no adapter/);
  });
});
