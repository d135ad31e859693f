"""Console users on moto's Cognito, in-process: the pool made as `bzapper dev` makes it, its keys (moto signs every
token with one public key pair) given to the verifier as a file, codes read from the local mailbox."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bzapper.adapters.mailbox import LocalMailbox
from bzapper.config import settings
from bzapper_dev.local.identity import identity_environment, moto_public_jwks, provision_identity

PASSWORD = "Corr3ct-horse!battery"


@dataclass
class Pool:
    pool_id: str
    client_id: str
    mailbox: LocalMailbox

    def code(self, email: str, subject_word: str = "") -> str:
        """The last 6-digit code mailed to `email` (in any language)."""
        for message in reversed(self.mailbox.messages(email)):
            found = re.search(r"\b(\d{6})\b", message["text"])
            if found and subject_word.lower() in message["subject"].lower():
                return found.group(1)
        raise AssertionError(f"no code mailed to {email}: {self.mailbox.messages(email)}")


def start_pool(environment: Any, directory: Path) -> Pool:
    pool_id, client_id = provision_identity(boto3.session.Session(), settings())
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps(moto_public_jwks()))
    mailbox = directory / "mailbox"
    for name, value in identity_environment(pool_id, client_id, jwks.as_uri(), mailbox).items():
        environment.set(name, value)
    environment.set("BZ_LOCAL_MODE", "1")
    return Pool(pool_id, client_id, LocalMailbox(mailbox))


def open_by_sign_up(pool: Pool, email: str, password: str, name: str = "Acme") -> tuple[dict[str, Any], str]:
    """Sign up, confirm from the mailbox and sign in through the real auth handler: (the tokens, the account id)."""
    from bzapper_dev.local.functions import load_function
    from support.apigw import call

    auth = load_function("auth").handler
    call(auth, "POST", "/auth/signup", body={"email": email, "password": password, "name": name})
    status, _, confirmed = call(
        auth, "POST", "/auth/confirm", body={"email": email, "code": pool.code(email), "password": password}
    )
    assert status == 200, confirmed
    status, _, tokens = call(auth, "POST", "/auth/login", body={"email": email, "password": password})
    assert status == 200, tokens
    return tokens, confirmed["account_id"]


def forged_token(claims: dict[str, Any], *, key: Any = None, kid: str = "dummy") -> str:
    """A token signed with moto's private key (public, inside moto) or another one: what an attacker can make."""
    import gzip

    import jwt
    import moto.cognitoidp

    if key is None:
        path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
        key = jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes()))).key
    now = int(time.time())
    body = {"iat": now, "exp": now + 3600, "token_use": "access", "jti": "j", "origin_jti": "o", **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})
