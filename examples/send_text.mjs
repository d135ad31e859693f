// The reference's JavaScript example (fetch, Node 18+). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally).
const baseUrl = process.env.BZ_BASE_URL ?? "https://api.bzapper.com.br";
const key = process.env.BZ_KEY;
const inst = process.env.BZ_INSTANCE;

const response = await fetch(`${baseUrl}/messages/text`, {
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  body: JSON.stringify({ instance_id: inst, to: "+5511988888888", body: "Hello" }),
});
console.log(await response.text());
