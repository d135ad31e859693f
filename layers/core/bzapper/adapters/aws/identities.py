"""LID <-> phone mappings of an account's contacts, learned from any source (contacts check, inbound, receipts).

Two items per mapping, one per side, so a lookup from either side is one GetItem.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import IdentityModel
from bzapper.domain.clock import now_ms


class IdentityStore:
    def record(self, account_id: str, phone: str, lid: str) -> bool:
        """Store the mapping; True when it is new (or changed), so the caller emits contact.identity_resolved once."""
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

    @staticmethod
    def _get(account_id: str, key: str, side: str) -> str | None:
        try:
            return getattr(IdentityModel.get(account_id, key), side)
        except DoesNotExist:
            return None
