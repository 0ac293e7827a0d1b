/**
 * Verification of a data file against the registry before anything uses it. Whatever the file's
 * origin (the repository, a user's folder, a system package, the cache, a download, a URL),
 * the same rule applies, so a corrupt file can never be half-loaded.
 */
import { formatBytes, gunzip, isGzip, sha256 } from "./bytes.js";
import { DataError } from "./errors.js";
import type { DataFile } from "./registry.js";

/**
 * Checks `bytes` (read from `shownName`) against `file` and returns the verified, uncompressed
 * IDX content. Accepts the published archive itself, or any gzip or plain file whose content has
 * the published size and SHA-256. Throws a DataError naming the file and what is wrong.
 */
export async function verifyDataFile(
  bytes: Uint8Array,
  file: DataFile,
  shownName: string,
): Promise<Uint8Array> {
  if (isGzip(bytes)) {
    // The published archive: its digest pins the content, so hashing the content again is not needed.
    if (bytes.length === file.gz.bytes && (await sha256(bytes)) === file.gz.sha256) {
      return gunzip(bytes, shownName);
    }
    const content = await gunzip(bytes, shownName);
    await checkContent(content, file, shownName, "after decompression ");
    return content;
  }
  await checkContent(bytes, file, shownName, "");
  return bytes;
}

/** Checks that `bytes` is exactly the published gzip archive (what a mirror must serve). */
export async function checkArchive(bytes: Uint8Array, file: DataFile, shownName: string): Promise<void> {
  if (bytes.length !== file.gz.bytes) {
    const what = bytes.length < file.gz.bytes ? "truncated" : "too long";
    throw new DataError(
      `${shownName}: ${what}: ${bytes.length} bytes (${formatBytes(bytes.length)}), expected ${file.gz.bytes}`,
    );
  }
  const digest = await sha256(bytes);
  if (digest !== file.gz.sha256) {
    throw new DataError(`${shownName}: wrong content: SHA-256 ${digest}, expected ${file.gz.sha256}`);
  }
}

async function checkContent(
  content: Uint8Array,
  file: DataFile,
  shownName: string,
  when: string,
): Promise<void> {
  if (content.length !== file.raw.bytes) {
    throw new DataError(
      `${shownName}: ${when}${content.length} bytes, expected ${file.raw.bytes} ` +
        `(the uncompressed ${file.name.replace(/\.gz$/, "")}) or the ${file.gz.bytes}-byte archive`,
    );
  }
  const digest = await sha256(content);
  if (digest !== file.raw.sha256) {
    throw new DataError(`${shownName}: wrong content: ${when}SHA-256 ${digest}, expected ${file.raw.sha256}`);
  }
}
