// The typed client: openapi-fetch over the types generated from openapi.yaml (src/openapi.ts).
// Every path, parameter, body and response is checked by the compiler against the contract.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, paths } from "./openapi.js";

/** A session token, or what gives the current one (e.g. after a refresh). */
export type TokenSource = string | (() => string | Promise<string>);

export const DEFAULT_BASE_URL = "https://api.bzapper.com.br";

export type BzapperClient = Client<paths>;
export type ErrorBody = components["schemas"]["ErrorBody"];
export type ErrorCode = ErrorBody["code"];

export interface BzapperOptions extends Omit<ClientOptions, "baseUrl" | "headers"> {
  /** A `bz_live_…` key, or `bz_test_…` for test mode and the sandbox network. */
  apiKey?: string;
  /**
   * Or a console session token (POST /auth/login's `access_token`): the account's owner. A function is asked
   * before every request, so one long-lived client follows a token that is refreshed behind it.
   */
  sessionToken?: TokenSource;
  /** With a session token: act on live data (`Bz-Mode: live`) instead of test data (the default). */
  livemode?: boolean;
  /** Defaults to production; the local stack prints its own (`BZ_BASE_URL`). */
  baseUrl?: string;
  /** `Accept-Language` for translated error messages (en, pt-BR, es); else the account's language. */
  locale?: string;
  headers?: Record<string, string>;
}

const KEY = /^bz_(live|test)_[A-Za-z0-9_-]+$/;

export function createBzapperClient(options: BzapperOptions): BzapperClient {
  const { apiKey, sessionToken, livemode, baseUrl = DEFAULT_BASE_URL, locale, headers = {}, ...rest } = options;
  const provider = typeof sessionToken === "function" ? sessionToken : undefined;
  const fixed = provider ? {} : credentialHeaders({ apiKey, sessionToken: sessionToken as string | undefined, livemode });
  if (provider && apiKey !== undefined) {
    throw new TypeError("give exactly one of apiKey and sessionToken");
  }
  const client = createClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...fixed, ...(locale ? { "Accept-Language": locale } : {}), ...headers },
  });
  if (provider) {
    client.use({
      async onRequest({ request }) {
        for (const [name, value] of Object.entries(credentialHeaders({ sessionToken: await provider(), livemode }))) {
          request.headers.set(name, value);
        }
        return request;
      },
    });
  }
  return client;
}

/** A client for the endpoints that need no credential (POST /auth/…): sign-up, sign-in, password resets. */
export function createPublicClient(options: Omit<BzapperOptions, "apiKey" | "sessionToken" | "livemode"> = {}): BzapperClient {
  const { baseUrl = DEFAULT_BASE_URL, locale, headers = {}, ...rest } = options;
  return createClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { ...(locale ? { "Accept-Language": locale } : {}), ...headers },
  });
}

export interface Credential {
  apiKey?: string;
  sessionToken?: string;
  livemode?: boolean;
}

/** `credentialHeaders` for a credential whose session token may be a provider (asked now). */
export async function resolveCredentialHeaders({
  apiKey,
  sessionToken,
  livemode,
}: Omit<Credential, "sessionToken"> & { sessionToken?: TokenSource }): Promise<Record<string, string>> {
  const token = typeof sessionToken === "function" ? await sessionToken() : sessionToken;
  return credentialHeaders({ apiKey, sessionToken: token, livemode });
}

/** `Authorization` (and `Bz-Mode` for a session): exactly one of an API key and a session token. */
export function credentialHeaders({ apiKey, sessionToken, livemode }: Credential): Record<string, string> {
  if ((apiKey === undefined) === (sessionToken === undefined)) {
    throw new TypeError("give exactly one of apiKey and sessionToken");
  }
  if (apiKey !== undefined) {
    if (!KEY.test(apiKey)) {
      throw new TypeError("apiKey must be a bz_live_… or bz_test_… key");
    }
    return { Authorization: `Bearer ${apiKey}` };
  }
  if (!sessionToken) {
    throw new TypeError("sessionToken must not be empty");
  }
  return { Authorization: `Bearer ${sessionToken}`, "Bz-Mode": livemode ? "live" : "test" };
}

/** Whether a parsed response body is the API's error shape (`{code, message, locale, request_id}`). */
export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { code?: unknown }).code === "string" &&
    typeof (value as { message?: unknown }).message === "string"
  );
}
