// The credential a client sends: an API key, or a console session token with its mode (Bz-Mode).
import assert from "node:assert/strict";
import test from "node:test";

import { credentialHeaders, createBzapperClient } from "../dist/index.js";

test("an API key is sent as a Bearer token and must look like one", () => {
  assert.deepEqual(credentialHeaders({ apiKey: "bz_test_abc" }), { Authorization: "Bearer bz_test_abc" });
  assert.throws(() => credentialHeaders({ apiKey: "sk_live_abc" }), TypeError);
});

test("a session token says its mode, test unless live", () => {
  assert.deepEqual(credentialHeaders({ sessionToken: "eyJ.x.y" }), { Authorization: "Bearer eyJ.x.y", "Bz-Mode": "test" });
  assert.equal(credentialHeaders({ sessionToken: "eyJ.x.y", livemode: true })["Bz-Mode"], "live");
});

test("exactly one credential", () => {
  assert.throws(() => credentialHeaders({}), TypeError);
  assert.throws(() => credentialHeaders({ apiKey: "bz_test_abc", sessionToken: "eyJ" }), TypeError);
  assert.throws(() => createBzapperClient({ baseUrl: "http://127.0.0.1:9" }), TypeError);
});

test("a session token provider is asked before every request, so a refreshed token is used", async () => {
  const seen = [];
  let token = "eyJ.first.x";
  const client = createBzapperClient({
    sessionToken: () => token,
    livemode: true,
    baseUrl: "http://127.0.0.1:9",
    fetch: async (request) => {
      seen.push([request.headers.get("authorization"), request.headers.get("bz-mode")]);
      return new Response(JSON.stringify({ data: [] }), { headers: { "content-type": "application/json" } });
    },
  });
  await client.GET("/keys");
  token = "eyJ.second.x";
  await client.GET("/keys");
  assert.deepEqual(seen, [
    ["Bearer eyJ.first.x", "live"],
    ["Bearer eyJ.second.x", "live"],
  ]);
  assert.throws(() => createBzapperClient({ apiKey: "bz_test_abc", sessionToken: () => "x" }), TypeError);
});
