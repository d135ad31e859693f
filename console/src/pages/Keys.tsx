// API keys (only a session may manage them): create with scopes and numbers, the secret shown once with a
// copy button; roll (the old secret may keep working a while); revoke; last used.
import { useState } from "preact/hooks";

import { api } from "../api/client";
import { instanceLabel, useInstances } from "../api/data";
import { must } from "../api/errors";
import { t } from "../i18n";
import type { ApiKey } from "../sdk";
import { isLive } from "../session/session";
import { SecretOnce } from "../ui/CopyButton";
import { ActionError, Form, SelectField, TextField, useAction } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";

type Scope = NonNullable<import("../sdk").Schemas["KeyCreate"]["scopes"]>[number];
const SCOPES: Scope[] = [
  "messages:write", "messages:read", "media:write", "media:read", "instances:read", "instances:write", "inbox:read",
  "inbox:write", "webhooks:read", "webhooks:write", "events:read", "billing:read", "billing:write", "account:read",
  "account:write", "sandbox",
];

function CreateKey({ onCreated }: { onCreated: (key: ApiKey) => void }) {
  const instances = useInstances();
  const [name, setName] = useState("");
  const [mode, setMode] = useState<"test" | "live">(isLive() ? "live" : "test");
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [numbers, setNumbers] = useState<string[]>([]);
  const action = useAction();
  const toggle = <T,>(list: T[], item: T) => (list.includes(item) ? list.filter((x) => x !== item) : [...list, item]);
  return (
    <Form
      label={t("keys.create")}
      onSubmit={() =>
        void action.run(async () => {
          const made = await must(
            api().POST("/keys", { body: { name, mode, scopes: scopes.length ? scopes : null, instance_ids: numbers.length ? numbers : null } }),
          );
          onCreated(made);
          setName("");
          setScopes([]);
          setNumbers([]);
        })
      }
    >
      <div class="grid two">
        <TextField label={t("field.name")} required maxLength={100} value={name} onValue={setName} />
        <SelectField
          label={t("keys.mode")}
          value={mode}
          options={[
            { value: "test", label: t("keys.modeTest") },
            { value: "live", label: t("keys.modeLive") },
          ]}
          onValue={setMode}
        />
      </div>
      <fieldset class="checks columns">
        <legend>{t("keys.scopes")}</legend>
        <p class="hint">{t("keys.scopesHint")}</p>
        {SCOPES.map((scope) => (
          <label key={scope} class="check-row">
            <input type="checkbox" checked={scopes.includes(scope)} onChange={() => setScopes(toggle(scopes, scope))} />
            <span class="mono">{scope}</span>
          </label>
        ))}
      </fieldset>
      <fieldset class="checks">
        <legend>{t("keys.numbers")}</legend>
        <p class="hint">{t("keys.numbersHint")}</p>
        {(instances.data ?? []).map((instance) => (
          <label key={instance.id} class="check-row">
            <input type="checkbox" checked={numbers.includes(instance.id)} onChange={() => setNumbers(toggle(numbers, instance.id))} />
            {instanceLabel(instance)}
          </label>
        ))}
      </fieldset>
      <ActionError action={action} />
      <button type="submit" class="button primary" disabled={action.busy}>
        {t("keys.create")}
      </button>
    </Form>
  );
}

function KeyRow({ apiKey, onChange, onSecret }: { apiKey: ApiKey; onChange: () => void; onSecret: (key: ApiKey) => void }) {
  const action = useAction();
  const [hours, setHours] = useState("0");
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const path = { params: { path: { key_id: apiKey.id } } };
  return (
    <tr data-key-id={apiKey.id}>
      <td>
        {apiKey.name}
        <div class="small muted mono">…{apiKey.last4}</div>
      </td>
      <td>{apiKey.mode === "live" ? t("keys.modeLive") : t("keys.modeTest")}</td>
      <td class="small mono">{apiKey.scopes?.join(", ") ?? t("keys.allScopes")}</td>
      <td class="small mono">{apiKey.instance_ids?.join(", ") ?? t("keys.allNumbers")}</td>
      <td>{dateTime(apiKey.last_used)}</td>
      <td>{apiKey.revoked ? <StatusBadge status="revoked" /> : <StatusBadge status="enabled" />}</td>
      <td>
        {apiKey.revoked ? null : (
          <div class="actions">
            <label class="visually-hidden" for={`roll-${apiKey.id}`}>
              {t("keys.overlap")}
            </label>
            <select id={`roll-${apiKey.id}`} value={hours} onChange={(event) => setHours((event.target as HTMLSelectElement).value)}>
              <option value="0">{t("keys.overlapNone")}</option>
              <option value="1">{t("keys.overlapHours", { hours: 1 })}</option>
              <option value="24">{t("keys.overlapHours", { hours: 24 })}</option>
              <option value="168">{t("keys.overlapHours", { hours: 168 })}</option>
            </select>
            <button type="button" class="button secondary small" disabled={action.busy} onClick={() => void action.run(async () => {
              onSecret(await must(api().POST("/keys/{key_id}/roll", { ...path, body: { expires_in_hours: Number(hours) } })));
              onChange();
            })}>
              {t("keys.roll")}
            </button>
            {confirmRevoke ? (
              <button type="button" class="button danger small" disabled={action.busy} onClick={() => void action.run(async () => {
                await must(api().DELETE("/keys/{key_id}", path));
                onChange();
              })}>
                {t("keys.confirmRevoke")}
              </button>
            ) : (
              <button type="button" class="button danger small" onClick={() => setConfirmRevoke(true)}>
                {t("keys.revoke")}
              </button>
            )}
          </div>
        )}
        <ActionError action={action} />
      </td>
    </tr>
  );
}

export function Keys() {
  const keys = useResource(() => must(api().GET("/keys")).then((list) => list.data), []);
  const [secret, setSecret] = useState<ApiKey>();
  return (
    <section>
      <PageHeader title={t("keys.title")} />
      <section class="card" aria-labelledby="new-key">
        <h2 id="new-key">{t("keys.create")}</h2>
        <CreateKey onCreated={(key) => { setSecret(key); keys.reload(); }} />
        {secret?.key ? <SecretOnce value={secret.key} label={t("keys.secret", { name: secret.name })} /> : null}
      </section>
      {keys.status === "error" ? <ErrorNotice error={keys.error} onRetry={keys.reload} /> : null}
      {!keys.data ? (
        keys.status === "loading" ? <Loading /> : null
      ) : keys.data.length === 0 ? (
        <Empty>{t("keys.empty")}</Empty>
      ) : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label={t("a11y.table")}>
          <table class="table" data-testid="keys-table">
            <caption class="visually-hidden">{t("keys.title")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("field.name")}</th>
                <th scope="col">{t("keys.mode")}</th>
                <th scope="col">{t("keys.scopes")}</th>
                <th scope="col">{t("keys.numbers")}</th>
                <th scope="col">{t("keys.lastUsed")}</th>
                <th scope="col">{t("field.status")}</th>
                <th scope="col">{t("keys.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <KeyRow key={key.id} apiKey={key} onChange={keys.reload} onSecret={setSecret} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
