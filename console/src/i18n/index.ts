// The console's texts: one catalog per language (en is the reference; scripts/check-i18n.mjs and the
// compiler check that pt-BR and es have every key, with the same {placeholders}).
import en from "./en.json";
import es from "./es.json";
import ptBR from "./pt-BR.json";

export type Locale = "en" | "pt-BR" | "es";
export type TextKey = keyof typeof en;
type Catalog = Record<TextKey, string>;

export const LOCALES: readonly Locale[] = ["en", "pt-BR", "es"];
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", "pt-BR": "Português (Brasil)", es: "Español" };

const CATALOGS: Record<Locale, Catalog> = { en, "pt-BR": ptBR satisfies Catalog, es: es satisfies Catalog };
const STORAGE_KEY = "bz.locale";

/** The closest supported language to the browser's list (pt-PT → pt-BR, es-MX → es), else English. */
export function browserLocale(languages: readonly string[] = navigator.languages ?? [navigator.language]): Locale {
  for (const tag of languages) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("pt")) return "pt-BR";
    if (lower.startsWith("es")) return "es";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

let current: Locale = initialLocale();
const listeners = new Set<() => void>();

function initialLocale(): Locale {
  // A device preference, not account data: it outlives a sign-out (the switcher's choice, else the browser's).
  const saved = localStorage.getItem(STORAGE_KEY);
  return isLocale(saved) ? saved : browserLocale();
}

export function locale(): Locale {
  return current;
}

export function setLocale(next: Locale): void {
  if (next === current) return;
  current = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener());
}

export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The text for `key` in the current language, `{name}` placeholders filled from `values`. */
export function t(key: TextKey, values: Record<string, string | number> = {}): string {
  const text = CATALOGS[current][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

document.documentElement.lang = current;
