// One endpoint: edit (URL, events, status), rotate the secret (shown once), send a test, delete; its
// deliveries with every attempt (status, latency, error) and replay. Deliveries are re-read every few
// seconds while the page is open: retries happen on the API's schedule, not as stream events.
import { useEffect, useState } from "preact/hooks";

import { api } from "../api/client";
import { must } from "../api/errors";
import { t } from "../i18n";
import { navigate } from "../router";
import type { Delivery, EventSubscription, Webhook } from "../sdk";
import { SecretOnce } from "../ui/CopyButton";
import { ActionError, Form, SelectField, TextField, useAction } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading, Notice } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";
import { EventPicker } from "./webhook-events";

const POLL_MS = 2000;

function Editor({ webhook, onSaved }: { webhook: Webhook; onSaved: () => void }) {
  const [url, setUrl] = useState(webhook.url);
  const [description, setDescription] = useState(webhook.description ?? "");
  const [events, setEvents] = useState<string[]>(webhook.events ?? []);
  const [status, setStatus] = useState(webhook.status);
  const [saved, setSaved] = useState(false);
  const save = useAction();
  return (
    <Form
      label={t("webhooks.edit")}
      onSubmit={() =>
        void save.run(async () => {
          await must(
            api().PATCH("/webhooks/{webhook_id}", {
              params: { path: { webhook_id: webhook.id } },
              body: { url, description: description || null, events: events.length ? (events as EventSubscription[]) : null, status },
            }),
          );
          setSaved(true);
          onSaved();
        })
      }
    >
      <TextField label={t("field.url")} type="url" required value={url} onValue={setUrl} />
      <TextField label={t("field.description")} value={description} onValue={setDescription} />
      <SelectField
        label={t("field.status")}
        value={status}
        options={[
          { value: "enabled", label: t("status.enabled") },
          { value: "disabled", label: t("status.disabled") },
        ]}
        onValue={setStatus}
      />
      <EventPicker value={events} onValue={setEvents} />
      <ActionError action={save} />
      {saved ? <Notice tone="success">{t("state.saved")}</Notice> : null}
      <button type="submit" class="button primary" disabled={save.busy}>
        {t("action.save")}
      </button>
    </Form>
  );
}

function Attempts({ delivery }: { delivery: Delivery }) {
  return (
    <table class="table compact">
      <caption class="visually-hidden">{t("webhooks.attempts")}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">{t("field.time")}</th>
          <th scope="col">HTTP</th>
          <th scope="col">{t("webhooks.latency")}</th>
          <th scope="col">{t("webhooks.response")}</th>
        </tr>
      </thead>
      <tbody>
        {delivery.attempts.map((attempt, index) => (
          <tr key={attempt.at + index} data-testid="attempt">
            <td>{index + 1}</td>
            <td>{dateTime(attempt.at)}</td>
            <td class="mono" data-testid="attempt-status">{attempt.status_code ?? "—"}</td>
            <td>{t("webhooks.ms", { ms: attempt.latency_ms })}</td>
            <td class="mono small">{attempt.error ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const deliveries = useResource(
    () => must(api().GET("/webhooks/{webhook_id}/deliveries", { params: { path: { webhook_id: webhookId }, query: { limit: 25 } } })).then((list) => list.data),
    [webhookId],
  );
  const replay = useAction();
  const [replayed, setReplayed] = useState<string>();
  useEffect(() => {
    const timer = setInterval(deliveries.reload, POLL_MS);
    return () => clearInterval(timer);
  }, [webhookId]);
  if (!deliveries.data) return deliveries.status === "error" ? <ErrorNotice error={deliveries.error} onRetry={deliveries.reload} /> : <Loading />;
  if (deliveries.data.length === 0) return <Empty>{t("webhooks.noDeliveries")}</Empty>;
  return (
    <>
      <ActionError action={replay} />
      {replayed ? <Notice tone="success">{t("webhooks.replayed", { id: replayed })}</Notice> : null}
      <ol class="deliveries" data-testid="deliveries">
        {deliveries.data.map((delivery) => (
          <li key={delivery.id} class="delivery" data-delivery-id={delivery.id} data-status={delivery.status}>
            <div class="delivery-head">
              <span class="mono">{delivery.event_type}</span> <StatusBadge status={delivery.status} />
              <span class="small muted">{dateTime(delivery.created)}</span>
              <span class="small muted">{t("webhooks.attemptCount", { count: delivery.attempts.length })}</span>
              <button
                type="button"
                class="button secondary small"
                disabled={replay.busy}
                onClick={() =>
                  void replay.run(async () => {
                    await must(
                      api().POST("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", {
                        params: { path: { webhook_id: webhookId, delivery_id: delivery.id } },
                      }),
                    );
                    setReplayed(delivery.event_id);
                    deliveries.reload();
                  })
                }
              >
                {t("webhooks.replay")}
              </button>
            </div>
            <p class="small mono muted">
              {delivery.event_id} · <a href={`#/events?after=${encodeURIComponent(delivery.event_id)}`}>{t("events.replayAfter")}</a>
            </p>
            {delivery.attempts.length ? <Attempts delivery={delivery} /> : null}
          </li>
        ))}
      </ol>
    </>
  );
}

export function WebhookDetail({ webhookId }: { webhookId: string }) {
  const path = { params: { path: { webhook_id: webhookId } } };
  const webhook = useResource(() => must(api().GET("/webhooks/{webhook_id}", path)), [webhookId]);
  const action = useAction();
  const [secret, setSecret] = useState<string>();
  const [tested, setTested] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  if (!webhook.data) {
    return (
      <section>
        <PageHeader title={t("webhooks.title")} />
        {webhook.status === "error" ? <ErrorNotice error={webhook.error} onRetry={webhook.reload} /> : <Loading />}
      </section>
    );
  }
  return (
    <section>
      <PageHeader title={t("webhooks.endpoint")}>
        <a class="button secondary" href="#/webhooks">
          {t("action.back")}
        </a>
      </PageHeader>
      <p class="mono break">{webhook.data.url}</p>
      <div class="grid two">
        <section class="card" aria-labelledby="webhook-edit">
          <h2 id="webhook-edit">{t("webhooks.edit")}</h2>
          <Editor webhook={webhook.data} onSaved={webhook.reload} />
        </section>
        <section class="card" aria-labelledby="webhook-actions">
          <h2 id="webhook-actions">{t("webhooks.actions")}</h2>
          <div class="actions">
            <button type="button" class="button secondary" disabled={action.busy} onClick={() => void action.run(async () => {
              await must(api().POST("/webhooks/{webhook_id}/test", path));
              setTested(true);
            })}>
              {t("webhooks.sendTest")}
            </button>
            <button type="button" class="button secondary" disabled={action.busy} onClick={() => void action.run(async () => {
              const rotated = await must(api().POST("/webhooks/{webhook_id}/rotate-secret", path));
              setSecret(rotated.secret ?? undefined);
            })}>
              {t("webhooks.rotate")}
            </button>
            {confirmDelete ? (
              <button type="button" class="button danger" disabled={action.busy} onClick={() => void action.run(async () => {
                await must(api().DELETE("/webhooks/{webhook_id}", path));
                navigate("/webhooks");
              })}>
                {t("webhooks.confirmDelete")}
              </button>
            ) : (
              <button type="button" class="button danger" onClick={() => setConfirmDelete(true)}>
                {t("action.delete")}
              </button>
            )}
          </div>
          <ActionError action={action} />
          {tested ? <Notice tone="success">{t("webhooks.testQueued")}</Notice> : null}
          {secret ? <SecretOnce value={secret} label={t("webhooks.newSecret")} /> : null}
        </section>
      </div>
      <section class="card" aria-labelledby="webhook-deliveries">
        <h2 id="webhook-deliveries">{t("webhooks.deliveries")}</h2>
        <Deliveries webhookId={webhookId} />
      </section>
    </section>
  );
}
