/** Reads an MNIST-style CSV file (see ../csv.ts). */
import { readFile } from "node:fs/promises";
import { parseMnistCsv, type CsvOptions } from "../csv.js";
import type { Dataset } from "../dataset.js";
import { DataError } from "../errors.js";

export async function loadMnistCsv(path: string, options: CsvOptions = {}): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new DataError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return parseMnistCsv(text, path, options);
}
