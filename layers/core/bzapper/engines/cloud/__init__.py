"""The `cloud` engine: Meta's WhatsApp Cloud API over HTTP (docs/engines.md). No session, no socket: sends run
in the `cloud_send` function, webhooks arrive at POST /cloud/webhook."""
