// The SDK client for the signed-in user: the session token (refreshed on the way), the mode, the language.
import { apiBaseUrl } from "../config";
import { locale } from "../i18n";
import { createBzapperClient, type BzapperClient } from "../sdk";
import { currentRoute } from "../router";
import { accessToken, expireSession, isLive, refreshNow } from "../session/session";

let cached: { key: string; client: BzapperClient } | undefined;

/** A 401 means the token died early (revoked, clock skew): refresh once and retry, else the session is over. */
async function fetchWithRenewal(request: Request): Promise<Response> {
  const retry = request.clone();
  const response = await fetch(request);
  if (response.status !== 401) return response;
  const token = await refreshNow();
  if (!token) {
    expireSession(currentRoute());
    return response;
  }
  retry.headers.set("Authorization", `Bearer ${token}`);
  const second = await fetch(retry);
  if (second.status === 401) expireSession(currentRoute());
  return second;
}

export function api(): BzapperClient {
  const key = `${isLive()}|${locale()}`;
  if (cached?.key !== key) {
    cached = {
      key,
      client: createBzapperClient({
        sessionToken: accessToken,
        livemode: isLive(),
        baseUrl: apiBaseUrl(),
        locale: locale(),
        fetch: fetchWithRenewal,
      }),
    };
  }
  return cached.client;
}
