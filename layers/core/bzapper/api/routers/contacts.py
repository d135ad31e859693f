"""Contacts of a number: presence, blocking and a contact's profile (docs/contacts.md).
Every call is a question to the worker holding the number (the engine does the WhatsApp part)."""

from __future__ import annotations

from fastapi import APIRouter

from bzapper.api.bodies import JsonRoute

router = APIRouter(tags=["contacts"], route_class=JsonRoute)
