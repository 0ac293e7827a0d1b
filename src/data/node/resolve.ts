/**
 * Where a dataset's files come from in Node, in this order:
 *
 *   1. the copy bundled in this package (MNIST: data/mnist/),
 *   2. a folder the user names (`dir`),
 *   3. the system copy (Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist/),
 *   4. the user cache ($ZERODL_CACHE_DIR, $XDG_CACHE_HOME/zerodl or ~/.cache/zerodl),
 *   5. a download into the cache (user mirrors first, then the registry's), unless offline.
 *
 * Each file is resolved on its own. A place may hold the archive or the uncompressed file. A file
 * that fails verification is reported through `onNote` and skipped; a bad cached file is deleted,
 * so that the download replaces it. If nothing works, the error's first line names the file and
 * what to do, and the lines after it every place and mirror and why each was no use.
 *
 * The download settings an option leaves unset come from the environment (`downloadSettingsFromEnv`),
 * so that a user can reach them under any program built on zerodl.
 */
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { OptionError } from "../../errors.js";
import { DataError, MissingFileError } from "../errors.js";
import { fileKeys, type DataFile, type DatasetInfo, type FileKey } from "../registry.js";
import { verifyDataFile } from "../verify.js";
import { DownloadError, MirrorBook, definedOnly, downloadFile, type DownloadOptions } from "./download.js";
import { defaultCacheDir, fsSource, packageRoot } from "./files.js";

export interface ResolveOptions extends DownloadOptions {
  /** A folder holding the files (gzip or not), tried after the package's own copy. */
  dir?: string;
  /** The download cache (default `$ZERODL_CACHE_DIR`, `$XDG_CACHE_HOME/zerodl` or `~/.cache/zerodl`). */
  cacheDir?: string;
  /** Base URLs to download from, tried before the registry's mirrors (default `$ZERODL_MIRRORS`). */
  mirrors?: readonly string[];
  /** Download when no local copy is found (default true; false when `$ZERODL_OFFLINE` is 1). */
  download?: boolean;
  /** Notes about skipped files (a corrupt cached file, say). Default: console.warn. */
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
  const settings: ResolveOptions = { ...downloadSettingsFromEnv(), ...definedOnly(options) };
  const places = placesFor(info, settings);
  const book = new MirrorBook(); // what each mirror has cost, over the four files
  const out = {} as Record<FileKey, Uint8Array>;
  // One after another: at most one download runs at a time, and its progress bar reads cleanly.
  for (const key of fileKeys) out[key] = await resolveFile(info.files[key], info, places, settings, book);
  return out;
}

/**
 * The download settings of the environment (what is not set there is absent):
 *
 *   ZERODL_MIRRORS        base URLs, separated by spaces or commas, tried before the registry's
 *   ZERODL_CACHE_DIR      the download cache (read by `defaultCacheDir`)
 *   ZERODL_OFFLINE        1 (or true, yes): never download
 *   ZERODL_TIMEOUT        seconds without data before an attempt fails
 *   ZERODL_RETRIES        further attempts after a transient failure
 *   ZERODL_STALL_BUDGET   seconds a stalled mirror may cost in one load
 *
 * A value that does not parse is an OptionError naming the variable.
 */
export function downloadSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ResolveOptions {
  const out: ResolveOptions = {};
  const value = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const number = (name: string, integer: boolean): number | undefined => {
    const text = value(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      throw new OptionError(
        `${name}=${JSON.stringify(text)}: expected ${integer ? "an integer" : "a number of seconds"} ≥ 0`,
      );
    }
    return n;
  };
  const mirrors = value("ZERODL_MIRRORS");
  if (mirrors !== undefined) out.mirrors = mirrors.split(/[\s,]+/).filter(Boolean);
  const offline = value("ZERODL_OFFLINE")?.toLowerCase();
  if (offline !== undefined) {
    if (!["1", "true", "yes", "0", "false", "no"].includes(offline)) {
      throw new OptionError(`ZERODL_OFFLINE=${JSON.stringify(offline)}: expected 1 or 0`);
    }
    out.download = !["1", "true", "yes"].includes(offline);
  }
  const timeout = number("ZERODL_TIMEOUT", false);
  if (timeout !== undefined) out.timeoutMs = timeout * 1000;
  const retries = number("ZERODL_RETRIES", true);
  if (retries !== undefined) out.retries = retries;
  const budget = number("ZERODL_STALL_BUDGET", false);
  if (budget !== undefined) out.stallBudgetMs = budget * 1000;
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
  return join(options.cacheDir === undefined ? defaultCacheDir() : resolve(options.cacheDir), info.name);
}

async function resolveFile(
  file: DataFile,
  info: DatasetInfo,
  places: readonly Place[],
  options: ResolveOptions,
  book: MirrorBook,
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

  const cacheDir = cacheFolder(info, options);
  const rejected = problems.length ? ["  local copies rejected:", ...problems.map((p) => `  ${p}`)] : [];
  if (options.download === false) {
    throw new DataError(
      [
        `${file.name}: no valid copy, and downloads are off (offline); copy the file into ${cacheDir} or allow downloads`,
        `  looked in: ${places.map((p) => `${p.kind} ${p.dir}`).join(", ")}`,
        ...rejected,
      ].join("\n"),
    );
  }
  const mirrors = [...(options.mirrors ?? []), ...info.mirrors];
  try {
    const archive = await downloadFile(file, mirrors, cacheDir, options, book);
    return await verifyDataFile(archive, file, file.name);
  } catch (e) {
    if (!(e instanceof DownloadError) || rejected.length === 0) throw e;
    throw new DownloadError(e.file, e.summary, [...e.details, ...rejected]);
  }
}
