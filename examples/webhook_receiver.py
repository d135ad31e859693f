"""Receive bzapper webhooks and verify them with the `standardwebhooks` package (pip install standardwebhooks).

Every delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature`: verify over the exact
bytes received, before parsing, and answer 2xx quickly (a 4xx for a delivery that fails verification).
Run: BZ_WEBHOOK_SECRET=whsec_... PORT=8081 python examples/webhook_receiver.py
"""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["BZ_WEBHOOK_SECRET"])


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = webhook.verify(body, dict(self.headers))
        except (WebhookVerificationError, ValueError):  # ValueError: a malformed signature header
            self.send_response(400)
            self.end_headers()
            return
        # The webhook-id is the event's id, the same on every retry: use it to process each event once.
        print(json.dumps({"verified": self.headers["webhook-id"], "type": event.get("type")}), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        pass


server = HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8081"))), Receiver)
print(f"listening on {server.server_port}", flush=True)
server.serve_forever()
