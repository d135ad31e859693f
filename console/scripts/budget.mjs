// The first load's JavaScript: the entry script index.html loads and every chunk it imports statically
// (lazy chunks, like the usage chart, load later). Gzipped, it must stay within the budget.
// `node console/scripts/budget.mjs` after `make console`; prints the figure, exits 1 over the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 250 * 1024;
const dist = new URL("../dist/", import.meta.url);
const html = readFileSync(new URL("index.html", dist), "utf8");
const entries = [...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)].map((match) => match[1]);
const preloads = [...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((match) => match[1]);
if (entries.length === 0) {
  console.error("budget: no module script in dist/index.html (run the build first)");
  process.exit(2);
}

const seen = new Map();
function visit(path) {
  const clean = path.replace(/^\.?\//, "");
  if (seen.has(clean)) return;
  const code = readFileSync(new URL(clean, dist));
  seen.set(clean, gzipSync(code, { level: 9 }).length);
  // Static imports between chunks (`import … from "./x.js"`, `import "./x.js"`), not dynamic `import()`.
  for (const match of code.toString("utf8").matchAll(/(?:^|[;\s}])import\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    visit(`assets/${match[1]}`);
  }
}
[...entries, ...preloads].forEach(visit);

const total = [...seen.values()].reduce((sum, size) => sum + size, 0);
for (const [file, size] of seen) console.log(`  ${file}: ${(size / 1024).toFixed(1)} KB gzipped`);
console.log(`first-load JavaScript: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_BYTES / 1024} KB)`);
process.exit(total <= BUDGET_BYTES ? 0 : 1);
