/** `results/index.html`: every figure beside the book's numbers and ours, one page, no scripts. */
import type { ResultFile } from "./runner.js";

const escape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function indexPage(results: readonly ResultFile[]): string {
  const sections = results.map((r) => {
    const rows = r.comparison
      .map((c) => `<tr><td>${escape(c.what)}</td><td>${escape(c.book)}</td><td>${escape(c.ours)}</td></tr>`)
      .join("\n");
    const figures = r.figures
      .map(
        (f) =>
          `<figure><img src="${escape(f.file)}" alt="${escape(f.caption)}"><figcaption>${escape(f.caption)}</figcaption></figure>`,
      )
      .join("\n");
    return `<section id="${escape(r.name)}">
<h2>${escape(r.title)} <small>${escape(r.book)}</small></h2>
<p class="setup">${escape(r.setup)}${r.quickForm ? ` <b>(quick run: ${escape(r.quickForm)})</b>` : ""} · seed ${r.seed} · ${r.seconds} s · ${escape(r.finishedAt)}</p>
<div class="row"><div class="figures">${figures}</div>
<div class="numbers"><p>${escape(r.summary)}</p>
<table><thead><tr><th></th><th>book</th><th>zerodl</th></tr></thead><tbody>
${rows}
</tbody></table><p><a href="${escape(r.name)}.json">data (${escape(r.name)}.json)</a></p></div></div>
</section>`;
  });
  const toc = results.map((r) => `<li><a href="#${escape(r.name)}">${escape(r.title)}</a></li>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zerodl: the book's experiments</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 2em; color: #222; }
section { border-top: 1px solid #ccc; padding: 1em 0; }
.row { display: flex; flex-wrap: wrap; gap: 2em; align-items: flex-start; }
figure { margin: 0 0 1em 0; } img { max-width: 100%; }
figcaption, .setup, small { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
.numbers { max-width: 36em; }
</style></head><body>
<h1>Deep Learning from Scratch: the book's experiments, reproduced with zerodl</h1>
<p>Regenerate with <code>zerodl experiment run all</code> (or <code>npx tsx experiments/run.ts run all</code>).</p>
<ul>${toc}</ul>
${sections.join("\n")}
</body></html>
`;
}
