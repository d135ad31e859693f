// The one door to the public API: the repository's TypeScript SDK, compiled from its sources.
// Its modules one by one, not its index: the index also exports webhook verification, which is Node's.
export {
  createBzapperClient,
  createPublicClient,
  isErrorBody,
  type BzapperClient,
  type ErrorBody,
} from "../../sdk/typescript/src/client.js";
export { streamEvents, StreamError, type StreamEvent } from "../../sdk/typescript/src/sse.js";
export type { components } from "../../sdk/typescript/src/openapi.js";

import type { components } from "../../sdk/typescript/src/openapi.js";

export type Schemas = components["schemas"];
export type Instance = Schemas["InstanceOut"];
export type Account = Schemas["AccountOut"];
export type ApiKey = Schemas["KeyOut"];
export type Webhook = Schemas["WebhookOut"];
export type Delivery = Schemas["DeliveryOut"];
export type Conversation = Schemas["ConversationOut"];
export type InboxMessage = Schemas["InboxMessageOut"];
export type Wallet = Schemas["Wallet"];
export type UsageReport = Schemas["UsageReport"];
export type Tokens = Schemas["Tokens"];
/** What a webhook may subscribe to: event types, or families like `message.*`. */
export type EventSubscription = NonNullable<Schemas["WebhookCreate"]["events"]>[number];
