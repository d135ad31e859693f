// One number: status and health, pairing (QR live from `instance.qr` events, or a pairing code), restart,
// log out, delete; in test mode the sandbox's phone: scan the QR, write to the number as a contact.
import { useState } from "preact/hooks";

import { qrImage, useBlobUrl } from "../api/blobs";
import { api } from "../api/client";
import { must } from "../api/errors";
import { t } from "../i18n";
import { useLiveEvents } from "../live/events";
import { navigate } from "../router";
import type { Instance } from "../sdk";
import { isLive } from "../session/session";
import { ActionError, Form, TextField, useAction } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { ErrorNotice, Loading, Notice } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";

const PAIRABLE = new Set(["pairing", "disconnected", "logged_out", "failed"]);

function QrCode({ instance, qrVersion }: { instance: Instance; qrVersion: string }) {
  const pairing = instance.status === "pairing";
  const qr = useBlobUrl(pairing ? () => qrImage(instance.id) : undefined, `${pairing}:${qrVersion}`);
  if (!pairing) return <p class="muted">{t("numbers.qrWaiting")}</p>;
  if (qr.error && !qr.url) return <ErrorNotice error={qr.error} />;
  if (!qr.url) return <Loading label={t("numbers.qrLoading")} />;
  return <img class="qr" src={qr.url} alt={t("numbers.qrAlt")} width={264} height={264} data-testid="qr" />;
}

function PairingCode({ instance }: { instance: Instance }) {
  const [phone, setPhone] = useState("");
  const [code, setCode] = useState<string>();
  const action = useAction();
  const scan = useAction();
  return (
    <div>
      <Form
        class="form inline"
        label={t("numbers.pairByCode")}
        onSubmit={() =>
          void action.run(async () => {
            const answer = await must(
              api().POST("/instances/{instance_id}/pairing-code", { params: { path: { instance_id: instance.id } }, body: { phone } }),
            );
            setCode(answer.code);
          })
        }
      >
        <TextField label={t("field.phone")} type="tel" placeholder="+5511955550001" required value={phone} onValue={setPhone} />
        <button type="submit" class="button secondary" disabled={action.busy}>
          {t("numbers.getCode")}
        </button>
      </Form>
      <ActionError action={action} />
      {code ? (
        <div>
          <p>
            {t("numbers.codeIs")} <strong class="mono pairing-code" data-testid="pairing-code">{code}</strong>
          </p>
          {isLive() ? null : (
            <button
              type="button"
              class="button secondary"
              disabled={scan.busy}
              onClick={() =>
                void scan.run(async () => {
                  await must(
                    api().POST("/sandbox/instances/{instance_id}/scan", { params: { path: { instance_id: instance.id } }, body: { code } }),
                  );
                })
              }
            >
              {t("numbers.simulateCode")}
            </button>
          )}
          <ActionError action={scan} />
        </div>
      ) : null}
    </div>
  );
}

function SandboxPhone({ instance }: { instance: Instance }) {
  const scan = useAction();
  return (
    <section class="card sandbox" aria-labelledby="sandbox-phone">
      <h2 id="sandbox-phone">{t("numbers.sandboxPhone")}</h2>
      <p class="muted">{t("numbers.sandboxHint")}</p>
      <button
        type="button"
        class="button primary"
        disabled={scan.busy || instance.status === "connected"}
        onClick={() =>
          void scan.run(async () => {
            await must(api().POST("/sandbox/instances/{instance_id}/scan", { params: { path: { instance_id: instance.id } }, body: {} }));
          })
        }
      >
        {t("numbers.simulateScan")}
      </button>
      <ActionError action={scan} />
      <InboundForm instance={instance} />
    </section>
  );
}

function InboundForm({ instance }: { instance: Instance }) {
  const [from, setFrom] = useState("+5511988888888");
  const [pushName, setPushName] = useState("Ana");
  const [body, setBody] = useState("");
  const [sent, setSent] = useState<string>();
  const action = useAction();
  return (
    <Form
      label={t("numbers.simulateInbound")}
      onSubmit={() =>
        void action.run(async () => {
          const answer = await must(
            api().POST("/sandbox/instances/{instance_id}/inbound", {
              params: { path: { instance_id: instance.id } },
              body: { from, type: "text", body, push_name: pushName || null, from_me: false },
            }),
          );
          setSent(answer.wa_message_id);
          setBody("");
        })
      }
    >
      <h3>{t("numbers.simulateInbound")}</h3>
      <div class="grid two">
        <TextField label={t("field.from")} type="tel" required value={from} onValue={setFrom} />
        <TextField label={t("field.pushName")} value={pushName} onValue={setPushName} />
      </div>
      <TextField label={t("field.text")} required maxLength={4096} value={body} onValue={setBody} />
      <ActionError action={action} />
      {sent ? <Notice tone="success">{t("numbers.inboundSent", { id: sent })}</Notice> : null}
      <button type="submit" class="button secondary" disabled={action.busy}>
        {t("numbers.sendInbound")}
      </button>
    </Form>
  );
}

function Manage({ instance, onChange }: { instance: Instance; onChange: () => void }) {
  const action = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const path = { params: { path: { instance_id: instance.id } } };
  return (
    <div class="actions">
      <button type="button" class="button secondary" disabled={action.busy} onClick={() => void action.run(async () => {
        await must(api().POST("/instances/{instance_id}/restart", path));
        onChange();
      })}>
        {t("numbers.restart")}
      </button>
      <button type="button" class="button secondary" disabled={action.busy || instance.status === "logged_out"} onClick={() => void action.run(async () => {
        await must(api().POST("/instances/{instance_id}/logout", path));
        onChange();
      })}>
        {t("numbers.logout")}
      </button>
      {confirmDelete ? (
        <>
          <button type="button" class="button danger" disabled={action.busy} onClick={() => void action.run(async () => {
            await must(api().DELETE("/instances/{instance_id}", path));
            navigate("/numbers");
          })}>
            {t("numbers.confirmDelete")}
          </button>
          <button type="button" class="button secondary" onClick={() => setConfirmDelete(false)}>
            {t("action.cancel")}
          </button>
        </>
      ) : (
        <button type="button" class="button danger" onClick={() => setConfirmDelete(true)}>
          {t("action.delete")}
        </button>
      )}
      <ActionError action={action} />
    </div>
  );
}

export function NumberDetail({ instanceId }: { instanceId: string }) {
  const instance = useResource(
    () => must(api().GET("/instances/{instance_id}", { params: { path: { instance_id: instanceId } } })),
    [instanceId],
  );
  const [qrVersion, setQrVersion] = useState("");
  useLiveEvents((event) => {
    if (event.instance_id !== instanceId || !event.type.startsWith("instance.")) return;
    if (event.type === "instance.qr") setQrVersion(String(event.data.qr ?? event.id));
    instance.reload();
  });
  if (!instance.data) {
    return (
      <section>
        <PageHeader title={t("numbers.title")} />
        {instance.status === "error" ? <ErrorNotice error={instance.error} onRetry={instance.reload} /> : <Loading />}
      </section>
    );
  }
  const current = instance.data;
  return (
    <section>
      <PageHeader title={current.name}>
        <a class="button secondary" href="#/numbers">
          {t("action.back")}
        </a>
      </PageHeader>
      <div class="grid two">
        <section class="card" aria-labelledby="number-health">
          <h2 id="number-health">{t("numbers.health")}</h2>
          <dl class="facts">
            <dt>{t("field.status")}</dt>
            <dd data-testid="instance-status">
              <StatusBadge status={current.status} />
            </dd>
            {current.last_error ? (
              <>
                <dt>{t("numbers.reason")}</dt>
                <dd class="mono">{current.last_error}</dd>
              </>
            ) : null}
            <dt>{t("field.phone")}</dt>
            <dd class="mono">{current.phone ?? "—"}</dd>
            <dt>LID</dt>
            <dd class="mono">{current.lid ?? "—"}</dd>
            <dt>{t("field.pushName")}</dt>
            <dd>{current.push_name ?? "—"}</dd>
            <dt>{t("field.engine")}</dt>
            <dd>{current.engine}</dd>
            <dt>ID</dt>
            <dd class="mono">{current.id}</dd>
            <dt>{t("field.updated")}</dt>
            <dd>{dateTime(current.updated)}</dd>
          </dl>
          <Manage instance={current} onChange={instance.reload} />
        </section>
        {PAIRABLE.has(current.status) ? (
          <section class="card" aria-labelledby="number-pair">
            <h2 id="number-pair">{t("numbers.pair")}</h2>
            <p class="muted">{t("numbers.pairHint")}</p>
            <QrCode instance={current} qrVersion={qrVersion} />
            <h3>{t("numbers.pairByCode")}</h3>
            <PairingCode instance={current} />
          </section>
        ) : null}
        {current.livemode ? null : <SandboxPhone instance={current} />}
      </div>
    </section>
  );
}
