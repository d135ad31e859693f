"""Sealing an OTP code (bzapper.adapters.sealing): what crosses the queue opens only with its key, only
before its expiry, never after a change; the KMS envelope's contract; the engines' unseal hook."""

from __future__ import annotations

import base64
import json
import secrets
import time

import pytest
from botocore.exceptions import ClientError
from support.leaks import leak_forms, leaks

from bzapper.adapters import sealing
from bzapper.adapters.sealing import KmsSealer, LocalSealer
from bzapper.domain.engine import PermanentFailure
from bzapper.domain.otp import Unsealable

CODE = "7305918264"


def _later(seconds: int = 600) -> int:
    return int(time.time() * 1000) + seconds * 1000


class FakeKms:
    """KMS's GenerateDataKey and Decrypt contract: a data key opens only with the same encryption context."""

    def __init__(self) -> None:
        self.keys: dict[bytes, tuple[bytes, dict]] = {}
        self.calls: list[str] = []
        self.throttle = False

    def generate_data_key(self, *, KeyId: str, KeySpec: str, EncryptionContext: dict) -> dict:
        assert KeySpec == "AES_256"
        self.calls.append("GenerateDataKey")
        plaintext, blob = secrets.token_bytes(32), secrets.token_bytes(48)
        self.keys[blob] = (plaintext, dict(EncryptionContext))
        return {"Plaintext": plaintext, "CiphertextBlob": blob, "KeyId": KeyId}

    def decrypt(self, *, CiphertextBlob: bytes, EncryptionContext: dict, KeyId: str) -> dict:
        self.calls.append("Decrypt")
        if self.throttle:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Decrypt")
        found = self.keys.get(CiphertextBlob)
        if found is None or found[1] != EncryptionContext:
            raise ClientError({"Error": {"Code": "InvalidCiphertextException", "Message": ""}}, "Decrypt")
        return {"Plaintext": found[0], "KeyId": KeyId}


@pytest.fixture
def local() -> LocalSealer:
    return LocalSealer(secrets.token_bytes(32))


@pytest.fixture
def kms() -> FakeKms:
    return FakeKms()


def _replace_part(sealed: str, index: int, value: str) -> str:
    parts = sealed.split(".")
    parts[index] = value
    return ".".join(parts)


def _header(sealed: str) -> dict:
    text = sealed.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _with_header(sealed: str, **changes) -> str:
    header = {**_header(sealed), **changes}
    text = base64.urlsafe_b64encode(json.dumps(header, separators=(",", ":")).encode()).decode().rstrip("=")
    return _replace_part(sealed, 1, text)


def test_a_local_seal_opens_with_its_key_and_shows_the_code_nowhere(local: LocalSealer) -> None:
    sealed = local.seal(CODE, account_id="acct_1", expires_at_ms=_later())
    assert local.unseal(sealed) == CODE
    assert not leaks(sealed, CODE)
    assert sealed != local.seal(CODE, account_id="acct_1", expires_at_ms=_later())  # a fresh nonce each time


def test_a_kms_seal_is_an_envelope_opened_through_kms(kms: FakeKms) -> None:
    sealer = KmsSealer("arn:aws:kms:us-east-1:123456789012:key/otp", kms=lambda: kms)
    sealed = sealer.seal(CODE, account_id="acct_1", expires_at_ms=_later())
    assert kms.calls == ["GenerateDataKey"]
    (context,) = [context for _, context in kms.keys.values()]
    assert context == {"purpose": sealing.PURPOSE, "account_id": "acct_1"}  # what the IAM condition checks
    assert not leaks(sealed, CODE)
    assert sealer.unseal(sealed) == CODE
    assert kms.calls == ["GenerateDataKey", "Decrypt"]


def test_another_stacks_key_cannot_open_it(local: LocalSealer) -> None:
    sealed = local.seal(CODE, account_id="acct_1", expires_at_ms=_later())
    with pytest.raises(Unsealable) as refused:
        LocalSealer(secrets.token_bytes(32)).unseal(sealed)
    assert refused.value.reason == "otp_unsealable"


def test_an_expired_code_is_never_opened(local: LocalSealer, kms: FakeKms) -> None:
    sealed = local.seal(CODE, account_id="acct_1", expires_at_ms=_later(-1))
    with pytest.raises(Unsealable) as refused:
        local.unseal(sealed)
    assert refused.value.reason == "otp_expired"
    sealer = KmsSealer("k", kms=lambda: kms)
    with pytest.raises(Unsealable) as refused:
        sealer.unseal(sealer.seal(CODE, account_id="a", expires_at_ms=_later(-1)))
    assert refused.value.reason == "otp_expired"
    assert kms.calls == ["GenerateDataKey"]  # refused before asking KMS


@pytest.mark.parametrize("sealer_kind", ["local", "kms"])
def test_any_change_makes_it_unsealable(local: LocalSealer, kms: FakeKms, sealer_kind: str) -> None:
    sealer = local if sealer_kind == "local" else KmsSealer("k", kms=lambda: kms)
    sealed = sealer.seal(CODE, account_id="acct_1", expires_at_ms=_later())
    payload = bytearray(base64.urlsafe_b64decode(sealed.split(".")[3] + "=="))
    payload[-1] ^= 1
    tampered = [
        _with_header(sealed, exp=_header(sealed)["exp"] + 3_600_000),  # a longer life
        _with_header(sealed, acct="acct_2"),  # another account
        _replace_part(sealed, 3, base64.urlsafe_b64encode(bytes(payload)).decode().rstrip("=")),
        "bzs2" + sealed[4:],
        sealed.rsplit(".", 1)[0],
        "",
        "not sealed at all",
        "bzs1.!!!.!!!.!!!",
    ]
    for value in tampered:
        with pytest.raises(Unsealable) as refused:
            sealer.unseal(value)
        assert refused.value.reason == "otp_unsealable", value
        assert CODE not in str(refused.value)


def test_a_local_seal_is_not_a_kms_one(local: LocalSealer, kms: FakeKms) -> None:
    with pytest.raises(Unsealable):
        KmsSealer("k", kms=lambda: kms).unseal(local.seal(CODE, account_id="a", expires_at_ms=_later()))
    with pytest.raises(Unsealable):
        local.unseal(KmsSealer("k", kms=lambda: kms).seal(CODE, account_id="a", expires_at_ms=_later()))


def test_a_kms_outage_is_retried_not_final(kms: FakeKms) -> None:
    sealer = KmsSealer("k", kms=lambda: kms)
    sealed = sealer.seal(CODE, account_id="a", expires_at_ms=_later())
    kms.throttle = True
    with pytest.raises(ClientError):  # the job is retried; not a PermanentFailure
        sealer.unseal(sealed)


def test_the_local_key_must_have_32_bytes() -> None:
    with pytest.raises(ValueError):
        LocalSealer(b"short")
    assert len(base64.b64decode(sealing.new_local_key())) == 32
    assert sealing.new_local_key() != sealing.new_local_key()


# --- which sealer a process has ----------------------------------------------------------------------------


def test_the_configured_sealer(monkeypatch: pytest.MonkeyPatch) -> None:
    from bzapper.config import Settings

    def configured(environ: dict[str, str]) -> sealing.Sealer | None:
        monkeypatch.setattr("bzapper.config.settings", lambda: Settings.from_environ(environ))
        return sealing.configured_sealer()

    local_key = {sealing.LOCAL_KEY_ENV: sealing.new_local_key()}
    assert configured({}) is None
    assert configured(local_key) is None  # a key in a deployed function's environment: refused
    assert isinstance(configured({**local_key, "BZ_LOCAL_MODE": "1"}), LocalSealer)

    sealer = configured({**local_key, "BZ_LOCAL_MODE": "1", sealing.KMS_KEY_ENV: "arn:aws:kms:us-east-1:1:key/otp"})
    assert isinstance(sealer, KmsSealer) and sealer.key_id.endswith("key/otp")


def test_the_engines_hook_turns_an_unopenable_code_into_a_final_failure(monkeypatch, local: LocalSealer) -> None:
    monkeypatch.setattr(sealing, "configured_sealer", lambda: local)
    unseal = sealing.engine_unseal()
    assert unseal is not None
    assert unseal(local.seal(CODE, account_id="a", expires_at_ms=_later())) == CODE
    with pytest.raises(PermanentFailure) as failure:
        unseal(local.seal(CODE, account_id="a", expires_at_ms=_later(-5)))
    assert failure.value.code == "otp_expired"
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    with pytest.raises(PermanentFailure) as failure:
        unseal("bzs1.x.y.z")
    assert failure.value.code == "otp_unsealable"
    monkeypatch.setattr(sealing, "configured_sealer", lambda: None)
    assert sealing.engine_unseal() is None


def test_the_host_builds_its_sandbox_engine_with_the_hook(monkeypatch, local: LocalSealer) -> None:
    from bzapper.bootstrap import build_engine

    monkeypatch.setattr(sealing, "configured_sealer", lambda: local)
    engine = build_engine("sandbox", {"sandbox_url": "http://127.0.0.1:9"})
    assert engine.unseal(local.seal(CODE, account_id="a", expires_at_ms=_later())) == CODE


def test_the_leak_finder_finds_a_code_in_every_form_it_could_take() -> None:
    job = json.dumps({"type": "otp", "content": {"body": "Acme", "code": CODE}})
    for blob in (
        f"... {CODE} ...",
        job,
        base64.b64encode(job.encode()).decode(),  # an SQS body or a DynamoDB binary attribute
        "x" + base64.urlsafe_b64encode(("pad" + job).encode()).decode(),
        base64.b64encode(base64.b64encode(job.encode())).decode(),  # base64 of base64
        CODE.encode().hex(),
    ):
        assert leaks(blob, CODE), blob
    assert all(len(form) >= 8 for form in leak_forms(CODE))
    assert not leaks(job.replace(CODE, "••••••"), CODE)
