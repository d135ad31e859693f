<?php
// Receive bzapper webhooks and verify them by hand (Standard Webhooks: HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{body}" with the secret's base64 part, sent as "v1,<base64>",
// several space-separated while a secret is rotated). Verify the exact bytes received, before parsing.
// Run: BZ_WEBHOOK_SECRET=whsec_... php -S 127.0.0.1:8081 examples/webhook_receiver.php

function verify_webhook(string $secret, string $body, array $headers, int $tolerance = 300): array
{
    $headers = array_change_key_case($headers, CASE_LOWER);
    $id = $headers["webhook-id"] ?? "";
    $timestamp = $headers["webhook-timestamp"] ?? "";
    $signatures = $headers["webhook-signature"] ?? "";
    if ($id === "" || $signatures === "" || !ctype_digit($timestamp)) {
        throw new RuntimeException("missing or malformed webhook headers");
    }
    if (abs(time() - (int) $timestamp) > $tolerance) {
        throw new RuntimeException("timestamp too far from now");
    }
    $key = base64_decode(preg_replace('/^whsec_/', '', $secret), true);
    if ($key === false || $key === "") {
        throw new RuntimeException("bad secret");
    }
    $expected = base64_encode(hash_hmac("sha256", "$id.$timestamp.$body", $key, true));
    foreach (explode(" ", $signatures) as $entry) {
        $parts = explode(",", $entry, 2);
        if (count($parts) === 2 && $parts[0] === "v1" && hash_equals($expected, $parts[1])) {
            return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
        }
    }
    throw new RuntimeException("no matching signature");
}

$body = file_get_contents("php://input");
try {
    $event = verify_webhook(getenv("BZ_WEBHOOK_SECRET"), $body, getallheaders());
} catch (Throwable $error) {
    http_response_code(400);
    exit;
}
// The webhook-id is the event's id, the same on every retry: use it to process each event once.
$headers = array_change_key_case(getallheaders(), CASE_LOWER);
file_put_contents("php://stderr", json_encode(["verified" => $headers["webhook-id"], "type" => $event["type"] ?? null]) . "\n");
http_response_code(204);
