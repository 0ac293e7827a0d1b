/**
 * Reading a user's picture file (PNG or JPEG) for `zerodl predict`. Node only (pngjs); turning the
 * decoded picture into a model input is pure and shared with the browser (input-image.ts).
 */
import type { RgbaImage } from "../data/image-folder.js";
import { decodePicture } from "./image-decode.js";

/**
 * Decodes PNG or JPEG bytes, recognized by their signature. A file that is not one of them, or is
 * corrupt, truncated or over the size limit, is a DataError naming the file (./image-decode.ts).
 */
export function decodeImage(bytes: Uint8Array, fileName: string): RgbaImage {
  return decodePicture(bytes, fileName);
}
