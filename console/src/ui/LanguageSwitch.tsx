import { useId } from "preact/hooks";

import { locale, LOCALE_NAMES, LOCALES, setLocale, t, type Locale } from "../i18n";

export function LanguageSwitch({ compact = false }: { compact?: boolean }) {
  const id = useId();
  return (
    <div class={`language ${compact ? "compact" : ""}`}>
      <label for={id} class={compact ? "visually-hidden" : undefined}>
        {t("language.label")}
      </label>
      <select id={id} data-testid="language" value={locale()} onChange={(event) => setLocale((event.target as HTMLSelectElement).value as Locale)}>
        {LOCALES.map((code) => (
          <option key={code} value={code}>
            {LOCALE_NAMES[code]}
          </option>
        ))}
      </select>
    </div>
  );
}
