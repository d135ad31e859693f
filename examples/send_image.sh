#!/usr/bin/env bash
# Send an image by URL: bzapper fetches it (public http(s) URLs only) and sends it with its caption.
# Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL for the local stack; BZ_IMAGE_URL for another image).
set -euo pipefail
BASE_URL="${BZ_BASE_URL:-https://api.bzapper.com.br}"
IMAGE_URL="${BZ_IMAGE_URL:-https://upload.wikimedia.org/wikipedia/commons/3/3f/JPEG_example_flower.jpg}"
curl -sS -X POST "$BASE_URL/messages/image" \
  -H "Authorization: Bearer $BZ_KEY" -H "Content-Type: application/json" \
  -d '{"instance_id":"'"$BZ_INSTANCE"'","to":"+5511988888888","url":"'"$IMAGE_URL"'","caption":"Our new catalogue","client_reference":"promo-7"}'
