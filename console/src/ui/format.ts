// Numbers, money and dates in the chosen language.
import { locale } from "../i18n";

/** Centavos of BRL (the API's integer amounts) as money. */
export function money(centavos: number, currency = "BRL"): string {
  return new Intl.NumberFormat(locale(), { style: "currency", currency }).format(centavos / 100);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "medium" }).format(date);
}

export function count(value: number): string {
  return new Intl.NumberFormat(locale()).format(value);
}
