// One live connection to GET /stream per signed-in tab and mode, shared by every page (numbers, inbox, home):
// pages subscribe instead of each opening its own. It resumes with Last-Event-ID after a drop (the SDK).
import { useEffect, useRef, useState } from "preact/hooks";

import { streamBaseUrl } from "../config";
import { currentRoute } from "../router";
import { StreamError, streamEvents } from "../sdk";
import { accessToken, currentSession, expireSession, isLive, onSessionChange, onSignOut } from "../session/session";

export interface EventEnvelope {
  id: string;
  type: string;
  created: string;
  livemode: boolean;
  account_id: string;
  instance_id: string | null;
  data: Record<string, unknown>;
}

export type StreamState = "idle" | "connecting" | "open" | "retrying";

type Listener = (event: EventEnvelope) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<(state: StreamState) => void>();
let controller: AbortController | undefined;
let running: string | undefined;
let state: StreamState = "idle";
let firstSeen: string | undefined;

function setState(next: StreamState): void {
  state = next;
  stateListeners.forEach((listener) => listener(next));
}

export function parseEnvelope(data: string): EventEnvelope | undefined {
  try {
    const value = JSON.parse(data) as EventEnvelope;
    return typeof value.id === "string" && typeof value.type === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

async function run(signal: AbortSignal, livemode: boolean): Promise<void> {
  setState("connecting");
  try {
    for await (const message of streamEvents({
      baseUrl: streamBaseUrl(),
      sessionToken: accessToken,
      livemode,
      signal,
      onOpen: () => setState("open"),
      onReconnect: () => setState("retrying"),
    })) {
      const envelope = parseEnvelope(message.data);
      if (!envelope) continue;
      firstSeen ??= envelope.id;
      listeners.forEach((listener) => listener(envelope));
    }
  } catch (error) {
    if (error instanceof StreamError && error.status === 401) {
      expireSession(currentRoute());
    }
  } finally {
    if (!signal.aborted) setState("idle");
  }
}

/** Follows the session: one stream while signed in, a new one when the mode changes, none once signed out. */
function sync(): void {
  const wanted = currentSession() ? `${currentSession()?.email}|${isLive()}` : undefined;
  if (wanted === running) return;
  controller?.abort();
  controller = undefined;
  firstSeen = undefined;
  running = wanted;
  if (wanted) {
    controller = new AbortController();
    void run(controller.signal, isLive());
  } else {
    setState("idle");
  }
}

export function startLiveEvents(): void {
  onSessionChange(sync);
  onSignOut(() => {
    controller?.abort();
    running = undefined;
    firstSeen = undefined;
  });
  sync();
}

/** The first event this tab's stream received: a point the events page can replay from. */
export function firstSeenEventId(): string | undefined {
  return firstSeen;
}

/** Calls `handler` for every live event while the component is mounted (the latest handler, no re-subscribe). */
export function useLiveEvents(handler: Listener): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const listener: Listener = (event) => latest.current(event);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
}

export function useStreamState(): StreamState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    stateListeners.add(setCurrent);
    return () => {
      stateListeners.delete(setCurrent);
    };
  }, []);
  return current;
}
