/** A ready-made terminal progress bar for downloads (cli-progress), one bar per transfer. */
import cliProgress from "cli-progress";
import { formatBytes } from "../bytes.js";
import type { DownloadProgress } from "./download.js";

/**
 * Returns an `onProgress` callback that draws
 * `train-images-idx3-ubyte.gz ████████░░░░ 64% 6.3 MB / 9.9 MB 2.1 MB/s`
 * on `stream` (default stderr, so that piped output stays clean).
 */
export function progressBar(stream: NodeJS.WritableStream = process.stderr): (p: DownloadProgress) => void {
  let bar: cliProgress.SingleBar | null = null;
  let current = "";
  return (p) => {
    const key = `${p.file} ${p.url}`;
    if (key !== current) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          format: "{file} {bar} {percentage}% {got} / {size} {speed}",
          stream,
          hideCursor: true,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(p.total, 0, payload(p));
      current = key;
    }
    bar!.update(p.bytes, payload(p));
    if (p.done) {
      bar!.stop();
      bar = null;
      current = "";
    }
  };
}

function payload(p: DownloadProgress) {
  return {
    file: p.file,
    got: formatBytes(p.bytes),
    size: formatBytes(p.total),
    speed: `${formatBytes(Math.round(p.bytesPerSecond))}/s`,
  };
}
