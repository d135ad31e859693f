<?php
// The reference's PHP example (curl extension). Set BZ_KEY and BZ_INSTANCE (and BZ_BASE_URL locally).
$base = getenv("BZ_BASE_URL") ?: "https://api.bzapper.com.br";
$key = getenv("BZ_KEY");
$inst = getenv("BZ_INSTANCE");

$ch = curl_init("$base/messages/text");
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_HTTPHEADER => ["Authorization: Bearer $key", "Content-Type: application/json"],
    CURLOPT_POSTFIELDS => json_encode(["instance_id" => $inst, "to" => "+5511988888888", "body" => "Hello"]),
    CURLOPT_RETURNTRANSFER => true,
]);
$res = curl_exec($ch);
if ($res === false) {
    fwrite(STDERR, curl_error($ch) . "\n");
    exit(1);
}
echo $res, "\n";
