"""The console users' pool on moto: created like infra/components/identity.py creates it on AWS (same password
policy, email usernames, the same client flows), so the local stack signs users up and in for real.

moto is less strict than Cognito in ways docs/accounts.md lists; the local identity adapter
(bzapper.adapters.local_identity) makes up for the ones a user would meet (codes, their expiry, revocation).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from bzapper.config import Settings
from bzapper.domain.identity import PASSWORD_MIN
from bzapper.topology import physical_name

POOL = "console"


def provision_identity(session: Any, settings: Settings) -> tuple[str, str]:
    """(user pool id, app client id) of the stage's console pool, created when missing (idempotent)."""
    cognito = session.client("cognito-idp", region_name=settings.region)
    name = physical_name(settings.stage, POOL)
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=name,
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": PASSWORD_MIN,
                    "RequireUppercase": True,
                    "RequireLowercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                }
            },
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            UsernameConfiguration={"CaseSensitive": False},
            # Without it moto reports an SMS delivery on sign-up (docs/accounts.md).
            AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
            Schema=[
                {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
                {"Name": "name", "AttributeDataType": "String", "Mutable": True},
                {"Name": "locale", "AttributeDataType": "String", "Mutable": True},
            ],
        )["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((client["ClientId"] for client in clients if client["ClientName"] == name), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=name,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            EnableTokenRevocation=True,
            PreventUserExistenceErrors="ENABLED",
            ReadAttributes=["email", "email_verified", "name", "locale"],
            WriteAttributes=["name", "locale"],
        )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def identity_environment(pool_id: str, client_id: str, jwks_url: str, mailbox_dir: Path) -> dict[str, str]:
    """What the local stack's functions need to know about the pool (as infra sets it on AWS)."""
    return {
        "BZ_COGNITO_USER_POOL_ID": pool_id,
        "BZ_COGNITO_CLIENT_ID": client_id,
        "BZ_COGNITO_JWKS_URL": jwks_url,
        "BZ_MAILBOX_DIR": str(mailbox_dir),
    }


def moto_public_jwks() -> dict[str, Any]:
    """The JWKS moto signs every token with (for in-process moto, whose JWKS URL urllib cannot reach)."""
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    document: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return document
