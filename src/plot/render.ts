/**
 * Renders Vega-Lite charts to SVG (Vega's headless renderer, no browser or canvas) and to PNG
 * (resvg, a Rust SVG renderer shipped as a prebuilt Node module). Node only.
 */
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../io/atomic.js";

export type ChartSpec = TopLevelSpec;

/**
 * The font every chart asks for. resvg loads the system fonts; on Debian/Ubuntu DejaVu Sans comes
 * from the `fonts-dejavu-core` package (without any font, PNGs render with no text at all).
 */
export const CHART_FONT = "DejaVu Sans";

/** Shared look: white background, one font, no frame around single views. */
export const chartConfig = {
  background: "white",
  font: CHART_FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0 }, // whole labels: "1000 images, fine-tuned", not "1000 images, fine…"
  title: { fontSize: 14 },
} as const;

/**
 * Vega, Vega-Lite and resvg, loaded on first use: they add about 8 MB to the JavaScript heap, which
 * every garbage collection during a training run would otherwise walk (measured with the CLI
 * training SimpleConvNet: a full collection every ~6 steps, from the typed arrays a step allocates).
 */
let libraries: Promise<{
  vega: typeof import("vega");
  compile: typeof import("vega-lite").compile;
  Resvg: typeof import("@resvg/resvg-js").Resvg;
}> | null = null;

function chartLibraries() {
  libraries ??= Promise.all([import("vega"), import("vega-lite"), import("@resvg/resvg-js")]).then(
    ([vega, vegaLite, resvg]) => ({ vega, compile: vegaLite.compile, Resvg: resvg.Resvg }),
  );
  return libraries;
}

export async function renderSvg(spec: ChartSpec): Promise<string> {
  const { vega, compile } = await chartLibraries();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, at `scale` × its size (2 = sharp on high-DPI screens and in READMEs). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await chartLibraries();
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: CHART_FONT },
  });
  return resvg.render().asPng();
}

/** Writes `basePath.svg` and `basePath.png` (each atomically); returns their paths. */
export async function writeChart(spec: ChartSpec, basePath: string): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  const paths = { svg: `${basePath}.svg`, png: `${basePath}.png` };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, await svgToPng(svg));
  return paths;
}
