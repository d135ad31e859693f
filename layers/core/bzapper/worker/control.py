"""Commands and questions from the API for the instances of a held shard (its control queue)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from bzapper.domain.engine import CONTACT_METHODS, GROUP_METHODS, PROFILE_METHODS, NotConnected, PermanentFailure
from bzapper.ports.workers import QueueReader
from bzapper.services.container import Services
from bzapper.services.profiles import store_picture
from bzapper.worker.hosts import POLL_WAIT_SECONDS, HostCrashed

logger = logging.getLogger("bzapper.worker.control")

# What addresses a command (services/control.py), as opposed to the arguments of the engine method it asks for.
_ENVELOPE = frozenset({"op", "instance_id", "account_id", "livemode", "engine", "shard", "request_id"})

QUESTION_TIMEOUT_SECONDS = 7.0  # under the API's own wait, so the answer (even an error) lands first


class CommandHandler:
    def __init__(
        self,
        services: Services,
        *,
        open_instance: Callable[..., bool],
        close_instance: Callable[[str, bool], None],
        call: Callable[..., Any],
        apply_settings: Callable[[str], None] | None = None,
    ) -> None:
        self.services = services
        self.open_instance = open_instance
        self.close_instance = close_instance
        self.call = call
        self.apply_settings = apply_settings

    def consume(self, reader: QueueReader, stop: threading.Event, wait_seconds: int = POLL_WAIT_SECONDS) -> None:
        while not stop.is_set():
            try:
                messages = reader.receive(max_messages=10, wait_seconds=wait_seconds)
                if stop.is_set():
                    # Received after the shard stopped (a long poll outlives it): the next holder's, at once.
                    if messages:
                        reader.hide([message["ReceiptHandle"] for message in messages], 0)
                    return
                for message in messages:
                    if self.handle(json.loads(message["Body"])):
                        reader.delete([message["ReceiptHandle"]])
            except Exception:
                logger.exception("control loop error")
                stop.wait(1.0)

    def handle(self, command: dict[str, Any]) -> bool:
        """True when the command is done with (answered, even with an error); False retries it."""
        op, instance_id = command.get("op"), command.get("instance_id", "")
        try:
            if op == "open":
                self.open_instance(command, False)
            elif op == "restart":
                if self.open_instance(command, False, dry_run=True):
                    self.close_instance(instance_id, False)
                    self.open_instance(command, False)
            elif op == "logout":
                # A session must be open to unlink it, even one the customer just deleted; a late logout
                # that arrives after the number was paired again (active once more) is ignored.
                if self.open_instance(command, True):
                    self.close_instance(instance_id, True)
            elif op == "mark_read":
                participant = {"sender_jid": command["sender_jid"]} if command.get("sender_jid") else {}
                self.call(
                    instance_id,
                    "mark_read",
                    chat_jid=command["chat_jid"],
                    wa_message_ids=command["wa_message_ids"],
                    **participant,  # a group's receipts name who wrote the messages
                )
            elif op == "settings":
                # The stored settings, read now (commands come late and out of order: the latest stands).
                if self.apply_settings is not None:
                    self.apply_settings(instance_id)
            elif op == "pairing_code":
                self.open_instance(command, False)
                code = self.call(
                    instance_id, "pairing_code", give_up_after=QUESTION_TIMEOUT_SECONDS, phone=command["phone"]
                )
                self._answer(command, {"code": code})
            elif op == "check_numbers":
                results = self.call(
                    instance_id, "check_numbers", give_up_after=QUESTION_TIMEOUT_SECONDS, inputs=command["inputs"]
                )
                self._answer(command, {"results": results})
            elif op in GROUP_METHODS or op in CONTACT_METHODS:
                args = {k: v for k, v in command.items() if k not in _ENVELOPE}
                result = self.call(instance_id, op, give_up_after=QUESTION_TIMEOUT_SECONDS, **args)
                self._answer(command, {"result": result})
            elif op in PROFILE_METHODS:
                args = {k: v for k, v in command.items() if k not in _ENVELOPE}
                profile = self.call(instance_id, op, give_up_after=QUESTION_TIMEOUT_SECONDS, **args)
                self._answer(command, {"result": self._with_picture(command, profile)})
            else:
                logger.error("unknown control op %r dropped", op)
            return True
        except NotConnected:
            self._answer(command, {"error": "not_connected"})
            return True
        except PermanentFailure as refusal:
            self._answer(command, {"error": refusal.code})  # WhatsApp's answer (not_admin, …): the asker's to tell
            return True
        except HostCrashed:
            if command.get("request_id"):
                self._answer(command, {"error": "not_connected"})  # the asker is waiting: tell it now
                return True
            return False
        except Exception:
            logger.exception("control op %s for %s failed", op, instance_id)
            self._answer(command, {"error": "temporarily_unavailable"})
            return command.get("request_id") is not None

    def _with_picture(self, command: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
        """The profile with its picture stored in the account's media (once per WhatsApp picture id)."""
        instance_id = command["instance_id"]

        def fetch(jid: str, picture: dict[str, Any]) -> str:
            path: str = self.call(
                instance_id, "profile_picture", give_up_after=QUESTION_TIMEOUT_SECONDS, jid=jid, picture=picture
            )
            return path

        return store_picture(self.services, command["account_id"], bool(command["livemode"]), profile, fetch)

    def _answer(self, command: dict[str, Any], answer: dict[str, Any]) -> None:
        if request_id := command.get("request_id"):
            self.services.control.answer(request_id, answer)
