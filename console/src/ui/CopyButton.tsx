import { useState } from "preact/hooks";

import { t } from "../i18n";

/** Copies a secret shown once (a key, a webhook secret) and says so. */
export function CopyButton({ value, label }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="button secondary small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(value);
          setCopied(true);
          setTimeout(() => setCopied(false), 2000);
        } catch {
          setCopied(false); // no clipboard permission: the value stays selectable on the page
        }
      }}
    >
      {copied ? t("action.copied") : (label ?? t("action.copy"))}
      <span class="visually-hidden" aria-live="polite">
        {copied ? t("action.copied") : ""}
      </span>
    </button>
  );
}

/** A secret shown only now: selectable text, a copy button and the warning. */
export function SecretOnce({ value, label }: { value: string; label: string }) {
  return (
    <div class="secret" role="group" aria-label={label}>
      <p>
        <strong>{label}</strong> {t("secret.once")}
      </p>
      <code class="secret-value" data-testid="secret-value">
        {value}
      </code>
      <CopyButton value={value} />
    </div>
  );
}
