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
  const lines = text.split(/\r?\n/);
  // A header is a first line whose first field is not a number.
  const first = lines.findIndex((l) => l.trim() !== "");
  const start = first >= 0 && !/^\s*"?[-+]?\d/.test(lines[first]) ? first + 1 : 0;

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
    const label = Number(values[0]);
    if (!Number.isInteger(label) || label < 0 || label >= classes || values[0].trim() === "") {
      throw new DataError(`${at}: label "${values[0]}" is not a class in 0..${classes - 1}`);
    }
    labels[n] = label;
    for (let j = 1; j < fields; j++) {
      const v = Number(values[j]);
      if (values[j].trim() === "" || !(v >= 0 && v <= 255)) {
        throw new DataError(`${at}: pixel ${j} is "${values[j]}", expected a number in 0..255`);
      }
      pixels[n * h * w + j - 1] = v * scale;
    }
  });

  const shape = options.flatten === false ? [rows.length, 1, h, w] : [rows.length, h * w];
  const ds: Dataset = { x: new NDArray(pixels, shape), labels };
  if (options.classNames) ds.classNames = options.classNames;
  return ds;
}
