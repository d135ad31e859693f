// A test message of any type from a form; media are uploaded first (POST /media) and sent by id.
import { useState } from "preact/hooks";

import { api } from "../api/client";
import { instanceLabel, useInstances } from "../api/data";
import { must } from "../api/errors";
import { uploadMedia } from "../api/media";
import { t, type TextKey } from "../i18n";
import { useLiveEvents } from "../live/events";
import type { Route } from "../router";
import type { Schemas } from "../sdk";
import { ActionError, Field, Form, SelectField, TextField, useAction } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";

const TYPES = ["text", "image", "video", "document", "audio", "sticker", "location", "contact", "poll", "reaction", "buttons", "list", "otp"] as const;
type MessageType = (typeof TYPES)[number];
const MEDIA_TYPES = new Set<MessageType>(["image", "video", "document", "audio", "sticker"]);

interface Draft {
  body: string;
  caption: string;
  filename: string;
  voice: boolean;
  latitude: string;
  longitude: string;
  placeName: string;
  contactName: string;
  contactPhone: string;
  pollName: string;
  options: string;
  targetMessageId: string;
  emoji: string;
  footer: string;
  buttons: string;
  buttonText: string;
  rows: string;
  otpLength: string;
}

const EMPTY: Draft = {
  body: "",
  caption: "",
  filename: "",
  voice: false,
  latitude: "-23.5614",
  longitude: "-46.6559",
  placeName: "",
  contactName: "",
  contactPhone: "",
  pollName: "",
  options: "",
  targetMessageId: "",
  emoji: "👍",
  footer: "",
  buttons: "",
  buttonText: "",
  rows: "",
  otpLength: "6",
};

function lines(text: string): string[] {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

async function send(type: MessageType, base: { instance_id: string; to: string }, draft: Draft, file: File | undefined) {
  const client = api();
  let mediaId = "";
  if (MEDIA_TYPES.has(type)) {
    if (!file) throw new Error(t("send.fileRequired"));
    mediaId = (await uploadMedia(file)).media_id;
  }
  const caption = draft.caption || null;
  switch (type) {
    case "text":
      return must(client.POST("/messages/text", { body: { ...base, body: draft.body } }));
    case "image":
      return must(client.POST("/messages/image", { body: { ...base, media_id: mediaId, caption } }));
    case "video":
      return must(client.POST("/messages/video", { body: { ...base, media_id: mediaId, caption } }));
    case "document":
      return must(client.POST("/messages/document", { body: { ...base, media_id: mediaId, caption, filename: draft.filename || file?.name } }));
    case "audio":
      return must(client.POST("/messages/audio", { body: { ...base, media_id: mediaId, voice: draft.voice } }));
    case "sticker":
      return must(client.POST("/messages/sticker", { body: { ...base, media_id: mediaId } }));
    case "location":
      return must(
        client.POST("/messages/location", {
          body: { ...base, latitude: Number(draft.latitude), longitude: Number(draft.longitude), name: draft.placeName || null },
        }),
      );
    case "contact":
      return must(
        client.POST("/messages/contact", {
          body: { ...base, contacts: [{ name: draft.contactName, phones: [{ number: draft.contactPhone }] }] },
        }),
      );
    case "poll":
      return must(
        client.POST("/messages/poll", { body: { ...base, name: draft.pollName, options: lines(draft.options), selectable_count: 1 } }),
      );
    case "reaction":
      return must(client.POST("/messages/reaction", { body: { ...base, message_id: draft.targetMessageId, emoji: draft.emoji } }));
    case "buttons":
      return must(
        client.POST("/messages/buttons", {
          body: {
            ...base,
            body: draft.body,
            footer: draft.footer || null,
            buttons: lines(draft.buttons).map((title, index) => ({ id: `b${index + 1}`, title })),
          },
        }),
      );
    case "list":
      return must(
        client.POST("/messages/list", {
          body: {
            ...base,
            body: draft.body,
            footer: draft.footer || null,
            button_text: draft.buttonText,
            sections: [{ title: draft.buttonText, rows: lines(draft.rows).map((title, index) => ({ id: `r${index + 1}`, title })) }],
          },
        }),
      );
    case "otp":
      return must(client.POST("/messages/otp", { body: { ...base, length: Number(draft.otpLength), ttl_seconds: 300 } }));
  }
}

function TypeFields({ type, draft, update, onFile }: { type: MessageType; draft: Draft; update: (patch: Partial<Draft>) => void; onFile: (file: File | undefined) => void }) {
  const text = (key: keyof Draft, label: TextKey, extra: Record<string, unknown> = {}) => (
    <TextField label={t(label)} value={String(draft[key])} onValue={(value) => update({ [key]: value })} {...extra} />
  );
  const area = (key: keyof Draft, label: TextKey, hint?: TextKey) => (
    <Field label={t(label)} hint={hint ? t(hint) : undefined}>
      {(id, describedBy) => (
        <textarea id={id} aria-describedby={describedBy} rows={3} required value={String(draft[key])} onInput={(event) => update({ [key]: (event.target as HTMLTextAreaElement).value })} />
      )}
    </Field>
  );
  return (
    <>
      {MEDIA_TYPES.has(type) ? (
        <Field label={t("send.file")} hint={t("send.fileHint")}>
          {(id, describedBy) => (
            <input id={id} aria-describedby={describedBy} type="file" required data-testid="media-file" onChange={(event) => onFile((event.target as HTMLInputElement).files?.[0])} />
          )}
        </Field>
      ) : null}
      {type === "text" ? area("body", "field.text") : null}
      {["image", "video", "document"].includes(type) ? text("caption", "field.caption") : null}
      {type === "document" ? text("filename", "field.filename") : null}
      {type === "audio" ? (
        <label class="check-row">
          <input type="checkbox" checked={draft.voice} onChange={(event) => update({ voice: (event.target as HTMLInputElement).checked })} />
          {t("send.voice")}
        </label>
      ) : null}
      {type === "location" ? (
        <div class="grid two">
          {text("latitude", "field.latitude", { inputMode: "decimal", required: true })}
          {text("longitude", "field.longitude", { inputMode: "decimal", required: true })}
          {text("placeName", "field.placeName")}
        </div>
      ) : null}
      {type === "contact" ? (
        <div class="grid two">
          {text("contactName", "field.contactName", { required: true })}
          {text("contactPhone", "field.contactPhone", { required: true, type: "tel" })}
        </div>
      ) : null}
      {type === "poll" ? (
        <>
          {text("pollName", "field.pollQuestion", { required: true })}
          {area("options", "field.pollOptions", "send.onePerLine")}
        </>
      ) : null}
      {type === "reaction" ? (
        <div class="grid two">
          {text("targetMessageId", "field.messageId", { required: true, placeholder: "msg_…" })}
          {text("emoji", "field.emoji", { required: true })}
        </div>
      ) : null}
      {type === "buttons" || type === "list" ? (
        <>
          {area("body", "field.text")}
          {text("footer", "field.footer")}
        </>
      ) : null}
      {type === "buttons" ? area("buttons", "field.buttons", "send.onePerLine") : null}
      {type === "list" ? (
        <>
          {text("buttonText", "field.buttonText", { required: true })}
          {area("rows", "field.rows", "send.onePerLine")}
        </>
      ) : null}
      {type === "otp" ? text("otpLength", "field.otpLength", { inputMode: "numeric", required: true }) : null}
    </>
  );
}

function Tracker({ messageId }: { messageId: string }) {
  const message = useResource(() => must(api().GET("/messages/{message_id}", { params: { path: { message_id: messageId } } })), [messageId]);
  useLiveEvents((event) => event.type.startsWith("message.") && event.data.message_id === messageId && message.reload());
  if (!message.data) return message.status === "error" ? <ErrorNotice error={message.error} onRetry={message.reload} /> : <Loading />;
  return (
    <section class="card" aria-labelledby="tracker" data-testid="sent-message">
      <h2 id="tracker">{t("send.tracking")}</h2>
      <p>
        <span class="mono">{messageId}</span> <StatusBadge status={message.data.status} />
      </p>
      <ol class="timeline">
        {message.data.history.map((change) => (
          <li key={change.status + change.at}>
            <StatusBadge status={change.status} /> {dateTime(change.at)}
          </li>
        ))}
      </ol>
      {message.data.error ? <p class="mono">{message.data.error.code}</p> : null}
    </section>
  );
}

export function Send({ route }: { route: Route }) {
  const instances = useInstances();
  const [instanceId, setInstanceId] = useState(route.query.get("instance") ?? "");
  const [to, setTo] = useState(route.query.get("to") ?? "+5511988888888");
  const [type, setType] = useState<MessageType>("text");
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [file, setFile] = useState<File>();
  const [sent, setSent] = useState<{ id: string; code?: string | null }>();
  const action = useAction();
  if (!instances.data) {
    return (
      <section>
        <PageHeader title={t("send.title")} />
        {instances.status === "error" ? <ErrorNotice error={instances.error} onRetry={instances.reload} /> : <Loading />}
      </section>
    );
  }
  if (instances.data.length === 0) {
    return (
      <section>
        <PageHeader title={t("send.title")} />
        <Empty>
          <p>{t("send.noNumbers")}</p>
          <a class="button primary" href="#/numbers">{t("numbers.create")}</a>
        </Empty>
      </section>
    );
  }
  const chosen = instanceId || instances.data.find((instance) => instance.status === "connected")?.id || instances.data[0]?.id || "";
  return (
    <section>
      <PageHeader title={t("send.title")} />
      <div class="grid two">
        <section class="card" aria-labelledby="send-form">
          <h2 id="send-form">{t("send.compose")}</h2>
          <Form
            label={t("send.compose")}
            onSubmit={() =>
              void action.run(async () => {
                setSent(undefined);
                const accepted = (await send(type, { instance_id: chosen, to }, draft, file)) as Schemas["OtpAccepted"];
                setSent({ id: accepted.message_id, code: accepted.code });
              })
            }
          >
            <SelectField label={t("field.number")} value={chosen} options={instances.data.map((instance) => ({ value: instance.id, label: instanceLabel(instance) }))} onValue={setInstanceId} />
            <TextField label={t("field.to")} hint={t("send.toHint")} type="tel" required value={to} onValue={setTo} />
            <SelectField label={t("field.type")} value={type} options={TYPES.map((value) => ({ value, label: t(`type.${value}` as TextKey) }))} onValue={setType} />
            <TypeFields type={type} draft={draft} update={(patch) => setDraft({ ...draft, ...patch })} onFile={setFile} />
            <ActionError action={action} />
            <button type="submit" class="button primary" disabled={action.busy}>
              {action.busy ? t("state.working") : t("send.send")}
            </button>
          </Form>
        </section>
        {sent ? (
          <div>
            {sent.code ? <p>{t("send.otpCode", { code: sent.code })}</p> : null}
            <Tracker messageId={sent.id} />
          </div>
        ) : null}
      </div>
    </section>
  );
}
