"""Send an image by URL (requests). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally, BZ_IMAGE_URL)."""

import os

import requests

base_url = os.environ.get("BZ_BASE_URL", "https://api.bzapper.com.br")
key = os.environ["BZ_KEY"]
inst = os.environ["BZ_INSTANCE"]
image_url = os.environ.get(
    "BZ_IMAGE_URL", "https://upload.wikimedia.org/wikipedia/commons/3/3f/JPEG_example_flower.jpg"
)

response = requests.post(
    f"{base_url}/messages/image",
    headers={"Authorization": f"Bearer {key}"},
    json={"instance_id": inst, "to": "+5511988888888", "url": image_url, "caption": "Our new catalogue"},
    timeout=30,
)
print(response.text)
