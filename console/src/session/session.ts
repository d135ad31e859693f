// The signed-in user: tokens (sessionStorage), their refresh, the mode (test/live) and sign-out.
import { apiBaseUrl } from "../config";
import { locale } from "../i18n";
import { createPublicClient, type Tokens } from "../sdk";
import { must } from "../api/errors";
import { clearAll, readLivemode, readSession, writeLivemode, writeSession, type StoredSession } from "./storage";

/** Refresh this long before the access token expires, so a request never leaves with a dying token. */
const REFRESH_MARGIN_MS = 30_000;

let session: StoredSession | undefined = readSession();
let livemode = readLivemode();
let refreshing: Promise<string | undefined> | undefined;
const listeners = new Set<() => void>();
const signOutHooks = new Set<() => void>();

function changed(): void {
  listeners.forEach((listener) => listener());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called on sign-out and expiry: whoever caches account data (blob URLs, the stream) drops it. */
export function onSignOut(hook: () => void): () => void {
  signOutHooks.add(hook);
  return () => signOutHooks.delete(hook);
}

export function publicClient() {
  return createPublicClient({ baseUrl: apiBaseUrl(), locale: locale() });
}

export function currentSession(): StoredSession | undefined {
  return session;
}

export function isLive(): boolean {
  return livemode;
}

export function setLive(live: boolean): void {
  if (live === livemode) return;
  livemode = live;
  writeLivemode(live);
  changed();
}

function store(tokens: Tokens, email: string): void {
  session = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    email,
  };
  writeSession(session);
}

export async function signIn(email: string, password: string): Promise<void> {
  const tokens = await must(publicClient().POST("/auth/login", { body: { email, password } }));
  // A different user on this tab: nothing of the previous one may stay.
  forgetEverything();
  store(tokens, email.trim().toLowerCase());
  changed();
}

/** A fresh access token from the refresh token (one request at a time); undefined when that fails. */
export function refreshNow(): Promise<string | undefined> {
  const held = session;
  if (!held) return Promise.resolve(undefined);
  refreshing ??= (async () => {
    try {
      const { data, response } = await publicClient().POST("/auth/refresh", {
        body: { refresh_token: held.refreshToken },
      });
      if (!data || !response.ok || session !== held) return undefined;
      store({ ...data, refresh_token: data.refresh_token || held.refreshToken }, held.email);
      return data.access_token;
    } catch {
      return undefined;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** What the SDK asks before every request: the access token, refreshed first when it is about to expire. */
export async function accessToken(): Promise<string> {
  if (!session) throw new Error("signed out");
  if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    const token = await refreshNow();
    if (token) return token;
  }
  return session.accessToken;
}

function forgetEverything(): void {
  signOutHooks.forEach((hook) => hook());
  clearAll();
  session = undefined;
  livemode = false;
}

/** The session could not be renewed: back to sign-in, then back to `returnTo`. */
export function expireSession(returnTo: string): void {
  if (!session) return;
  forgetEverything();
  // The hash first: the re-render that follows must already see the sign-in page, not a guarded page.
  location.hash = `#/signin?expired=1&next=${encodeURIComponent(returnTo)}`;
  changed();
}

export async function signOut(): Promise<void> {
  const held = session;
  if (held) {
    // Best effort: the API refuses this refresh token and its access tokens from now on.
    await publicClient()
      .POST("/auth/logout", {
        body: { refresh_token: held.refreshToken },
        headers: { Authorization: `Bearer ${held.accessToken}` },
      })
      .catch(() => undefined);
  }
  forgetEverything();
  location.hash = "#/signin";
  changed();
}
