// The session's tokens live in sessionStorage: gone with the tab, never shared with other tabs or kept on disk
// across browser restarts like localStorage would.
export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
  email: string;
}

const SESSION_KEY = "bz.session";
const MODE_KEY = "bz.mode";

export function readSession(): StoredSession | undefined {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as StoredSession;
    return typeof value.accessToken === "string" && typeof value.refreshToken === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

export function writeSession(session: StoredSession): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function readLivemode(): boolean {
  return sessionStorage.getItem(MODE_KEY) === "live";
}

export function writeLivemode(live: boolean): void {
  sessionStorage.setItem(MODE_KEY, live ? "live" : "test");
}

/** Everything this console keeps for a signed-in user (the language preference is the device's, kept). */
export function clearAll(): void {
  sessionStorage.clear();
}
