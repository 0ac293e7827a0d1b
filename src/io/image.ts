/**
 * Reading a user's picture file (PNG or JPEG) for `zerodl predict`. Node only (pngjs); turning the
 * decoded picture into a model input is pure and shared with the browser (input-image.ts).
 */
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { RgbaImage } from "../data/image-folder.js";

/** Decodes PNG or JPEG bytes, recognized by their signature; errors name the file. */
export function decodeImage(bytes: Uint8Array, fileName: string): RgbaImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new Error(`${fileName}: unreadable ${isPng ? "PNG" : "JPEG"} image (${(e as Error).message})`, {
      cause: e,
    });
  }
  throw new Error(`${fileName}: not a PNG or JPEG image`);
}
