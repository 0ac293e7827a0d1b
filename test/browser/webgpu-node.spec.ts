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
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cases } from "../kernel-cases.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM_LIB = process.env.CHROMIUM_LIB ?? "/usr/lib/chromium";
const haveSwiftShader = existsSync(`${CHROMIUM_LIB}/libvk_swiftshader.so`);
/** Where Vulkan finds Chromium's loader and SwiftShader driver (Dawn's way to a "GPU" here). */
const SWIFTSHADER = {
  LD_LIBRARY_PATH: CHROMIUM_LIB, // Chromium's libvulkan.so.1
  VK_ICD_FILENAMES: `${CHROMIUM_LIB}/vk_swiftshader_icd.json`,
};

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
    const r = await runChecks(SWIFTSHADER);
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

  it("the CLI's --backend webgpu trains, evaluates and predicts as the WASM backend does", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "zerodl-webgpu-cli-"));
    const zerodl = async (env: Record<string, string>, ...args: string[]) => {
      const r = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, ...env },
      });
      return { stdout: r.stdout, stderr: r.stderr };
    };
    try {
      const train = (backend: string) =>
        zerodl(
          SWIFTSHADER,
          ...[
            "train",
            "--model",
            "two-layer",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--epochs",
            "1",
            "--limit",
            "300",
          ],
          ...["--seed", "1", "--out", path.join(dir, `${backend}.safetensors`), "--backend", backend],
        ).catch((e: { stderr?: string }) => ({ stdout: "", stderr: String(e.stderr ?? e) }));
      const [gpu, wasm] = [await train("webgpu"), await train("fast")];
      expect(gpu.stderr).toMatch(/backend: webgpu \(google swiftshader/);
      // "epoch 1/1  loss 1.2345  train …  test …": the same numbers to the digits printed.
      const epochLine = (out: string) => out.split("\n")[0].replace(/\s+\(.*s\)$/, "");
      expect(epochLine(gpu.stdout)).toMatch(/^epoch 1\/1 {2}loss \d\.\d{4}/);
      expect(epochLine(gpu.stdout)).toBe(epochLine(wasm.stdout));
      // The saved model was brought home from the GPU: evaluating it on the WASM kernels and on
      // WebGPU gives one accuracy and one set of predictions.
      const evaluate = async (backend: string) =>
        JSON.parse(
          (
            await zerodl(
              SWIFTSHADER,
              ...["eval", path.join(dir, "webgpu.safetensors"), "--limit", "200", "--no-plots", "--json"],
              ...["--backend", backend],
            )
          ).stdout,
        ) as { accuracy: number; misclassified: unknown[] };
      const [onGpu, onWasm] = [await evaluate("webgpu"), await evaluate("fast")];
      expect(onGpu.accuracy).toBeGreaterThan(0.5);
      expect(onGpu.misclassified).toEqual(onWasm.misclassified);
      const predict = await zerodl(
        SWIFTSHADER,
        ...["predict", "models/simple-conv.safetensors", "test/fixtures/images/digit7-gray.png", "--json"],
        ...["--backend", "webgpu"],
      );
      expect((JSON.parse(predict.stdout) as { class: number }[])[0].class).toBe(7);
      // No driver: a clear error naming the other backends, not a silent fallback.
      const failed = await zerodl(
        { ...SWIFTSHADER, VK_ICD_FILENAMES: "/nonexistent.json" },
        ...["eval", "models/simple-conv.safetensors", "--limit", "10", "--backend", "webgpu"],
      ).then(
        () => "",
        (e: { code: number; stderr: string }) => `${e.code}: ${e.stderr}`,
      );
      expect(failed).toMatch(
        /^1: [^]*error: --backend webgpu: .*offers no adapter.*--backend fast .* or reference/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
