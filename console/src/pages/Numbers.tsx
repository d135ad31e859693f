// The account's numbers (instances) in this mode: status live from the stream, and a new one.
import { useState } from "preact/hooks";

import { api } from "../api/client";
import { useInstances } from "../api/data";
import { must } from "../api/errors";
import { t } from "../i18n";
import { useLiveEvents } from "../live/events";
import { navigate } from "../router";
import { isLive } from "../session/session";
import { ActionError, Form, TextField, useAction } from "../ui/form";
import { PageHeader } from "../ui/Layout";
import { Empty, ErrorNotice, Loading } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";
import { dateTime } from "../ui/format";

export function Numbers() {
  const instances = useInstances();
  const [name, setName] = useState("");
  const create = useAction();
  useLiveEvents((event) => event.type.startsWith("instance.") && instances.reload());
  return (
    <section>
      <PageHeader title={t("numbers.title")} />
      <section class="card" aria-labelledby="new-number">
        <h2 id="new-number">{t("numbers.create")}</h2>
        <Form
          class="form inline"
          label={t("numbers.create")}
          onSubmit={() =>
            void create.run(async () => {
              const made = await must(
                api().POST("/instances", { body: { name, engine: isLive() ? "whatsmeow" : "sandbox" } }),
              );
              navigate(`/numbers/${made.id}`);
            })
          }
        >
          <TextField label={t("field.numberName")} required maxLength={100} value={name} onValue={setName} />
          <button type="submit" class="button primary" disabled={create.busy}>
            {create.busy ? t("state.working") : t("action.create")}
          </button>
        </Form>
        <ActionError action={create} />
      </section>
      {instances.status === "error" ? <ErrorNotice error={instances.error} onRetry={instances.reload} /> : null}
      {!instances.data ? (
        instances.status === "loading" ? <Loading /> : null
      ) : instances.data.length === 0 ? (
        <Empty>
          <p>{t("numbers.empty")}</p>
        </Empty>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t("a11y.table")}>
          <table class="table" data-testid="numbers-table">
            <caption class="visually-hidden">{t("numbers.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("field.name")}</th>
                <th scope="col">{t("field.phone")}</th>
                <th scope="col">{t("field.status")}</th>
                <th scope="col">{t("field.engine")}</th>
                <th scope="col">{t("field.updated")}</th>
              </tr>
            </thead>
            <tbody>
              {instances.data.map((instance) => (
                <tr key={instance.id}>
                  <td>
                    <a href={`#/numbers/${instance.id}`}>{instance.name}</a>
                  </td>
                  <td class="mono">{instance.phone ?? "—"}</td>
                  <td>
                    <StatusBadge status={instance.status} />
                  </td>
                  <td>{instance.engine}</td>
                  <td>{dateTime(instance.updated)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
