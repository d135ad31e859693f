// The event types an endpoint may subscribe to (GET /webhooks' `events`): none ticked = every event.
import { t } from "../i18n";

export const EVENT_TYPES = [
  "message.*",
  "message.queued",
  "message.sent",
  "message.delivered",
  "message.read",
  "message.played",
  "message.failed",
  "message.received",
  "message.edited",
  "message.deleted",
  "instance.*",
  "instance.history_synced",
  "contact.identity_resolved",
  "group.*",
  "call.*",
  "status.posted",
  "presence.updated",
  "wallet.low_balance",
  "webhook.disabled",
  "webhook.test",
] as const;

export function EventPicker({ value, onValue }: { value: string[]; onValue: (value: string[]) => void }) {
  return (
    <fieldset class="checks">
      <legend>{t("webhooks.events")}</legend>
      <p class="hint">{t("webhooks.eventsHint")}</p>
      {EVENT_TYPES.map((type) => (
        <label key={type} class="check-row">
          <input
            type="checkbox"
            checked={value.includes(type)}
            onChange={() => onValue(value.includes(type) ? value.filter((item) => item !== type) : [...value, type])}
          />
          <span class="mono">{type}</span>
        </label>
      ))}
    </fieldset>
  );
}
