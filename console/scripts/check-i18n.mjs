// Every text key exists in en, pt-BR and es, with the same {placeholders} and no empty text.
// Run by `npm run build` and by the tests (tests/e2e/test_console.py); exits non-zero on a problem.
import { readFileSync } from "node:fs";

const LOCALES = ["en", "pt-BR", "es"];
const load = (name) => JSON.parse(readFileSync(new URL(`../src/i18n/${name}.json`, import.meta.url), "utf8"));
const catalogs = Object.fromEntries(LOCALES.map((name) => [name, load(name)]));
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort().join(",");
const problems = [];
const keys = new Set(LOCALES.flatMap((name) => Object.keys(catalogs[name])));
for (const key of [...keys].sort()) {
  for (const name of LOCALES) {
    const text = catalogs[name][key];
    if (typeof text !== "string" || text.trim() === "") {
      problems.push(`${name}: missing or empty "${key}"`);
    } else if (placeholders(text) !== placeholders(catalogs.en[key] ?? "")) {
      problems.push(`${name}: "${key}" has placeholders {${placeholders(text)}}, en has {${placeholders(catalogs.en[key] ?? "")}}`);
    }
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`i18n: ${keys.size} keys in ${LOCALES.join(", ")}`);
