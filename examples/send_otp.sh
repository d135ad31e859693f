#!/usr/bin/env bash
# Send a verification code: two messages (the text, then the code bubble), billed as one send. The code
# is never stored or shown anywhere (masked in the inbox, events and webhooks). Without "body", the text
# is written in the account's language. Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL for the local stack).
set -euo pipefail
BASE_URL="${BZ_BASE_URL:-https://api.bzapper.com.br}"
curl -sS -X POST "$BASE_URL/messages/otp" \
  -H "Authorization: Bearer $BZ_KEY" -H "Content-Type: application/json" \
  -d '{"instance_id":"'"$BZ_INSTANCE"'","to":"+5511988888888","code":"482913","client_reference":"login-42"}'
