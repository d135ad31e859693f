// Against a running bzapper (the local stack under `make test`): BZ_BASE_URL, BZ_KEY, BZ_INSTANCE.
import assert from "node:assert/strict";

import { createBzapperClient, isErrorBody } from "../dist/index.js";
import { testWhen } from "./strict.mjs";

const { BZ_BASE_URL: baseUrl, BZ_KEY: apiKey, BZ_INSTANCE: instanceId } = process.env;
const ready = Boolean(baseUrl && apiKey && instanceId);
const ORDER = ["queued", "sending", "sent", "delivered", "read", "played"];

testWhen(ready, "no stack (BZ_BASE_URL, BZ_KEY, BZ_INSTANCE)", "sends a text and follows it to sent", async () => {
  const client = createBzapperClient({ apiKey, baseUrl });
  const { data, error, response } = await client.POST("/messages/text", {
    params: { header: { "Idempotency-Key": `sdk-${Date.now()}` } },
    body: { instance_id: instanceId, to: "+5511988888888", body: "Hello from the SDK", client_reference: "sdk-1" },
  });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(response.status, 202);
  assert.equal(data.status, "queued");
  assert.equal(data.client_reference, "sdk-1");
  assert.ok(Number(response.headers.get("ratelimit-remaining")) >= 0);

  const deadline = Date.now() + 60_000;
  let message;
  do {
    const got = await client.GET("/messages/{message_id}", { params: { path: { message_id: data.message_id } } });
    assert.equal(got.error, undefined);
    message = got.data;
    if (ORDER.indexOf(message.status) >= ORDER.indexOf("sent")) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  } while (Date.now() < deadline);
  assert.ok(ORDER.indexOf(message.status) >= ORDER.indexOf("sent"), `stayed ${message.status}`);
  assert.deepEqual(message.history.slice(0, 3).map((change) => change.status), ["queued", "sending", "sent"]);
  assert.equal(message.client_reference, "sdk-1");
});

testWhen(ready, "no stack", "errors come back typed, in the API's shape and the asked language", async () => {
  const client = createBzapperClient({ apiKey, baseUrl, locale: "pt-BR" });
  const { data, error, response } = await client.GET("/messages/{message_id}", {
    params: { path: { message_id: "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q" } },
  });
  assert.equal(data, undefined);
  assert.equal(response.status, 404);
  assert.ok(isErrorBody(error));
  assert.equal(error.code, "not_found");
  assert.equal(error.locale, "pt-BR");
});
