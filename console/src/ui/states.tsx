// The honest states every page shows: loading, empty, and the API's error (its translated message).
import type { ComponentChildren } from "preact";

import type { ApiError } from "../api/errors";
import { t } from "../i18n";

export function Loading({ label }: { label?: string }) {
  return (
    <p class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label ?? t("state.loading")}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state state-empty">{children}</div>;
}

export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <p>
        <strong>{t("state.error")}</strong> {error.message}
      </p>
      {error.body?.param ? <p class="muted">{t("state.errorField", { field: error.body.param })}</p> : null}
      {error.body?.request_id ? <p class="muted small">{t("state.requestId", { id: error.body.request_id })}</p> : null}
      {onRetry ? (
        <button type="button" class="button secondary" onClick={onRetry}>
          {t("action.retry")}
        </button>
      ) : null}
    </div>
  );
}

export function Notice({ children, tone = "info" }: { children: ComponentChildren; tone?: "info" | "success" | "warning" }) {
  return (
    <div class={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}
