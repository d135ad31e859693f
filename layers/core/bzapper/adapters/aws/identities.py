"""LID <-> phone mappings of an account's contacts, learned from any source (contacts check, inbound, receipts).

Two items per mapping, one per side, so a lookup from either side is one GetItem (many: one BatchGetItem).
"""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import IdentityModel
from bzapper.domain.clock import now_ms


class IdentityStore:
    def record(self, account_id: str, phone: str, lid: str) -> bool:
        """Store the mapping; True when it is new (or changed), so the caller emits contact.identity_resolved once.

        A mapping that changed (a phone recycled to a new WhatsApp account, an account that moved to a new
        number) leaves the old other side naming this one: that item is cleared, so a lookup from either side
        always agrees with the other (the inbox pairs a contact's two rows by them)."""
        phone_by_lid, lid_by_phone = self.learned(account_id, lids=[lid], phones=[phone], consistent=True)
        if phone_by_lid.get(lid) == phone and lid_by_phone.get(phone) == lid:
            return False  # known both ways: one read, no write
        # The stale sides first: a crash after them leaves the old mapping readable, so the redelivered
        # report still finds (and clears) what it names; a crash after the puts would have hidden it for good.
        old_phone, old_lid = phone_by_lid.get(lid), lid_by_phone.get(phone)
        if old_phone and old_phone != phone:
            stale = IdentityModel(account_id, f"phone#{old_phone}")
            applied(lambda: stale.delete(condition=IdentityModel.lid == lid))  # unless it names another by now
        if old_lid and old_lid != lid:
            stale = IdentityModel(account_id, f"lid#{old_lid}")
            applied(lambda: stale.delete(condition=IdentityModel.phone == phone))
        learned_at = now_ms()
        is_new = False
        for key in (f"lid#{lid}", f"phone#{phone}"):
            item = IdentityModel(account_id, key, phone=phone, lid=lid, learned_at=learned_at)
            # Written only when absent or different: a known mapping seen again is no news.
            changed = applied(
                lambda item=item: item.save(
                    condition=IdentityModel.key.does_not_exist()
                    | (IdentityModel.phone != phone)
                    | (IdentityModel.lid != lid)
                )
            )
            is_new = is_new or changed
        return is_new

    def phone_of(self, account_id: str, lid: str) -> str | None:
        return self._get(account_id, f"lid#{lid}", "phone")

    def lid_of(self, account_id: str, phone: str) -> str | None:
        return self._get(account_id, f"phone#{phone}", "lid")

    def learned(
        self, account_id: str, lids: Iterable[str] = (), phones: Iterable[str] = (), *, consistent: bool = False
    ) -> tuple[dict[str, str], dict[str, str]]:
        """The known phone of each of these LIDs and LID of each of these phones: ({lid: phone}, {phone: lid}),
        the unknown ones left out (one BatchGetItem per 100 keys, none for no key)."""
        keys = list(dict.fromkeys([f"lid#{lid}" for lid in lids] + [f"phone#{phone}" for phone in phones]))
        phone_by_lid: dict[str, str] = {}
        lid_by_phone: dict[str, str] = {}
        if keys:
            for item in IdentityModel.batch_get([(account_id, key) for key in keys], consistent_read=consistent):
                if item.key.startswith("lid#"):
                    phone_by_lid[item.key[4:]] = item.phone
                else:
                    lid_by_phone[item.key[6:]] = item.lid
        return phone_by_lid, lid_by_phone

    @staticmethod
    def _get(account_id: str, key: str, side: str) -> str | None:
        try:
            return getattr(IdentityModel.get(account_id, key), side)
        except DoesNotExist:
            return None
