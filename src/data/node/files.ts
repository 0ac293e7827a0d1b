/** Node's side of the byte-source seam: folders, the package's own files, the user cache. */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DataError, MissingFileError } from "../errors.js";
import type { ByteSource } from "../source.js";

/** Files in a folder. A file that is not there is MissingFileError; an unreadable one, DataError. */
export function fsSource(dir: string): ByteSource {
  return async (file) => {
    const path = join(dir, file);
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") throw new MissingFileError(file, dir);
      throw new DataError(`${path}: cannot read: ${(e as Error).message}`);
    }
  };
}

/**
 * The root of the zerodl package: the nearest folder above this file whose package.json is
 * zerodl's. Found by walking up because this file runs from src/ (tsx, vitest) and from dist/src/
 * (after the build), at different depths.
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "zerodl"
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of zerodl above ${from}`);
  }
}

/** The user cache: `$ZERODL_CACHE_DIR`, else `$XDG_CACHE_HOME/zerodl`, else `~/.cache/zerodl`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZERODL_CACHE_DIR) return resolve(env.ZERODL_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME;
  return xdg ? resolve(xdg, "zerodl") : join(homedir(), ".cache", "zerodl");
}
