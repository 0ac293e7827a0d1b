/**
 * Renders Vega-Lite charts to SVG (Vega's headless renderer, no browser or canvas) and to PNG
 * (resvg, a Rust SVG renderer shipped as a prebuilt Node module). Node only.
 */
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
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
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

export async function renderSvg(spec: ChartSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, at `scale` × its size (2 = sharp on high-DPI screens and in READMEs). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
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
  await writeFileAtomic(paths.png, svgToPng(svg));
  return paths;
}
