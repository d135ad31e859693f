// Send a verification code (fetch, Node 18+). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally).
// Two messages (the text, then the code bubble), billed as one send; the code is never stored or shown.
import { randomInt } from "node:crypto";

const baseUrl = process.env.BZ_BASE_URL ?? "https://api.bzapper.com.br";
const key = process.env.BZ_KEY;
const inst = process.env.BZ_INSTANCE;
const code = String(randomInt(0, 1_000_000)).padStart(6, "0"); // yours to generate and check

const response = await fetch(`${baseUrl}/messages/otp`, {
  method: "POST",
  headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
  body: JSON.stringify({ instance_id: inst, to: "+5511988888888", code }),
});
console.log(await response.text());
