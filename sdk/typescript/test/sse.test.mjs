import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";

import { SseParser, StreamError, streamEvents } from "../dist/index.js";

test("parses ids, types, multi-line data, retry and heartbeats, whatever the chunking and line ends", () => {
  const wire = ": hello\r\nretry: 1500\r\n\r\nid: evt_1\r\nevent: message.status\r\ndata: {\"a\":1}\r\n\r\n" +
    "id: evt_2\ndata: line one\ndata:line two\n\n: heartbeat\n\ndata: no id\n\nid\n\n";
  for (const size of [1, 2, 3, 7, wire.length]) {
    const comments = [];
    const parser = new SseParser(undefined, (comment) => comments.push(comment));
    const events = [];
    for (let i = 0; i < wire.length; i += size) {
      events.push(...parser.feed(wire.slice(i, i + size)));
    }
    assert.deepEqual(events, [
      { id: "evt_1", event: "message.status", data: '{"a":1}' },
      { id: "evt_2", event: "message", data: "line one\nline two" },
      { id: "evt_2", event: "message", data: "no id" },
    ], `chunks of ${size}`);
    assert.equal(parser.retryMs, 1500);
    assert.equal(parser.lastEventId, "");
    assert.deepEqual(comments, ["hello", "heartbeat"]);
  }
});

function sseServer(handler) {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, baseUrl: `http://127.0.0.1:${server.address().port}` }));
  });
}

test("reconnects after the server drops it and resumes with Last-Event-ID", async () => {
  const seen = [];
  const log = ["evt_1", "evt_2", "evt_3", "evt_4", "evt_5"];
  const { server, baseUrl } = await sseServer((request, response) => {
    seen.push({ auth: request.headers.authorization, last: request.headers["last-event-id"], url: request.url });
    response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const after = request.headers["last-event-id"];
    const start = after ? log.indexOf(after) + 1 : 0;
    response.write("retry: 20\n: keep-alive\n\n");
    for (const id of log.slice(start, start + 2)) {
      response.write(`id: ${id}\nevent: message.status\ndata: {"id":"${id}"}\n\n`);
    }
    response.end(); // dropped: the client must come back with the last id it saw
  });
  const controller = new AbortController();
  const received = [];
  const heartbeats = [];
  try {
    for await (const event of streamEvents({
      baseUrl,
      apiKey: "bz_test_k",
      query: { instance_id: "inst_1" },
      signal: controller.signal,
      onHeartbeat: (comment) => heartbeats.push(comment),
    })) {
      received.push(event.id);
      assert.deepEqual(JSON.parse(event.data), { id: event.id });
      if (received.length === log.length) {
        controller.abort();
      }
    }
  } finally {
    server.close();
  }
  assert.deepEqual(received, log);
  assert.deepEqual(seen.map((request) => request.last), [undefined, "evt_2", "evt_4"]);
  assert.ok(seen.every((request) => request.auth === "Bearer bz_test_k" && request.url === "/stream?instance_id=inst_1"));
  assert.ok(heartbeats.length >= 3);
});

test("resumes from a persisted id, waits Retry-After on a 503, and stops on a 401 with the error body", async () => {
  let calls = 0;
  const { server, baseUrl } = await sseServer((request, response) => {
    calls += 1;
    if (calls === 1) {
      assert.equal(request.headers["last-event-id"], "evt_9");
      response.writeHead(503, { "Content-Type": "application/json", "Retry-After": "0" });
      response.end('{"code":"temporarily_unavailable"}');
    } else {
      response.writeHead(401, { "Content-Type": "application/json" });
      response.end('{"code":"unauthorized","message":"Missing or invalid API key.","locale":"en"}');
    }
  });
  try {
    await assert.rejects(
      async () => {
        for await (const _ of streamEvents({ baseUrl, apiKey: "bz_test_k", lastEventId: "evt_9", retryMs: 10 })) {
          // no event is ever sent
        }
      },
      (error) => error instanceof StreamError && error.status === 401 && error.body.code === "unauthorized",
    );
  } finally {
    server.close();
  }
  assert.equal(calls, 2);
});
