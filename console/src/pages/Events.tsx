// A live tail of GET /stream with filters (types, number), or a replay of the log (kept 7 days) after an
// event id (Last-Event-ID): the SDK's stream resumes by itself after drops.
import { useEffect, useState } from "preact/hooks";

import { streamBaseUrl } from "../config";
import { instanceLabel, useInstances } from "../api/data";
import { apiError, type ApiError } from "../api/errors";
import { t } from "../i18n";
import { firstSeenEventId, parseEnvelope, type EventEnvelope } from "../live/events";
import type { Route } from "../router";
import { navigate } from "../router";
import { streamEvents, StreamError } from "../sdk";
import { accessToken, isLive } from "../session/session";
import { Form, SelectField, TextField } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { Empty, ErrorNotice, Loading } from "../ui/states";

const FAMILIES = ["message.*", "instance.*", "contact.*", "wallet.*", "webhook.*"] as const;
const KEEP = 500;

interface Filters {
  types: string[];
  instance: string;
  after: string;
}

function filtersOf(route: Route): Filters {
  return {
    types: (route.query.get("types") ?? "").split(",").filter(Boolean),
    instance: route.query.get("instance") ?? "",
    after: route.query.get("after") ?? "",
  };
}

function hrefOf(filters: Filters): string {
  const query = new URLSearchParams();
  if (filters.types.length) query.set("types", filters.types.join(","));
  if (filters.instance) query.set("instance", filters.instance);
  if (filters.after) query.set("after", filters.after);
  return `/events?${query}`;
}

function useTail(filters: Filters) {
  const [events, setEvents] = useState<EventEnvelope[]>([]);
  const [error, setError] = useState<ApiError>();
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    setEvents([]);
    setError(undefined);
    setOpen(false);
    void (async () => {
      try {
        for await (const message of streamEvents({
          baseUrl: streamBaseUrl(),
          sessionToken: accessToken,
          livemode: isLive(),
          signal: controller.signal,
          lastEventId: filters.after || undefined,
          query: { types: filters.types.join(",") || undefined, instance_id: filters.instance || undefined },
          onOpen: () => setOpen(true),
        })) {
          const envelope = parseEnvelope(message.data);
          if (envelope) setEvents((previous) => [envelope, ...previous].slice(0, KEEP));
        }
      } catch (failure) {
        if (!controller.signal.aborted) setError(apiError(failure instanceof StreamError ? failure.body : failure));
      }
    })();
    return () => controller.abort();
  }, [filters.types.join(","), filters.instance, filters.after]);
  return { events, error, open };
}

export function Events({ route }: { route: Route }) {
  const applied = filtersOf(route);
  const instances = useInstances();
  const [draft, setDraft] = useState<Filters>(applied);
  const tail = useTail(applied);
  const toggle = (family: string) =>
    setDraft({ ...draft, types: draft.types.includes(family) ? draft.types.filter((type) => type !== family) : [...draft.types, family] });
  return (
    <section>
      <PageHeader title={t("events.title")} />
      <section class="card" aria-labelledby="event-filters">
        <h2 id="event-filters">{t("events.filters")}</h2>
        <Form label={t("events.filters")} onSubmit={() => navigate(hrefOf(draft))}>
          <fieldset class="checks">
            <legend>{t("events.types")}</legend>
            {FAMILIES.map((family) => (
              <label key={family} class="check-row">
                <input type="checkbox" checked={draft.types.includes(family)} onChange={() => toggle(family)} />
                <span class="mono">{family}</span>
              </label>
            ))}
          </fieldset>
          <SelectField
            label={t("field.number")}
            value={draft.instance}
            options={[{ value: "", label: t("events.allNumbers") }, ...(instances.data ?? []).map((instance) => ({ value: instance.id, label: instanceLabel(instance) }))]}
            onValue={(instance) => setDraft({ ...draft, instance })}
          />
          <TextField label={t("events.after")} hint={t("events.afterHint")} placeholder="evt_…" value={draft.after} onValue={(after) => setDraft({ ...draft, after })} />
          <div class="actions">
            <button type="submit" class="button primary">
              {t("events.apply")}
            </button>
            {firstSeenEventId() ? (
              <button type="button" class="button secondary" onClick={() => setDraft({ ...draft, after: firstSeenEventId() ?? "" })}>
                {t("events.fromFirstSeen")}
              </button>
            ) : null}
          </div>
        </Form>
      </section>
      <section class="card" aria-labelledby="event-list">
        <h2 id="event-list">{applied.after ? t("events.replay") : t("events.live")}</h2>
        {tail.error ? <ErrorNotice error={tail.error} /> : null}
        {!tail.open && !tail.error ? <Loading label={t("events.connecting")} /> : null}
        {tail.open && tail.events.length === 0 ? <Empty>{t("events.waiting")}</Empty> : null}
        <ol class="event-list" data-testid="events" aria-live="polite">
          {tail.events.map((event) => (
            <li key={event.id}>
              <details>
                <summary>
                  <span class="mono event-type">{event.type}</span> <span class="small muted">{dateTime(event.created)}</span>{" "}
                  <span class="small mono muted">{event.instance_id ?? ""}</span>
                </summary>
                <p class="small">
                  <span class="mono">{event.id}</span>{" "}
                  <a href={`#${hrefOf({ ...applied, after: event.id })}`}>{t("events.replayAfter")}</a>
                </p>
                <pre class="json">{JSON.stringify(event, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}
