// Compiled (never run) by `npm run typecheck`: the client refuses what the contract refuses.
import { createBzapperClient, type ErrorCode, type paths } from "../src/index.js";

const client = createBzapperClient({ apiKey: "bz_test_x" });

export async function typed(): Promise<void> {
  const sent = await client.POST("/messages/text", {
    body: { instance_id: "inst_1", to: "+5511988888888", body: "Hello" },
  });
  if (sent.data) {
    const status: "queued" = sent.data.status;
    void status;
  }
  // @ts-expect-error a body without `to` does not type-check
  await client.POST("/messages/text", { body: { instance_id: "inst_1", body: "Hello" } });
  // @ts-expect-error no such operation in the contract
  await client.DELETE("/messages/text", {});
  // @ts-expect-error the path parameter is required
  await client.GET("/messages/{message_id}", {});
  const code: ErrorCode = "insufficient_balance";
  // @ts-expect-error not an error code of the API
  const wrong: ErrorCode = "no_such_code";
  void code;
  void wrong;
}

export type SendBody = paths["/messages/text"]["post"]["requestBody"]["content"]["application/json"];
