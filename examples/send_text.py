"""The reference's Python example (requests). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally)."""

import os

import requests

base_url = os.environ.get("BZ_BASE_URL", "https://api.bzapper.com.br")
key = os.environ["BZ_KEY"]
inst = os.environ["BZ_INSTANCE"]

response = requests.post(
    f"{base_url}/messages/text",
    headers={"Authorization": f"Bearer {key}"},
    json={"instance_id": inst, "to": "+5511988888888", "body": "Hello"},
    timeout=30,
)
print(response.text)
