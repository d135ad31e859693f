// Receive bzapper webhooks and verify them with the SDK (Standard Webhooks signatures).
// Verify over the exact bytes received, before parsing; answer 2xx quickly, 4xx when verification fails.
// Run: BZ_WEBHOOK_SECRET=whsec_... PORT=8081 node examples/webhook_receiver.mjs
import { createServer } from "node:http";

// In your project: import { verifyWebhook, WebhookVerificationError } from "@bzapper/sdk";
import { verifyWebhook, WebhookVerificationError } from "../sdk/typescript/dist/index.js";

const secret = process.env.BZ_WEBHOOK_SECRET;

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    try {
      const { id, payload } = verifyWebhook(secret, Buffer.concat(chunks), request.headers);
      // The webhook-id is the event's id, the same on every retry: use it to process each event once.
      console.log(JSON.stringify({ verified: id, type: payload.type }));
      response.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) {
        throw error;
      }
      response.writeHead(400).end();
    }
  });
});

server.listen(Number(process.env.PORT ?? 8081), "127.0.0.1", () => {
  console.log(`listening on ${server.address().port}`);
});
