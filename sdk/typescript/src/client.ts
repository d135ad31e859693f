// The typed client: openapi-fetch over the types generated from openapi.yaml (src/openapi.ts).
// Every path, parameter, body and response is checked by the compiler against the contract.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, paths } from "./openapi.js";

export const DEFAULT_BASE_URL = "https://api.bzapper.com.br";

export type BzapperClient = Client<paths>;
export type ErrorBody = components["schemas"]["ErrorBody"];
export type ErrorCode = ErrorBody["code"];

export interface BzapperOptions extends Omit<ClientOptions, "baseUrl" | "headers"> {
  /** A `bz_live_…` key, or `bz_test_…` for test mode and the sandbox network. */
  apiKey: string;
  /** Defaults to production; the local stack prints its own (`BZ_BASE_URL`). */
  baseUrl?: string;
  /** `Accept-Language` for translated error messages (en, pt-BR, es); else the account's language. */
  locale?: string;
  headers?: Record<string, string>;
}

const KEY = /^bz_(live|test)_[A-Za-z0-9_-]+$/;

export function createBzapperClient(options: BzapperOptions): BzapperClient {
  const { apiKey, baseUrl = DEFAULT_BASE_URL, locale, headers = {}, ...rest } = options;
  if (!KEY.test(apiKey)) {
    throw new TypeError("apiKey must be a bz_live_… or bz_test_… key");
  }
  return createClient<paths>({
    ...rest,
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: {
      Authorization: `Bearer ${apiKey}`,
      ...(locale ? { "Accept-Language": locale } : {}),
      ...headers,
    },
  });
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
