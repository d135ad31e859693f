// Webhook endpoints: the list, and a new one whose signing secret is shown once.
import { useState } from "preact/hooks";

import { api } from "../api/client";
import { must } from "../api/errors";
import { t } from "../i18n";
import type { EventSubscription, Webhook } from "../sdk";
import { SecretOnce } from "../ui/CopyButton";
import { ActionError, Form, TextField, useAction } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";
import { EventPicker } from "./webhook-events";

export function Webhooks() {
  const webhooks = useResource(() => must(api().GET("/webhooks")).then((list) => list.data), []);
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const [created, setCreated] = useState<Webhook>();
  const create = useAction();
  return (
    <section>
      <PageHeader title={t("webhooks.title")} />
      <section class="card" aria-labelledby="new-webhook">
        <h2 id="new-webhook">{t("webhooks.create")}</h2>
        <Form
          label={t("webhooks.create")}
          onSubmit={() =>
            void create.run(async () => {
              const made = await must(
                api().POST("/webhooks", { body: { url, description: description || null, events: events.length ? (events as EventSubscription[]) : null } }),
              );
              setCreated(made);
              setUrl("");
              setDescription("");
              setEvents([]);
              webhooks.reload();
            })
          }
        >
          <TextField label={t("field.url")} hint={t("webhooks.urlHint")} type="url" required value={url} onValue={setUrl} />
          <TextField label={t("field.description")} maxLength={256} value={description} onValue={setDescription} />
          <EventPicker value={events} onValue={setEvents} />
          <ActionError action={create} />
          <button type="submit" class="button primary" disabled={create.busy}>
            {t("action.create")}
          </button>
        </Form>
        {created?.secret ? (
          <div>
            <SecretOnce value={created.secret} label={t("webhooks.secret")} />
            <a href={`#/webhooks/${created.id}`}>{t("webhooks.open", { url: created.url })}</a>
          </div>
        ) : null}
      </section>
      {webhooks.status === "error" ? <ErrorNotice error={webhooks.error} onRetry={webhooks.reload} /> : null}
      {!webhooks.data ? (
        webhooks.status === "loading" ? <Loading /> : null
      ) : webhooks.data.length === 0 ? (
        <Empty>{t("webhooks.empty")}</Empty>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t("a11y.table")}>
          <table class="table" data-testid="webhooks-table">
            <caption class="visually-hidden">{t("webhooks.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("field.url")}</th>
                <th scope="col">{t("webhooks.events")}</th>
                <th scope="col">{t("field.status")}</th>
                <th scope="col">{t("field.created")}</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.data.map((webhook) => (
                <tr key={webhook.id}>
                  <td>
                    <a href={`#/webhooks/${webhook.id}`} class="mono">
                      {webhook.url}
                    </a>
                    {webhook.description ? <div class="small muted">{webhook.description}</div> : null}
                  </td>
                  <td class="mono small">{webhook.events?.join(", ") ?? t("webhooks.allEvents")}</td>
                  <td>
                    <StatusBadge status={webhook.status} />
                  </td>
                  <td>{dateTime(webhook.created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
