"""Console users in an Amazon Cognito user pool: sign-up, confirmation, sign-in, refresh, sign-out, password
reset and an operator's suspension. Every Cognito error becomes one of the identity errors of the domain, so the
services never see an AWS error code and an unknown user reads exactly like a wrong password."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from bzapper.adapters.aws.clients import client
from bzapper.domain.identity import (
    AuthTokens,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    InvalidToken,
    NewUser,
    NotConfirmed,
    TooManyAttempts,
    UserDisabled,
    UserExists,
    WeakPassword,
)

logger = logging.getLogger(__name__)

_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}
_BAD_CODE = {
    "CodeMismatchException",
    "ExpiredCodeException",
    "UserNotFoundException",
    "ResourceNotFoundException",  # moto: confirm_forgot_password for an unknown user
    "NotAuthorizedException",  # confirming an already-confirmed user, or a disabled one
    "InvalidParameterException",  # a reset for a user without a verified email
}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _tokens(result: dict[str, Any]) -> AuthTokens:
    return AuthTokens(
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken"),
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


class CognitoIdentity:
    def __init__(self, user_pool_id: str, client_id: str) -> None:
        self.user_pool_id = user_pool_id
        self.client_id = client_id

    @property
    def _idp(self) -> Any:
        return client("cognito-idp")

    def sign_up(self, email: str, password: str, *, name: str, locale: str) -> str:
        try:
            answer = self._idp.sign_up(
                ClientId=self.client_id,
                Username=email,
                Password=password,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "name", "Value": name},
                    {"Name": "locale", "Value": locale},
                ],
            )
        except ClientError as error:
            if _code(error) == "UsernameExistsException":
                raise UserExists from None
            if _code(error) == "InvalidPasswordException":
                raise WeakPassword from None
            if _code(error) == "InvalidParameterException":
                raise InvalidEmail from None  # the only parameter a caller chose that Cognito checks here
            if _code(error) in _THROTTLED:
                raise TooManyAttempts from None
            raise
        return str(answer["UserSub"])

    def replace_pending(self, email: str, password: str, *, name: str, locale: str) -> None:
        # Cognito cannot change an unconfirmed user's password (AdminSetUserPassword would confirm it without
        # a code), so the pending user is deleted and signed up again: Cognito mails the new user's code, and
        # the deleted user's codes die with it.
        user = self._user(email)
        if user is None or user.get("UserStatus") != "UNCONFIRMED":
            return
        try:
            self._idp.admin_delete_user(UserPoolId=self.user_pool_id, Username=user["Username"])
        except ClientError as error:
            logger.info("pending user not replaced: %s", _code(error))
            return
        try:
            self.sign_up(email, password, name=name, locale=locale)
        except UserExists:
            logger.info("a concurrent sign-up replaced the pending user first")

    def _user(self, email: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._idp.admin_get_user(UserPoolId=self.user_pool_id, Username=email)
        except ClientError as error:
            if _code(error) in ("UserNotFoundException", "InvalidParameterException"):
                return None  # unknown, or an address no user of the pool could have
            raise
        return found

    def is_confirmed(self, email: str) -> bool | None:
        user = self._user(email)
        return None if user is None else user.get("UserStatus") == "CONFIRMED"

    def _pending_password(self, email: str, password: str) -> None:
        """Raises InvalidCredentials unless `password` is the unconfirmed user's. Cognito answers
        UserNotConfirmed only to the right password (a wrong one is NotAuthorized), and never issues tokens
        to an unconfirmed user; a confirmed user's right password signs in, and its confirmation is refused."""
        try:
            self._idp.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except ClientError as error:
            if _code(error) == "UserNotConfirmedException":
                return
            if _code(error) in _THROTTLED or "attempts exceeded" in _message(error).lower():
                raise TooManyAttempts from None
            if _code(error) in ("NotAuthorizedException", "UserNotFoundException", "InvalidParameterException"):
                raise InvalidCredentials from None
            raise
        raise InvalidCode  # already confirmed (its right password signed in): nothing to confirm

    def confirm(self, email: str, code: str, password: str) -> NewUser:
        self._pending_password(email, password)
        return self._confirm_code(email, code)

    def _confirm_code(self, email: str, code: str) -> NewUser:
        try:
            self._idp.confirm_sign_up(ClientId=self.client_id, Username=email, ConfirmationCode=code)
        except ClientError as error:
            if _code(error) in _BAD_CODE:
                raise InvalidCode from None
            if _code(error) in _THROTTLED:
                raise TooManyAttempts from None
            raise
        return self._new_user(email)

    def _new_user(self, email: str) -> NewUser:
        user = self._user(email)
        if user is None:
            raise InvalidCode
        attributes = {item["Name"]: item["Value"] for item in user.get("UserAttributes", [])}
        return NewUser(
            user_id=attributes.get("sub") or user["Username"],
            email=attributes.get("email", email),
            name=attributes.get("name", ""),
            locale=attributes.get("locale", "en"),
        )

    def sign_in(self, email: str, password: str) -> AuthTokens:
        try:
            answer = self._idp.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except ClientError as error:
            code, message = _code(error), _message(error)
            if code == "UserNotConfirmedException":
                raise NotConfirmed from None
            if code in _THROTTLED or "attempts exceeded" in message.lower():
                raise TooManyAttempts from None
            if code == "NotAuthorizedException" and "disabled" in message.lower():
                raise UserDisabled from None
            if code in (
                "NotAuthorizedException",
                "UserNotFoundException",
                "PasswordResetRequiredException",
                "InvalidParameterException",  # an address Cognito would never have signed up
            ):
                raise InvalidCredentials from None
            raise
        if "AuthenticationResult" not in answer:  # a challenge (a new password, MFA): not offered by this pool
            raise InvalidCredentials
        return _tokens(answer["AuthenticationResult"])

    def refresh(self, refresh_token: str) -> AuthTokens:
        try:
            answer = self._idp.initiate_auth(
                ClientId=self.client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": refresh_token}
            )
        except ClientError as error:
            if _code(error) in _THROTTLED:
                raise TooManyAttempts from None
            if _code(error) in ("NotAuthorizedException", "UserNotFoundException", "InvalidParameterException"):
                raise InvalidToken from None
            raise
        tokens = _tokens(answer["AuthenticationResult"])
        return AuthTokens(tokens.access_token, None, tokens.expires_in)

    def sign_out(self, refresh_token: str) -> None:
        try:
            self._idp.revoke_token(Token=refresh_token, ClientId=self.client_id)
        except ClientError as error:
            # Already revoked or unknown: bzapper's own revocation list still refuses it.
            logger.info("refresh token not revoked at Cognito: %s", _code(error))

    def forgot_password(self, email: str) -> None:
        try:
            self._idp.forgot_password(ClientId=self.client_id, Username=email)
        except ClientError as error:
            # Unknown, unconfirmed or throttled: the caller is told nothing either way (no enumeration).
            logger.info("password reset not started: %s", _code(error))

    def reset_password(self, email: str, code: str, password: str) -> None:
        try:
            self._idp.confirm_forgot_password(
                ClientId=self.client_id, Username=email, ConfirmationCode=code, Password=password
            )
        except ClientError as error:
            if _code(error) == "InvalidPasswordException":
                raise WeakPassword from None
            if _code(error) in _THROTTLED:
                raise TooManyAttempts from None
            if _code(error) in _BAD_CODE:
                raise InvalidCode from None
            raise

    def sign_out_everywhere(self, email: str) -> str | None:
        user = self._user(email)
        if user is None:
            return None
        try:
            # By the address, as the user signs in: moto matches refresh tokens on the name they were made with.
            self._idp.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=email)
        except ClientError as error:
            # bzapper's own mark (a reset) or suspension check still refuses the sessions: not worth a 500.
            logger.warning("global sign-out failed at Cognito: %s", _code(error))
        attributes = {item["Name"]: item["Value"] for item in user.get("UserAttributes", [])}
        return str(attributes.get("sub") or user["Username"])

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        if enabled:
            self._idp.admin_enable_user(UserPoolId=self.user_pool_id, Username=user_id)
            return
        self._idp.admin_disable_user(UserPoolId=self.user_pool_id, Username=user_id)
        self._idp.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=user_id)
