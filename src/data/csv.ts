/**
 * The common CSV form of MNIST (as on Kaggle): one image per line, the label first and then the
 * pixels row by row (784 values in 0…255 for 28×28), with an optional header line
 * ("label,1x1,1x2,…" or "label,pixel0,…"). Any error names the file and the line.
 */
import { NDArray } from "../ndarray.js";
import type { Dataset } from "./dataset.js";
import { DataError } from "./errors.js";

export interface CsvOptions {
  /** (height, width) of each image (default 28×28). */
  imageShape?: readonly [number, number];
  /** Labels must be below this (default 10). */
  classes?: number;
  /** Pixels / 255 (default true). */
  normalize?: boolean;
  /** (N, H·W) rows (default true); otherwise (N, 1, H, W). */
  flatten?: boolean;
  classNames?: readonly string[];
}

/** Parses the CSV text of `name` into a dataset; nothing is returned unless every line is valid. */
export function parseMnistCsv(text: string, name: string, options: CsvOptions = {}): Dataset {
  const [h, w] = options.imageShape ?? [28, 28];
  const classes = options.classes ?? 10;
  const fields = 1 + h * w;
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    throw new DataError(`${name}: binary data (a NUL byte at character ${nul}), not a CSV text file`);
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/); // a byte-order mark is not part of the data
  // A header is a first line whose first field is not a number; it must name every column.
  const first = lines.findIndex((l) => l.trim() !== "");
  const hasHeader = first >= 0 && !/^\s*[-+]?\d/.test(lines[first]);
  if (hasHeader) {
    const count = lines[first].split(",").length;
    if (count !== fields) {
      throw new DataError(
        `${name}:${first + 1}: the header has ${count} fields, expected ${fields} (a label and ${h * w} pixels for ${h}×${w} images)`,
      );
    }
  }
  const start = hasHeader ? first + 1 : 0;

  const rows: number[] = [];
  for (let i = start; i < lines.length; i++) if (lines[i].trim() !== "") rows.push(i);
  if (rows.length === 0) throw new DataError(`${name}: no data lines`);

  const pixels = new Float32Array(rows.length * h * w);
  const labels = new Int32Array(rows.length);
  const scale = options.normalize === false ? 1 : 1 / 255;
  rows.forEach((lineIndex, n) => {
    const at = `${name}:${lineIndex + 1}`;
    const values = lines[lineIndex].split(",");
    if (values.length !== fields) {
      throw new DataError(
        `${at}: ${values.length} fields, expected ${fields} (a label and ${h * w} pixels for ${h}×${w} images)`,
      );
    }
    // Plain decimal integers only: "1e1", "0x0a", "+3", "7.0" or "Infinity" are not what a writer of this form writes.
    const label = integerField(values[0]);
    if (label === null || label >= classes) {
      throw new DataError(`${at}: label ${quote(values[0])} is not a class in 0..${classes - 1}`);
    }
    labels[n] = label;
    for (let j = 1; j < fields; j++) {
      const v = integerField(values[j]);
      if (v === null || v > 255) {
        throw new DataError(`${at}: pixel ${j} is ${quote(values[j])}, expected an integer in 0..255`);
      }
      pixels[n * h * w + j - 1] = v * scale;
    }
  });

  const shape = options.flatten === false ? [rows.length, 1, h, w] : [rows.length, h * w];
  const ds: Dataset = { x: new NDArray(pixels, shape), labels };
  if (options.classNames) ds.classNames = options.classNames;
  return ds;
}

/** A field holding a non-negative decimal integer (spaces around it allowed), or null. */
function integerField(field: string): number | null {
  const text = field.trim();
  return /^\d{1,9}$/.test(text) ? Number(text) : null;
}

/** A field as quoted in a message, cut short if it is long (a binary file has very long "fields"). */
function quote(field: string): string {
  return JSON.stringify(field.length > 20 ? `${field.slice(0, 20)}…` : field);
}
