// Standard Webhooks (https://www.standardwebhooks.com) signatures: HMAC-SHA256 over
// `${webhook-id}.${webhook-timestamp}.${body}` with the endpoint's secret (`whsec_` + base64), sent as
// `webhook-signature: v1,<base64>` (several, space-separated, while a secret is rotated).
// Verify over the exact bytes received, before parsing them.
import { createHmac, timingSafeEqual } from "node:crypto";

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** A `Headers` object, or a plain record such as node's `IncomingMessage.headers`. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way (default 300 s): a replayed delivery is refused. */
  toleranceSeconds?: number;
  /** The current time (tests); default `Date.now()`. */
  now?: Date | number;
}

export interface WebhookEvent<T = unknown> {
  id: string;
  timestamp: number;
  payload: T;
}

function secretKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  if (key.length === 0) {
    throw new WebhookVerificationError("the webhook secret is empty or not base64");
  }
  return key;
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : value;
}

function bytes(body: string | Uint8Array): Buffer {
  return typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
}

/** The `v1,<base64>` signature of a delivery (what the sender puts in `webhook-signature`). */
export function signWebhook(secret: string, id: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac("sha256", secretKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(bytes(body));
  return `v1,${mac.digest("base64")}`;
}

/**
 * Check a delivery's signature and timestamp; return its id, timestamp and parsed JSON payload.
 * Throws `WebhookVerificationError` on any mismatch: answer such a request with a 4xx and drop it.
 */
export function verifyWebhook<T = unknown>(
  secret: string,
  body: string | Uint8Array,
  headers: HeaderSource,
  options: VerifyOptions = {},
): WebhookEvent<T> {
  const id = header(headers, "webhook-id");
  const stamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !stamp || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  }
  if (!/^\d+$/.test(stamp)) {
    throw new WebhookVerificationError("webhook-timestamp is not a number of seconds");
  }
  const timestamp = Number(stamp);
  const now = options.now === undefined ? Date.now() : Number(options.now);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(Math.floor(now / 1000) - timestamp) > tolerance) {
    throw new WebhookVerificationError("webhook-timestamp is too far from now");
  }
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body).slice("v1,".length), "base64");
  const matches = signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .some((entry) => {
      const candidate = Buffer.from(entry.slice("v1,".length), "base64");
      return candidate.length === expected.length && timingSafeEqual(candidate, expected);
    });
  if (!matches) {
    throw new WebhookVerificationError("no matching signature");
  }
  const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
  let payload: T;
  try {
    payload = JSON.parse(text) as T;
  } catch {
    throw new WebhookVerificationError("the body is not JSON");
  }
  return { id, timestamp, payload };
}
