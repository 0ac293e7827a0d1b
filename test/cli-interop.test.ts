// `zerodl export` and `zerodl import` as a user runs them.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCaptioner } from "../src/cli/caption.js";
import { loadGenerator } from "../src/io/generator-file.js";
import { loadModel } from "../src/io/model-file.js";
import { decodeModelProto, encodeModelProto } from "../src/io/onnx/proto.js";
import { loadAgent } from "../src/rl/agent-file.js";
import { checkInput } from "../src/io/pytorch.js";
import { cli } from "./cli-helpers.js";

const model = fileURLToPath(new URL("../models/two-layer.safetensors", import.meta.url));
const fixtures = fileURLToPath(new URL("../../shared/fixtures/onnx/", import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "zerodl-interop-"));

/** `zerodl export MODEL --format pytorch --out DIR`; the weights file it wrote. */
async function exportedWeights(modelFile: string, dir: string): Promise<string> {
  const r = await cli("export", modelFile, "--format", "pytorch", "--out", dir);
  expect(r.code).toBe(0);
  return join(dir, "weights.safetensors");
}

describe("zerodl export / import", () => {
  it("export --format onnx, then import: the same model and predictions", async () => {
    const dir = tmp();
    const onnx = join(dir, "two-layer.onnx");
    const exported = await cli("export", model, "--format", "onnx", "--out", onnx);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(
      /^wrote .*two-layer\.onnx \(ONNX opset 13, .*\): input "input" \(N, 784\) → output "logits" \(N, 10\); read back with identical weights$/,
    );
    const back = join(dir, "back.safetensors");
    const imported = await cli("import", onnx, "--out", back);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`a "two-layer" model, input (784) → 10 classes, 39,760 parameters`);
    const [a, b] = [await loadModel(model), await loadModel(back)];
    const x = checkInput(3, [784]);
    expect(b.model.predict(x).data).toEqual(a.model.predict(x).data);
    expect(b.info.training).toMatchObject({ format: "onnx", importedFrom: "two-layer.onnx" });
    expect(b.info.training?.producer).toMatch(/^zerodl \d/);
  });

  it("import of a PyTorch-made ONNX file; its training record names the producer", async () => {
    const out = join(tmp(), "mlp.safetensors");
    const r = await cli("import", join(fixtures, "mlp.onnx"), "--out", out);
    expect(r.code).toBe(0);
    const { info } = await loadModel(out);
    expect(info.spec.kind).toBe("sequential");
    expect(info.training).toMatchObject({ producer: "pytorch 1.13.0", importedFrom: "mlp.onnx" });
  });

  it("a branching graph (PyTorch's inception_small) imports as a graph model", async () => {
    const out = join(tmp(), "inception.safetensors");
    const r = await cli("import", join(fixtures, "inception_small.onnx"), "--out", out);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`a "graph" model, input (1, 28, 28) → 10 classes`);
  });

  it("an unsupported operator: a one-line error naming it and its node, exit code 1", async () => {
    const proto = decodeModelProto(readFileSync(join(fixtures, "mlp.onnx")), "mlp.onnx");
    proto.graph!.node.find((n) => n.opType === "Sigmoid")!.opType = "Elu";
    const file = join(tmp(), "edited.onnx");
    writeFileSync(file, encodeModelProto(proto));
    const r = await cli("import", file, "--out", join(tmp(), "x.safetensors"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*edited\.onnx: cannot import: Elu node "\/2\/Sigmoid": operator Elu is not supported/,
    );
  });

  it("export --format pytorch writes the folder; import reads its weights back", async () => {
    const dir = join(tmp(), "pt");
    const r = await cli("export", model, "--format", "pytorch", "--out", dir);
    expect(r.code).toBe(0);
    for (const f of ["model.py", "train.py", "weights.safetensors", "check.json"])
      expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, "model.py"), "utf8")).toContain("class TwoLayerNet(nn.Sequential):");
    const back = join(dir, "back.safetensors");
    const imported = await cli("import", join(dir, "weights.safetensors"), "--out", back);
    expect(imported.code).toBe(0);
    const [a, b] = [await loadModel(model), await loadModel(back)];
    b.model.params.forEach((p, i) => expect(p.value.data).toEqual(a.model.params[i].value.data));
  });

  it("the captioner: export to ONNX and to PyTorch, import each back to the same weights", async () => {
    const captioner = fileURLToPath(new URL("../models/captioner.safetensors", import.meta.url));
    const dir = tmp();
    const onnx = join(dir, "captioner.onnx");
    const exported = await cli("export", captioner, "--format", "onnx", "--out", onnx);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(
      /inputs "image" \(N, 1, 28, 112\) and "words" \(N, T\) → output "scores" \(N, T, 12\).*identical weights$/,
    );
    const back = join(dir, "back.safetensors");
    const imported = await cli("import", onnx, "--out", back);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`a "captioner" model, input (1, 28, 112) → 12 tokens`);
    const [a, b] = [await loadCaptioner(captioner), await loadCaptioner(back)];
    expect(b.spec).toEqual(a.spec);
    b.params.forEach((p, i) => expect(p.value.data).toEqual(a.params[i].value.data));
    const folder = join(dir, "pt");
    const pytorch = await cli("export", captioner, "--format", "pytorch", "--out", folder);
    expect(pytorch.code).toBe(0);
    expect(readFileSync(join(folder, "model.py"), "utf8")).toContain("class Captioner(nn.Module):");
    const fromPytorch = join(dir, "from-pytorch.safetensors");
    expect((await cli("import", join(folder, "weights.safetensors"), "--out", fromPytorch)).code).toBe(0);
    (await loadCaptioner(fromPytorch)).params.forEach((p, i) =>
      expect(p.value.data).toEqual(a.params[i].value.data),
    );
  });

  it("a DQN agent's Q-network: export --format onnx and import back as a sequential model; --format pytorch and back as an agent", async () => {
    const agent = fileURLToPath(new URL("../models/dqn-catch.safetensors", import.meta.url));
    const dir = tmp();
    const onnx = join(dir, "catch.onnx");
    const exported = await cli("export", agent, "--format", "onnx", "--out", onnx);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(
      /input "input" \(N, 2, 10, 10\) → output "logits" \(N, 3\), the action values; read back with identical weights$/,
    );
    const back = join(dir, "back.safetensors");
    const imported = await cli("import", onnx, "--out", back);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain(
      `note: the stored zerodl spec is a "q-network" model, not a classifier`,
    );
    const [{ network }, { model }] = [await loadAgent(agent), await loadModel(back)];
    const x = checkInput(3, [2, 10, 10]);
    expect(model.predict(x).data).toEqual(network.predict(x).data);
    const folder = join(dir, "pt");
    const pytorch = await cli("export", agent, "--format", "pytorch", "--out", folder);
    expect(pytorch.code).toBe(0);
    expect(pytorch.stdout).toContain("model.py, weights.safetensors, check.json");
    expect(readFileSync(join(folder, "model.py"), "utf8")).toContain('ACTIONS = ["left","stay","right"]');
    const agentBack = join(dir, "agent-back.safetensors");
    const fromPytorch = await cli("import", join(folder, "weights.safetensors"), "--out", agentBack);
    expect(fromPytorch.code).toBe(0);
    expect(fromPytorch.stdout).toContain(`a "q-network" model, input (2, 10, 10) → 3 action values`);
    // An agent file again: it names its environment, so `zerodl rl play` runs it.
    const again = await loadAgent(agentBack);
    expect(again.env).toEqual((await loadAgent(agent)).env);
    expect(again.network.predict(x).data).toEqual(network.predict(x).data);
  });

  it("the DCGAN generator: export to ONNX and to PyTorch, import each back to the same generator", async () => {
    const dcgan = fileURLToPath(new URL("../models/dcgan.safetensors", import.meta.url));
    const dir = tmp();
    const onnx = join(dir, "dcgan.onnx");
    const exported = await cli("export", dcgan, "--format", "onnx", "--out", onnx);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(
      /input "input" \(N, 64\), latent vectors → output "images" \(N, 1, 28, 28\); read back with identical weights$/,
    );
    const original = (await loadGenerator(dcgan)).model;
    for (const file of [onnx, await exportedWeights(dcgan, join(dir, "pt"))]) {
      const back = join(dir, "back.safetensors");
      const imported = await cli("import", file, "--out", back);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain(`a "generator" model, input (64) → images (1, 28, 28)`);
      const { model } = await loadGenerator(back);
      expect(model.spec).toEqual(original.spec);
      model.params.forEach((p, i) => expect(p.value.data).toEqual(original.params[i].value.data));
    }
  });

  it("export without --format, or with an unknown one: an error listing the formats", async () => {
    const missing = await cli("export", model);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("--format");
    const unknown = await cli("export", model, "--format", "tflite");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("Allowed choices are onnx, pytorch");
  });
});
