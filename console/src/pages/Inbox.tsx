// Conversations and one thread of a number, live from the stream; replies; media previews (blob URLs).
import { useEffect, useState } from "preact/hooks";

import { mediaBlob, useBlobUrl } from "../api/blobs";
import { api } from "../api/client";
import { instanceLabel, useInstances } from "../api/data";
import { must } from "../api/errors";
import { t } from "../i18n";
import { useLiveEvents } from "../live/events";
import { navigate, type Route } from "../router";
import type { Conversation, InboxMessage } from "../sdk";
import { ActionError, Form, SelectField, TextField, useAction } from "../ui/form";
import { dateTime } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";

interface MediaRef {
  media_id: string;
  mime_type?: string;
  filename?: string;
}

function mediaOf(message: InboxMessage): MediaRef | undefined {
  const media = message.content.media as MediaRef | undefined;
  return media && typeof media.media_id === "string" ? media : undefined;
}

function MediaPreview({ media }: { media: MediaRef }) {
  const blob = useBlobUrl(() => mediaBlob(media.media_id), media.media_id);
  if (blob.error) return <p class="muted">{t("inbox.mediaError", { message: blob.error.message })}</p>;
  if (!blob.url) return <Loading label={t("inbox.mediaLoading")} />;
  if (media.mime_type?.startsWith("image/")) {
    return <img class="media-preview" src={blob.url} alt={media.filename ?? t("inbox.image")} data-testid="media-preview" />;
  }
  return (
    <a href={blob.url} download={media.filename ?? media.media_id}>
      {t("inbox.download", { name: media.filename ?? media.media_id })}
    </a>
  );
}

function summary(message: InboxMessage): string {
  const content = message.content as Record<string, unknown>;
  for (const field of ["body", "caption", "name", "emoji"]) {
    if (typeof content[field] === "string" && content[field]) return content[field] as string;
  }
  return `[${message.type}]`;
}

function contactName(conversation: Conversation): string {
  return conversation.name ?? conversation.phone ?? conversation.jid;
}

function Thread({ instanceId, conversation, onRead }: { instanceId: string; conversation: Conversation; onRead: () => void }) {
  const jid = conversation.jid;
  const thread = useResource(
    () => must(api().GET("/conversations/{jid}/messages", { params: { path: { jid }, query: { instance_id: instanceId, limit: 50 } } })),
    [instanceId, jid],
  );
  const [reply, setReply] = useState("");
  const action = useAction();
  useLiveEvents((event) => {
    if (event.instance_id !== instanceId || !event.type.startsWith("message.")) return;
    thread.reload();
  });
  useEffect(() => {
    if (conversation.unread_count > 0) {
      void api()
        .POST("/conversations/{jid}/read", { params: { path: { jid }, query: { instance_id: instanceId } } })
        .then(onRead);
    }
  }, [jid, conversation.unread_count]);
  const messages = thread.data ? [...thread.data.data].reverse() : [];
  return (
    <section class="card thread" aria-labelledby="thread-title">
      <h2 id="thread-title">{contactName(conversation)}</h2>
      <p class="muted small">
        {t("field.phone")}: <span class="mono">{conversation.phone ?? "—"}</span> · LID: <span class="mono">{conversation.lid ?? "—"}</span>
      </p>
      {thread.status === "error" ? <ErrorNotice error={thread.error} onRetry={thread.reload} /> : null}
      {!thread.data ? (
        <Loading />
      ) : messages.length === 0 ? (
        <Empty>{t("inbox.noMessages")}</Empty>
      ) : (
        <ol class="messages" data-testid="thread" aria-live="polite">
          {messages.map((message) => {
            const media = mediaOf(message);
            return (
              <li key={message.message_id} class={`bubble ${message.direction}`} data-message-id={message.message_id} data-status={message.status}>
                {message.from && message.direction === "inbound" && conversation.type === "group" ? <p class="small muted">{message.from.name ?? message.from.phone}</p> : null}
                <p class="bubble-text">{summary(message)}</p>
                {media ? <MediaPreview media={media} /> : null}
                <p class="bubble-meta small">
                  {dateTime(message.at)} <StatusBadge status={message.status} />
                </p>
              </li>
            );
          })}
        </ol>
      )}
      {conversation.type === "contact" ? (
        <Form
          class="form inline"
          label={t("inbox.reply")}
          onSubmit={() =>
            void action.run(async () => {
              await must(api().POST("/messages/text", { body: { instance_id: instanceId, to: conversation.phone ?? conversation.jid, body: reply } }));
              setReply("");
            })
          }
        >
          <TextField label={t("inbox.reply")} required maxLength={4096} value={reply} onValue={setReply} />
          <button type="submit" class="button primary" disabled={action.busy}>
            {t("send.send")}
          </button>
        </Form>
      ) : null}
      <ActionError action={action} />
    </section>
  );
}

export function Inbox({ route }: { route: Route }) {
  const instances = useInstances();
  const chosen = route.query.get("instance") ?? instances.data?.[0]?.id ?? "";
  const selectedJid = route.query.get("jid") ?? undefined;
  const conversations = useResource(
    () => (chosen ? must(api().GET("/conversations", { params: { query: { instance_id: chosen, limit: 50 } } })).then((list) => list.data) : Promise.resolve([])),
    [chosen],
  );
  useLiveEvents((event) => event.instance_id === chosen && (event.type === "message.received" || event.type === "message.sent") && conversations.reload());
  const go = (instance: string, jid?: string) => navigate(`/inbox?instance=${encodeURIComponent(instance)}${jid ? `&jid=${encodeURIComponent(jid)}` : ""}`);
  if (!instances.data) {
    return (
      <section>
        <PageHeader title={t("inbox.title")} />
        {instances.status === "error" ? <ErrorNotice error={instances.error} onRetry={instances.reload} /> : <Loading />}
      </section>
    );
  }
  const selected = conversations.data?.find((conversation) => conversation.jid === selectedJid);
  return (
    <section>
      <PageHeader title={t("inbox.title")} />
      {instances.data.length === 0 ? (
        <Empty>{t("send.noNumbers")}</Empty>
      ) : (
        <SelectField label={t("field.number")} value={chosen} options={instances.data.map((instance) => ({ value: instance.id, label: instanceLabel(instance) }))} onValue={(value) => go(value)} />
      )}
      <div class="inbox">
        <section class="card conversations" aria-labelledby="conversations-title">
          <h2 id="conversations-title">{t("inbox.conversations")}</h2>
          {conversations.status === "error" ? <ErrorNotice error={conversations.error} onRetry={conversations.reload} /> : null}
          {!conversations.data ? (
            <Loading />
          ) : conversations.data.length === 0 ? (
            <Empty>{t("inbox.empty")}</Empty>
          ) : (
            <ul class="conversation-list" data-testid="conversations">
              {conversations.data.map((conversation) => (
                <li key={conversation.jid}>
                  <a
                    href={`#/inbox?instance=${encodeURIComponent(chosen)}&jid=${encodeURIComponent(conversation.jid)}`}
                    aria-current={conversation.jid === selectedJid ? "true" : undefined}
                    class="conversation"
                  >
                    <span class="conversation-name">{contactName(conversation)}</span>
                    {conversation.unread_count > 0 ? (
                      <span class="badge badge-info" aria-label={t("inbox.unread", { count: conversation.unread_count })}>
                        {conversation.unread_count}
                      </span>
                    ) : null}
                    <span class="conversation-preview small muted">{conversation.last_message?.text ?? `[${conversation.last_message?.type ?? ""}]`}</span>
                    <span class="small muted mono">
                      {conversation.phone ?? ""} {conversation.lid ? `· ${conversation.lid}` : ""}
                    </span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>
        {selected ? (
          <Thread key={selected.jid} instanceId={chosen} conversation={selected} onRead={conversations.reload} />
        ) : (
          <section class="card thread">
            <p class="muted">{t("inbox.pick")}</p>
          </section>
        )}
      </div>
    </section>
  );
}
