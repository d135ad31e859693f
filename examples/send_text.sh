#!/usr/bin/env bash
# The reference's curl example. Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL for the local stack).
set -euo pipefail
BASE_URL="${BZ_BASE_URL:-https://api.bzapper.com.br}"
curl -sS -X POST "$BASE_URL/messages/text" \
  -H "Authorization: Bearer $BZ_KEY" -H "Content-Type: application/json" \
  -d '{"instance_id":"'"$BZ_INSTANCE"'","to":"+5511988888888","body":"Hello","client_reference":"lead-42"}'
