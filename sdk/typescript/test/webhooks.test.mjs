import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { signWebhook, verifyWebhook, WebhookVerificationError } from "../dist/index.js";
import { testWhen } from "./strict.mjs";

// The Standard Webhooks specification's own test vector.
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const at = (seconds) => seconds * 1000;

function headersOf(vector, signature = vector.signature) {
  return {
    "webhook-id": vector.id,
    "webhook-timestamp": String(vector.timestamp),
    "webhook-signature": signature,
  };
}

test("signs the specification's vector", () => {
  assert.equal(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature);
});

test("verifies the specification's vector and returns the parsed payload", () => {
  const event = verifyWebhook(SPEC.secret, SPEC.body, headersOf(SPEC), { now: at(SPEC.timestamp + 10) });
  assert.deepEqual(event, { id: SPEC.id, timestamp: SPEC.timestamp, payload: { test: 2432232314 } });
});

test("accepts a Headers object, raw bytes, and any of several signatures (rotation)", () => {
  const rotated = `v1,${Buffer.alloc(32).toString("base64")} v2,ignored ${SPEC.signature}`;
  const headers = new Headers(headersOf(SPEC, rotated));
  const event = verifyWebhook(SPEC.secret, new TextEncoder().encode(SPEC.body), headers, {
    now: at(SPEC.timestamp),
  });
  assert.equal(event.id, SPEC.id);
});

test("refuses a tampered body, another secret, a missing header, an old or future timestamp", () => {
  const now = { now: at(SPEC.timestamp) };
  const refuse = (fn) => assert.throws(fn, WebhookVerificationError);
  refuse(() => verifyWebhook(SPEC.secret, '{"test": 2432232315}', headersOf(SPEC), now));
  refuse(() => verifyWebhook("whsec_" + Buffer.from("another").toString("base64"), SPEC.body, headersOf(SPEC), now));
  refuse(() => verifyWebhook(SPEC.secret, SPEC.body, { "webhook-id": SPEC.id }, now));
  refuse(() => verifyWebhook(SPEC.secret, SPEC.body, headersOf(SPEC), { now: at(SPEC.timestamp + 301) }));
  refuse(() => verifyWebhook(SPEC.secret, SPEC.body, headersOf(SPEC), { now: at(SPEC.timestamp - 301) }));
  refuse(() => verifyWebhook(SPEC.secret, SPEC.body, headersOf(SPEC, "v1,"), now));
});

// Vectors the test suite signs with the `standardwebhooks` Python package (the server's signer).
const vectorsFile = process.env.BZ_WEBHOOK_VECTORS;
testWhen(vectorsFile, "BZ_WEBHOOK_VECTORS is not set", "verifies vectors signed by the Python library", () => {
  const vectors = JSON.parse(readFileSync(vectorsFile, "utf8"));
  assert.ok(vectors.length > 0);
  for (const vector of vectors) {
    const options = { now: vector.now ?? at(vector.timestamp) };
    if (vector.valid) {
      const event = verifyWebhook(vector.secret, vector.body, vector.headers, options);
      assert.deepEqual(event.payload, JSON.parse(vector.body), vector.name);
      assert.equal(signWebhook(vector.secret, vector.id, vector.timestamp, vector.body), vector.signature);
    } else {
      assert.throws(() => verifyWebhook(vector.secret, vector.body, vector.headers, options), vector.name);
    }
  }
});
