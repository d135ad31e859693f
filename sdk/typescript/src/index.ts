// @bzapper/sdk: the typed client is generated from openapi.yaml (src/openapi.ts, `npm run generate`);
// only what generation cannot serve is written by hand: webhook verification and the resumable stream.
export {
  createBzapperClient,
  createPublicClient,
  credentialHeaders,
  resolveCredentialHeaders,
  type Credential,
  type TokenSource,
  DEFAULT_BASE_URL,
  isErrorBody,
  type BzapperClient,
  type BzapperOptions,
  type ErrorBody,
  type ErrorCode,
} from "./client.js";
export type { components, operations, paths, webhooks } from "./openapi.js";
export { SseParser, StreamError, streamEvents, type StreamEvent, type StreamOptions } from "./sse.js";
export {
  DEFAULT_TOLERANCE_SECONDS,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type HeaderSource,
  type VerifyOptions,
  type WebhookEvent,
} from "./webhooks.js";
