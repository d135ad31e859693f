"""Request and response bodies of the public API, one module per endpoint group (they generate openapi.yaml).

A group's router imports its own module and `common` (and `events` where it declares event payloads), so a
function loads only its own group's models. Nothing is re-exported here, for the same reason."""
