import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMnistCsv } from "../src/data/csv.js";
import { DataError } from "../src/data/errors.js";
import { loadMnistCsv } from "../src/data/node/csv.js";

/** A CSV line: the label, then 784 pixels where pixel k is (k + shift) mod 256. */
function row(label: number | string, shift = 0, pixels = 784): string {
  return [label, ...Array.from({ length: pixels }, (_, k) => (k + shift) % 256)].join(",");
}

describe("MNIST CSV", () => {
  it("parses rows with or without a header, normalized and flattened as MNIST", () => {
    const header = ["label", ...Array.from({ length: 784 }, (_, k) => `pixel${k}`)].join(",");
    const text = `${header}\n${row(7)}\r\n${row(2, 5)}\n\n`;
    const ds = parseMnistCsv(text, "train.csv");
    expect(ds.x.shape).toEqual([2, 784]);
    expect(Array.from(ds.labels)).toEqual([7, 2]);
    expect(ds.x.data[784 + 250]).toBeCloseTo(255 / 255, 6);
    expect(ds.x.data[784 + 251]).toBe(0);
    expect(ds.x.data[3]).toBeCloseTo(3 / 255, 6);

    const noHeader = parseMnistCsv(`${row(1)}\n`, "t.csv", { normalize: false, flatten: false });
    expect(noHeader.x.shape).toEqual([1, 1, 28, 28]);
    expect(noHeader.x.data[300]).toBe(300 % 256);
  });

  it("rejects a ragged row with the file, line and field counts", () => {
    const text = `${row(1)}\n${row(2, 0, 700)}\n`;
    expect(() => parseMnistCsv(text, "train.csv")).toThrow(
      "train.csv:2: 701 fields, expected 785 (a label and 784 pixels for 28×28 images)",
    );
  });

  it("rejects a bad label and a bad pixel", () => {
    expect(() => parseMnistCsv(`${row(1)}\n${row(10)}`, "a.csv")).toThrow(
      'a.csv:2: label "10" is not a class in 0..9',
    );
    expect(() => parseMnistCsv(`${row(1)}\n${row("1.5")}`, "a.csv")).toThrow(
      'a.csv:2: label "1.5" is not a class',
    );
    const bad = row(3).replace(/,5,/, ",x,");
    expect(() => parseMnistCsv(bad, "b.csv")).toThrow(
      'b.csv:1: pixel 6 is "x", expected an integer in 0..255',
    );
    const header = ["label", ...Array.from({ length: 784 }, (_, k) => `pixel${k}`)].join(",");
    expect(() => parseMnistCsv(`${header}\n\n`, "c.csv")).toThrow("c.csv: no data lines");
  });

  it("takes plain decimal integers only, and refuses what looks like another form", () => {
    // Each would have been read as a number by Number(): 10, 16, 3, 7, 0.5 (normalized pixels), ∞.
    for (const [field, shown] of [
      ["1e1", '"1e1"'],
      ["0x10", '"0x10"'],
      ["+3", '"+3"'],
      ["7.0", '"7.0"'],
      ["0.5", '"0.5"'],
      ["Infinity", '"Infinity"'],
      ["256", '"256"'],
      ["-0", '"-0"'],
      ['"5"', '"\\"5\\""'],
    ]) {
      const text = row(3).replace(/,5,/, `,${field},`);
      expect(() => parseMnistCsv(text, "p.csv")).toThrow(
        `p.csv:1: pixel 6 is ${shown}, expected an integer in 0..255`,
      );
    }
    expect(() => parseMnistCsv(row("1e0"), "l.csv")).toThrow('l.csv:1: label "1e0" is not a class in 0..9');
    // Spaces around a value and a byte-order mark are fine.
    expect(parseMnistCsv(`\uFEFF${row(" 4 ")}`, "s.csv").labels[0]).toBe(4);
  });

  it("names a header of the wrong width, a binary file, and cuts long values short in messages", () => {
    expect(() => parseMnistCsv(`label,a,b\n${row(1)}`, "h.csv")).toThrow(
      "h.csv:1: the header has 3 fields, expected 785 (a label and 784 pixels for 28×28 images)",
    );
    expect(() => parseMnistCsv("\x1f\x8b\b\0\0\0", "g.csv")).toThrow(
      "g.csv: binary data (a NUL byte at character 3), not a CSV text file",
    );
    const long = row(2).replace(/,5,/, `,${"x".repeat(100)},`);
    expect(() => parseMnistCsv(long, "x.csv")).toThrow(`x.csv:1: pixel 6 is "${"x".repeat(20)}…"`);
  });

  it("reads a file from disk, and names an unreadable one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zerodl-csv-"));
    const path = join(dir, "small.csv");
    await writeFile(path, `${row(4)}\n${row(9)}\n`);
    const ds = await loadMnistCsv(path);
    expect(Array.from(ds.labels)).toEqual([4, 9]);
    await expect(loadMnistCsv(join(dir, "missing.csv"))).rejects.toBeInstanceOf(DataError);
    await expect(loadMnistCsv(join(dir, "missing.csv"))).rejects.toThrow(/missing.csv: cannot read/);
    await rm(dir, { recursive: true });
  });
});
