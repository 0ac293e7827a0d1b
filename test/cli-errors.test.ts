/** The CLI's help and its one-line errors (no training here: these are fast). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { downloadSettings } from "../src/cli/common.js";
import { cli } from "./cli-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "zerodl-cli-errors-"));

describe("zerodl help", () => {
  it("lists the commands", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    for (const command of ["train", "eval", "predict", "info"])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });

  it.each([
    [
      "train",
      [
        "--model",
        "--data",
        "--epochs",
        "--batch-size",
        "--optimizer",
        "--lr",
        "--weight-decay",
        "--dropout",
        "--batchnorm",
        "--init",
        "--hidden",
        "--augment",
        "--val-split",
        "--seed",
        "--threads",
        "--half",
        "--out",
        "--resume",
      ],
    ],
    ["eval", ["--data", "--json", "--limit"]],
    ...["train", "eval"].map((command): [string, string[]] => [
      command,
      [
        "--mirror <url>",
        "--cache-dir <dir>",
        "--offline",
        "--timeout <seconds>",
        "--retries <n>",
        "--stall-budget",
      ],
    ]),
    ["predict", ["--json", "--top", "--invert"]],
    ["info", ["--json"]],
  ])("%s --help shows its options", async (command, options) => {
    const r = await cli(command, "--help");
    expect(r.code).toBe(0);
    for (const o of options) expect(r.stdout).toContain(o);
  });

  it("train --help lists the models and optimizers", async () => {
    const r = await cli("train", "--help");
    expect(r.stdout).toMatch(/two-layer.*multi-layer.*simple-conv.*deep-conv.*lenet.*alexnet/s);
    expect(r.stdout).toMatch(/sgd.*momentum.*nesterov.*adagrad.*rmsprop.*adam/s);
  });
});

describe("zerodl errors are one line with a non-zero exit code", () => {
  it("unknown model lists the valid ones", async () => {
    const r = await cli("train", "--model", "transformer", "--out", join(dir, "m.safetensors"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /'transformer' is invalid.*two-layer, multi-layer, multi-layer-extend, simple-conv, deep-conv, lenet, alexnet, vgg, googlenet, resnet/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
  });

  it("unknown option and unknown command", async () => {
    const a = await cli("train", "--epoch", "3");
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/unknown option '--epoch'/);
    const b = await cli("fit");
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/unknown command 'fit'/);
  });

  it("bad option values", async () => {
    const a = await cli("train", "--model", "two-layer", "--epochs", "0", "--out", "m.safetensors");
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--epochs must be an integer ≥ 1/);
    const b = await cli("train", "--model", "two-layer", "--optimizer", "adamw", "--out", "m.safetensors");
    expect(b.stderr).toMatch(/'adamw' is invalid.*sgd, momentum, nesterov, adagrad, rmsprop, adam/);
    const c = await cli(
      "train",
      "--model",
      "simple-conv",
      "--batchnorm",
      "--out",
      join(dir, "m.safetensors"),
    );
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(
      /^error: simple-conv has no --batchnorm option; its options: --hidden, --init, --weight-decay$/m,
    );
    const t = await cli("info", "m.safetensors", "--threads", "2");
    expect(t.stderr).toMatch(/unknown option '--threads'/); // info runs no model
    const d = await cli("train", "--model", "two-layer");
    expect(d.stderr).toMatch(/^error: train needs --out MODEL\.safetensors$/);
  });

  it("bad download settings", async () => {
    const a = await cli("eval", "m.safetensors", "--mirror", "ftp://example.org/");
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(
      /--mirror <url>' argument 'ftp:\/\/example.org\/' is invalid\. mirror "ftp:\/\/example.org\/": only http and https/,
    );
    const b = await cli("train", "--model", "two-layer", "--timeout", "0", "--out", "m.safetensors");
    expect(b.stderr).toMatch(/--timeout must be a number of seconds > 0/);
    const c = await cli("eval", "m.safetensors", "--retries", "-1");
    expect(c.stderr).toMatch(/--retries must be an integer ≥ 0/);
  });

  it("missing model file, with and without --verbose", async () => {
    const path = join(dir, "missing.safetensors");
    const r = await cli("info", path);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(`error: model file ${path} not found`);
    const v = await cli("info", path, "--verbose");
    expect(v.stderr).toMatch(/not found\n\s+at /); // the stack, on request
  });

  it("corrupt and foreign model files", async () => {
    const corrupt = join(dir, "corrupt.safetensors");
    writeFileSync(corrupt, new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
    const a = await cli("eval", corrupt);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(
      /^error: .*corrupt\.safetensors: header length 200 goes beyond the file \(9 bytes\)/m,
    );

    const foreign = join(dir, "foreign.safetensors");
    writeFileSync(
      foreign,
      encodeSafetensors([{ name: "w", data: new Float32Array(1), shape: [1] }], { format: "pt" }),
    );
    const b = await cli("predict", foreign, "x.png");
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(/^error: .*foreign\.safetensors: not a zerodl model file/m);
  });
});

describe("download flags", () => {
  it("become loadMnist options (seconds → ms); a flag not given stays unset for the environment", () => {
    expect(
      downloadSettings({
        mirror: ["https://a.example/", "https://b.example/"],
        cacheDir: "c",
        offline: true,
        timeout: 2.5,
        retries: 0,
        stallBudget: 4,
      }),
    ).toEqual({
      mirrors: ["https://a.example/", "https://b.example/"],
      cacheDir: "c",
      download: false,
      timeoutMs: 2500,
      retries: 0,
      stallBudgetMs: 4000,
    });
    expect(Object.values(downloadSettings({})).every((v) => v === undefined)).toBe(true);
  });
});
