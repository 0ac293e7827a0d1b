/**
 * The WASM backend's memory across models: a model's last step keeps its activations in the WASM
 * memory until the model's next step, so a model that is dropped must give them back when it is
 * collected. Without that, a process that trains one model after another (an experiment over seeds,
 * a hyperparameter search) grew by every model's activations until it hit the 2 GiB maximum.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const child = fileURLToPath(new URL("./child/dropped-models.ts", import.meta.url));

describe("WASM memory", () => {
  it("stays bounded while models are trained and dropped one after another", () => {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", child, "12"], {
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(r.stderr).toBe("");
    const sizes = JSON.parse(r.stdout) as number[];
    expect(sizes).toHaveLength(12);
    // One model's step here holds about 12 MB; twelve models kept would need over 140 MB more.
    expect(sizes[11]).toBeLessThanOrEqual(sizes[1] + 13 * 2 ** 20);
  }, 300_000);
});
