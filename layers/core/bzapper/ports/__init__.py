"""The ports: what the services (and the worker) need from the outside world, one Protocol per store, queue,
bus, engine, lease keeper, payment provider, sealer and network, typed with domain records only.

Adapters implement them: `bzapper.adapters.aws` (DynamoDB, SQS, S3, EventBridge, KMS), `bzapper.adapters`
(HTTP, payments, the sandbox world), `bzapper.engines` (WhatsApp), and `bzapper.adapters.memory` (in-memory
fakes for unit tests). Only `bzapper.bootstrap` builds adapters; `bzapper.services.container.Services`
holds them typed as these ports.
"""
