"""Send a verification code (requests). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally).

Two messages (the text, then the code bubble), billed as one send; the code is never stored or shown.
"""

import os
import secrets

import requests

base_url = os.environ.get("BZ_BASE_URL", "https://api.bzapper.com.br")
key = os.environ["BZ_KEY"]
inst = os.environ["BZ_INSTANCE"]
code = f"{secrets.randbelow(1_000_000):06d}"  # yours to generate and check; bzapper only delivers it

response = requests.post(
    f"{base_url}/messages/otp",
    headers={"Authorization": f"Bearer {key}"},
    json={"instance_id": inst, "to": "+5511988888888", "code": code},
    timeout=30,
)
print(response.text)
