"""Console users: sign-up, confirmation, sign-in and its tokens, sign-out, password reset."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Locale, Strict, whole
from bzapper.domain.identity import EMAIL_MAX, EMAIL_PATTERN, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN
from bzapper.domain.text import DISPLAY_TEXT_PATTERN

EMAIL = Field(
    min_length=3,
    max_length=EMAIL_MAX,
    # Documented, checked by the domain (normalized_email) with its own message: "This is not an email address."
    json_schema_extra={"pattern": whole(EMAIL_PATTERN)},
    examples=["maria@acme.com.br"],
)
NEW_PASSWORD = Field(
    min_length=1,
    max_length=PASSWORD_MAX,
    # The length is documented, checked by the domain (password_problem) with a message naming the rule.
    json_schema_extra={"minLength": PASSWORD_MIN},
    description="At least 10 characters, with a lowercase and an uppercase letter, a digit and a symbol; no "
    "space at either end. A weak one is a 422 on `password` saying which rule it breaks.",
)
PASSWORD = Field(min_length=1, max_length=PASSWORD_MAX, description="The account's password.")
CODE = Field(min_length=1, max_length=32, pattern=r"^\s*\d{4,8}\s*$", description="The code from the email.")


class SignupRequest(Strict):
    email: str = EMAIL
    password: str = NEW_PASSWORD
    name: str = Field(
        min_length=1, max_length=NAME_MAX, pattern=DISPLAY_TEXT_PATTERN, description="Your name, or your company's."
    )
    locale: Locale = Field(default="en", description="The language of your emails and of the account.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"email": "maria@acme.com.br", "password": "Corr3ct-horse!", "name": "Acme", "locale": "pt-BR"}
        },
    )


class SignupAccepted(BaseModel):
    email: str
    status: Literal["confirmation_pending"] = Field(
        description="Always the same answer, whether or not the email has an account: the code (or a notice that "
        "the address already has an account) is in the inbox."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"email": "maria@acme.com.br", "status": "confirmation_pending"}}
    )


class ConfirmRequest(Strict):
    email: str = EMAIL
    code: str = CODE
    password: str = Field(
        min_length=1,
        max_length=PASSWORD_MAX,
        description="The password chosen at sign-up, again: the code confirms only the sign-up that chose it "
        "(a 422 on `password` otherwise), so nobody else's sign-up of your email can set your password.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"email": "maria@acme.com.br", "code": "123456", "password": "Corr3ct-horse!"}},
    )


class Confirmed(BaseModel):
    account_id: str
    status: Literal["confirmed"]

    model_config = ConfigDict(
        json_schema_extra={"example": {"account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q", "status": "confirmed"}}
    )


class LoginRequest(Strict):
    email: str = EMAIL
    password: str = PASSWORD

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"email": "maria@acme.com.br", "password": "Corr3ct-horse!"}}
    )


class Tokens(BaseModel):
    access_token: str = Field(
        description="`Authorization: Bearer <access_token>` on every endpoint, as the account's owner, in test mode "
        "unless `Bz-Mode: live` is sent."
    )
    refresh_token: str = Field(description="Renews the access token (POST /auth/refresh); keep it secret.")
    expires_in: int = Field(description="Seconds the access token lives.")
    token_type: Literal["Bearer"]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "access_token": "eyJraWQiOiJ...",
                "refresh_token": "eyJjdHkiOiJ...",
                "expires_in": 3600,
                "token_type": "Bearer",
            }
        }
    )


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=8192)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"refresh_token": "eyJjdHkiOiJ..."}})


class LogoutRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=8192)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"refresh_token": "eyJjdHkiOiJ..."}})


class ForgotRequest(Strict):
    email: str = EMAIL

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"email": "maria@acme.com.br"}})


class ResetRequest(Strict):
    email: str = EMAIL
    code: str = CODE
    password: str = NEW_PASSWORD

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"email": "maria@acme.com.br", "code": "123456", "password": "N3w-horse!!"}},
    )


class ResetRequested(BaseModel):
    email: str
    status: Literal["reset_code_sent_if_registered"]

    model_config = ConfigDict(
        json_schema_extra={"example": {"email": "maria@acme.com.br", "status": "reset_code_sent_if_registered"}}
    )


class PasswordReset(BaseModel):
    status: Literal["password_reset"]

    model_config = ConfigDict(json_schema_extra={"example": {"status": "password_reset"}})
