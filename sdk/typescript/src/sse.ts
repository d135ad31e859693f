// The live event stream (`GET /stream`, Server-Sent Events) with resume.
//
// The contract: every event carries an `id:`; a client that reconnects sends the last id it saw as
// `Last-Event-ID` and the server replays what came after it from the event log; `retry:` says how many
// milliseconds to wait before reconnecting; lines that start with `:` are comments: heartbeats, and
// `: closed <code>` when the server ends a stream whose key or session stopped working (its reconnection
// then gets that 401/403, which ends this helper with a StreamError). This helper
// parses the stream as the WHATWG spec says, reconnects after `retry` (or `Retry-After` on a 429/503)
// with `Last-Event-ID`, and stops on an error the caller must fix (401, 403, 404, 422) or on abort.

import { type Credential, DEFAULT_BASE_URL, resolveCredentialHeaders, type TokenSource } from "./client.js";

export interface StreamEvent {
  /** The event's id: persist it and pass it back as `lastEventId` to resume after a restart. */
  id: string | undefined;
  /** The `event:` field (`message` when absent). */
  event: string;
  /** The `data:` lines, joined with newlines. */
  data: string;
}

export interface StreamOptions extends Omit<Credential, "sessionToken"> {
  /** A session token, or a function asked at each (re)connection for the current one. */
  sessionToken?: TokenSource;
  baseUrl?: string;
  /** Default `/stream`. */
  path?: string;
  query?: Record<string, string | undefined>;
  /** Resume after this event id (sent as `Last-Event-ID` on the first connection too). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Milliseconds to wait before reconnecting until the server says otherwise with `retry:`. */
  retryMs?: number;
  /** Give up after this many reconnections in a row without an event (default: never). */
  maxReconnects?: number;
  /** Called on every comment (`: …`): heartbeats, and `closed <code>` before the server ends the stream. */
  onHeartbeat?: (comment: string) => void;
  /** Called when a connection is open (the server answered 200), before its first event. */
  onOpen?: () => void;
  /** Called before each reconnection, with the id it will resume from. */
  onReconnect?: (lastEventId: string | undefined, delayMs: number) => void;
  fetch?: typeof fetch;
}

export class StreamError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
    this.name = "StreamError";
  }
}

const FATAL = new Set([400, 401, 402, 403, 404, 405, 410, 422]);

/** Incremental SSE parser: feed it text chunks, it returns the events they complete. */
export class SseParser {
  lastEventId: string | undefined;
  retryMs: number | undefined;
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private sawCarriageReturn = false;

  constructor(
    lastEventId?: string,
    private readonly onComment?: (comment: string) => void,
  ) {
    this.lastEventId = lastEventId;
  }

  feed(chunk: string): StreamEvent[] {
    // A CRLF may be split across chunks: drop a LF that completes a CR already taken as a line end.
    if (this.sawCarriageReturn && chunk.startsWith("\n")) {
      chunk = chunk.slice(1);
    }
    this.sawCarriageReturn = chunk.endsWith("\r");
    this.buffer += chunk;
    const events: StreamEvent[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    for (const line of lines) {
      const event = this.line(line);
      if (event) {
        events.push(event);
      }
    }
    return events;
  }

  private line(line: string): StreamEvent | undefined {
    if (line === "") {
      return this.dispatch();
    }
    if (line.startsWith(":")) {
      this.onComment?.(line.slice(1).trimStart());
      return undefined;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (field === "data") {
      this.data.push(value);
    } else if (field === "event") {
      this.event = value;
    } else if (field === "id") {
      if (!value.includes("\0")) {
        this.lastEventId = value;
      }
    } else if (field === "retry") {
      if (/^\d+$/.test(value)) {
        this.retryMs = Number(value);
      }
    }
    return undefined;
  }

  private dispatch(): StreamEvent | undefined {
    const event = this.event || "message";
    this.event = "";
    if (this.data.length === 0) {
      return undefined;
    }
    const data = this.data.join("\n");
    this.data = [];
    return { id: this.lastEventId, event, data };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

async function errorBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A body's chunks through its reader: browsers without async iteration of streams (Safari) read it too. */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      yield value;
    }
  } finally {
    // Leaving early (a consumer's break, an abort) must close the connection, not just stop reading it.
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * The events of `GET /stream`, forever (until `signal` aborts or a fatal error): reconnects by itself
 * and resumes from the last event id, so no event is missed across disconnections.
 */
export async function* streamEvents(options: StreamOptions): AsyncGenerator<StreamEvent, void, undefined> {
  const doFetch = options.fetch ?? fetch;
  const url = new URL((options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "") + (options.path ?? "/stream"));
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) {
      url.searchParams.set(name, value);
    }
  }
  let lastEventId = options.lastEventId;
  let retryMs = options.retryMs ?? 3000;
  let failures = 0;
  while (!options.signal?.aborted) {
    let delay = retryMs;
    try {
      const headers: Record<string, string> = {
        ...(await resolveCredentialHeaders(options)),
        Accept: "text/event-stream",
        "Cache-Control": "no-cache",
      };
      if (lastEventId !== undefined) {
        headers["Last-Event-ID"] = lastEventId;
      }
      const response = await doFetch(url, { headers, signal: options.signal });
      if (!response.ok) {
        const body = await errorBody(response);
        if (FATAL.has(response.status)) {
          throw new StreamError(`GET ${url.pathname} answered ${response.status}`, response.status, body);
        }
        const after = Number(response.headers.get("retry-after"));
        delay = Number.isFinite(after) && after > 0 ? after * 1000 : retryMs;
      } else if (response.body) {
        options.onOpen?.();
        const parser = new SseParser(lastEventId, options.onHeartbeat);
        const decoder = new TextDecoder();
        for await (const chunk of chunks(response.body)) {
          for (const event of parser.feed(decoder.decode(chunk, { stream: true }))) {
            failures = 0;
            lastEventId = event.id;
            yield event;
          }
          lastEventId = parser.lastEventId;
          retryMs = parser.retryMs ?? retryMs;
        }
        delay = retryMs;
      }
    } catch (error) {
      if (error instanceof StreamError || options.signal?.aborted) {
        if (options.signal?.aborted) {
          return;
        }
        throw error;
      }
      // A dropped connection: reconnect below.
    }
    failures += 1;
    if (options.maxReconnects !== undefined && failures > options.maxReconnects) {
      return;
    }
    options.onReconnect?.(lastEventId, delay);
    await sleep(delay, options.signal);
  }
}
