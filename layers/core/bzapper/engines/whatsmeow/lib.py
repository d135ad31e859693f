"""The one place neonize is imported, with the environment its Go side reads at load time.

Go copies the process environment when the shared library loads, so NEONIZE_BOT_TAG must be set before
the first `import neonize` anywhere in the process: otherwise every message carries a bot label.
"""

from __future__ import annotations

import os
import sys

# Not a setting of ours (bzapper.config reads those): the process environment a library's Go side copies.
if "neonize" in sys.modules and os.environ.get("NEONIZE_BOT_TAG") != "off":
    raise RuntimeError("neonize was imported before NEONIZE_BOT_TAG=off was set: messages would carry a bot label")
os.environ["NEONIZE_BOT_TAG"] = "off"

from neonize import _binder  # the ctypes view of the Go library: callbacks and gocode
from neonize._binder import ProxySettings
from neonize.client import NewClient
from neonize.events import INT_TO_EVENT
from neonize.exc import NeonizeError
from neonize.proto import Neonize_pb2 as neonize_pb2
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waCompanionReg.WAWebProtobufsCompanionReg_pb2 import DeviceProps
from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as e2e
from neonize.utils.enum import BlocklistAction as BlocklistAction  # re-exported: the blocklist calls
from neonize.utils.enum import ChatPresence as ChatPresence  # re-exported: typing / recording indicators
from neonize.utils.enum import ChatPresenceMedia as ChatPresenceMedia
from neonize.utils.enum import ClientName, ClientType, MediaType, Presence, ReceiptType
from neonize.utils.enum import ParticipantChange as ParticipantChange  # re-exported: the groups calls
from neonize.utils.log import log_whatsmeow

gocode = _binder.gocode
QrCallback = _binder.func_string
StatusCallback = _binder.func_string
EventCallback = _binder.func_callback_bytes
LogCallback = _binder.func_callback_bytes2

JID = neonize_pb2.JID

# Event codes of goneonize (neonize.events.EVENT_TO_INT); 0 (Device) is always sent once logged in.
DEVICE = 0
PAIR_STATUS = 2
CONNECTED = 3
LOGGED_OUT = 6
STREAM_REPLACED = 7
TEMPORARY_BAN = 8
CONNECT_FAILURE = 9
CLIENT_OUTDATED = 10
DISCONNECTED = 12
MESSAGE = 17
RECEIPT = 18
CALL_OFFER = 36
CALL_TERMINATE = 42
JOINED_GROUP = 21
GROUP_INFO = 22
HISTORY_SYNC = 13
"""Subscribed only by a run of an instance with settings.history_sync on (docs/history.md): the blobs are big."""
CHAT_PRESENCE = 19  # a contact typing / recording / paused in a chat with us
PRESENCE = 20  # a contact's own presence (needs subscribe_presence)
# What the Go side queues for us; everything else never crosses. Presences cross and are dropped in the engine
# unless settings.presence_events is on (docs/presence.md); history only for a run that subscribed to it.
SUBSCRIBED = (
    PAIR_STATUS,
    CONNECTED,
    LOGGED_OUT,
    STREAM_REPLACED,
    TEMPORARY_BAN,
    CONNECT_FAILURE,
    CLIENT_OUTDATED,
    DISCONNECTED,
    MESSAGE,
    RECEIPT,
    CALL_OFFER,
    CALL_TERMINATE,
    JOINED_GROUP,
    GROUP_INFO,
    CHAT_PRESENCE,
    PRESENCE,
)

__all__ = [
    "CALL_OFFER",
    "CALL_TERMINATE",
    "CHAT_PRESENCE",
    "CLIENT_OUTDATED",
    "CONNECTED",
    "CONNECT_FAILURE",
    "DEVICE",
    "DISCONNECTED",
    "GROUP_INFO",
    "HISTORY_SYNC",
    "INT_TO_EVENT",
    "JID",
    "JOINED_GROUP",
    "LOGGED_OUT",
    "MESSAGE",
    "PAIR_STATUS",
    "PRESENCE",
    "RECEIPT",
    "STREAM_REPLACED",
    "SUBSCRIBED",
    "TEMPORARY_BAN",
    "ClientName",
    "ClientType",
    "DeviceProps",
    "EventCallback",
    "LogCallback",
    "MediaType",
    "MessageKey",
    "NeonizeError",
    "NewClient",
    "Presence",
    "ProxySettings",
    "QrCallback",
    "ReceiptType",
    "StatusCallback",
    "e2e",
    "gocode",
    "log_whatsmeow",
    "neonize_pb2",
]
