"""The live WhatsApp engine: whatsmeow (WhatsApp Web multi-device) through neonize.

Nothing here imports neonize at package import: only `engine` (and the modules it uses) load it, inside a
session host process. Modules: `lib` (the one place neonize is imported), `jids` (JID strings and protos),
`builders` (content -> protobuf), `mapping` (neonize events -> engine events), `vcards`, `errors`
(whatsmeow errors -> the port's exceptions), `gate` (who may touch neonize's Go maps when), `runs` (one
Go client's life), `engine` (WhatsmeowEngine), `terminal` (QR codes for a terminal).
"""
