/**
 * A folder of PNG images with one subfolder per class (`digits/0/a.png`, `digits/1/b.png`, …)
 * becomes a Dataset whose class names are the subfolder names in sorted order.
 */
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { decodePngStrict } from "../../io/image-decode.js";
import type { Dataset } from "../dataset.js";
import { DataError } from "../errors.js";
import {
  imagesToDataset,
  type ImageDatasetOptions,
  type LabelledImage,
  type RgbaImage,
} from "../image-folder.js";

export async function loadImageFolder(
  dir: string,
  options: ImageDatasetOptions = {},
): Promise<{ dataset: Dataset; notes: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError(`${dir}: cannot read the image folder: ${(e as Error).message}`);
  }
  const classNames = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (classNames.length === 0)
    throw new DataError(`${dir}: no class subfolders (expected ${dir}/<class>/<image>.png)`);

  const images: LabelledImage[] = [];
  let skipped = 0;
  for (const [label, className] of classNames.entries()) {
    const classDir = join(dir, className);
    const files = (await readdir(classDir)).sort();
    const pngs = files.filter((f) => extname(f).toLowerCase() === ".png");
    skipped += files.length - pngs.length;
    if (pngs.length === 0) throw new DataError(`${classDir}: no PNG images in class "${className}"`);
    for (const file of pngs) {
      const path = join(classDir, file);
      images.push({ name: path, label, image: decodePng(await readFile(path), path) });
    }
  }
  const result = imagesToDataset(images, classNames, options);
  if (skipped) result.notes.push(`${skipped} file(s) that are not .png skipped`);
  return result;
}

/** Decodes a PNG (any bit depth or colour type) to RGBA bytes; see src/io/image-decode.ts. */
export function decodePng(bytes: Uint8Array, name: string): RgbaImage {
  return decodePngStrict(bytes, name);
}
