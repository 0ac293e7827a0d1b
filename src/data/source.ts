/**
 * Byte sources: the only environment-specific I/O of the data loaders. A source maps a file name
 * to its bytes; Node reads folders (src/data/node/), a browser fetches URLs, tests hold bytes in
 * memory. A source that does not have a file rejects with MissingFileError.
 */
import { DataError, MissingFileError } from "./errors.js";

export type ByteSource = (file: string) => Promise<Uint8Array>;

/**
 * Files under a base URL, read with `fetch` (browser or Node). A 404 counts as missing; any other
 * failure is an error naming the URL.
 */
export function fetchSource(baseUrl: string | URL, fetchFn: typeof fetch = globalThis.fetch): ByteSource {
  const base = absoluteBase(String(baseUrl));
  return async (file) => {
    const url = new URL(file, base).href;
    let response: Response;
    try {
      response = await fetchFn(url);
    } catch (e) {
      throw new DataError(`${file}: cannot fetch ${url}: ${(e as Error).message}`);
    }
    if (response.status === 404) throw new MissingFileError(file, base);
    if (!response.ok)
      throw new DataError(`${file}: ${url} answered HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}

/** Files held in memory, by name (tests, or bytes the caller already has). */
export function memorySource(files: Readonly<Record<string, Uint8Array>>, where = "memory"): ByteSource {
  return async (file) => {
    const bytes = Object.hasOwn(files, file) ? files[file] : undefined;
    if (bytes === undefined) throw new MissingFileError(file, where);
    return bytes;
  };
}

/** The base as an absolute URL ending in "/"; a relative one ("data/mnist") is taken from the page. */
function absoluteBase(baseUrl: string): string {
  const folder = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  const page = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(folder, page).href;
  } catch {
    throw new DataError(
      `fetchSource: "${baseUrl}" is not an absolute URL, and there is no page to resolve it against`,
    );
  }
}
