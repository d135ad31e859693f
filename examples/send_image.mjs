// Send an image by URL (fetch, Node 18+). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally, BZ_IMAGE_URL).
const baseUrl = process.env.BZ_BASE_URL ?? "https://api.bzapper.com.br";
const key = process.env.BZ_KEY;
const inst = process.env.BZ_INSTANCE;
const imageUrl = process.env.BZ_IMAGE_URL ?? "https://upload.wikimedia.org/wikipedia/commons/3/3f/JPEG_example_flower.jpg";

const response = await fetch(`${baseUrl}/messages/image`, {
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  body: JSON.stringify({ instance_id: inst, to: "+5511988888888", url: imageUrl, caption: "Our new catalogue" }),
});
console.log(await response.text());
