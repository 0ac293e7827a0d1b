/**
 * Where a dataset's files come from in Node, in this order:
 *
 *   1. the copy bundled in this package (MNIST: data/mnist/),
 *   2. a folder the user names (`dir`),
 *   3. the system copy (Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist/),
 *   4. the user cache ($XDG_CACHE_HOME/zerodl or ~/.cache/zerodl),
 *   5. a download into the cache (user mirrors first, then the registry's).
 *
 * Each file is resolved on its own. A place may hold the archive or the uncompressed file. A file
 * that fails verification is reported through `onNote` and skipped; a bad cached file is deleted,
 * so that the download replaces it. If nothing works, the error lists every place and why.
 */
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DataError, MissingFileError } from "../errors.js";
import { fileKeys, type DataFile, type DatasetInfo, type FileKey } from "../registry.js";
import { verifyDataFile } from "../verify.js";
import { downloadFile, type DownloadOptions } from "./download.js";
import { defaultCacheDir, fsSource, packageRoot } from "./files.js";

export interface ResolveOptions extends DownloadOptions {
  dir?: string;
  cacheDir?: string;
  mirrors?: readonly string[];
  download?: boolean;
  onNote?: (note: string) => void;
}

interface Place {
  kind: "bundled" | "dir" | "system" | "cache";
  dir: string;
}

/** The four files of `info`, verified and uncompressed. */
export async function resolveDatasetFiles(
  info: DatasetInfo,
  options: ResolveOptions = {},
): Promise<Record<FileKey, Uint8Array>> {
  const places = placesFor(info, options);
  const out = {} as Record<FileKey, Uint8Array>;
  // One after another: at most one download runs at a time, and its progress bar reads cleanly.
  for (const key of fileKeys) out[key] = await resolveFile(info.files[key], info, places, options);
  return out;
}

/** The folders to look in, in order (see the file comment). */
export function placesFor(info: DatasetInfo, options: ResolveOptions = {}): Place[] {
  const places: Place[] = [];
  if (info.bundledDir) places.push({ kind: "bundled", dir: join(packageRoot(), info.bundledDir) });
  if (options.dir) places.push({ kind: "dir", dir: resolve(options.dir) });
  for (const dir of info.systemDirs) places.push({ kind: "system", dir });
  places.push({ kind: "cache", dir: cacheFolder(info, options) });
  return places;
}

function cacheFolder(info: DatasetInfo, options: ResolveOptions): string {
  return join(options.cacheDir ?? defaultCacheDir(), info.name);
}

async function resolveFile(
  file: DataFile,
  info: DatasetInfo,
  places: readonly Place[],
  options: ResolveOptions,
): Promise<Uint8Array> {
  const note = options.onNote ?? ((n: string) => console.warn(`zerodl: ${n}`));
  const problems: string[] = [];
  for (const place of places) {
    // The archive as published, or the same file already decompressed.
    for (const name of [file.name, file.name.replace(/\.gz$/, "")]) {
      const path = join(place.dir, name);
      let bytes: Uint8Array;
      try {
        bytes = await fsSource(place.dir)(name);
      } catch (e) {
        if (e instanceof MissingFileError) continue;
        throw e;
      }
      try {
        return await verifyDataFile(bytes, file, path);
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        problems.push(`  ${place.kind}: ${e.message}`);
        if (place.kind === "cache") {
          await rm(path, { force: true });
          note(`${e.message}; removed it from the cache`);
        } else {
          note(`${e.message}; not used`);
        }
      }
    }
  }

  const searched = places.map((p) => `${p.kind} ${p.dir}`).join(", ");
  if (options.download === false) {
    throw new DataError(
      `${file.name}: no valid copy found (looked in ${searched}) and downloads are off` +
        (problems.length ? `:\n${problems.join("\n")}` : ""),
    );
  }
  const mirrors = [...(options.mirrors ?? []), ...info.mirrors];
  try {
    const archive = await downloadFile(file, mirrors, cacheFolder(info, options), options);
    return await verifyDataFile(archive, file, file.name);
  } catch (e) {
    if (!(e instanceof DataError) || problems.length === 0) throw e;
    throw new DataError(`${e.message}\nand the local copies were rejected:\n${problems.join("\n")}`);
  }
}
