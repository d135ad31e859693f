import { t, type TextKey } from "../i18n";

const TONES: Record<string, string> = {
  connected: "good",
  delivered: "good",
  read: "good",
  played: "good",
  enabled: "good",
  received: "info",
  sent: "info",
  pairing: "info",
  pending: "info",
  retrying: "warn",
  queued: "info",
  sending: "info",
  disconnected: "warn",
  restricted: "bad",
  logged_out: "warn",
  failed: "bad",
  disabled: "warn",
  expired: "bad",
  canceled: "bad",
  revoked: "bad",
};

/** A status in words and colour (never colour alone), translated when the catalog knows it. */
export function StatusBadge({ status }: { status: string }) {
  const key = `status.${status}` as TextKey;
  const text = t(key);
  return (
    <span class={`badge badge-${TONES[status] ?? "info"}`} data-status={status}>
      {text === key ? status : text}
    </span>
  );
}
